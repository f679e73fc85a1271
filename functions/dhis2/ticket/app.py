"""Ticket management on a conversation: priority, status, assign and unassign (DHIS2)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from postbox.http.dhis2 import Dhis2Routes, dhis2_resolver, respond
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.conversations import tickets
from postbox.settings import AttachmentSettings, BucketSettings, CursorSettings, LimitsSettings, TableSettings, require

require(TableSettings, BucketSettings, CursorSettings, LimitsSettings, AttachmentSettings)

app = dhis2_resolver()
routes = Dhis2Routes(app)
Id = Annotated[str, Path()]
BASE = "/api/messageConversations/<conversation_id>"
TAGS = ["DHIS2 conversations"]


@routes.post(f"{BASE}/priority", summary="Set the priority", tags=TAGS)
def priority(conversation_id: Id, messageConversationPriority: Annotated[str | None, Query()] = None):
    body = tickets.set_priority(current_caller(app), conversation_id, messageConversationPriority)
    return respond(app, 200, body, root="messageConversation")


@routes.post(f"{BASE}/status", summary="Set the status", tags=TAGS)
def status(conversation_id: Id, messageConversationStatus: Annotated[str | None, Query()] = None):
    body = tickets.set_status(current_caller(app), conversation_id, messageConversationStatus)
    return respond(app, 200, body, root="messageConversation")


@routes.post(f"{BASE}/assign", summary="Assign a user", tags=TAGS)
def assign(conversation_id: Id, userId: Annotated[str | None, Query()] = None):
    return respond(app, 200, tickets.assign(current_caller(app), conversation_id, userId), root="message")


@routes.delete(f"{BASE}/assign", summary="Remove the assignee", tags=TAGS)
def unassign(conversation_id: Id):
    return respond(app, 200, tickets.unassign(current_caller(app), conversation_id), root="message")


lambda_handler = api_entry(app)
