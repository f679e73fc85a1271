"""Per-user inbox counters (docs/inbox.md#counts): the item `USER#{uid}` / `COUNTS` holds

- `total`: the user's inbox entries that are not archived,
- `unread`: those of them that are unread,
- `conversation_unread`: the user's unread DHIS2 conversations (participant rows, archived or not),
- `conversations`, and per DHIS2 message type T `conversations#T` and `conversation_unread#T`: the DHIS2 list's
  `pager.total` for the filters the Messaging app sends (docs/dhis2.md), present once non-zero.

Every change of an inbox entry that moves a count is one TransactWriteItems: the entry's write, conditional on the
state the change was computed from, and an ADD on the counter. A retried, redriven or duplicated change finds the
entry already changed, its condition fails, and nothing is counted twice; a change that lost a race is re-read and
computed again. A count is then one GetItem whatever the inbox's size.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from postbox.dal import keys, table, transactions
from postbox.dal.table import Item, Key

COUNTS_SK = "COUNTS"
VERSION = "version"   # how many changes the item has taken (rewrite_versioned): not a count
NAMES = ("total", "unread", "conversation_unread")
ENTRIES_PER_TRANSACTION = 25  # plus one counter update per user: at most 50 of a transaction's 100 actions
ATTEMPTS = 10
RETRYABLE = frozenset({"ThrottlingError", "TransactionConflict", "ProvisionedThroughputExceeded",
                       "RequestLimitExceeded"})


def counters_key(user_id: str) -> Key:
    return {"PK": keys.user_pk(user_id), "SK": COUNTS_SK}


def by_type(name: str, message_type: str) -> str:
    """The counter `name` ("conversations" or "conversation_unread") of one DHIS2 message type."""
    return f"{name}#{message_type}"


def contribution(item: Item | None) -> dict[str, int]:
    """What one stored item adds to its user's counters."""
    if not item or item.get("type") != "inbox":
        return {}
    live = not item.get("archived")
    counted = {"total": int(live), "unread": int(live and not item.get("read"))}
    if item.get("kind") == "conversation":
        unread, message_type = int(not item.get("read")), str(item.get("messageType") or "")
        counted.update({"conversation_unread": unread, "conversations": 1,
                        by_type("conversations", message_type): 1,
                        by_type("conversation_unread", message_type): unread})
    return counted


def delta(before: Item | None, after: Item | None) -> dict[str, int]:
    old, new = contribution(before), contribution(after)
    changed = {name: new.get(name, 0) - old.get(name, 0) for name in {**old, **new}}
    return {name: value for name, value in changed.items() if value}


def normalized(counts: dict[str, Any]) -> dict[str, int]:
    """Counters as compared and served: the NAMES always (never below zero), the others when non-zero."""
    values = {name: int(value) for name, value in counts.items() if name not in ("PK", "SK", VERSION)}
    return {**{name: max(0, values.pop(name, 0)) for name in NAMES},
            **{name: value for name, value in sorted(values.items()) if value}}


def add_action(user_id: str, change: dict[str, int]) -> dict[str, Any]:
    """ADD the change to the user's counters, and 1 to their VERSION (which `rebuild` writes against)."""
    change = {**change, VERSION: 1}
    names = {f"#c{i}": name for i, name in enumerate(change)}
    values = {f":c{i}": value for i, value in enumerate(change.values())}
    expression = "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(change)))
    return transactions.update_action(counters_key(user_id), expression, names=names, values=values)


def read(user_id: str) -> dict[str, int]:
    """The user's counters: one GetItem."""
    return normalized(table.get(counters_key(user_id), consistent=True) or {})


def recount(entries: Iterable[Item]) -> dict[str, int]:
    """The counters `entries` (one user's stored entries) add up to (tests and `postbox counters rebuild`)."""
    total: dict[str, int] = {}
    for entry in entries:
        for name, value in contribution(entry).items():
            total[name] = total.get(name, 0) + value
    return normalized(total)


# -- counted writes ----------------------------------------------------------------------------------------------

# Given the stored entry (None if absent): the transaction action for the entry, conditional on exactly that state
# (None: nothing to do), and the entry as it will be.
Plan = Callable[[Item | None], tuple[dict[str, Any] | None, Item | None]]


@dataclass
class Change:
    key: Key
    user_id: str
    plan: Plan


@dataclass
class Outcome:
    """What `apply` wrote."""

    after: dict[tuple[str, str], Item | None]   # the entries changed, as written (None: deleted)
    transactions: int


def state_condition(stored: Item | None) -> Any:
    """A condition that holds only while the entry is as `stored` (absent, or with these flags)."""
    if stored is None:
        return table.attr("PK").not_exists()
    condition = table.attr("PK").exists()
    for flag in ("read", "archived"):
        condition = condition & (table.attr(flag).eq(stored[flag]) if flag in stored else table.attr(flag).not_exists())
    if "kind" in stored:
        condition = condition & table.attr("kind").eq(stored["kind"])
    if stored.get("kind") == "conversation":  # its counters are per message type: a guess must know it
        message_type = stored.get("messageType")
        condition = condition & (table.attr("messageType").eq(message_type) if message_type
                                 else table.attr("messageType").not_exists())
    return condition


def apply(changes: list[Change], *, stored: dict[tuple[str, str], Item | None] | None = None) -> Outcome:
    """Write the changes with their counters, ENTRIES_PER_TRANSACTION at a time. `stored` is what the caller knows
    (or guesses) of the entries; keys missing from it are read first (one BatchGetItem per 100). A chunk is retried
    with backoff when throttled or in conflict, and its entries whose condition failed are read again and planned
    anew (one that needs no change any more drops out)."""
    by_key = {(c.key["PK"], c.key["SK"]): c for c in changes}
    known = dict(stored or {})
    missing = [c.key for k, c in by_key.items() if k not in known]
    if missing:
        found = table.batch_get(missing, consistent=True)
        known.update({(k["PK"], k["SK"]): found.get((k["PK"], k["SK"])) for k in missing})
    outcome = Outcome({}, 0)
    order = list(by_key)
    for start in range(0, len(order), ENTRIES_PER_TRANSACTION):
        _apply_chunk(order[start:start + ENTRIES_PER_TRANSACTION], by_key, known, outcome)
    return outcome


def _apply_chunk(chunk_keys: list[tuple[str, str]], by_key: dict[tuple[str, str], Change],
                 known: dict[tuple[str, str], Item | None], outcome: Outcome) -> None:
    pending = chunk_keys
    for attempt in range(ATTEMPTS):
        planned = []
        for entry_key in pending:
            action, after = by_key[entry_key].plan(known[entry_key])
            if action is not None:
                planned.append((entry_key, action, after))
        if not planned:
            return
        failed = _transact(planned, by_key, known)
        outcome.transactions += 1
        if failed is None:
            for entry_key, _, after in planned:
                outcome.after[entry_key] = after
                known[entry_key] = after
            return
        stale = [entry_key for (entry_key, _, _), reason in zip(planned, failed, strict=True)
                 if reason == "ConditionalCheckFailed"]
        unknown = set(failed) - {"ConditionalCheckFailed", "None", "", "*"} - RETRYABLE
        if unknown:
            raise RuntimeError(f"inbox entry write failed: {sorted(unknown)}")
        if stale:
            found = table.batch_get([by_key[k].key for k in stale], consistent=True)
            known.update({k: found.get(k) for k in stale})
        else:
            table.backoff(attempt)  # throttled or in conflict: the same again, later
        pending = [entry_key for entry_key, _, _ in planned]
    raise RuntimeError("inbox entry writes kept failing")


def _transact(chunk: list[tuple[tuple[str, str], dict[str, Any], Item | None]], by_key: dict[tuple[str, str], Change],
              known: dict[tuple[str, str], Item | None]) -> list[str] | None:
    """One transaction for the chunk; None when it held, else each entry's reason ("*": the whole call failed)."""
    per_user: dict[str, dict[str, int]] = {}
    for entry_key, _, after in chunk:
        user = by_key[entry_key].user_id
        for name, value in delta(known[entry_key], after).items():
            per_user.setdefault(user, {})[name] = per_user.get(user, {}).get(name, 0) + value
    actions = [action for _, action, _ in chunk]
    actions += [add_action(user, {k: v for k, v in change.items() if v}) for user, change in per_user.items()
                if any(change.values())]
    try:
        transactions.transact_write(actions)
    except transactions.TransactionCancelled as cancelled:
        return cancelled.reasons[:len(chunk)] or ["*"] * len(chunk)
    except Exception as error:
        if not table.is_throttled(error):
            raise
        return ["*"] * len(chunk)
    return None


# -- the plans ---------------------------------------------------------------------------------------------------


def create(item: Item) -> Change:
    """A new entry: written only if there is none (an existing one keeps its state)."""
    def plan(stored: Item | None) -> tuple[dict[str, Any] | None, Item | None]:
        if stored is not None:
            return None, None
        return transactions.put_action(item, condition=state_condition(None)), item
    return Change(table.key_of(item), item["user_id"], plan)


def put(item: Item) -> Change:
    """An entry written whole (created or replaced), counted against what it replaces."""
    def plan(stored: Item | None) -> tuple[dict[str, Any] | None, Item | None]:
        return transactions.put_action(item, condition=state_condition(stored)), item
    return Change(table.key_of(item), item["user_id"], plan)


def remove(entry_key: Key, user_id: str, *, only_if: Callable[[Item], bool] | None = None) -> Change:
    """Delete an entry (if it exists, and `only_if` holds for it)."""
    def plan(stored: Item | None) -> tuple[dict[str, Any] | None, Item | None]:
        if stored is None or (only_if is not None and not only_if(stored)):
            return None, None
        return _delete_action(entry_key, stored), None
    return Change(entry_key, user_id, plan)


def _delete_action(entry_key: Key, stored: Item) -> dict[str, Any]:
    return transactions.delete_action(entry_key, condition=state_condition(stored))


def update(entry_key: Key, user_id: str, edit: Callable[[Item | None], tuple[str, dict[str, str], dict[str, Any],
                                                                             dict[str, Any]] | None]) -> Change:
    """An UpdateItem on an existing entry: `edit(stored)` gives (expression, names, values, the changed fields) or
    None when there is nothing to change (it is asked about an absent entry too)."""
    def plan(stored: Item | None) -> tuple[dict[str, Any] | None, Item | None]:
        edited = edit(stored)
        if edited is None or stored is None:
            return None, None
        expression, names, values, fields = edited
        after = {**stored, **fields}
        for name, value in fields.items():
            if value is None:
                after.pop(name, None)
        return transactions.update_action(entry_key, expression, names=names, values=values,
                                          condition=state_condition(stored)), after
    return Change(entry_key, user_id, plan)


# -- rebuilding (`postbox counters rebuild`) ----------------------------------------------------------------------


def rewrite_versioned(key: Key, recompute: Callable[[Item | None], dict[str, Any] | None], *,
                      attempts: int = 10) -> bool:
    """Replace the attributes of the item at `key` with `recompute(stored)` (None: it is right as it is), written
    only while its `version` is as read. Every other write of such an item ADDs 1 to `version`, so a change that
    lands between the read and the write fails the condition, and the item is read and recomputed again. True if
    written (maintenance: rebuilding counters)."""
    for attempt in range(attempts):
        before = table.get(key, consistent=True)
        wanted = recompute(before)
        if wanted is None:
            return False
        version = (before or {}).get(VERSION)
        unchanged = table.attr(VERSION).eq(version) if version is not None else table.attr(VERSION).not_exists()
        try:
            table.put({**key, **wanted, VERSION: int(version or 0) + 1}, condition=unchanged)
            return True
        except Exception as error:
            if not table.is_conditional_failure(error):
                raise
            table.backoff(attempt)
    raise RuntimeError(f"{key['PK']} kept changing; run the rebuild again later")


def stored_entries(user_id: str) -> list[Item]:
    """Every inbox entry of the user: the `USER#` entries (strongly consistent) and the DHIS2 participant rows
    (through the conversations index, eventually consistent)."""
    own = table.query_all(table.key_attr("PK").eq(keys.user_pk(user_id)) & table.key_attr("SK").begins_with("IN#"),
                          consistent=True)
    rows = table.query_all(table.key_attr("GSI2PK").eq(keys.conversation_feed(user_id)),
                           index=keys.FEED_BY_VERB_INDEX)
    return [*own, *(row for row in rows if row.get("type") == "inbox")]


def rebuild(user_id: str) -> bool:
    """Set the user's counters to a recount of their entries (`postbox counters rebuild`); True if they were
    wrong. The counters are read before the entries, and written only if no change moved them meanwhile."""
    def recomputed(before: Item | None) -> dict[str, int] | None:
        wanted = recount(stored_entries(user_id))
        return None if normalized(before or {}) == wanted else wanted
    return rewrite_versioned(counters_key(user_id), recomputed)
