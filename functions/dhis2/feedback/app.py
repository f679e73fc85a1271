"""POST /api/messageConversations/feedback?subject=: a feedback ticket to the support group (DHIS2)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from postbox.http.dhis2 import Dhis2Routes, dhis2_resolver, location, message_response
from postbox.http.idempotency import IdempotencyKey, idempotent_create
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.conversations import creation
from postbox.models.dhis2 import WebMessage
from postbox.settings import creating_with_attachments, require

require(*creating_with_attachments())

app = dhis2_resolver()
routes = Dhis2Routes(app)


@routes.post("/api/messageConversations/feedback", summary="Send feedback (a TICKET; text/plain body)",
             tags=["DHIS2 conversations"], middlewares=[idempotent_create],
             responses={201: {"description": "Created; Location names the ticket", "content": {
                            "application/json": {"schema": WebMessage.model_json_schema()}}},
                        409: {"description": "The Idempotency-Key is in use"},
                        422: {"description": "The Idempotency-Key was used with a different request"}})
def feedback(subject: Annotated[str | None, Query()] = None, idempotency_key: IdempotencyKey = None):
    agent = app.current_event.headers.get("user-agent", "")
    conversation_id = creation.feedback(current_caller(app), subject, app.current_event.decoded_body or "",
                                             user_agent=agent)
    return message_response(app, 201, "Feedback created", location=location(app, conversation_id))


lambda_handler = api_entry(app)
