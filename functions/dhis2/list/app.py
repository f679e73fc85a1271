"""GET /api/messageConversations: the caller's conversations, with DHIS2's pager, fields, filter, order
and queryString (DHIS2)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from postbox.http.dhis2 import (
    Dhis2Routes,
    collection_url,
    dhis2_resolver,
    list_xml,
    page_url,
    parse_fields,
    select,
    wants_xml,
)
from postbox.http.resolver import api_entry, current_caller, json_response
from postbox.logic.conversations import filters, listing
from postbox.settings import CursorSettings, LimitsSettings, TableSettings, require

require(TableSettings, CursorSettings, LimitsSettings)

app = dhis2_resolver()
routes = Dhis2Routes(app)
DEFAULT_FIELDS = "id,displayName"


@routes.get("/api/messageConversations", summary="List my conversations", tags=["DHIS2 conversations"])
def list_(
    fields: Annotated[str | None, Query(description="e.g. id,subject,messages[text,sender[id]] or *")] = None,
    filter: Annotated[list[str] | None, Query(description="property:operator:value on messageType, status, "
                                                          "priority, read, followUp, assignee.id")] = None,
    order: Annotated[str | None, Query(description="lastMessage:desc (default) or lastMessage:asc")] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    pageSize: Annotated[int, Query(ge=1, le=1000)] = 50,
    paging: Annotated[bool, Query()] = True,
    queryString: Annotated[str | None, Query(max_length=200)] = None,
    queryOperator: Annotated[str, Query()] = "token",
    query: Annotated[str | None, Query(max_length=200, description="An id, or words of the subject (only the "
                                                                    "caller's conversations)")] = None,
):
    selection = parse_fields(fields or DEFAULT_FIELDS)
    list_query = filters.ListQuery(
        filters=tuple(filters.parse_filter(f) for f in (filter or [])), query_string=queryString,
        query_operator=queryOperator, newest_first=not (order or "").endswith(("asc", ":iasc")), page=page,
        page_size=pageSize, paging=paging, wants_messages="messages" in selection or "*" in selection, query=query,
    )
    items, pager = listing.list_for(current_caller(app), list_query)
    items = [select(item, selection) for item in items]
    base = collection_url(app)
    if pager:
        if page < pager["pageCount"]:
            pager["nextPage"] = page_url(app, base, page + 1)
        if page > 1:
            pager["prevPage"] = page_url(app, base, min(page - 1, pager["pageCount"]))
    if wants_xml(app.current_event):
        return Response(200, "application/xml", list_xml("messageConversations", items, pager, base))
    return json_response(200, {**({"pager": pager} if pager else {}), "messageConversations": items})


lambda_handler = api_entry(app)
