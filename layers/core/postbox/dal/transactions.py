"""TransactWriteItems: the actions a transaction holds (Put, Update, Delete), one request of them, and per-item
conditional writes retried until each item is as wanted.

The wire format and the client are postbox.dal.table's; this module only builds and sends transactions.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from postbox.dal import table
from postbox.dal.table import Item, Key

if TYPE_CHECKING:
    from boto3.dynamodb.conditions import ConditionBase

T = TypeVar("T")

TRANSACTION_MAX = 100
# Tries of one transact_each call, with a table.backoff pause after each that dropped no change.
EACH_ATTEMPTS = 10


class TransactionCancelled(Exception):
    """TransactWriteItems was cancelled; `reasons` holds each action's code, in order ("None" if it held)."""

    def __init__(self, reasons: list[str]):
        super().__init__(f"transaction cancelled: {reasons}")
        self.reasons = reasons


def put_action(item: Item, *, condition: "ConditionBase | None" = None) -> dict[str, Any]:
    """A Put for transact_write."""
    return _conditional("Put", {"TableName": table.table_name(), "Item": table.serialize(item)}, condition)


def delete_action(key: Key, *, condition: "ConditionBase | None" = None) -> dict[str, Any]:
    """A Delete for transact_write."""
    return _conditional("Delete", {"TableName": table.table_name(), "Key": table.serialize(key)}, condition)


def _conditional(kind: str, action: dict[str, Any], condition: "ConditionBase | None") -> dict[str, Any]:
    if condition is not None:
        expr = table.Expression()
        action["ConditionExpression"] = expr.build(condition)
        action.update(expr.params())
    return {kind: action}


def update_action(key: Key, update_expression: str, *, names: dict[str, str] | None = None,
                  values: dict[str, Any] | None = None, condition: "ConditionBase | None" = None) -> dict[str, Any]:
    """An Update for transact_write (placeholders of `update_expression` in `names`/`values`)."""
    expr = table.Expression()
    update: dict[str, Any] = {"TableName": table.table_name(), "Key": table.serialize(key),
                              "UpdateExpression": update_expression}
    if condition is not None:
        update["ConditionExpression"] = expr.build(condition)
    expr.names.update(names or {})
    expr.values.update(values or {})
    update.update(expr.params())
    return {"Update": update}


def transact_write(actions: list[dict[str, Any]]) -> None:
    """All actions or none, in one TransactWriteItems request; raises TransactionCancelled with the reasons."""
    if not 1 <= len(actions) <= TRANSACTION_MAX:
        raise ValueError(f"a transaction holds 1 to {TRANSACTION_MAX} actions")
    table.pass_gate()
    try:
        table.client().transact_write_items(TransactItems=actions)
    except Exception as error:
        response = getattr(error, "response", None) or {}
        if response.get("Error", {}).get("Code") != "TransactionCanceledException":
            raise
        reasons = [str(reason.get("Code", "None")) for reason in response.get("CancellationReasons") or []]
        raise TransactionCancelled(reasons) from None


def transact_each(changes: list[T], actions_for: Callable[[list[T]], list[dict[str, Any]]], *,
                  what: str) -> list[T]:
    """Write the changes in one transaction, each by a conditional action whose condition fails only when the
    change is not to be written (its item is already as wanted, or another's). `actions_for(pending)` gives one
    action per pending change, in their order, then any others (e.g. counter ADDs, which must follow the pending
    changes). A cancelled transaction drops the changes whose condition failed and tries the rest again, after a
    pause if none dropped (throttled or in conflict). Returns the changes written; RuntimeError("{what} kept
    failing") after EACH_ATTEMPTS tries."""
    pending = changes
    for attempt in range(EACH_ATTEMPTS):
        if not pending:
            return []
        try:
            transact_write(actions_for(pending))
        except TransactionCancelled as cancelled:
            # Only the changes' own actions decide: reasons of the actions after them are not the changes'.
            reasons = cancelled.reasons[:len(pending)]
            already = {i for i, reason in enumerate(reasons) if reason == "ConditionalCheckFailed"}
            if not already:
                table.backoff(attempt)
            pending = [change for i, change in enumerate(pending) if i not in already]
            continue
        return pending
    raise RuntimeError(f"{what} kept failing")
