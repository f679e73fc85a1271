"""Looking people up as the DHIS2 Messaging app does: /api/userLookup (+ /feedbackRecipients), /api/users,
/api/users/{id}, /api/userGroups and /api/organisationUnits (docs/dhis2.md#looking-people-up). Only id, username,
names and display names of active users; never an email, a phone or authorities."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from postbox.dal import directory as store
from postbox.http.dhis2 import Dhis2Routes, dhis2_resolver, page_url, parse_fields, resource_url, respond, select
from postbox.http.resolver import api_entry, current_caller, json_response
from postbox.logic import dhis2_directory
from postbox.settings import CursorSettings, LimitsSettings, TableSettings, require

require(TableSettings, CursorSettings, LimitsSettings)

app = dhis2_resolver()
routes = Dhis2Routes(app)
TAGS = ["DHIS2 people and system"]
FORBIDDEN = {403: {"description": "Not an active directory user or a known application"}}
QUERY = Query(max_length=200, description="Words that start words of the name or username (empty: anyone)")
LIST_RESPONSES = {**FORBIDDEN, 400: {"description": "A page or pageSize out of range"},
                  409: {"description": "An invalid filter or order: unknown property or operator"}}


@routes.get("/api/userLookup", summary="Find people to address", tags=TAGS, responses=FORBIDDEN)
def user_lookup(query: Annotated[str, QUERY]):
    return respond(app, 200, dhis2_directory.user_lookup(current_caller(app), query), root="userLookups")


@routes.get("/api/userLookup/feedbackRecipients", summary="Find people in the feedback recipients group", tags=TAGS,
         responses={**FORBIDDEN, 409: {"description": "No feedback recipients group (E6200)"}})
def feedback_recipients(query: Annotated[str, QUERY]):
    return respond(app, 200, dhis2_directory.feedback_recipient_lookup(current_caller(app), query),
                   root="userLookups")


FIELDS = Query(max_length=2000, description="e.g. id,displayName (default) or * (unknown fields are left out)")
FILTER = Query(description="property:operator:value; operators eq, ne, like, ilike, token, in (users of an org "
                           "unit: gte, gt, eq, lte, lt on the collection's size)")


def _list(kind: str, collection: str, fields: str | None, filter: list[str] | None, order: str | None, page: int,
          pageSize: int, paging: bool, rootJunction: str):
    query = dhis2_directory.ListQuery(filters=filter or [], order=order, page=page, page_size=pageSize,
                                      paging=paging, root_junction=rootJunction)
    rows, pager = dhis2_directory.collection(current_caller(app), kind, query)
    selection = parse_fields(fields or "id,displayName")
    body: dict[str, Any] = {collection: [select(row, selection) for row in rows]}
    if pager:
        base = resource_url(app)
        if pager["page"] < pager["pageCount"]:
            pager["nextPage"] = page_url(app, base, pager["page"] + 1)
        if pager["page"] > 1:
            pager["prevPage"] = page_url(app, base, pager["page"] - 1)
        body = {"pager": pager, **body}
    return json_response(200, body)


Page = Annotated[int, Query(ge=1, le=1_000_000)]
PageSize = Annotated[int, Query(ge=1, le=1000)]
Junction = Annotated[str, Query(pattern="^(?i:AND|OR)$")]


@routes.get("/api/users", summary="Active users, as lookups show them", tags=TAGS, responses=LIST_RESPONSES)
def users(fields: Annotated[str | None, FIELDS] = None, filter: Annotated[list[str] | None, FILTER] = None,
          order: Annotated[str | None, Query(max_length=200)] = None, page: Page = 1, pageSize: PageSize = 50,
          paging: bool = True, rootJunction: Junction = "AND"):
    return _list(store.USER, "users", fields, filter, order, page, pageSize, paging, rootJunction)


@routes.get("/api/users/<user_id>", summary="One active user, as lookups show them", tags=TAGS,
         responses={**FORBIDDEN, 404: {"description": "No such active user (E1005)"}})
def user(user_id: Annotated[str, Path()], fields: Annotated[str | None, FIELDS] = None):
    found = dhis2_directory.user_by_id(current_caller(app), user_id)
    return respond(app, 200, select(found, parse_fields(fields or "*")), root="user")


@routes.get("/api/userGroups", summary="User groups", tags=TAGS, responses=LIST_RESPONSES)
def user_groups(fields: Annotated[str | None, FIELDS] = None, filter: Annotated[list[str] | None, FILTER] = None,
                order: Annotated[str | None, Query(max_length=200)] = None, page: Page = 1, pageSize: PageSize = 50,
                paging: bool = True, rootJunction: Junction = "AND"):
    return _list(store.GROUP, "userGroups", fields, filter, order, page, pageSize, paging, rootJunction)


@routes.get("/api/organisationUnits", summary="Organisation units", tags=TAGS, responses=LIST_RESPONSES)
def organisation_units(fields: Annotated[str | None, FIELDS] = None,
                       filter: Annotated[list[str] | None, FILTER] = None,
                       order: Annotated[str | None, Query(max_length=200)] = None, page: Page = 1,
                       pageSize: PageSize = 50, paging: bool = True, rootJunction: Junction = "AND"):
    return _list(store.ORG_UNIT, "organisationUnits", fields, filter, order, page, pageSize, paging, rootJunction)


lambda_handler = api_entry(app)
