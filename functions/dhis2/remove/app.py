"""Remove a user from conversations: one (DELETE /{conversation_id}/{child_id}) or a batch (?mc=) (DHIS2)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from postbox.http.dhis2 import Dhis2Routes, dhis2_resolver, respond
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.conversations import removal
from postbox.settings import CursorSettings, LimitsSettings, TableSettings, require

require(TableSettings, CursorSettings, LimitsSettings)

app = dhis2_resolver()
routes = Dhis2Routes(app)
TAGS = ["DHIS2 conversations"]


@routes.delete("/api/messageConversations/<conversation_id>/<child_id>", summary="Remove a user from a conversation",
               tags=TAGS)
def remove_one(conversation_id: Annotated[str, Path()],
               child_id: Annotated[str, Path(description="The user to remove")]):
    return respond(app, 200, removal.remove_user(current_caller(app), conversation_id, child_id),
                   root="removed")


@routes.delete("/api/messageConversations", summary="Remove a user from conversations", tags=TAGS)
def remove_batch(mc: Annotated[list[str], Query(description="Conversation ids, repeated or comma-separated")],
                 user: Annotated[str | None, Query()] = None):
    ids = [part.strip() for value in mc for part in value.split(",") if part.strip()]
    return respond(app, 200, removal.remove_user_batch(current_caller(app), ids, user), root="removed")


lambda_handler = api_entry(app)
