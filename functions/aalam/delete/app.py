"""DELETE /aalam/base/message/{message_id}: remove the caller's copy of an alert (Aalam)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

from postbox.http.faces import aalam_resolver
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.alerts import delete_alert
from postbox.models.aalam import AlertDeletedOut
from postbox.settings import AalamSettings, CallbackSettings, CursorSettings, LimitsSettings, TableSettings, require

require(TableSettings, CursorSettings, LimitsSettings, AalamSettings, CallbackSettings)

app = aalam_resolver()


@app.delete("/aalam/base/message/<message_id>", summary="Delete my copy of an alert", tags=["Aalam alerts"],
            responses={404: {"description": "The caller has no such alert"}})
def delete(message_id: Annotated[str, Path()]) -> AlertDeletedOut:
    delete_alert(current_caller(app), message_id)
    return AlertDeletedOut(id=message_id)


lambda_handler = api_entry(app)
