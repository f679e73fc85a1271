"""Pagination: Ona's page-number mode (exact, costs grow with the page) and signed cursor mode (flat cost)."""

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from postbox import cursor as cursors
from postbox.dal import feed, messages
from postbox.dal.feed import FeedQuery
from postbox.dal.table import Item
from postbox.errors import BadRequest, NotFound
from postbox.settings import LimitsSettings

INVALID_PAGE = "Invalid page."
PAGE_TOO_LARGE = "Page too large; use a smaller page_size or cursor pagination."


@dataclass
class PageLinks:
    """What a Link header needs: query-parameter overrides per relation (None removes the parameter)."""

    relations: list[tuple[str, dict[str, str | None]]]


@dataclass
class Page:
    rows: list[dict[str, Any]]
    links: PageLinks


def page_size(raw: str | None) -> int:
    """Ona: a missing, non-integer or non-positive page_size means the default; capped at the maximum."""
    settings = LimitsSettings.get()
    try:
        size = int(raw) if raw is not None else settings.PAGE_SIZE_DEFAULT
    except ValueError:
        return settings.PAGE_SIZE_DEFAULT
    if size <= 0:
        return settings.PAGE_SIZE_DEFAULT
    return min(size, settings.PAGE_SIZE_MAX)


def _json_size(row: dict[str, Any]) -> int:
    return len(json.dumps(row, ensure_ascii=False).encode()) + 1


def _page_number(raw: str | None, pages: int) -> int:
    if raw is None:
        return 1
    if raw == "last":
        return pages
    try:
        number = int(raw)
    except ValueError:
        raise NotFound(INVALID_PAGE) from None
    if number < 1 or number > pages:
        raise NotFound(INVALID_PAGE)
    return number


def number_links(number: int, pages: int) -> PageLinks:
    """Ona's order: prev, next, last, first; `first` omitted on page 1, `last` on the last page."""
    relations: list[tuple[str, dict[str, str | None]]] = []
    if pages <= 1:
        return PageLinks(relations)
    if number > 1:
        relations.append(("prev", {"page": None if number == 2 else str(number - 1)}))
    if number < pages:
        relations.append(("next", {"page": str(number + 1)}))
        relations.append(("last", {"page": str(pages)}))
    if number > 1:
        relations.append(("first", {"page": "1"}))
    return PageLinks(relations)


def feed_size(query: FeedQuery) -> int:
    """A whole target feed's size is one GetItem of its counter (dal/messages.py); a feed narrowed by time or by a
    filter is counted."""
    if query.lower is None and query.upper is None and not query.where and query.partition.startswith("TGT#"):
        return messages.feed_size(query.partition)
    return feed.count(query)


def by_page_number(query: FeedQuery, render: Callable[[Item], dict[str, Any]], *, page: str | None,
                   size: int) -> Page:
    budget = LimitsSettings.get().PAGE_BYTES_MAX
    if page in (None, "1"):
        # Page 1 needs no count unless there is a second page.
        first = feed.fetch(query, limit=size, max_bytes=budget, size_of=lambda item: _json_size(render(item)))
        if first.over_budget:
            raise BadRequest(PAGE_TOO_LARGE)
        if first.next_key is None:
            return Page([render(item) for item in first.items], PageLinks([]))
        pages = math.ceil(feed_size(query) / size)
        return Page([render(item) for item in first.items], number_links(1, pages))
    pages = max(1, math.ceil(feed_size(query) / size))
    number = _page_number(page, pages)
    start = feed.skip(query, (number - 1) * size)
    result = feed.fetch(query, limit=size, start_key=start, max_bytes=budget,
                        size_of=lambda item: _json_size(render(item)))
    if result.over_budget:
        raise BadRequest(PAGE_TOO_LARGE)
    return Page([render(item) for item in result.items], number_links(number, pages))


def rows_by_page_number(rows: list[dict[str, Any]], *, page: str | None, size: int) -> Page:
    """Page-number mode over rows already computed (group_by results)."""
    pages = max(1, math.ceil(len(rows) / size))
    number = _page_number(page, pages)
    chosen = rows[(number - 1) * size : number * size]
    if sum(_json_size(row) for row in chosen) > LimitsSettings.get().PAGE_BYTES_MAX:
        raise BadRequest(PAGE_TOO_LARGE)
    return Page(chosen, number_links(number, pages))


def by_cursor(query: FeedQuery, render: Callable[[Item], dict[str, Any]], *, cursor: str, size: int,
              scope: str, caller_id: str, binding: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
    """One page from a signed cursor ("" is the first page). Returns the rows and the next cursor."""
    start = cursors.decode(cursor, scope=scope, caller_id=caller_id, query=binding) if cursor else None
    result = feed.fetch(query, limit=size, start_key=start, max_bytes=LimitsSettings.get().PAGE_BYTES_MAX,
                        size_of=lambda item: _json_size(render(item)))
    next_cursor = None
    if result.next_key is not None:
        next_cursor = cursors.encode(result.next_key, scope=scope, caller_id=caller_id, query=binding)
    return [render(item) for item in result.items], next_cursor
