"""POST /aalam/base/messages/preference: follow or unfollow an application's alerts (Aalam)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from postbox.http.faces import aalam_resolver
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.alerts import set_preference
from postbox.models.aalam import PreferenceOut
from postbox.settings import AalamSettings, CallbackSettings, CursorSettings, LimitsSettings, TableSettings, require

require(TableSettings, CursorSettings, LimitsSettings, AalamSettings, CallbackSettings)

app = aalam_resolver()


@app.post("/aalam/base/messages/preference", summary="Follow or unfollow an app's alerts", tags=["Aalam alerts"],
          responses={400: {"description": "A missing or wrong parameter (named)"},
                     404: {"description": "Unknown app or message group"}})
def preference(
    provider_code: Annotated[str | None, Query()] = None,
    app_code: Annotated[str | None, Query()] = None,
    msg_group: Annotated[str | None, Query(description="Absent: the app's ungrouped alerts")] = None,
    unfollow: Annotated[str | None, Query(description="true or false")] = None,
) -> PreferenceOut:
    return set_preference(current_caller(app), provider_code=provider_code, app_code=app_code, msg_group=msg_group,
                          unfollow=unfollow)


lambda_handler = api_entry(app)
