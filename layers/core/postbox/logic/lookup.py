"""Recipients by name for the web inbox's picker (GET /api/v1/lookup, docs/web.md#the-recipient-picker).

An active user searches the active users, the user groups and the targets they may write to; only the kind, id
and display name of each match leave, and never more than MAX_RESULTS. Matching is a case-insensitive substring
of the name or the id; names that start with the query come first.
"""

from postbox.auth import Caller
from postbox.dal import directory
from postbox.dal.table import Item
from postbox.errors import NO_PERMISSION, Forbidden
from postbox.logic.permissions import load_actor, writable_targets
from postbox.models.lookup import LookupOut, RecipientOut

MAX_RESULTS = 20
APPS_LOOK_UP_NOTHING = "Applications cannot look up recipients."
KIND_ORDER = {"user": 0, "group": 1}


def _name(entry: Item) -> str:
    return str(entry.get("name") or entry.get("username") or entry["id"])


def lookup(caller: Caller, query: str, limit: int = 10) -> LookupOut:
    if caller.is_app:
        raise Forbidden(APPS_LOOK_UP_NOTHING)
    actor = load_actor(caller)
    if not actor.is_user:
        raise Forbidden(NO_PERMISSION)
    needle = query.strip().casefold()
    if not needle:
        return LookupOut(results=[])
    users = [entry for entry in directory.names_of_kind(directory.USER)
             if entry.get("active", True) and entry["id"] != caller.id]
    candidates = [("user", e) for e in users] + [("group", e) for e in directory.names_of_kind(directory.GROUP)]
    candidates += [(str(e["kind"]), e) for e in writable_targets(actor)]

    def matches(entry: Item) -> bool:
        return needle in _name(entry).casefold() or needle in str(entry["id"]).casefold()

    found = [RecipientOut(kind=kind, id=str(entry["id"]), name=_name(entry)) for kind, entry in candidates
             if matches(entry)]
    found.sort(key=lambda r: (not r.name.casefold().startswith(needle), KIND_ORDER.get(r.kind, 2),
                              r.name.casefold(), r.kind, r.id))
    return LookupOut(results=found[:min(limit, MAX_RESULTS)])
