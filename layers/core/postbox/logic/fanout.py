"""Fan-out: a new message becomes one inbox entry per recipient; a deleted one takes its entries along.
A message's attachment objects are tagged linked when it is created, and deleted (objects and items) with it.

Idempotent: an entry's key is (user, source id), entries that already exist are left as they are (so a
retried batch never resets read state), and deletion is by key.
"""

from postbox.dal import alerts as alert_store
from postbox.dal import directory, inbox, keys
from postbox.dal.inbox import NewEntry
from postbox.dal.table import Item
from postbox.logic import attachments, channels
from postbox.logic.alert_stream import fan_out_alert
from postbox.logic.changes import Change
from postbox.logic.entries import preview, write_missing
from postbox.logic.permissions import target_viewers

ALERT_ITEM_TYPES = (alert_store.ALERT_TYPE, alert_store.RECEIVERS_TYPE, alert_store.JOB_TYPE)


def fan_out(change: Change) -> None:
    if change.item_type() in ALERT_ITEM_TYPES:
        fan_out_alert(change)  # Aalam alerts: receiver chunks become entries, edits reach them
        return
    if change.item_type() == "conversation_message":
        # A DHIS2 conversation's message: its participants were written in the request; only its files are
        # tagged linked here, and deleted with it (hard delete).
        if change.event == "INSERT" and change.new:
            attachments.mark_linked(attachments.attachment_ids_of(change.new))
        elif change.event == "REMOVE" and change.old:
            attachments.forget(attachments.attachment_ids_of(change.old))
        return
    if change.item_type() != "message":
        return
    if change.event == "INSERT" and change.new:
        deliver_message(change.new)
        attachments.mark_linked(attachments.attachment_ids_of(change.new))
    elif change.event == "REMOVE" and change.old:
        delete_entries(change.old)
        attachments.forget(attachments.attachment_ids_of(change.old))


def message_recipients(message: Item) -> list[str]:
    """Active users with view on the target, except the sender."""
    return _recipients_and_sender(message)[0]


def _recipients_and_sender(message: Item) -> tuple[list[str], dict[str, Item], Item | None]:
    """The recipients, their directory entries, and the sending user's entry (read in the same BatchGetItem)."""
    by_user = message["sender_kind"] == "user"
    candidates = candidates_of(message, target_viewers(message["target_type"], message["target_id"]))
    users = directory.get_users(candidates + ([message["sender_id"]] if by_user else []))
    return recipients_among(candidates, users), users, users.get(message["sender_id"]) if by_user else None


def candidates_of(message: Item, viewers: list[str]) -> list[str]:
    """The target's viewers but the sender (an app sends as itself: every viewer is a candidate)."""
    return [uid for uid in viewers if not (message["sender_kind"] == "user" and uid == message["sender_id"])]


def recipients_among(candidates: list[str], users: dict[str, Item]) -> list[str]:
    """The candidates in the directory and active, in order."""
    return [uid for uid in candidates if uid in users and users[uid].get("active", True)]


def entries_for(message: Item, recipients: list[str], sender_name: str | None = None,
                users: dict[str, Item] | None = None) -> list[Item]:
    """One unread inbox entry per recipient, showing the message's preview and the sender's display name, and
    whether the recipient has a channel to be notified on (when their directory entries are known)."""
    text, truncated = preview(message["message"])
    return [inbox.entry_item(NewEntry(user_id=uid, kind="message", source_id=message["id"], sender=message["user"],
                                      text=text, truncated=truncated, created_at=message["timestamp"],
                                      sender_name=sender_name,
                                      notify=channels.reachable(users[uid]) if users and uid in users else None))
            for uid in recipients]


def deliver_message(message: Item) -> int:
    """Write the missing inbox entries; returns how many were written."""
    recipients, users, sender = _recipients_and_sender(message)
    return write_missing(entries_for(message, recipients, (sender or {}).get("name") or None, users))


def delete_entries(message: Item) -> int:
    """The entries found in the source index, and the current recipients' too: an index is eventually
    consistent, so entries written a moment ago (by the same batch, even) may not be in it yet."""
    found = [*inbox.source_entry_keys(message["id"]),
             *(keys.inbox_key(uid, message["id"]) for uid in message_recipients(message))]
    unique = list({(k["PK"], k["SK"]): k for k in found}.values())
    return inbox.delete_entries(unique) if unique else 0
