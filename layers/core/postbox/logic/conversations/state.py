"""Per-user state: read, unread, follow-up and unfollow-up, for one conversation or a batch."""

from dataclasses import dataclass

from postbox.auth import Caller
from postbox.dal import conversations as store
from postbox.dal import inbox, table
from postbox.dal.table import Item
from postbox.logic.conversations.batch import check_batch, check_batch_access, each, loaded, target_user
from postbox.timefmt import iso, utcnow


@dataclass(frozen=True)
class StateChange:
    attribute: str          # read | followUp
    value: bool
    result_key: str         # markedRead, markedUnread, markedFollowup, unmarkedFollowup
    not_found: str          # the 404 text when no conversation is known
    forbidden: str
    only_changed: bool      # read lists changed conversations; follow-up lists every loaded one


READ = StateChange("read", True, "markedRead", "No MessageConversations found for the given IDs.",
                   "Not authorized to change read property of this conversation.", True)
UNREAD = StateChange("read", False, "markedUnread", "No MessageConversations found for the given IDs.",
                     "Not authorized to change read property of this conversation.", True)
FOLLOWUP = StateChange("followUp", True, "markedFollowup", "No MessageConversations found for the given UIDs",
                       "Not authorized to change followups in this conversation.", False)
UNFOLLOWUP = StateChange("followUp", False, "unmarkedFollowup", "No MessageConversations found for the given UIDs",
                         "Not authorized to change unfollowups in this conversation.", False)


def change_state(caller: Caller, conversation_ids: list[str], change: StateChange,
                 user_id: str | None = None) -> dict[str, list[str]]:
    """Batch (and single) read/unread/followup/unfollowup, all-or-nothing on access."""
    check_batch(conversation_ids)
    target = target_user(caller, user_id, "No user with uid: {}")
    headers = loaded(conversation_ids, change.not_found)
    check_batch_access(caller, headers, target, change.forbidden, "Not authorized to modify this object.")
    now = iso(utcnow())
    changed = each(list(headers), lambda cid: _set_flag(cid, target, change, now, headers[cid]))
    return {change.result_key: changed if change.only_changed else list(headers)}


def _set_flag(conversation_id: str, user_id: str, change: StateChange, now: str, header: Item) -> bool:
    """One conditional update; True if the participant's flag changed."""
    if change.attribute == "read":
        return inbox.transition(user_id, conversation_id, "read" if change.value else "unread", now,
                                known={"messageType": header.get("messageType")}).entry is not None
    try:
        table.update(store.participant_key(conversation_id, user_id), "SET followUp = :v", values={":v": change.value},
                     condition=table.attr("PK").exists() & table.attr("followUp").ne(change.value))
    except table.ConditionFailed:
        return False
    return True


def mark_one(caller: Caller, conversation_id: str, change: StateChange, user_id: str | None) -> dict[str, list[str]]:
    return change_state(caller, [conversation_id], change, user_id)
