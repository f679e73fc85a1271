"""Per-user inbox counters (docs/inbox.md#counts): the item `USER#{uid}` / `COUNTS` holds

- `total`: the user's inbox entries that are not archived,
- `unread`: those of them that are unread,
- `conversation_unread`: the user's unread DHIS2 conversations (participant rows, archived or not).

Every change of an inbox entry that moves a count is one TransactWriteItems: the entry's write, conditional on the
state the change was computed from, and an ADD on the counter. A retried, redriven or duplicated change finds the
entry already changed, its condition fails, and nothing is counted twice; a change that lost a race is re-read and
computed again. A count is then one GetItem whatever the inbox's size.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Attr

from postbox.dal import keys, table
from postbox.dal.table import Item, Key

COUNTS_SK = "COUNTS"
NAMES = ("total", "unread", "conversation_unread")
ENTRIES_PER_TRANSACTION = 25  # plus one counter update per user: at most 50 of a transaction's 100 actions
ATTEMPTS = 10
RETRYABLE = frozenset({"ThrottlingError", "TransactionConflict", "ProvisionedThroughputExceeded",
                       "RequestLimitExceeded"})


def counters_key(user_id: str) -> Key:
    return {"PK": keys.user_pk(user_id), "SK": COUNTS_SK}


def contribution(item: Item | None) -> dict[str, int]:
    """What one stored item adds to its user's counters."""
    if not item or item.get("type") != "inbox":
        return {}
    live = not item.get("archived")
    counted = {"total": int(live), "unread": int(live and not item.get("read"))}
    if item.get("kind") == "conversation":
        counted["conversation_unread"] = int(not item.get("read"))
    return counted


def delta(before: Item | None, after: Item | None) -> dict[str, int]:
    old, new = contribution(before), contribution(after)
    changed = {name: new.get(name, 0) - old.get(name, 0) for name in NAMES}
    return {name: value for name, value in changed.items() if value}


def add_action(user_id: str, change: dict[str, int]) -> dict[str, Any]:
    names = {f"#c{i}": name for i, name in enumerate(change)}
    values = {f":c{i}": value for i, value in enumerate(change.values())}
    expression = "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(change)))
    return table.update_action(counters_key(user_id), expression, names=names, values=values)


def read(user_id: str) -> dict[str, int]:
    """The user's counters: one GetItem."""
    stored = table.get(counters_key(user_id), consistent=True) or {}
    return {name: max(0, int(stored.get(name, 0))) for name in NAMES}


def recount(entries: Iterable[Item]) -> dict[str, int]:
    """The counters `entries` (one user's stored entries) add up to (tests and `postbox` maintenance)."""
    total = dict.fromkeys(NAMES, 0)
    for entry in entries:
        for name, value in contribution(entry).items():
            total[name] += value
    return total


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
        return Attr("PK").not_exists()
    condition = Attr("PK").exists()
    for flag in ("read", "archived"):
        condition = condition & (Attr(flag).eq(stored[flag]) if flag in stored else Attr(flag).not_exists())
    if "kind" in stored:
        condition = condition & Attr("kind").eq(stored["kind"])
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
            table._backoff(attempt)  # throttled or in conflict: the same again, later
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
        table.transact_write(actions)
    except table.TransactionCancelled as cancelled:
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
        return table.put_action(item, condition=state_condition(None)), item
    return Change(table.key_of(item), item["user_id"], plan)


def put(item: Item) -> Change:
    """An entry written whole (created or replaced), counted against what it replaces."""
    def plan(stored: Item | None) -> tuple[dict[str, Any] | None, Item | None]:
        return table.put_action(item, condition=state_condition(stored)), item
    return Change(table.key_of(item), item["user_id"], plan)


def remove(entry_key: Key, user_id: str, *, only_if: Callable[[Item], bool] | None = None) -> Change:
    """Delete an entry (if it exists, and `only_if` holds for it)."""
    def plan(stored: Item | None) -> tuple[dict[str, Any] | None, Item | None]:
        if stored is None or (only_if is not None and not only_if(stored)):
            return None, None
        return _delete_action(entry_key, stored), None
    return Change(entry_key, user_id, plan)


def _delete_action(entry_key: Key, stored: Item) -> dict[str, Any]:
    expr = table.Expression()
    delete: dict[str, Any] = {"TableName": table.table_name(), "Key": table.serialize(entry_key),
                              "ConditionExpression": expr.build(state_condition(stored))}
    delete.update(expr.params())
    return {"Delete": delete}


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
        return table.update_action(entry_key, expression, names=names, values=values,
                                   condition=state_condition(stored)), after
    return Change(entry_key, user_id, plan)
