"""GET /api/v1/inbox/counts: unread and total entries in the caller's inbox."""

from postbox.http.faces import native_resolver
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.inbox import counts
from postbox.models.inbox import InboxCountsOut
from postbox.settings import CursorSettings, LimitsSettings, TableSettings, require

require(TableSettings, CursorSettings, LimitsSettings)

app = native_resolver()


@app.get("/api/v1/inbox/counts", summary="Count my unread and total entries", tags=["Inbox"])
def get_counts() -> InboxCountsOut:
    return counts(current_caller(app))


lambda_handler = api_entry(app)
