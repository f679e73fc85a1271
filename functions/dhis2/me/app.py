"""GET /api/me, /api/userSettings, /api/system/info and /api/configuration: what the DHIS2 Messaging app and its
platform read at start-up (docs/dhis2.md#the-dhis2-messaging-app)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from postbox.http.dhis2 import Dhis2Routes, context_path, dhis2_resolver, parse_fields, respond, select
from postbox.http.resolver import api_entry, current_caller
from postbox.logic import dhis2_directory
from postbox.settings import CursorSettings, LimitsSettings, TableSettings, require

require(TableSettings, CursorSettings, LimitsSettings)

app = dhis2_resolver()
routes = Dhis2Routes(app)
TAGS = ["DHIS2 people and system"]
FIELDS = Query(max_length=2000, description="e.g. id,authorities,userGroups[id] (unknown fields are left out)")


@routes.get("/api/me", summary="Me: the caller's own user", tags=TAGS,
         responses={403: {"description": "An application, or not an active directory user"}})
def me(fields: Annotated[str | None, FIELDS] = None):
    selection = parse_fields(fields or "*")
    expand = {name for name in ("userGroups", "organisationUnits")
              if set(selection.get(name, {})) & {"name", "displayName", "*"}}
    return respond(app, 200, select(dhis2_directory.me(current_caller(app), expand), selection), root="user")


@routes.get("/api/userSettings", summary="My settings (DHIS2 names)", tags=TAGS,
         responses={403: {"description": "An application, or not an active directory user"}})
def user_settings(key: Annotated[list[str] | None, Query(max_length=20, description="settings to return")] = None):
    return respond(app, 200, dhis2_directory.user_settings(current_caller(app), key), root="userSettings")


@routes.get("/api/system/info", summary="System information (the DHIS2 version Postbox speaks)", tags=TAGS)
def system_info(fields: Annotated[str | None, FIELDS] = None):
    info = dhis2_directory.system_info(context_path(app)).model_dump()
    return respond(app, 200, select(info, parse_fields(fields or "*")), root="systemInfo")


@routes.get("/api/configuration", summary="Configuration: the feedback recipients group", tags=TAGS,
         responses={403: {"description": "Not an active directory user or a known application"}})
def configuration():
    return respond(app, 200, dhis2_directory.configuration(current_caller(app)), root="configuration")


lambda_handler = api_entry(app)
