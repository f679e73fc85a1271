"""GET /api/v1/inbox: the caller's inbox, newest first, with cursor paging and filters."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from postbox.http.faces import native_resolver
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.inbox import list_inbox
from postbox.models.inbox import InboxKind, InboxPageOut
from postbox.settings import CursorSettings, LimitsSettings, TableSettings, require

require(TableSettings, CursorSettings, LimitsSettings)

app = native_resolver()


@app.get("/api/v1/inbox", summary="List my inbox", tags=["Inbox"],
         responses={400: {"description": "Invalid parameters or cursor"}, 403: {"description": "Not a user"}})
def list_(
    unread: Annotated[bool, Query(description="Only unread entries")] = False,
    kind: Annotated[InboxKind | None, Query()] = None,
    archived: Annotated[bool, Query(description="The archive instead of the inbox")] = False,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> InboxPageOut:
    return list_inbox(current_caller(app), unread=unread, kind=kind, archived=archived, limit=limit, cursor=cursor)


lambda_handler = api_entry(app)
