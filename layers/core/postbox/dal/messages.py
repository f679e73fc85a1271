"""Target messages (the Ona face): one item per message, indexed by target and by target + verb."""

from dataclasses import dataclass
from datetime import datetime

from postbox.dal import keys, table
from postbox.dal.table import Item, Key


@dataclass(frozen=True)
class NewMessage:
    id: str
    verb: str
    message: str
    user: str          # what Ona calls the sender: a username, or an application's client_id
    sender_id: str     # directory id of the sending user, or the application's client_id
    sender_kind: str   # "user" or "app"
    sender_name: str
    target_type: str
    target_id: str
    target_name: str
    created: datetime
    timestamp: str


def message_item(message: NewMessage) -> Item:
    sort = keys.sort_key(message.timestamp, message.id)
    created = message.created
    return {
        **keys.message_key(message.id),
        "type": "message",
        "id": message.id, "verb": message.verb, "message": message.message, "user": message.user,
        "sender_id": message.sender_id, "sender_kind": message.sender_kind, "sender_name": message.sender_name,
        "target_type": message.target_type, "target_id": message.target_id, "target_name": message.target_name,
        "timestamp": message.timestamp,
        # Date parts for Ona's timestamp__month/day/hour/minute lookups (a month matches every year's month).
        "ts_month": created.month, "ts_day": created.day, "ts_hour": created.hour, "ts_minute": created.minute,
        "GSI1PK": keys.target_feed(message.target_type, message.target_id), "GSI1SK": sort,
        "GSI2PK": keys.target_verb_feed(message.target_type, message.target_id, message.verb), "GSI2SK": sort,
    }


def put_new(item: Item) -> None:
    table.put(item, condition=table.attr("PK").not_exists())


def put_new_action(item: Item) -> dict:
    """put_new as a TransactWriteItems action (a message written together with its attachments' links)."""
    return table.put_action(item, condition=table.attr("PK").not_exists())


def get(message_id: str) -> Item | None:
    return table.get(keys.message_key(message_id))


def delete_existing(message_id: str) -> bool:
    """Delete if present; False when it was already gone (a concurrent delete)."""
    try:
        table.delete(keys.message_key(message_id), condition=table.attr("PK").exists())
    except Exception as error:
        if table.is_conditional_failure(error):
            return False
        raise
    return True


def message_key(message_id: str) -> Key:
    return keys.message_key(message_id)
