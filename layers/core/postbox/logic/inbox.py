"""The caller's own inbox: list, counts, read/unread, archive, delete.

No permission read is needed: an entry is keyed by its user, so a caller can only ever reach their own.
"""

from typing import Any

from postbox import cursor as cursors
from postbox.auth import Caller
from postbox.dal import counters, feed
from postbox.dal import inbox as store
from postbox.dal.gate import parallel_map
from postbox.dal.table import Item
from postbox.errors import NOT_FOUND, Forbidden, NotFound
from postbox.logic import paging
from postbox.models.inbox import InboxCountsOut, InboxItemOut, InboxPageOut
from postbox.timefmt import iso, utcnow

NO_INBOX = "Applications have no inbox."
PARALLEL_UPDATES = 8


def _user_id(caller: Caller) -> str:
    if caller.is_app:
        raise Forbidden(NO_INBOX)
    return caller.id


def inbox_owner(caller: Caller) -> str:
    """The user whose inbox a request reaches; applications have none (403)."""
    return _user_id(caller)


def render_entry(item: Item) -> dict[str, Any]:
    return InboxItemOut.model_validate(item).model_dump(by_alias=True)


def list_inbox(caller: Caller, *, unread: bool, kind: str | None, archived: bool, limit: int,
               cursor: str | None) -> InboxPageOut:
    user_id = _user_id(caller)
    binding = {"unread": unread, "kind": kind, "archived": archived, "limit": limit}
    if unread and not archived:
        return _list_unread(caller, user_id, kind, limit, cursor or "", binding)
    query = store.feed_query(user_id, archived=archived, kind=kind)
    if unread:
        query = feed.FeedQuery(query.index, query.partition, where=(*query.where, ("read", "eq", False)))
    rows, next_cursor = paging.by_cursor(query, render_entry, cursor=cursor or "", size=limit, scope="inbox",
                                         caller_id=user_id, binding=binding)
    return InboxPageOut(items=rows, next_cursor=next_cursor)


def _list_unread(caller: Caller, user_id: str, kind: str | None, limit: int, cursor: str,
                 binding: dict[str, Any]) -> InboxPageOut:
    """The sparse unread index holds keys only: one Query for the page, one BatchGetItem for the entries."""
    query = store.unread_query(user_id)
    start = cursors.decode(cursor, scope="inbox", caller_id=user_id, query=binding) if cursor else None
    page = feed.fetch(query, limit=limit, start_key=start)
    found = store.get_entries([{"PK": row["PK"], "SK": row["SK"]} for row in page.items])
    rows = [render_entry(found[(row["PK"], row["SK"])]) for row in page.items if (row["PK"], row["SK"]) in found]
    rows = [row for row in rows if not row["read"] and (kind is None or row["kind"] == kind)]
    next_cursor = (cursors.encode(page.next_key, scope="inbox", caller_id=user_id, query=binding)
                   if page.next_key else None)
    return InboxPageOut(items=rows, next_cursor=next_cursor)


def counts(caller: Caller) -> InboxCountsOut:
    """One GetItem: the user's counters, changed in the same transaction as each entry (docs/inbox.md#counts)."""
    counted = counters.read(_user_id(caller))
    return InboxCountsOut(unread=counted["unread"], total=counted["total"])


def unread_count(user_id: str) -> int:
    """One GetItem, whatever the number of unread entries."""
    return counters.read(user_id)["unread"]


def change_state(caller: Caller, ids: list[str], change: str) -> list[str]:
    """read | unread | archive | unarchive on each id; returns the ids that changed (unknown ids are skipped)."""
    user_id = _user_id(caller)
    now = iso(utcnow())
    unique = list(dict.fromkeys(ids))
    results = parallel_map(lambda source_id: store.transition(user_id, source_id, change, now), unique,
                           min(PARALLEL_UPDATES, len(unique)))
    return [source_id for source_id, result in zip(unique, results, strict=True) if result.entry is not None]


def read_all(caller: Caller) -> list[str]:
    user_id = _user_id(caller)
    return change_state(caller, store.unread_source_ids(user_id), "read")


def mark_source_read(caller: Caller, source_id: str) -> list[str]:
    """One conditional UpdateItem: the entry exists only if the caller was a recipient."""
    user_id = _user_id(caller)
    result = store.transition(user_id, source_id, "read", iso(utcnow()))
    if not result.exists:
        raise NotFound(NOT_FOUND)
    return [source_id] if result.entry is not None else []


def delete_entry(caller: Caller, source_id: str) -> None:
    user_id = _user_id(caller)
    if not store.delete_entry(user_id, source_id):
        raise NotFound(NOT_FOUND)
