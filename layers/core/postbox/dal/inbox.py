"""Inbox entries: one per recipient and source (message, conversation or alert), keyed by both.

Every write of an entry is counted (dal/counters.py, docs/inbox.md#counts): it is one TransactWriteItems with the
ADD on the user's counters, conditional on the state it was computed from. Read and archive state changes also move
the entry between the index partitions (unread, archived).
"""

from dataclasses import dataclass

from postbox.dal import counters, keys, table
from postbox.dal.feed import FeedQuery
from postbox.dal.table import Item, Key


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
    notify: bool | None = None       # False: the user had no email or SMS channel when it was written


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
        "GSI4PK": keys.source_feed(entry.source_id, entry.user_id), "GSI4SK": keys.user_pk(entry.user_id),
        **({"from_name": entry.sender_name} if entry.sender_name else {}),
        **({"notify": entry.notify} if entry.notify is not None else {}),
    }


def existing_keys(entry_keys: list[Key]) -> set[tuple[str, str]]:
    return set(table.batch_get(entry_keys, consistent=True))


def write_entries(items: list[Item]) -> int:
    """Create the entries (with their counters), guessing that none exists: one that does fails its condition, is
    read, and is left as it is. Returns the number written."""
    created = [counters.create(item) for item in items]
    outcome = counters.apply(created, stored={(c.key["PK"], c.key["SK"]): None for c in created})
    return sum(1 for after in outcome.after.values() if after is not None)


def user_of(entry_key: Key) -> str:
    """The user an entry key belongs to (the inverse of keys.inbox_key)."""
    if entry_key["PK"].startswith("CONV#"):
        return entry_key["SK"].removeprefix("PART#")
    return entry_key["PK"].removeprefix("USER#")


def source_entry_keys(source_id: str) -> list[Key]:
    """Every entry of a source, from the source index: one Query per shard (keys.source_feeds)."""
    return [table.key_of(row) for feed in keys.source_feeds(source_id)
            for row in table.query_all(table.key_attr("GSI4PK").eq(feed), index=keys.BY_SOURCE_INDEX)]


def delete_entries(entry_keys: list[Key]) -> int:
    """Delete the entries that exist (read first, then counted deletes). Returns the number of transactions."""
    return counters.apply([counters.remove(key, user_of(key)) for key in entry_keys]).transactions


def delete_entry(user_id: str, source_id: str, *, kind: str | None = None) -> bool:
    """Delete the user's entry (only if it is of `kind`, when given); False when there is none."""
    entry_key = keys.inbox_key(user_id, source_id)
    change = counters.remove(entry_key, user_id, only_if=lambda stored: kind is None or stored.get("kind") == kind)
    return bool(counters.apply([change]).after)


# A state change: the flags it sets, and the update for an entry in a given (read, archived) state (None: no change).
_CHANGES: dict[str, dict[str, bool]] = {"read": {"read": True}, "unread": {"read": False},
                                       "archive": {"archived": True}, "unarchive": {"archived": False}}


def _expression(change: str, read: bool, archived: bool) -> str | None:
    if change == "read":
        return None if read else "SET #read = :true, read_at = :now REMOVE GSI3PK, GSI3SK"
    if change == "unread":
        if not read:
            return None
        return "SET #read = :false REMOVE read_at" if archived else \
            "SET #read = :false, GSI3PK = :unread, GSI3SK = #sort REMOVE read_at"
    if change == "archive":
        return None if archived else "SET archived = :true, GSI1PK = :archive REMOVE GSI3PK, GSI3SK"
    if archived:  # unarchive
        return "SET archived = :false, GSI1PK = :inbox" if read else \
            "SET archived = :false, GSI1PK = :inbox, GSI3PK = :unread, GSI3SK = #sort"
    return None


# The state an entry most likely has before each change: the first try is one request when the guess is right.
_LIKELY = {"read": (False, False), "unread": (True, False), "archive": (True, False), "unarchive": (True, True)}


@dataclass(frozen=True)
class Transition:
    entry: Item | None   # the changed entry (its key, flags and what the caller knew of it); None when nothing changed
    exists: bool         # False when the user has no such entry


def transition(user_id: str, source_id: str, change: str, now: str, *, kind: str | None = None,
               known: Item | None = None) -> Transition:
    """Apply a state change with its counters: one TransactWriteItems when the entry is in the likely state, else a
    read and a second one. With `kind`, an entry of another kind counts as absent. `known`: what the caller has
    read of the entry (a conversation's message type, which its per-type counters need), for a better guess."""
    entry_key = keys.inbox_key(user_id, source_id)
    values = {":true": True, ":false": False, ":now": now, ":unread": keys.unread_feed(user_id),
              ":archive": keys.inbox_feed(user_id, archived=True), ":inbox": keys.inbox_feed(user_id)}
    names = {"#read": "read", "#sort": "sort"}
    seen: dict[str, bool] = {"exists": False}

    def edit(stored: Item | None) -> tuple[str, dict[str, str], dict[str, object], dict[str, object]] | None:
        seen["exists"] = stored is not None and (kind is None or stored.get("kind") in (kind, None))
        if not seen["exists"]:
            return None
        assert stored is not None
        expression = _expression(change, bool(stored.get("read")), bool(stored.get("archived")))
        if expression is None:
            return None
        fields: dict[str, object] = dict(_CHANGES[change])
        if change == "read":
            fields["read_at"] = now
        elif change == "unread":
            fields["read_at"] = None
        return (expression, {k: v for k, v in names.items() if k in expression},
                {k: v for k, v in values.items() if k in expression}, fields)

    read, archived = _LIKELY[change]
    guess = {**entry_key, "type": "inbox", "user_id": user_id, "read": read, "archived": archived,
             **({"kind": "conversation"} if entry_key["PK"].startswith("CONV#") else {}),
             **({"kind": kind} if kind else {}), **(known or {})}
    outcome = counters.apply([counters.update(entry_key, user_id, edit)],
                             stored={(entry_key["PK"], entry_key["SK"]): guess})
    entry = outcome.after.get((entry_key["PK"], entry_key["SK"]))
    if entry is not None:
        return Transition(entry, True)
    return Transition(None, seen["exists"])


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
