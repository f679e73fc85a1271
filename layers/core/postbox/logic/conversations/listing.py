"""The caller's conversations (only theirs, whatever the query) with DHIS2's pager, and the unread count."""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from postbox.auth import Caller
from postbox.dal import conversations as store
from postbox.dal import counters, feed
from postbox.dal.table import Item
from postbox.errors import Forbidden
from postbox.logic.conversations.batch import PARALLEL_UPDATES
from postbox.logic.conversations.filters import ListQuery, filter_conditions, query_conditions
from postbox.logic.conversations.rendering import entity
from postbox.logic.permissions import manages_tickets_in, ticket_manager_keys
from postbox.settings import LimitsSettings


def list_for(caller: Caller, query: ListQuery) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The caller's conversations (only theirs, whatever the query), newest activity first by default."""
    if caller.is_app:
        raise Forbidden("Applications have no conversations.")
    where = filter_conditions(query) + query_conditions(caller, query.query)
    feed_query = store.user_feed(caller.id, where=where, newest_first=query.newest_first)
    if query.paging:
        total = _counted_total(caller.id, where)
        if total is None:
            total = feed.count(feed_query)
        skipped = (query.page - 1) * query.page_size
        start = feed.skip(feed_query, skipped) if skipped < total else None
        rows = feed.fetch(feed_query, limit=query.page_size, start_key=start).items if skipped < total else []
        pager = {"page": query.page, "pageCount": max(1, -(-total // query.page_size)), "total": total,
                 "pageSize": query.page_size}
    else:
        rows = feed.fetch(feed_query, limit=LimitsSettings.get().PAGE_SIZE_MAX).items
        pager = None
    # Whether the caller sees internal notes (and the summary over them) rides along the headers' BatchGetItem.
    headers, found = store.load_headers([row["id"] for row in rows], *ticket_manager_keys(caller)) if rows \
        else ({}, {})
    show_internal = manages_tickets_in(caller, found)
    messages: dict[str, list[Item]] = {}
    if query.wants_messages and rows:
        wanted = [row["id"] for row in rows]
        with ThreadPoolExecutor(max_workers=min(PARALLEL_UPDATES, len(wanted))) as pool:
            messages = dict(zip(wanted, pool.map(store.messages, wanted), strict=True))
    out = []
    for row in rows:
        header = headers.get(row["id"])
        if header is None:
            continue
        out.append(entity(header, messages.get(row["id"]) if query.wants_messages else None, None, row,
                          show_internal=show_internal))
    return out, pager


def _counted_total(user_id: str, where: tuple) -> int | None:
    """The total from the caller's counters (one GetItem) when the filters are at most a message type and a read
    state, as the Messaging app sends them; None when other filters narrow the list (then it is counted)."""
    types = {value for attribute, op, value in where if (attribute, op) == ("messageType", "eq")}
    reads = {value for attribute, op, value in where if (attribute, op) == ("read", "eq")}
    if len(types) > 1 or len(reads) > 1 or len(types) + len(reads) != len(where):
        return None
    names: tuple[str, ...] = ("conversations", "conversation_unread")
    if types:
        names = tuple(counters.by_type(name, *types) for name in names)
    counted = counters.read(user_id)
    everything, unread = (counted.get(name, 0) for name in names)
    if not reads:
        return everything
    return unread if reads == {False} else everything - unread


def unread_count(caller: Caller) -> int:
    """GET /api/me/dashboard: the caller's unread conversations."""
    if caller.is_app:
        return 0
    return counters.read(caller.id)["conversation_unread"]  # one GetItem (docs/inbox.md#counts)
