"""Ticket management on a conversation: priority, status, assign and unassign (DHIS2)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from postbox.http.dhis2 import check_version, dhis2_resolver, respond
from postbox.http.resolver import api_entry, current_caller
from postbox.logic import conversations

app = dhis2_resolver()
Id = Annotated[str, Path()]
BASE = "/api/messageConversations/<conversation_id>"
VERSIONED = "/api/<version>/messageConversations/<conversation_id>"
TAGS = ["DHIS2 conversations"]


@app.post(f"{VERSIONED}/priority", include_in_schema=False)
@app.post(f"{BASE}/priority", summary="Set the priority", tags=TAGS)
def priority(conversation_id: Id, messageConversationPriority: Annotated[str | None, Query()] = None):
    check_version(app)
    body = conversations.set_priority(current_caller(app), conversation_id, messageConversationPriority)
    return respond(app, 200, body, root="messageConversation")


@app.post(f"{VERSIONED}/status", include_in_schema=False)
@app.post(f"{BASE}/status", summary="Set the status", tags=TAGS)
def status(conversation_id: Id, messageConversationStatus: Annotated[str | None, Query()] = None):
    check_version(app)
    body = conversations.set_status(current_caller(app), conversation_id, messageConversationStatus)
    return respond(app, 200, body, root="messageConversation")


@app.post(f"{VERSIONED}/assign", include_in_schema=False)
@app.post(f"{BASE}/assign", summary="Assign a user", tags=TAGS)
def assign(conversation_id: Id, userId: Annotated[str | None, Query()] = None):
    check_version(app)
    return respond(app, 200, conversations.assign(current_caller(app), conversation_id, userId), root="message")


@app.delete(f"{VERSIONED}/assign", include_in_schema=False)
@app.delete(f"{BASE}/assign", summary="Remove the assignee", tags=TAGS)
def unassign(conversation_id: Id):
    check_version(app)
    return respond(app, 200, conversations.unassign(current_caller(app), conversation_id), root="message")


lambda_handler = api_entry(app)
