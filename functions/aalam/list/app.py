"""GET /aalam/base/messages: the caller's alerts, newest first (Aalam)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from postbox.http.faces import aalam_resolver
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.alerts import COUNT_DEFAULT, COUNT_MAX, list_alerts
from postbox.models.aalam import AlertOut
from postbox.settings import AalamSettings, CallbackSettings, CursorSettings, LimitsSettings, TableSettings, require

require(TableSettings, CursorSettings, LimitsSettings, AalamSettings, CallbackSettings)

app = aalam_resolver()


@app.get("/aalam/base/messages", summary="List my alerts", tags=["Aalam alerts"],
         responses={400: {"description": "A wrong parameter (named)"}, 403: {"description": "Not a user"}})
def list_(
    date_floor: Annotated[str | None, Query(description="Only alerts posted after this time (the date format "
                                                        "setting; ISO-8601 by default)")] = None,
    count: Annotated[int, Query(ge=1, le=COUNT_MAX, description="At most this many alerts")] = COUNT_DEFAULT,
) -> list[AlertOut]:
    # The route validates the alerts against AlertOut as it serializes them.
    return list_alerts(current_caller(app), date_floor=date_floor, count=count)  # type: ignore[return-value]


lambda_handler = api_entry(app)
