"""The single DynamoDB table: a lazily created low-level client plus typed helpers.

Everything above this module speaks plain Python values; this module alone knows the wire format (the
transactions of postbox.dal.transactions are built with its serialize and Expression).
"""

import random
import time
from collections.abc import Iterable, Iterator
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from postbox.dal.gate import current_gate
from postbox.integrations import aws_client, built_once
from postbox.settings import TableSettings

if TYPE_CHECKING:
    from boto3.dynamodb.conditions import Attr, ConditionBase
    from boto3.dynamodb.conditions import Key as KeyAttr

# boto3 is imported on first use, not at import time: a handler's cold import stays small (importing boto3 costs
# about as much as the rest of a handler). Every function below that imports from boto3 does so for this reason.

Item = dict[str, Any]
Key = dict[str, str]

BATCH_WRITE_MAX = 25
BATCH_GET_MAX = 100


def attr(name: str) -> "Attr":
    """A condition on an attribute (boto3's `Attr`), for conditions and filters."""
    from boto3.dynamodb.conditions import Attr  # cold start: see above

    return Attr(name)


def key_attr(name: str) -> "KeyAttr":
    """A condition on a key attribute (boto3's `Key`), for key conditions."""
    from boto3.dynamodb.conditions import Key  # cold start: see above

    return Key(name)


@built_once
def client():
    from botocore.config import Config  # cold start: see above

    # Connections are opened on demand; the pool keeps as many as the widest thread pool reading through this client
    # (the stream publisher reads counters in up to MQTT_PUBLISH_CONCURRENCY threads, at most 64).
    return aws_client("dynamodb", config=Config(max_pool_connections=64))


@cache
def _codecs():
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer  # cold start: see above

    return TypeSerializer(), TypeDeserializer()


def table_name() -> str:
    return TableSettings.get().TABLE_NAME


def serialize(item: Item) -> dict[str, Any]:
    serializer = _codecs()[0]
    return {name: serializer.serialize(value) for name, value in item.items() if value is not None}


def deserialize(raw: dict[str, Any]) -> Item:
    deserializer = _codecs()[1]
    return {name: plain(deserializer.deserialize(value)) for name, value in raw.items()}


def plain(value: Any) -> Any:
    # Numbers come back as Decimal; Postbox stores only integers.
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, set):
        return {plain(v) for v in value}
    return value


def key_pair(key: Key) -> tuple[str, str]:
    """(PK, SK): how batch_get's answer is keyed."""
    return key["PK"], key["SK"]


def key_of(item: Item, *index_keys: str) -> Key:
    """The table key of an item, plus the given index key attributes (an ExclusiveStartKey for an index)."""
    return {name: item[name] for name in ("PK", "SK", *index_keys) if name in item}


class Expression:
    """Key/filter/condition expressions built with boto3's condition objects, for the low-level client."""

    def __init__(self) -> None:
        from boto3.dynamodb.conditions import ConditionExpressionBuilder  # cold start: see above

        self._builder = ConditionExpressionBuilder()
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def build(self, condition: "ConditionBase", *, is_key: bool = False) -> str:
        built = self._builder.build_expression(condition, is_key_condition=is_key)
        self.names.update(built.attribute_name_placeholders)
        self.values.update(built.attribute_value_placeholders)
        return built.condition_expression

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.names:
            out["ExpressionAttributeNames"] = self.names
        if self.values:
            out["ExpressionAttributeValues"] = serialize(self.values)
        return out


def pass_gate() -> None:
    """Read the gate's item now (one BatchGetItem) unless a read already carried it; `check` raises to refuse."""
    gate = current_gate()
    if gate is None or gate.settled():
        return
    with gate.lock:
        if not gate.settled():
            gate.apply(_batch_get([gate.key], consistent=False))


def get(key: Key, *, consistent: bool = False) -> Item | None:
    response = client().get_item(TableName=table_name(), Key=serialize(key), ConsistentRead=consistent)
    return deserialize(response["Item"]) if "Item" in response else None


def batch_get(keys: Iterable[Key], *, consistent: bool = False) -> dict[tuple[str, str], Item]:
    """Read up to any number of keys; duplicates are merged. Returns items by (PK, SK). The request's pending gate
    rides along (its item is returned only when asked for)."""
    gate = current_gate()
    if gate is None or gate.settled():
        return _batch_get(keys, consistent=consistent)
    keys = list(keys)
    with gate.lock:
        if gate.settled():
            return _batch_get(keys, consistent=consistent)
        found = _batch_get([*keys, gate.key], consistent=consistent)
        gate.apply(found)
    gate_id = (gate.key["PK"], gate.key["SK"])
    if gate_id in found and not any((k["PK"], k["SK"]) == gate_id for k in keys):
        del found[gate_id]
    return found


def _batch_get(keys: Iterable[Key], *, consistent: bool = False) -> dict[tuple[str, str], Item]:
    unique = list({(k["PK"], k["SK"]): k for k in keys}.values())
    found: dict[tuple[str, str], Item] = {}
    for start in range(0, len(unique), BATCH_GET_MAX):
        request = {table_name(): {"Keys": [serialize(k) for k in unique[start : start + BATCH_GET_MAX]],
                                  "ConsistentRead": consistent}}
        for attempt in range(8):
            try:
                response = client().batch_get_item(RequestItems=request)
            except Exception as error:
                if not is_throttled(error):
                    raise
                backoff(attempt)  # throttled as a whole once botocore's own retries ran out: the same keys again
                continue
            for raw in response["Responses"].get(table_name(), []):
                item = deserialize(raw)
                found[(item["PK"], item["SK"])] = item
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
            backoff(attempt)
        else:
            raise RuntimeError("BatchGetItem kept returning unprocessed keys")
    return found


def put(item: Item, *, condition: "ConditionBase | None" = None) -> None:
    pass_gate()
    params: dict[str, Any] = {"TableName": table_name(), "Item": serialize(item)}
    if condition is not None:
        expr = Expression()
        params["ConditionExpression"] = expr.build(condition)
        params.update(expr.params())
    client().put_item(**params)


def delete(key: Key, *, condition: "ConditionBase | None" = None, return_old: bool = False) -> Item | None:
    pass_gate()
    params: dict[str, Any] = {"TableName": table_name(), "Key": serialize(key)}
    if condition is not None:
        expr = Expression()
        params["ConditionExpression"] = expr.build(condition)
        params.update(expr.params())
    if return_old:
        params["ReturnValues"] = "ALL_OLD"
    response = client().delete_item(**params)
    return deserialize(response["Attributes"]) if response.get("Attributes") else None


class ConditionFailed(Exception):
    """The update's condition did not hold; `item` is the stored item (None when there is none)."""

    def __init__(self, item: Item | None):
        super().__init__("condition failed")
        self.item = item


def update(key: Key, update_expression: str, *, names: dict[str, str] | None = None,
           values: dict[str, Any] | None = None, condition: "ConditionBase | None" = None) -> Item:
    """UpdateItem returning the new image; raises ConditionFailed carrying the stored item."""
    pass_gate()
    expr = Expression()
    params: dict[str, Any] = {"TableName": table_name(), "Key": serialize(key),
                              "UpdateExpression": update_expression, "ReturnValues": "ALL_NEW"}
    if condition is not None:
        params["ConditionExpression"] = expr.build(condition)
        params["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    expr.names.update(names or {})
    expr.values.update(values or {})
    params.update(expr.params())
    try:
        return deserialize(client().update_item(**params)["Attributes"])
    except Exception as error:
        if not is_conditional_failure(error):
            raise
        old = getattr(error, "response", {}).get("Item")
        raise ConditionFailed(deserialize(old) if old else None) from None


def update_fields(key: Key, fields: dict[str, Any], *, condition: "ConditionBase | None" = None) -> Item:
    """UpdateItem setting each of `fields` (the item's other attributes stay as they are); returns the new image,
    raises ConditionFailed. Its placeholders (#set0, :set0, ...) stay apart from the condition builder's."""
    names = {f"#set{i}": name for i, name in enumerate(fields)}
    values = {f":set{i}": value for i, value in enumerate(fields.values())}
    expression = "SET " + ", ".join(f"#set{i} = :set{i}" for i in range(len(fields)))
    return update(key, expression, names=names, values=values, condition=condition)


THROTTLING_CODES = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException",
                              "RequestLimitExceeded"})


def is_throttled(error: Exception) -> bool:
    response = getattr(error, "response", None) or {}
    return response.get("Error", {}).get("Code") in THROTTLING_CODES


def is_conditional_failure(error: Exception) -> bool:
    response = getattr(error, "response", None) or {}
    return response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def query_pages(key_condition: "ConditionBase", *, index: str | None = None,
                filter: "ConditionBase | None" = None,
                forward: bool = True, limit: int | None = None, start_key: Key | None = None,
                projection: list[str] | None = None, select_count: bool = False,
                consistent: bool = False) -> Iterator[tuple[list[Item], int, Key | None]]:
    """Yield (items, count, last_evaluated_key) per DynamoDB page, following LastEvaluatedKey.

    `limit` bounds the items evaluated per page (DynamoDB applies it before the filter).
    """
    expr = Expression()
    params: dict[str, Any] = {"TableName": table_name(), "ScanIndexForward": forward,
                              "KeyConditionExpression": expr.build(key_condition, is_key=True)}
    if index:
        params["IndexName"] = index
    if filter is not None:
        params["FilterExpression"] = expr.build(filter)
    if projection:
        placeholders = {f"#p{i}": name for i, name in enumerate(projection)}
        expr.names.update(placeholders)
        params["ProjectionExpression"] = ", ".join(placeholders)
    if select_count:
        params["Select"] = "COUNT"
    if limit:
        params["Limit"] = limit
    if consistent:
        params["ConsistentRead"] = True
    params.update(expr.params())
    next_key = serialize(start_key) if start_key else None
    while True:
        page_params = dict(params, ExclusiveStartKey=next_key) if next_key else params
        response = client().query(**page_params)
        items = [deserialize(raw) for raw in response.get("Items", [])]
        next_key = response.get("LastEvaluatedKey")
        yield items, response.get("Count", 0), deserialize(next_key) if next_key else None
        if not next_key:
            return


def query_all(key_condition: "ConditionBase", **kwargs: Any) -> list[Item]:
    return [item for items, _, _ in query_pages(key_condition, **kwargs) for item in items]


def count(key_condition: "ConditionBase", **kwargs: Any) -> int:
    return sum(n for _, n, _ in query_pages(key_condition, select_count=True, **kwargs))


def batch_write(puts: Iterable[Item] = (), deletes: Iterable[Key] = ()) -> int:
    """BatchWriteItem in chunks of 25, retrying unprocessed items — and a chunk throttled as a whole — with
    backoff. Returns the number of calls."""
    pass_gate()
    requests = [{"PutRequest": {"Item": serialize(item)}} for item in puts]
    requests += [{"DeleteRequest": {"Key": serialize(key)}} for key in deletes]
    calls = 0
    for start in range(0, len(requests), BATCH_WRITE_MAX):
        pending = {table_name(): requests[start : start + BATCH_WRITE_MAX]}
        for attempt in range(10):
            calls += 1
            try:
                pending = client().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            except Exception as error:
                if not is_throttled(error):
                    raise
                # ProvisionedThroughputExceeded after botocore's own retries: nothing was written; the same again.
            if not pending:
                break
            backoff(attempt)
        else:
            raise RuntimeError("BatchWriteItem kept returning unprocessed items")
    return calls


def backoff(attempt: int) -> None:
    """A pause before retry number `attempt` (exponential, with jitter): throttled or in conflict."""
    time.sleep(min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.0))
