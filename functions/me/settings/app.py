"""GET and PATCH /api/v1/me/settings: the caller's email and SMS notification settings."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from postbox.http.faces import native_resolver
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.me import change_my_settings, my_settings
from postbox.models.me import UserSettingsIn, UserSettingsOut
from postbox.settings import TableSettings, require

require(TableSettings)

app = native_resolver()

RESPONSES = {403: {"description": "An application, or not an active directory user"}}


@app.get("/api/v1/me/settings", summary="My notification settings", tags=["Settings"], responses=RESPONSES)
def get_settings() -> UserSettingsOut:
    return my_settings(current_caller(app))


@app.patch("/api/v1/me/settings", summary="Change my notification settings", tags=["Settings"],
           responses={**RESPONSES, 400: {"description": "An unknown key, or a value that is not true or false"}})
def patch_settings(body: Annotated[UserSettingsIn, Body(embed=False)]) -> UserSettingsOut:
    return change_my_settings(current_caller(app), body)


lambda_handler = api_entry(app)
