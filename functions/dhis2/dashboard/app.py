"""GET /api/me/dashboard: the caller's unread conversation count (DHIS2)."""

from postbox.http.dhis2 import Dhis2Routes, dhis2_resolver, respond
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.conversations import listing
from postbox.settings import CursorSettings, LimitsSettings, TableSettings, require

require(TableSettings, CursorSettings, LimitsSettings)

app = dhis2_resolver()
routes = Dhis2Routes(app)


@routes.get("/api/me/dashboard", summary="My unread conversations", tags=["DHIS2 conversations"])
def dashboard():
    count = listing.unread_count(current_caller(app))
    return respond(app, 200, {"unreadMessageConversations": count, "unreadInterpretations": 0}, root="dashboard")


lambda_handler = api_entry(app)
