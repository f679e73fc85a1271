"""POST /aalam/base/message/{message_id}: a user marks an alert read or unread; the sending application edits
it for every receiver (Aalam)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from postbox.http.faces import aalam_resolver
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.alerts import act_on_alert
from postbox.models.aalam import AlertEditedOut, AlertReadOut
from postbox.settings import AalamSettings, CallbackSettings, CursorSettings, LimitsSettings, TableSettings, require

require(TableSettings, CursorSettings, LimitsSettings, AalamSettings, CallbackSettings)

app = aalam_resolver()


@app.post("/aalam/base/message/<message_id>", summary="Mark an alert read, or edit it", tags=["Aalam alerts"],
          responses={400: {"description": "A parameter of the other context, or a wrong value (named)"},
                     404: {"description": "No such alert for the caller"}})
def act(
    message_id: Annotated[str, Path()],
    read: Annotated[str | None, Query(description="Users: true or false")] = None,
    private_data: Annotated[str | None, Query(description="The sending app: new private_data")] = None,
    sender: Annotated[str | None, Query(alias="from", description="The sending app: new from")] = None,
    content: Annotated[str | None, Query(description="The sending app: new content (with an index, a JSON "
                                                     "object of the template's keys)")] = None,
) -> AlertReadOut | AlertEditedOut:
    return act_on_alert(current_caller(app), message_id, read=read, private_data=private_data, sender=sender,
                        content=content)


lambda_handler = api_entry(app)
