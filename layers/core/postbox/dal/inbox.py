"""Inbox entries: one per recipient and source (message, conversation or alert), keyed by both.

Read and archive state changes are single conditional UpdateItems that also move the entry between
the index partitions (unread, archived), so counts are index COUNTs and never drift.
"""

from dataclasses import dataclass

from postbox.dal import keys, table
from postbox.dal.feed import FeedQuery
from postbox.dal.table import ConditionFailed, Item, Key


@dataclass(frozen=True)
class NewEntry:
    user_id: str
    kind: str          # message | conversation | alert
    source_id: str
    sender: str        # shown as "from"
    text: str
    truncated: bool
    created_at: str
    sender_name: str | None = None   # shown as "from_name": a message sender's display name


def entry_item(entry: NewEntry) -> Item:
    sort = keys.sort_key(entry.created_at, entry.source_id)
    return {
        **keys.inbox_key(entry.user_id, entry.source_id),
        "type": "inbox",
        "id": entry.source_id, "user_id": entry.user_id, "kind": entry.kind, "source_id": entry.source_id,
        "from": entry.sender, "text": entry.text, "truncated": entry.truncated, "created_at": entry.created_at,
        "read": False, "archived": False, "sort": sort,
        "GSI1PK": keys.inbox_feed(entry.user_id), "GSI1SK": sort,
        "GSI3PK": keys.unread_feed(entry.user_id), "GSI3SK": sort,
        "GSI4PK": keys.source_feed(entry.source_id), "GSI4SK": keys.user_pk(entry.user_id),
        **({"from_name": entry.sender_name} if entry.sender_name else {}),
    }


def existing_keys(entry_keys: list[Key]) -> set[tuple[str, str]]:
    return set(table.batch_get(entry_keys, consistent=True))


def write_entries(items: list[Item]) -> int:
    return table.batch_write(items)


def source_entry_keys(source_id: str) -> list[Key]:
    rows = table.query_all(table.key_attr("GSI4PK").eq(keys.source_feed(source_id)), index=keys.BY_SOURCE_INDEX)
    return [table.key_of(row) for row in rows]


def delete_entries(entry_keys: list[Key]) -> int:
    return table.batch_write(deletes=entry_keys)


def delete_entry(user_id: str, source_id: str, *, kind: str | None = None) -> bool:
    """Delete the user's entry (only if it is of `kind`, when given); False when there is none."""
    condition = table.attr("PK").exists() if kind is None else table.attr("kind").eq(kind)
    try:
        table.delete(keys.inbox_key(user_id, source_id), condition=condition)
    except Exception as error:
        if table.is_conditional_failure(error):
            return False
        raise
    return True


# A transition is tried as a list of (condition, update) variants: the first whose condition holds wins.
# Variants exist because whether an entry belongs in the unread index depends on both flags.
_TRANSITIONS: dict[str, list[tuple[dict[str, bool], str]]] = {
    "read": [({"read": False}, "SET #read = :true, read_at = :now REMOVE GSI3PK, GSI3SK")],
    "unread": [
        ({"read": True, "archived": False}, "SET #read = :false, GSI3PK = :unread, GSI3SK = #sort REMOVE read_at"),
        ({"read": True, "archived": True}, "SET #read = :false REMOVE read_at"),
    ],
    "archive": [({"archived": False}, "SET archived = :true, GSI1PK = :archive REMOVE GSI3PK, GSI3SK")],
    "unarchive": [
        ({"archived": True, "read": True}, "SET archived = :false, GSI1PK = :inbox"),
        ({"archived": True, "read": False}, "SET archived = :false, GSI1PK = :inbox, GSI3PK = :unread, GSI3SK = #sort"),
    ],
}


@dataclass(frozen=True)
class Transition:
    entry: Item | None   # the changed entry; None when nothing changed
    exists: bool         # False when the user has no such entry


def transition(user_id: str, source_id: str, change: str, now: str, *, kind: str | None = None) -> Transition:
    """Apply a state change with conditional updates (one request, two when the first variant misses).
    With `kind`, an entry of another kind counts as absent."""
    values = {":true": True, ":false": False, ":now": now, ":unread": keys.unread_feed(user_id),
              ":archive": keys.inbox_feed(user_id, archived=True), ":inbox": keys.inbox_feed(user_id)}
    names = {"#read": "read", "#sort": "sort"}
    for required, expression in _TRANSITIONS[change]:
        condition = None
        for flag, value in required.items():
            clause = table.attr(flag).eq(value)
            condition = clause if condition is None else condition & clause
        if kind is not None:
            condition = condition & table.attr("kind").eq(kind)
        used_values = {k: v for k, v in values.items() if k in expression}
        used_names = {k: v for k, v in names.items() if k in expression}
        try:
            return Transition(table.update(keys.inbox_key(user_id, source_id), expression, names=used_names,
                                           values=used_values, condition=condition), True)
        except ConditionFailed as failed:
            if failed.item is None or (kind is not None and failed.item.get("kind") != kind):
                return Transition(None, False)
    return Transition(None, True)


def feed_query(user_id: str, *, archived: bool, kind: str | None) -> FeedQuery:
    where = (("kind", "eq", kind),) if kind else ()
    return FeedQuery(keys.FEED_INDEX, keys.inbox_feed(user_id, archived=archived), where=where)


def unread_query(user_id: str) -> FeedQuery:
    return FeedQuery(keys.UNREAD_INDEX, keys.unread_feed(user_id))


def get_entries(entry_keys: list[Key]) -> dict[tuple[str, str], Item]:
    return table.batch_get(entry_keys)


def unread_source_ids(user_id: str) -> list[str]:
    rows = table.query_all(table.key_attr("GSI3PK").eq(keys.unread_feed(user_id)), index=keys.UNREAD_INDEX)
    return [keys.source_of(row) for row in rows]
