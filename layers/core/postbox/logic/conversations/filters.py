"""The list's `filter=`, `queryString=` and `query=` as conditions on the caller's feed."""

from dataclasses import dataclass
from typing import Any

from postbox.auth import Caller
from postbox.dal import conversations as store
from postbox.dal.table import key_pair
from postbox.errors import Conflict
from postbox.ids import is_uid


@dataclass(frozen=True)
class ListQuery:
    filters: tuple[tuple[str, str, str], ...] = ()   # (property, operator, value)
    query_string: str | None = None
    query_operator: str = "token"
    newest_first: bool = True
    page: int = 1
    page_size: int = 50
    paging: bool = True
    wants_messages: bool = False
    query: str | None = None                          # DHIS2's `query=`: an id, or words of the subject


def parse_filter(text: str) -> tuple[str, str, str]:
    """`property:operator:value` (the value may itself contain colons). DHIS2's query parser errors are 409s."""
    parts = text.split(":", 2)
    if len(parts) != 3 or not all(parts[:2]):
        raise Conflict(f"Invalid filter: {text}")
    return parts[0], parts[1], parts[2]


FILTERABLE = {"messageType": "messageType", "status": "status", "priority": "priority", "read": "read",
              "followUp": "followUp", "assignee.id": "assignee", "assignee": "assignee"}
BOOLEAN_PROPS = {"read", "followUp"}


def filter_conditions(query: ListQuery) -> tuple:
    conditions: list[tuple[str, str, Any]] = []
    for prop, op, raw in query.filters:
        attribute = FILTERABLE.get(prop)
        if attribute is None:
            raise Conflict(f"Filter property is not supported: {prop}")
        value: Any = raw
        if attribute in BOOLEAN_PROPS:
            if raw.lower() not in ("true", "false"):
                raise Conflict(f"Value '{raw}' is not valid for filter property {prop}.")
            value = raw.lower() == "true"
        if op == "eq":
            conditions.append((attribute, "eq", value))
        elif op in ("ne", "neq", "!eq"):
            conditions.append((attribute, "ne", value))
        elif op == "in":
            options = [v.strip() for v in raw.strip("[]").split(",") if v.strip()]
            if not options:
                raise Conflict(f"Filter value is not valid: {raw}")
            conditions.append((attribute, "is_in", options))
        elif op in ("like", "ilike") and attribute not in BOOLEAN_PROPS:
            conditions.append((attribute, "contains", raw.upper() if attribute != "assignee" else raw))
        else:
            raise Conflict(f"Filter operator is not supported: {op}")
    if query.query_string:
        text = query.query_string.lower()
        if query.query_operator == "token":
            conditions += [("search", "contains", token) for token in text.split()]
        elif query.query_operator in ("like", "ilike"):
            conditions.append(("search", "contains", text))
        elif query.query_operator == "eq":
            conditions.append(("subject", "eq", query.query_string))
        else:
            raise Conflict(f"Query operator is not supported: {query.query_operator}")
    return tuple(conditions)


def query_conditions(caller: Caller, text: str | None) -> tuple:
    """DHIS2's `query=` (id:eq, or name:like), over the caller's own conversations only — DHIS2 runs it over
    every conversation in the system, a hole Postbox closes. An id the caller has wins; else the subject."""
    if not text:
        return ()
    if is_uid(text) and store.load_for(text, caller.id).get(key_pair(store.participant_key(text, caller.id))):
        return (("id", "eq", text),)
    return (("subjectSearch", "contains", text.lower()),)
