"""Ona messaging rules: create, list (filters, pagination, group_by), stats, get, delete."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from postbox.auth import Caller
from postbox.dal import feed, keys
from postbox.dal import messages as store
from postbox.dal.feed import FeedQuery
from postbox.dal.table import Item
from postbox.errors import NO_PERMISSION, NOT_FOUND, BadRequest, Forbidden, NotFound
from postbox.ids import is_ulid, new_ulid
from postbox.logic import paging
from postbox.logic.attachments import create_message_with_attachments
from postbox.logic.permissions import load_target_access
from postbox.models.ona import TARGET_TYPES, VERBS, CreatedMessageOut, CreateMessageIn, MessageOut, render_target_id
from postbox.settings import AttachmentSettings
from postbox.timefmt import iso, parse_iso, utcnow

TARGET_NOT_FOUND = {"target_id": "target_id not found"}
TIME_BUCKETS = ("hour", "day", "week", "month", "year")
GROUP_DIMENSIONS = ("user", "verb", *TIME_BUCKETS)
DATE_PARTS = ("year", "month", "day", "hour", "minute")
# Lookup suffix -> feed condition operator, as boto3's Attr names them (feed.py passes them to getattr).
LOOKUP_OPS = {"gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte"}
PART_LIMIT = 10**9  # date-part values beyond any real part are clamped, so DynamoDB never sees a huge number


def create_message(caller: Caller, request: CreateMessageIn) -> CreatedMessageOut:
    """Two DynamoDB requests: one BatchGetItem for the permission check, one conditional PutItem."""
    target_id = str(request.target_id)  # validated to a str (typed int | str for the schema)
    access = load_target_access(caller, request.target_type, target_id)
    if not access.exists:
        raise BadRequest(TARGET_NOT_FOUND)
    if not access.can_post(request.verb):
        raise Forbidden(f"You do not have permission to add messages to target_id {access.name}.")
    created = utcnow()
    message = store.NewMessage(
        id=new_ulid(int(created.timestamp() * 1000)), verb=request.verb, message=request.message,
        user=access.actor.display_name, sender_id=caller.id, sender_kind=caller.kind,
        sender_name=access.actor.real_name, target_type=request.target_type, target_id=target_id,
        target_name=access.title, created=created, timestamp=iso(created),
    )
    item = store.message_item(message)
    if request.attachments:
        _check_attachment_count(request.attachments)
        create_message_with_attachments(caller, item, request.attachments)  # 409 before anything is written
    else:
        store.put_new(item)
    return CreatedMessageOut(id=message.id, verb=message.verb, message=message.message, user=message.user,
                             target_id=render_target_id(message.target_id), target_type=message.target_type,
                             timestamp=message.timestamp)


def render_message(item: Item) -> dict[str, Any]:
    return MessageOut.model_validate(item).model_dump()


def _readable_message(caller: Caller, message_id: str, *, for_delete: bool = False) -> Item:
    """The message if the caller may read (or delete) it: 404 if absent, 403 without permission."""
    item = store.get(message_id) if is_ulid(message_id) else None
    if item is None:
        raise NotFound(NOT_FOUND)
    access = load_target_access(caller, item["target_type"], item["target_id"])
    allowed = access.can_delete() if for_delete else access.can_view()
    if not allowed:
        raise Forbidden(NO_PERMISSION)
    return item


def get_message(caller: Caller, message_id: str) -> MessageOut:
    return MessageOut.model_validate(_readable_message(caller, message_id))


def _check_attachment_count(attachment_ids: list[str]) -> None:
    limit = AttachmentSettings.get().ATTACHMENTS_PER_MESSAGE_MAX
    if len(set(attachment_ids)) > limit:
        raise BadRequest({"attachments": [f"Ensure this field has no more than {limit} elements."]})


def list_attachments(caller: Caller, message_id: str) -> list[dict[str, Any]]:
    """GET /api/v1/messaging/{id}/attachments: the message's files, for callers who may read the message (404 and
    403 as GET /api/v1/messaging/{id}). Two DynamoDB requests: the summaries are on the message item."""
    item = _readable_message(caller, message_id)
    return [{"id": a["id"], "filename": a["filename"], "content_type": a["content_type"], "size": a["size"]}
            for a in item.get("attachments") or []]


def delete_message(caller: Caller, message_id: str) -> None:
    """The stream's REMOVE record then deletes the inbox entries (and attachment objects)."""
    message = _readable_message(caller, message_id, for_delete=True)
    if not store.delete_existing(message):
        raise NotFound(NOT_FOUND)


# -- listing -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListQuery:
    target_type: str | None
    target_id: str | None
    verb: str | None = None
    user: str | None = None
    timestamp_lookups: dict[str, str] = field(default_factory=dict)
    page: str | None = None
    page_size: str | None = None
    cursor: str | None = None
    group_by: tuple[str, ...] = ()

    def binding(self) -> dict[str, Any]:
        """What a cursor is bound to: everything but the position."""
        return {"target_type": self.target_type, "target_id": self.target_id, "verb": self.verb, "user": self.user,
                "timestamp": self.timestamp_lookups, "page_size": self.page_size}


@dataclass
class ListResult:
    rows: list[dict[str, Any]]
    links: paging.PageLinks


def _check_target_params(query: ListQuery) -> tuple[str, str]:
    if not query.target_type:
        raise BadRequest("Parameter 'target_type' is missing.")
    if query.target_type not in TARGET_TYPES:
        raise BadRequest(f"Unknown target_type {query.target_type}")
    if not query.target_id:
        raise BadRequest("Parameter 'target_id' is missing.")
    return query.target_type, query.target_id


def _check_group_by(values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        if value not in GROUP_DIMENSIONS:
            raise BadRequest(f"Unsupported group_by value '{value}'")
    if len({v for v in values if v in TIME_BUCKETS}) > 1:
        raise BadRequest("Only one time bucket may be combined per group_by request")
    return tuple(d for d in GROUP_DIMENSIONS if d in values)  # deduplicated, canonical order


def _authorize_list(caller: Caller, target_type: str, target_id: str) -> bool:
    """Whether the target's feed can have rows; raises 403 when the caller may not list it."""
    access = load_target_access(caller, target_type, target_id)
    if not access.can_list():
        raise Forbidden(NO_PERMISSION)
    return access.exists


def _feed_query(target_type: str, target_id: str, query: ListQuery) -> FeedQuery:
    lower, upper, where = timestamp_filter(query.timestamp_lookups)
    if query.user is not None:
        where = (*where, ("user", "eq", query.user))
    if query.verb is not None:
        # An unknown verb matches nothing (Ona: []); it never becomes an index key (keys have size limits).
        return FeedQuery(keys.FEED_BY_VERB_INDEX, keys.target_verb_feed(target_type, target_id, query.verb),
                         lower, upper, where, matches_nothing=query.verb not in VERBS)
    return FeedQuery(keys.FEED_INDEX, keys.target_feed(target_type, target_id), lower, upper, where)


def list_messages(caller: Caller, query: ListQuery, *, cursor_scope: str = "messaging") -> ListResult:
    group_by = _check_group_by(query.group_by)
    target_type, target_id = _check_target_params(query)
    feed_query = _feed_query(target_type, target_id, query)  # bad filter values are 400 before any read
    exists = _authorize_list(caller, target_type, target_id)
    size = paging.page_size(query.page_size)
    if not exists:
        return ListResult([], paging.PageLinks([]))
    if group_by:
        rows = group_rows(feed.scan_all(feed_query, ["user", "verb", "timestamp"]), group_by)
        page = paging.rows_by_page_number(rows, page=query.page, size=size)
        return ListResult(page.rows, page.links)
    if query.cursor is not None:
        rows, next_cursor = paging.by_cursor(feed_query, render_message, cursor=query.cursor, size=size,
                                             scope=cursor_scope, caller_id=caller.id, binding=query.binding())
        links = paging.PageLinks([("next", {"cursor": next_cursor})] if next_cursor else [])
        return ListResult(rows, links)
    page = paging.by_page_number(feed_query, render_message, page=query.page, size=size)
    return ListResult(page.rows, page.links)


STATS_FORMATS = {"day": "%Y-%m-%d", "month": "%m-%Y", "year": "%Y"}


def message_stats(caller: Caller, query: ListQuery, group_by: str | None) -> list[dict[str, Any]]:
    """Ona's /stats/messaging: per period, a count per verb, newest period first."""
    target_type, target_id = _check_target_params(query)
    feed_query = _feed_query(target_type, target_id, query)
    if group_by is None:
        raise BadRequest("Parameter 'group_by' is missing.")
    if group_by not in STATS_FORMATS:
        raise BadRequest("Parameter 'group_by' is not valid.")
    if not _authorize_list(caller, target_type, target_id):
        return []
    counts: dict[str, Counter] = {}
    for item in feed.scan_all(feed_query, ["verb", "timestamp"]):
        period = parse_iso(item["timestamp"]).strftime(STATS_FORMATS[group_by])
        counts.setdefault(period, Counter())[item["verb"]] += 1
    ordered = sorted(counts, key=lambda p: datetime.strptime(p, STATS_FORMATS[group_by]), reverse=True)
    return [{"group": period, **dict(sorted(counts[period].items()))} for period in ordered]


def _bucket_start(moment: datetime, bucket: str) -> datetime:
    if bucket == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if bucket == "day":
        return day
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def _z(moment: datetime) -> str:
    text = moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return text


def group_rows(items, dimensions: tuple[str, ...]) -> list[dict[str, Any]]:
    """Ona's group_by rows: counts with earliest/latest timestamps, latest activity first.

    earliest/latest are the messages' own timestamps, written exactly as the messages show them.
    """
    bucket = next((d for d in dimensions if d in TIME_BUCKETS), None)
    groups: dict[tuple, dict[str, Any]] = {}
    for item in items:
        moment = parse_iso(item["timestamp"])
        group_key = tuple(
            _z(_bucket_start(moment, bucket)) if d == bucket else item.get(d) for d in dimensions
        )
        row = groups.get(group_key)
        if row is None:
            row = groups[group_key] = {"key": group_key, "count": 0, "earliest": moment, "latest": moment}
        row["count"] += 1
        row["earliest"] = min(row["earliest"], moment)
        row["latest"] = max(row["latest"], moment)
    rows = []
    for row in sorted(groups.values(), key=lambda r: r["latest"], reverse=True):
        out: dict[str, Any] = {}
        for dimension, value in zip(dimensions, row["key"], strict=True):
            out["period_start" if dimension == bucket else dimension] = value
        out.update(count=row["count"], earliest_timestamp=iso(row["earliest"]), latest_timestamp=iso(row["latest"]))
        rows.append(out)
    return rows


# -- timestamp filters ---------------------------------------------------------------------------------


def _parse_moment(name: str, value: str) -> datetime:
    """A moment in UTC. The ranges below add a microsecond, so the calendar's last one is refused too."""
    try:
        moment = parse_iso(value)  # OverflowError when an offset moves it off the calendar
        if moment < datetime.max.replace(tzinfo=UTC):
            return moment
    except (ValueError, OverflowError):
        pass
    raise BadRequest({name: ["Enter a valid date/time."]})


def _parse_number(name: str, value: str) -> int:
    try:
        return max(-PART_LIMIT, min(int(value), PART_LIMIT))
    except ValueError:
        raise BadRequest({name: ["Enter a number."]}) from None


def _year_start(year: int) -> datetime:
    return datetime(max(1, min(year, 9999)), 1, 1, tzinfo=UTC)


def timestamp_filter(lookups: dict[str, str]) -> tuple[str | None, str | None, tuple]:
    """Ona's timestamp lookups as a sort-key range [lower, upper) plus date-part conditions (UTC).

    `timestamp` and `timestamp__year` are ranges on the index; month/day/hour/minute compare date parts
    of every year (Django's semantics), as filter conditions.
    """
    lower: datetime | None = None
    upper: datetime | None = None
    where: list[tuple[str, str, Any]] = []
    tick = timedelta(microseconds=1)

    def narrow(lo: datetime | None, hi: datetime | None) -> None:
        nonlocal lower, upper
        if lo is not None:
            lower = lo if lower is None else max(lower, lo)
        if hi is not None:
            upper = hi if upper is None else min(upper, hi)

    for name, value in sorted(lookups.items()):
        parts = name.split("__")
        if parts[0] != "timestamp" or len(parts) > 3:
            continue
        part = parts[1] if len(parts) > 1 and parts[1] in DATE_PARTS else None
        op_name = parts[-1] if len(parts) > 1 and parts[-1] in LOOKUP_OPS else None
        if len(parts) == 3 and (part is None or op_name is None):
            continue
        if len(parts) == 2 and part is None and op_name is None:
            continue
        if part is None:
            moment = _parse_moment(name, value)
            ranges = {None: (moment, moment + tick), "gt": (moment + tick, None), "gte": (moment, None),
                      "lt": (None, moment), "lte": (None, moment + tick)}
            narrow(*ranges[op_name])
        elif part == "year":
            year = _parse_number(name, value)
            start, end = _year_start(year), _year_start(year + 1)
            ranges = {None: (start, end), "gt": (end, None), "gte": (start, None), "lt": (None, start),
                      "lte": (None, end)}
            narrow(*ranges[op_name])
        else:
            where.append((f"ts_{part}", LOOKUP_OPS[op_name] if op_name else "eq", _parse_number(name, value)))
    return (iso(lower) if lower else None, iso(upper) if upper else None, tuple(where))
