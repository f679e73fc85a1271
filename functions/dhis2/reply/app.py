"""POST /api/messageConversations/{conversation_id}: reply with a raw text body (DHIS2)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from postbox.http.dhis2 import Dhis2Routes, dhis2_resolver, location, message_response
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.conversations import replies
from postbox.logic.conversations.writing import CREATED
from postbox.models.dhis2 import WebMessage
from postbox.settings import AttachmentSettings, BucketSettings, CursorSettings, LimitsSettings, TableSettings, require

require(TableSettings, BucketSettings, CursorSettings, LimitsSettings, AttachmentSettings)

app = dhis2_resolver()
routes = Dhis2Routes(app)


@routes.post("/api/messageConversations/<conversation_id>", summary="Reply (text/plain body)",
             tags=["DHIS2 conversations"],
             responses={201: {"description": "Created; Location names the conversation", "content": {
                            "application/json": {"schema": WebMessage.model_json_schema()}}},
                        403: {"description": "No access, or internal without managing tickets"},
                        404: {"description": "No such conversation"}, 409: {"description": "Bad attachment"}})
def reply(conversation_id: Annotated[str, Path()],
          internal: Annotated[bool, Query(description="An internal note, for ticket managers only")] = False,
          attachments: Annotated[list[str] | None, Query(description="File resource ids, comma-separated")] = None):
    attachment_ids = [a.strip() for value in attachments or [] for a in value.split(",") if a.strip()]
    text = app.current_event.decoded_body or ""
    agent = app.current_event.headers.get("user-agent", "")
    replies.reply(current_caller(app), conversation_id, text, internal=internal, attachment_ids=attachment_ids,
                        user_agent=agent)
    return message_response(app, 201, CREATED, location=location(app, conversation_id))


lambda_handler = api_entry(app)
