"""Read, unread, follow-up and unfollow-up, for one conversation or a batch (DHIS2)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from postbox.http.dhis2 import Dhis2Routes, dhis2_resolver, respond
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.conversations import state
from postbox.logic.conversations.state import FOLLOWUP, READ, UNFOLLOWUP, UNREAD, StateChange
from postbox.settings import CursorSettings, LimitsSettings, TableSettings, require

require(TableSettings, CursorSettings, LimitsSettings)

app = dhis2_resolver()
routes = Dhis2Routes(app)
TAGS = ["DHIS2 conversations"]
Ids = Annotated[list[Annotated[str, Body()]], Body(embed=False, description='["uid", ...]')]
User = Annotated[str | None, Query(description="Another user (superusers only)")]


def _batch(ids: list[str], change: StateChange, user: str | None):
    return respond(app, 200, state.change_state(current_caller(app), ids, change, user),
                   root=change.result_key)


def _one(conversation_id: str, change: StateChange, user: str | None):
    return respond(app, 200, state.mark_one(current_caller(app), conversation_id, change, user),
                   root=change.result_key)


@routes.post("/api/messageConversations/<conversation_id>/read", summary="Mark read", tags=TAGS)
def read_one(conversation_id: Annotated[str, Path()], userUid: User = None):
    return _one(conversation_id, READ, userUid)


@routes.post("/api/messageConversations/<conversation_id>/unread", summary="Mark unread", tags=TAGS)
def unread_one(conversation_id: Annotated[str, Path()], userUid: User = None):
    return _one(conversation_id, UNREAD, userUid)


@routes.post("/api/messageConversations/read", summary="Mark conversations read", tags=TAGS)
def read(body: Ids, user: User = None):
    return _batch(body, READ, user)


@routes.post("/api/messageConversations/unread", summary="Mark conversations unread", tags=TAGS)
def unread(body: Ids, user: User = None):
    return _batch(body, UNREAD, user)


@routes.post("/api/messageConversations/followup", summary="Mark for follow-up", tags=TAGS)
def followup(body: Ids, user: User = None):
    return _batch(body, FOLLOWUP, user)


@routes.post("/api/messageConversations/unfollowup", summary="Clear follow-up", tags=TAGS)
def unfollowup(body: Ids, user: User = None):
    return _batch(body, UNFOLLOWUP, user)


lambda_handler = api_entry(app)
