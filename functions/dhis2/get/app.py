"""GET /api/messageConversations/{conversation_id}: one conversation (optionally marking it read) (DHIS2)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from postbox.http.dhis2 import Dhis2Routes, dhis2_resolver, parse_fields, respond, select
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.conversations import reading
from postbox.settings import AttachmentSettings, BucketSettings, CursorSettings, LimitsSettings, TableSettings, require

require(TableSettings, BucketSettings, CursorSettings, LimitsSettings, AttachmentSettings)

app = dhis2_resolver()
routes = Dhis2Routes(app)


@routes.get("/api/messageConversations/<conversation_id>", summary="Get a conversation", tags=["DHIS2 conversations"],
            responses={403: {"description": "Not a participant"}, 404: {"description": "No such conversation"}})
def get(conversation_id: Annotated[str, Path()],
        markRead: Annotated[str | None, Query(description="true marks it read for the caller")] = None,
        fields: Annotated[str | None, Query()] = None):
    selection = parse_fields(fields or "*")
    conversation = reading.get(current_caller(app), conversation_id, mark_read=markRead == "true",
                                     with_participants="*" in selection or "userMessages" in selection,
                                     with_messages="*" in selection or "messages" in selection)
    return respond(app, 200, select(conversation, selection), root="messageConversation")


lambda_handler = api_entry(app)
