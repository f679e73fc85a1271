"""Ticket management: priority, status, assign and unassign (ticket managers and participants)."""

from typing import Any

from postbox.auth import Caller
from postbox.dal import conversations as store
from postbox.dal import directory
from postbox.errors import BadRequest, Conflict, Forbidden, NotFound
from postbox.ids import is_directory_id
from postbox.logic.conversations.access import Context, load_context, plain
from postbox.logic.conversations.batch import each
from postbox.logic.conversations.writing import display_name
from postbox.logic.permissions import in_feedback_group
from postbox.models.dhis2 import PRIORITIES, STATUSES
from postbox.timefmt import iso, utcnow

NO_CONVERSATION_FOR_ID = "No MessageConversation found for the given ID."


def _managed(caller: Caller, conversation_id: str, forbidden: str) -> Context:
    ctx = load_context(caller, conversation_id)
    if not ctx.access.exists:
        raise NotFound(plain(NO_CONVERSATION_FOR_ID))
    if not ctx.can_act():
        raise Forbidden(forbidden)
    return ctx


def _valid_enum(value: str | None, name: str, allowed: tuple[str, ...]) -> str:
    if value is None or value == "":
        raise BadRequest(f"Required request parameter '{name}' for method parameter type "
                         f"{'MessageConversationStatus' if allowed is STATUSES else 'MessageConversationPriority'} "
                         "is not present")
    if value not in allowed:
        raise BadRequest(f"Value '{value}' is not valid for parameter {name}. Valid values are: [{', '.join(allowed)}]")
    return value


def _copy_to_rows(conversation_id: str, fields: dict[str, Any]) -> None:
    """Keep the list-filter copies on participant rows equal to the header."""
    users = [row["user_id"] for row in store.participants(conversation_id)]
    each(users, lambda uid: store.copy_fields(conversation_id, uid, fields))


def _set_ticket_field(caller: Caller, conversation_id: str, field: str, value: str) -> dict[str, list[str]]:
    ctx = _managed(caller, conversation_id, f"Not authorized to change {field} in this conversation.")
    store.set_fields(ctx.cid, {field: value}, iso(utcnow()))
    _copy_to_rows(ctx.cid, {field: value})
    return {value: [ctx.cid]}


def set_priority(caller: Caller, conversation_id: str, priority: str | None) -> dict[str, list[str]]:
    value = _valid_enum(priority, "messageConversationPriority", PRIORITIES)
    return _set_ticket_field(caller, conversation_id, "priority", value)


def set_status(caller: Caller, conversation_id: str, status: str | None) -> dict[str, list[str]]:
    value = _valid_enum(status, "messageConversationStatus", STATUSES)
    return _set_ticket_field(caller, conversation_id, "status", value)


def assign(caller: Caller, conversation_id: str, user_id: str | None) -> dict[str, str]:
    ctx = _managed(caller, conversation_id, "Not authorized to assign a user to this conversation.")
    user = directory.get_user(user_id) if user_id and is_directory_id(user_id) else None
    if user is None or not user.get("active", True):
        raise NotFound(plain("Could not find user to assign"))
    if ctx.header.get("messageType") == "TICKET" and not in_feedback_group(user, ctx.feedback_group()):
        raise Conflict(plain("User provided is not a member of the system's feedback recipient group"))
    store.set_fields(ctx.cid, {"assignee": user["id"], "assigneeName": display_name(user)}, iso(utcnow()))
    _copy_to_rows(ctx.cid, {"assignee": user["id"]})
    return {"message": f"User {display_name(user)} was assigned successfully"}


def unassign(caller: Caller, conversation_id: str) -> dict[str, str]:
    ctx = _managed(caller, conversation_id, "Not authorized to remove the assigned user to this conversation.")
    store.set_fields(ctx.cid, {"assignee": None, "assigneeName": None}, iso(utcnow()))
    _copy_to_rows(ctx.cid, {"assignee": ""})   # rows keep "" for no assignee (list filters)
    return {"message": "Message is no longer assigned to user"}
