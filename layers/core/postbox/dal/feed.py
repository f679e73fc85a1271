"""Newest-first feeds on an index partition: a target's messages, a user's inbox.

A feed query is a partition, an optional range on the `{timestamp}#{id}` sort key, and optional
attribute conditions. Pages, counts and skips are the only operations; none of them scans the table.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from postbox.dal import keys, table
from postbox.dal.table import Item, Key

# (attribute, operator, value); operators are boto3's: eq ne gt gte lt lte exists
Condition = tuple[str, str, Any]

# DynamoDB applies a Query's Limit before its filter: a filtered page asked for limit+1 items may find a few and
# need another round trip, and a one-item page (DHIS2's unread count asks for pageSize=1) one per item skipped.
# Filtered pages read at least this many items per request instead.
FILTERED_READ_AHEAD = 100


@dataclass(frozen=True)
class FeedQuery:
    index: str
    partition: str
    lower: str | None = None   # inclusive bound on the sort key's timestamp
    upper: str | None = None   # exclusive bound on the sort key's timestamp
    where: tuple[Condition, ...] = ()
    newest_first: bool = True
    matches_nothing: bool = False   # known to be empty without asking DynamoDB (e.g. a verb that does not exist)

    @property
    def empty(self) -> bool:
        return self.matches_nothing or (self.lower is not None and self.upper is not None and self.lower >= self.upper)


@dataclass
class FeedPage:
    items: list[Item] = field(default_factory=list)
    next_key: Key | None = None   # where the next page starts; None when nothing is left
    bytes: int = 0
    over_budget: bool = False     # the page stopped early because it reached the byte budget


def _key_condition(query: FeedQuery):
    pk_name, sk_name = keys.INDEX_KEYS[query.index]
    condition = table.key_attr(pk_name).eq(query.partition)
    if query.lower is not None and query.upper is not None:
        return condition & table.key_attr(sk_name).between(query.lower, query.upper)
    if query.lower is not None:
        return condition & table.key_attr(sk_name).gte(query.lower)
    if query.upper is not None:
        return condition & table.key_attr(sk_name).lt(query.upper)
    return condition


def _filter(query: FeedQuery):
    combined = None
    for name, op, value in query.where:
        attr = table.attr(name)
        clause = attr.exists() if op == "exists" else getattr(attr, op)(value)
        combined = clause if combined is None else combined & clause
    return combined


def _pages(query: FeedQuery, **kwargs: Any) -> Iterator[tuple[list[Item], int, Key | None]]:
    if query.empty:
        return iter(())
    return table.query_pages(_key_condition(query), index=query.index, filter=_filter(query),
                             forward=not query.newest_first, **kwargs)


def page_key(query: FeedQuery, item: Item) -> Key:
    return table.key_of(item, *keys.INDEX_KEYS[query.index])


def fetch(query: FeedQuery, *, limit: int, start_key: Key | None = None, max_bytes: int | None = None,
          size_of=lambda item: len(json.dumps(item, default=str))) -> FeedPage:
    """Up to `limit` items from `start_key`; `next_key` is set only if at least one more item exists."""
    page = FeedPage()
    read_ahead = max(limit + 1, FILTERED_READ_AHEAD) if query.where else limit + 1
    for items, _, _ in _pages(query, limit=read_ahead, start_key=start_key):
        for item in items:
            if len(page.items) == limit:
                page.next_key = page_key(query, page.items[-1])
                return page
            size = size_of(item) if max_bytes else 0
            if max_bytes and page.items and page.bytes + size > max_bytes:
                page.next_key = page_key(query, page.items[-1])
                page.over_budget = True
                return page
            page.items.append(item)
            page.bytes += size
    return page


def count(query: FeedQuery) -> int:
    return sum(n for _, n, _ in _pages(query, select_count=True))


def skip(query: FeedQuery, n: int) -> Key | None:
    """The start key after the first `n` matching items (reads keys only, page by page)."""
    if n <= 0:
        return None
    projection = ["PK", "SK", *keys.INDEX_KEYS[query.index]]
    seen = 0
    for items, _, _ in _pages(query, projection=projection):
        if seen + len(items) >= n:
            return page_key(query, items[n - seen - 1])
        seen += len(items)
    return None


def scan_all(query: FeedQuery, projection: list[str]) -> Iterator[Item]:
    """Every matching item (for aggregation); `projection` keeps the pages small."""
    for items, _, _ in _pages(query, projection=projection):
        yield from items
