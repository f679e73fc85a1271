"""POST /api/messageConversations: create a conversation (JSON, or dxf2 XML `<message>`) (DHIS2)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from postbox.http.dhis2 import Dhis2Routes, accepts_xml_message, dhis2_resolver, location, message_response
from postbox.http.idempotency import IdempotencyKey, idempotent_create
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.conversations import creation
from postbox.logic.conversations.writing import CREATED
from postbox.models.dhis2 import ConversationIn, WebMessage
from postbox.settings import creating_with_attachments, require

require(*creating_with_attachments())

app = dhis2_resolver()
routes = Dhis2Routes(app)


@routes.post("/api/messageConversations", summary="Create a conversation", tags=["DHIS2 conversations"],
             responses={201: {"description": "Created; Location names it", "content": {"application/json": {
                 "schema": WebMessage.model_json_schema()}}}, 404: {"description": "Unknown user group"},
                 409: {"description": "Unknown user or org unit, no recipients, a bad attachment, or the "
                                      "Idempotency-Key is in use"},
                 422: {"description": "The Idempotency-Key was used with a different request"}},
             middlewares=[idempotent_create])
def create(body: Annotated[ConversationIn, Body(embed=False)], idempotency_key: IdempotencyKey = None):
    user_agent = app.current_event.headers.get("user-agent", "")
    conversation_id = creation.create(current_caller(app), body, user_agent=user_agent)
    return message_response(app, 201, CREATED, location=location(app, conversation_id))


lambda_handler = accepts_xml_message(api_entry(app))
