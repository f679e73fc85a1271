"""Leaving conversations (one, or a batch) and hard delete (F_METADATA_IMPORT or ALL)."""

from postbox.auth import Caller
from postbox.dal import conversations as store
from postbox.dal import directory
from postbox.errors import Forbidden, NotFound
from postbox.ids import is_directory_id
from postbox.logic.conversations.access import load_context, plain
from postbox.logic.conversations.batch import check_batch, check_batch_access, each, loaded
from postbox.logic.permissions import can_hard_delete, load_actor

REMOVE_FORBIDDEN = "Not authorized to remove assigned users to this conversation."


def remove_user(caller: Caller, conversation_id: str, user_id: str) -> dict[str, list[str]]:
    if not is_directory_id(user_id) or directory.get_user(user_id) is None:
        raise NotFound(plain(f"No user with uid: {user_id}"))
    ctx = load_context(caller, conversation_id)
    if not ctx.access.exists:
        raise NotFound(plain(f"No messageConversation with uid: {conversation_id}"))
    if not ctx.can_act() or not ctx.access.may_act_for(user_id):
        raise Forbidden(REMOVE_FORBIDDEN)
    return {"removed": [ctx.cid] if store.delete_row(ctx.cid, user_id) else []}


def remove_user_batch(caller: Caller, conversation_ids: list[str], user_id: str | None) -> dict[str, list[str]]:
    check_batch(conversation_ids)
    target = user_id or caller.id
    if target != caller.id and (not is_directory_id(target) or directory.get_user(target) is None):
        raise NotFound(plain(f"User does not exist: {target}"))
    headers = loaded(conversation_ids, "No MessageConversations found for the given UIDs.")
    check_batch_access(caller, headers, target, REMOVE_FORBIDDEN, REMOVE_FORBIDDEN)
    return {"removed": each(list(headers), lambda cid: store.delete_row(cid, target))}


def hard_delete(caller: Caller, conversation_id: str) -> None:
    """F_METADATA_IMPORT or ALL; the conversation, its messages, participants and attachments go."""
    actor = load_actor(caller)
    if not can_hard_delete(actor):
        raise Forbidden("Access is denied, requires one Authority from [F_METADATA_IMPORT]")
    ctx = load_context(caller, conversation_id)
    if not ctx.access.exists:
        raise NotFound(f"Message conversation does not exist: {conversation_id}")
    if not ctx.can_act():
        raise Forbidden("Not authorized to delete this conversation.")
    items = store.everything(ctx.cid)
    store.delete_keys([{"PK": item["PK"], "SK": item["SK"]} for item in items])
