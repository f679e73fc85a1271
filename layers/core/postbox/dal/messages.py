"""Target messages (the Ona face): one item per message, indexed by target and by target + verb."""

from dataclasses import dataclass
from datetime import datetime

from postbox.dal import counters, keys, table, transactions
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


FEED_COUNTS_SK = "COUNTS"


def feed_counter_actions(item: Item, change: int) -> list[dict]:
    """ADD `change` to the sizes of the message's feeds (its target's, and its target's for its verb): the items
    `TGT#{type}#{id}[#{verb}]` / `COUNTS`, which page-number mode reads instead of counting (docs/ona.md)."""
    return [transactions.update_action({"PK": item[name], "SK": FEED_COUNTS_SK}, "ADD messages :n, version :one",
                                       values={":n": change, ":one": 1})
            for name in ("GSI1PK", "GSI2PK")]


def put_new(item: Item) -> None:
    """The message and its feeds' sizes, in one TransactWriteItems."""
    transactions.transact_write(put_new_actions(item))


def put_new_actions(item: Item) -> list[dict]:
    """put_new as TransactWriteItems actions (a message written together with its attachments' links)."""
    return [transactions.put_action(item, condition=table.attr("PK").not_exists()), *feed_counter_actions(item, 1)]


def feed_size(partition: str) -> int:
    """How many messages a target feed holds: one GetItem."""
    stored = table.get({"PK": partition, "SK": FEED_COUNTS_SK}) or {}
    return max(0, int(stored.get("messages", 0)))


def rebuild_feed_size(partition: str, index: str) -> bool:
    """Set a feed's size to a count of its messages (`postbox counters rebuild`); True if it was wrong."""
    def recomputed(before: Item | None) -> dict[str, int] | None:
        counted = table.count(table.key_attr(keys.INDEX_KEYS[index][0]).eq(partition), index=index)
        return None if int((before or {}).get("messages", 0)) == counted else {"messages": counted}
    return counters.rewrite_versioned({"PK": partition, "SK": FEED_COUNTS_SK}, recomputed)


def get(message_id: str) -> Item | None:
    return table.get(keys.message_key(message_id))


def delete_existing(message: Item) -> bool:
    """Delete if present, with its feeds' sizes; False when it was already gone (a concurrent delete)."""
    delete = transactions.delete_action(keys.message_key(message["id"]), condition=table.attr("PK").exists())
    try:
        transactions.transact_write([delete, *feed_counter_actions(message, -1)])
    except transactions.TransactionCancelled as cancelled:
        if "ConditionalCheckFailed" in cancelled.reasons:
            return False
        raise
    return True


def message_key(message_id: str) -> Key:
    return keys.message_key(message_id)
