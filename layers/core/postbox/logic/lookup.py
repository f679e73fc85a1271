"""Recipients by name for the web inbox's picker (GET /api/v1/lookup, docs/web.md#the-recipient-picker).

An active user searches the active users, the user groups and the targets they may write to; only the kind, id
and display name of each match leave, and never more than MAX_RESULTS. Every word of the query must start a word
of the name (a user's: or of the username), DHIS2's token rule; users and groups come from the directory's
name-word index (docs/dhis2.md#looking-people-up: one Query each, for the longest word), targets from the
caller's own roles. Names that start with the query come first.
"""

from postbox.auth import Caller
from postbox.dal import directory
from postbox.dal.table import Item
from postbox.errors import NO_PERMISSION, Forbidden
from postbox.logic.permissions import load_actor, writable_targets
from postbox.models.lookup import LookupOut, RecipientOut

MAX_RESULTS = 20
CANDIDATES_MAX = 200      # word items read per kind, at most
APPS_LOOK_UP_NOTHING = "Applications cannot look up recipients."
KIND_ORDER = {"user": 0, "group": 1}


def _name(entry: Item) -> str:
    return str(entry.get("name") or entry.get("username") or entry.get("entry_id") or entry["id"])


def _matches(needles: list[str], *texts: str | None) -> bool:
    words = directory.words_of(*texts)
    return all(any(word.startswith(needle) for word in words) for needle in needles)


def _indexed(kind: str, longest: str) -> list[Item]:
    """One entry per id from the name-word index (a user or group whose words start with `longest`)."""
    entries: dict[str, Item] = {}
    for item in directory.search_words(kind, longest, limit=CANDIDATES_MAX):
        entries.setdefault(str(item["entry_id"]), item)
    return [{**item, "id": entry_id} for entry_id, item in entries.items()]


def lookup(caller: Caller, query: str, limit: int = 10) -> LookupOut:
    if caller.is_app:
        raise Forbidden(APPS_LOOK_UP_NOTHING)
    actor = load_actor(caller)
    if not actor.is_user:
        raise Forbidden(NO_PERMISSION)
    needles = directory.words_of(query)
    if not needles:
        return LookupOut(results=[])
    longest = max(needles, key=len)
    found: list[RecipientOut] = []
    for user in _indexed(directory.USER, longest):
        if user.get("active", True) and user["id"] != caller.id and _matches(needles, user.get("name"),
                                                                              user.get("username")):
            found.append(RecipientOut(kind="user", id=user["id"], name=_name(user)))
    for group in _indexed(directory.GROUP, longest):
        if _matches(needles, group.get("name")):
            found.append(RecipientOut(kind="group", id=group["id"], name=_name(group)))
    for target in writable_targets(actor):
        if _matches(needles, target.get("name"), str(target["id"])):
            found.append(RecipientOut(kind=str(target["kind"]), id=str(target["id"]), name=_name(target)))
    folded = query.strip().casefold()
    found.sort(key=lambda r: (not r.name.casefold().startswith(folded), KIND_ORDER.get(r.kind, 2),
                              r.name.casefold(), r.kind, r.id))
    return LookupOut(results=found[:min(limit, MAX_RESULTS)])
