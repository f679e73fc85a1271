"""What the DHIS2 Messaging app asks about people and the system (docs/dhis2.md#the-dhis2-messaging-app): `me`,
`userSettings`, `system/info`, `configuration`, `userLookup` (and its feedback-recipients variant), `users`,
`userGroups` and `organisationUnits`.

Privacy is Postbox's own: a lookup shows only what addressing someone needs (id, username, names, display name),
only active users, and at most LOOKUP_MAX of them; lists read at most CANDIDATES_MAX entries; `me` is the
caller's own data. Name searches use the directory's name-word index (docs/dhis2.md#looking-people-up): one Query
for the longest word of the search, never a Scan.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from postbox.auth import Caller
from postbox.dal import directory as store
from postbox.dal import keys
from postbox.dal.table import Item, key_pair
from postbox.errors import Conflict, NotFound
from postbox.ids import is_directory_id
from postbox.logic.permissions import require_active_user, require_known_caller
from postbox.models.dhis2 import web_message
from postbox.models.dhis2_directory import SystemInfoOut, named, person, split_name

DHIS2_VERSION = "2.40.0"  # the app picks userLookup above 2.34 and attachments above 2.30
LOOKUP_MAX = 25           # DHIS2's own cap on userLookup
CANDIDATES_MAX = 1000     # entries one list request reads, at most
UI_LOCALE = "en"

FEEDBACK_GROUP_UNDEFINED = web_message(409, "Feedback message recipients user group not defined",
                                       error_code="E6200")


# -- the caller and the system --------------------------------------------------------------------------------


def me(caller: Caller, expand: set[str]) -> dict[str, Any]:
    """The caller's own user: one read, plus one for the names of their groups or org units when asked for
    (`expand` holds "userGroups" / "organisationUnits")."""
    user = require_active_user(caller).fields
    first, surname, display = split_name(user.get("name", ""), user["username"])
    authorities = list(user.get("authorities", []))
    if user.get("superuser") and "ALL" not in authorities:
        authorities.append("ALL")
    linked = {"userGroups": (store.GROUP, user.get("groups", [])),
              "organisationUnits": (store.ORG_UNIT, user.get("org_units", []))}
    names: dict[tuple[str, str], str] = {}
    wanted = [keys.directory_key(kind, i) for name, (kind, ids) in linked.items() if name in expand for i in ids]
    if wanted:
        names = {(item["kind"], item["id"]): item.get("name", "") for item in store.get_many(wanted).values()}
    body: dict[str, Any] = {
        "id": user["id"], "username": user["username"], "firstName": first, "surname": surname, "name": display,
        "displayName": display, "email": user.get("email"), "phoneNumber": user.get("phone"),
        "authorities": authorities,
        "settings": _settings_of(user),
    }
    for name, (kind, ids) in linked.items():
        body[name] = [named(i, names[(kind, i)]).model_dump() if (kind, i) in names else {"id": i} for i in ids]
    return {k: v for k, v in body.items() if v is not None}


def _settings_of(user: Item) -> dict[str, Any]:
    return {"keyUiLocale": UI_LOCALE, "keyDbLocale": UI_LOCALE,
            "keyMessageEmailNotification": bool(user.get("notify_email")),
            "keyMessageSmsNotification": bool(user.get("notify_sms"))}


def user_settings(caller: Caller, wanted: list[str] | None) -> dict[str, Any]:
    """GET /api/userSettings[?key=...]: the caller's settings as DHIS2 names them."""
    settings = _settings_of(require_active_user(caller).fields)
    return {k: v for k, v in settings.items() if not wanted or k in wanted}


def system_info(context_path: str, now: datetime | None = None) -> SystemInfoOut:
    now = now or datetime.now(UTC)
    return SystemInfoOut(contextPath=context_path, calendar="iso8601", dateFormat="yyyy-mm-dd",
                         serverDate=now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}",
                         serverTimeZoneId="Etc/UTC", version=DHIS2_VERSION, revision="postbox",
                         systemName="Postbox")


def configuration(caller: Caller) -> dict[str, Any]:
    """GET /api/configuration: the feedback recipients group, when the directory names one."""
    require_known_caller(caller)
    group = _feedback_group()
    return {"feedbackRecipients": named(group["id"], group.get("name", "")).model_dump()} if group else {}


def _feedback_group() -> Item | None:
    group_id = store.get_settings_entry().get("feedback_recipients_group")
    if not group_id:
        return None
    key = keys.directory_key(store.GROUP, group_id)
    return store.get_many([key]).get(key_pair(key))


# -- filters ------------------------------------------------------------------------------------------------------

NAME_PROPERTIES = {"name", "displayName", "firstName", "surname", "username"}
STRING_OPERATORS = {"eq", "ne", "neq", "!eq", "like", "ilike", "!like", "!ilike", "token", "!token", "in", "!in",
                    "$like", "$ilike", "like$", "ilike$"}
SIZE_OPERATORS = {"eq": int.__eq__, "ne": int.__ne__, "neq": int.__ne__, "!eq": int.__ne__, "gt": int.__gt__,
                  "ge": int.__ge__, "gte": int.__ge__, "lt": int.__lt__, "le": int.__le__, "lte": int.__le__}
PROPERTIES = {
    store.USER: {"id", "username", "firstName", "surname", "name", "displayName", "userGroups.id"},
    store.GROUP: {"id", "name", "displayName"},
    store.ORG_UNIT: {"id", "name", "displayName", "users"},
}


@dataclass(frozen=True)
class Filter:
    prop: str
    op: str
    value: str

    @property
    def tokens(self) -> list[str]:
        return store.words_of(self.value)


def parse_filters(kind: str, texts: Iterable[str]) -> list[Filter]:
    """`property:operator:value`; an unknown property or operator is DHIS2's query-parser 409."""
    filters = []
    for text in texts:
        parts = text.split(":", 2)
        if len(parts) != 3 or not parts[0] or not parts[1]:
            raise Conflict(web_message(409, f"Invalid filter: {text}"))
        prop, op, value = parts
        if prop not in PROPERTIES[kind]:
            raise Conflict(web_message(409, f"Unknown path property: `{prop}`"))
        operators = SIZE_OPERATORS if prop == "users" else {"eq", "in"} if prop == "userGroups.id" else STRING_OPERATORS
        if op not in operators:
            raise Conflict(web_message(409, f"`{op}` is not a valid operator for property `{prop}`"))
        if prop == "users" and not (value.isascii() and value.isdigit() and len(value) <= 9):
            raise Conflict(web_message(409, f"Value `{value}` is not a valid collection size"))
        filters.append(Filter(prop, op, value))
    return filters


def _values(row: dict[str, Any], prop: str) -> str:
    return str(row.get(prop, ""))


def _matches(row: dict[str, Any], flt: Filter, members: dict[str, set[str]]) -> bool:
    if flt.prop == "users":
        return SIZE_OPERATORS[flt.op](int(row.get("users", 0)), int(flt.value))
    if flt.prop == "userGroups.id":
        groups = [v.strip() for v in flt.value.strip("[]").split(",")] if flt.op == "in" else [flt.value]
        return any(row["id"] in members.get(group, set()) for group in groups)
    text = _values(row, flt.prop)
    negated = flt.op.startswith("!")
    op = flt.op.lstrip("!")
    if op in ("eq", "ne", "neq"):
        result = (text == flt.value) != (op != "eq")
    elif op == "like":
        result = flt.value in text
    elif op == "ilike":
        result = flt.value.casefold() in text.casefold()
    elif op in ("$like", "$ilike"):
        result = text.casefold().startswith(flt.value.casefold()) if op == "$ilike" else text.startswith(flt.value)
    elif op in ("like$", "ilike$"):
        result = text.casefold().endswith(flt.value.casefold()) if op == "ilike$" else text.endswith(flt.value)
    elif op == "in":
        result = text in [v.strip() for v in flt.value.strip("[]").split(",")]
    else:  # token: every token of the value starts a word of the property (DHIS2's in-memory token rule)
        words = store.words_of(text)
        result = all(any(word.startswith(token) for word in words) for token in flt.tokens)
    return result != negated


# -- rows: what a search reads, shaped for filtering ---------------------------------------------------------------


def _row(kind: str, item: Item) -> dict[str, Any] | None:
    entry_id = item["entry_id"] if "entry_id" in item else item["id"]
    if kind == store.USER:
        if not item.get("active", True):
            return None
        return person(entry_id, item["username"], item.get("name", "")).model_dump()
    row = named(entry_id, item.get("name", "")).model_dump()
    if kind == store.ORG_UNIT:
        row["users"] = int(item.get("users", 0))
    return row


def _candidates(kind: str, filters: list[Filter]) -> list[dict[str, Any]]:
    """Rows that may match: from the name-word index for the longest token of the token filters, or else the
    first CANDIDATES_MAX entries of the kind. Inactive users are never rows."""
    tokens = [token for flt in filters if flt.op == "token" and flt.prop in NAME_PROPERTIES for token in flt.tokens]
    if tokens:
        items = store.search_words(kind, max(tokens, key=len), limit=CANDIDATES_MAX)
    else:
        items = store.first_entries(kind, limit=CANDIDATES_MAX)
    rows: dict[str, dict[str, Any]] = {}
    for item in items:
        row = _row(kind, item)
        if row is not None:
            rows.setdefault(row["id"], row)
    return list(rows.values())


def _search(kind: str, filters: list[Filter]) -> list[dict[str, Any]]:
    groups = {v.strip() for flt in filters if flt.prop == "userGroups.id" for v in flt.value.strip("[]").split(",")}
    members = {group: set(store.member_ids(store.GROUP, group)) for group in sorted(groups) if group}
    return [row for row in _candidates(kind, filters) if all(_matches(row, flt, members) for flt in filters)]


# -- userLookup -------------------------------------------------------------------------------------------------


def _lookup_rows(rows: list[dict[str, Any]]) -> dict[str, Any]:
    rows.sort(key=lambda r: (r["surname"].casefold(), r["firstName"].casefold(), r["id"]))
    return {"users": [{k: row[k] for k in ("id", "username", "firstName", "surname", "displayName")}
                      for row in rows[:LOOKUP_MAX]]}


def user_lookup(caller: Caller, query: str) -> dict[str, Any]:
    """GET /api/userLookup?query=: active users whose name or username has words starting with every word of
    the query (at most LOOKUP_MAX, by surname and first name). An empty query matches everyone."""
    require_known_caller(caller)
    return _lookup_rows(_search(store.USER, [Filter("displayName", "token", query)] if query.strip() else []))


def feedback_recipient_lookup(caller: Caller, query: str) -> dict[str, Any]:
    """GET /api/userLookup/feedbackRecipients?query=: the same search within the feedback recipients group."""
    require_known_caller(caller)
    group = store.get_settings_entry().get("feedback_recipients_group")
    if not group:
        raise Conflict(FEEDBACK_GROUP_UNDEFINED)
    filters = [Filter("userGroups.id", "eq", group)]
    if query.strip():
        filters.append(Filter("displayName", "token", query))
    return _lookup_rows(_search(store.USER, filters))


# -- collections: users, userGroups, organisationUnits ------------------------------------------------------------


@dataclass(frozen=True)
class ListQuery:
    filters: list[str] = field(default_factory=list)
    order: str | None = None
    page: int = 1
    page_size: int = 50
    paging: bool = True
    root_junction: str = "AND"


ORDERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "id": lambda r: r["id"],
    "name": lambda r: r["name"], "displayName": lambda r: r["displayName"],
    "username": lambda r: r.get("username", ""), "firstName": lambda r: r.get("firstName", ""),
    "surname": lambda r: r.get("surname", ""),
}


def _folded(key: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
    """The same order, case-insensitive (DHIS2's iasc and idesc)."""
    return lambda row: key(row).casefold()


def _sort(kind: str, rows: list[dict[str, Any]], order: str | None) -> None:
    rows.sort(key=lambda r: (r["name"], r["id"]))
    for clause in reversed([part.strip() for part in (order or "").split(",") if part.strip()]):
        prop, _, direction = clause.partition(":")
        direction = direction or "asc"
        if prop not in ORDERS or (kind != store.USER and prop in ("username", "firstName", "surname")) \
                or direction not in ("asc", "desc", "iasc", "idesc"):
            raise Conflict(web_message(409, f"Invalid order: {clause}"))
        key = ORDERS[prop]
        fold = direction.startswith("i")
        rows.sort(key=_folded(key) if fold else key, reverse=direction.endswith("desc"))


def collection(caller: Caller, kind: str, query: ListQuery) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of users, groups or org units with DHIS2's pager (page held between 1 and pageCount)."""
    require_known_caller(caller)
    filters = parse_filters(kind, query.filters)
    if query.root_junction.upper() == "OR" and len(filters) > 1:
        rows: dict[str, dict[str, Any]] = {}
        for flt in filters:
            rows.update({row["id"]: row for row in _search(kind, [flt])})
        found = list(rows.values())
    else:
        found = _search(kind, filters)
    _sort(kind, found, query.order)
    for row in found:
        row.pop("users", None)
    if not query.paging:
        return found, None
    total = len(found)
    page_count = max(1, -(-total // query.page_size))
    page = min(query.page, page_count)
    start = (page - 1) * query.page_size
    return found[start : start + query.page_size], {"page": page, "pageCount": page_count, "total": total,
                                                     "pageSize": query.page_size}


def user_by_id(caller: Caller, user_id: str) -> dict[str, Any]:
    """GET /api/users/{id}: an active user, as lookups show them; anything else is DHIS2's E1005 404."""
    require_known_caller(caller)
    entry = store.get_user(user_id) if is_directory_id(user_id) else None
    if entry is None or not entry.get("active", True):
        raise NotFound(web_message(404, f"User with id {user_id} could not be found.", error_code="E1005"))
    return person(entry["id"], entry["username"], entry.get("name", "")).model_dump()
