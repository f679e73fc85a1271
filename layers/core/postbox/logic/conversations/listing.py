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
from postbox.logic.permissions import feedback_group, holds_ticket_authority, in_feedback_group, load_actor
from postbox.settings import LimitsSettings


def list_for(caller: Caller, query: ListQuery) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The caller's conversations (only theirs, whatever the query), newest activity first by default."""
    if caller.is_app:
        raise Forbidden("Applications have no conversations.")
    where = filter_conditions(query) + query_conditions(caller, query.query)
    feed_query = store.user_feed(caller.id, where=where, newest_first=query.newest_first)
    if query.paging:
        total = feed.count(feed_query)
        skipped = (query.page - 1) * query.page_size
        start = feed.skip(feed_query, skipped) if skipped < total else None
        rows = feed.fetch(feed_query, limit=query.page_size, start_key=start).items if skipped < total else []
        pager = {"page": query.page, "pageCount": max(1, -(-total // query.page_size)), "total": total,
                 "pageSize": query.page_size}
    else:
        rows = feed.fetch(feed_query, limit=LimitsSettings.get().PAGE_SIZE_MAX).items
        pager = None
    headers = store.get_headers([row["id"] for row in rows]) if rows else {}
    show_internal = False
    messages: dict[str, list[Item]] = {}
    if query.wants_messages and rows:
        wanted = [row["id"] for row in rows]
        with ThreadPoolExecutor(max_workers=min(PARALLEL_UPDATES, len(wanted))) as pool:
            messages = dict(zip(wanted, pool.map(store.messages, wanted), strict=True))
        if any(m.get("internal") for found in messages.values() for m in found):
            actor = load_actor(caller)
            entry = actor.entry if actor.is_user else None
            show_internal = holds_ticket_authority(entry) or in_feedback_group(entry, feedback_group())
    out = []
    for row in rows:
        header = headers.get(row["id"])
        if header is None:
            continue
        out.append(entity(header, messages.get(row["id"]) if query.wants_messages else None, None, row,
                          show_internal=show_internal))
    return out, pager


def unread_count(caller: Caller) -> int:
    """GET /api/me/dashboard: the caller's unread conversations."""
    if caller.is_app:
        return 0
    return counters.read(caller.id)["conversation_unread"]  # one GetItem (docs/inbox.md#counts)
