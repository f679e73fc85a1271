"""moto's DynamoDB made to answer like DynamoDB as data grows, for the local stack and the tests.

moto answers every Query by listing and sorting the whole table (`Table.all_items`), copies the whole table (and its
stream) before every TransactWriteItems, keeps every stream record and every shard iterator forever, and lets a
request read a table while another writes it (`dictionary changed size during iteration`). `install()` patches, once
per process:

- **Query in O(result)**: each table keeps, per partition of the base table and of every secondary index, its items
  in key order (postbox_local.moto_keyindex; kept in step on put, update, delete, batch write, PartiQL and
  transactions). A Query bisects to its key condition and its ExclusiveStartKey and hands moto only the items it
  will look at (up to `Limit`, plus the next one, which tells moto to return a LastEvaluatedKey exactly when it
  would have), so moto's own code still applies conditions, filters, projections and paging: the answers are
  moto's, only the candidates are fewer.
  Queries it does not cover (multi-attribute keys, the legacy QueryFilter) go to moto unchanged.
- **Transactions without a table copy**: postbox_local.moto_transactions.
- **One request at a time**: every DynamoDB and DynamoDB Streams request holds one lock.
- **Stream retention**: postbox_local.moto_streams.
- **Memory that follows the data**: postbox_local.moto_compact (cold items compacted after every request).

`ENABLED = False` sends every Query down moto's own path (the tests compare both on random data).
"""

from __future__ import annotations

import bisect
import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

from postbox_local import moto_compact, moto_responses, moto_streams
from postbox_local.moto_keyindex import Entry, TableIndex, cast, index_of, key_of, known_index
from postbox_local.moto_streams import LOCK

ENABLED = True
QUERIES = {"indexed": 0, "moto": 0}  # how many Queries took each path

_installed = False
_candidates = threading.local()


class _Unsupported(Exception):
    """This query takes moto's own path."""


def _bounds(keys: list[tuple[Any, ...]], comparison: str | None, values: list[Any]) -> tuple[int, int]:
    """The slice of `keys` whose first element satisfies the key condition on the sort key."""
    n = len(keys)
    if comparison is None:
        return 0, n
    op = comparison.upper()
    bound = [cast(v) for v in values]

    def left(v: Any) -> int:
        return bisect.bisect_left(keys, v, key=lambda k: k[0])

    def right(v: Any) -> int:
        return bisect.bisect_right(keys, v, key=lambda k: k[0])

    if op in ("=", "EQ"):
        return left(bound[0]), right(bound[0])
    if op in ("<", "LT"):
        return 0, left(bound[0])
    if op in ("<=", "LE"):
        return 0, right(bound[0])
    if op in (">", "GT"):
        return right(bound[0]), n
    if op in (">=", "GE"):
        return left(bound[0]), n
    if op == "BETWEEN":
        lo, hi = left(bound[0]), right(bound[1])
        return lo, max(lo, hi)
    if op == "BEGINS_WITH":
        prefix = bound[0]
        if not isinstance(prefix, str | bytes) or not prefix:
            raise _Unsupported
        lo = left(prefix)
        at = lo
        while at < n and isinstance(keys[at][0], type(prefix)) and keys[at][0].startswith(prefix):
            at += 1  # the matching block is contiguous; it is the result, so walking it is O(result)
        return lo, at
    raise _Unsupported


def _plan(table: Any, hash_key: Any, range_comparison: str | None, range_objs: list[Any], limit: int | None,
          exclusive_start_key: dict[str, Any] | None, scan_index_forward: bool, index_name: str | None,
          hash_key_conditions: list[Any] | None, range_key_conditions: list[Any] | None) -> list[Any]:
    """The items moto's Query will look at, in any order (moto sorts them again)."""
    # moto is imported where its models are patched or read, not with this module
    from moto.dynamodb.models.dynamo_type import DynamoType

    index = index_of(table)
    space = index.spaces.get(index_name)
    if space is None:
        raise _Unsupported
    if len(hash_key_conditions or []) > 1 or len(range_key_conditions or []) > 1:
        raise _Unsupported
    if index_name is None:
        if hash_key is None:
            raise _Unsupported
        partition_value = hash_key
    else:
        if not hash_key_conditions or hash_key_conditions[0][0] != space.hash_attr:
            raise _Unsupported
        partition_value = hash_key_conditions[0][1]
    if range_key_conditions and range_key_conditions[0][0] != space.sort_attrs[0]:
        raise _Unsupported
    keys, items = space.partition(cast(partition_value))
    try:
        lo, hi = _bounds(keys, range_comparison, range_objs)
        if exclusive_start_key:
            if any(name not in exclusive_start_key for name in space.sort_attrs):
                raise _Unsupported
            start = tuple(cast(DynamoType(exclusive_start_key[name])) for name in space.sort_attrs)
            if scan_index_forward:
                lo = max(lo, bisect.bisect_right(keys, start))
            else:
                hi = min(hi, bisect.bisect_left(keys, start))
    except TypeError as error:  # keys of mixed types: let moto decide
        raise _Unsupported from error
    if hi <= lo:
        return []
    if scan_index_forward:
        end = hi if not limit else min(hi, lo + limit)
        # The next item in key order, matching or not, makes moto stop at `limit` with a LastEvaluatedKey.
        return items[lo:end + 1]
    begin = lo if not limit else max(lo, hi - limit)
    return items[max(begin - 1, 0):hi]


def _patched_query(original: Callable[..., Any]) -> Callable[..., Any]:
    def query(self: Any, hash_key: Any, range_comparison: Any, range_objs: Any, limit: Any, exclusive_start_key: Any,
              scan_index_forward: Any, projection_expressions: Any, index_name: Any = None,
              consistent_read: bool = False, filter_expression: Any = None, hash_key_conditions: Any = None,
              range_key_conditions: Any = None, **filter_kwargs: Any) -> Any:
        arguments = (hash_key, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward,
                     projection_expressions, index_name, consistent_read, filter_expression)
        keywords = {"hash_key_conditions": hash_key_conditions, "range_key_conditions": range_key_conditions,
                    **filter_kwargs}
        with LOCK:
            if not ENABLED or filter_kwargs:
                QUERIES["moto"] += 1
                return original(self, *arguments, **keywords)
            try:
                candidates = _plan(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                                   scan_index_forward, index_name, hash_key_conditions, range_key_conditions)
            except _Unsupported:
                QUERIES["moto"] += 1
                return original(self, *arguments, **keywords)
            QUERIES["indexed"] += 1
            _candidates.table, _candidates.items = self, list(candidates)
            try:
                return original(self, *arguments, **keywords)
            finally:
                _candidates.table = _candidates.items = None
    return query


def _patched_all_items(original: Callable[..., Any]) -> Callable[..., Any]:
    def all_items(self: Any) -> list[Any]:
        if getattr(_candidates, "table", None) is self:
            return _candidates.items
        return original(self)
    return all_items


def _entries_before(table: Any, key: Any) -> tuple[TableIndex | None, list[Entry | None]]:
    """The table's index (if built) and the entries of the item stored under `key` (an item's attributes or its
    key), read before a write changes it."""
    index = known_index(table)
    if index is None:
        return None, []
    return index, index.entries(_stored_under(index, key))


def _stored_under(index: TableIndex, key: Any) -> Any | None:
    """The item stored under `key` (a request's key or an item's attributes); None if none, or if moto refuses the
    key (moto answers the bad key itself)."""
    try:
        return index.stored(*key_of(index.table, key))
    except Exception:
        return None


_in_update = [0]  # > 0 while moto's update_item runs: the put it makes for a new item is indexed by the update


def _after_put(original: Callable[..., Any]) -> Callable[..., Any]:
    def put_item(self: Any, item_attrs: Any, *args: Any, **kwargs: Any) -> Any:
        with LOCK:
            index, before = _entries_before(self, item_attrs) if not _in_update[0] else (None, [])
            item = original(self, item_attrs, *args, **kwargs)
            moto_compact.stored(item)
            if index is not None:
                index.change(before, item)
            return item
    return put_item


def _after_delete(original: Callable[..., Any]) -> Callable[..., Any]:
    def delete_item(self: Any, hash_key: Any, range_key: Any) -> Any:
        with LOCK:
            item = original(self, hash_key, range_key)
            index = known_index(self)
            if index is not None and item is not None:
                index.change(index.entries(item), None)
            return item
    return delete_item


def _after_update(original: Callable[..., Any]) -> Callable[..., Any]:
    def update_item(self: Any, table_name: str, key: Any, *args: Any, **kwargs: Any) -> Any:
        with LOCK:
            table = self.tables.get(table_name)
            index, before = _entries_before(table, key) if table is not None else (None, [])
            _in_update[0] += 1
            try:
                return original(self, table_name, key, *args, **kwargs)
            finally:  # moto changes the stored item in place, even when a later step fails
                _in_update[0] -= 1
                if index is not None:
                    index.change(before, _stored_under(index, key))
    return update_item


def _dropping_index(original: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        with LOCK:
            result = original(self, name, *args, **kwargs)
            table = self.tables.get(name)
            if table is not None:
                table.__dict__.pop("_postbox_index", None)
            return result
    return method


def _locked(original: Callable[..., Any]) -> Callable[..., Any]:
    def method(*args: Any, **kwargs: Any) -> Any:
        with LOCK:
            return original(*args, **kwargs)
    return method


def install() -> None:
    """Patch moto (once per process; idempotent)."""
    global _installed
    from postbox_local import moto_transactions  # it imports this module's index helpers

    with LOCK:
        if _installed:
            return
        # moto is imported where its models are patched or read, not with this module
        from moto.dynamodb import models as dynamodb_models
        from moto.dynamodb.models import DynamoDBBackend
        from moto.dynamodb.models.table import Table
        from moto.dynamodb.responses import DynamoHandler
        from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

        Table.query = _patched_query(Table.query)
        Table.all_items = _patched_all_items(Table.all_items)
        Table.put_item = _after_put(Table.put_item)
        Table.delete_item = _after_delete(Table.delete_item)
        DynamoDBBackend.update_item = _after_update(DynamoDBBackend.update_item)
        DynamoDBBackend.transact_write_items = moto_transactions.transact(DynamoDBBackend.transact_write_items)
        DynamoDBBackend.update_table = _dropping_index(DynamoDBBackend.update_table)
        dynamodb_models.copy = moto_transactions.NoTableCopy  # type: ignore[attr-defined]
        for name in ("scan", "get_item", "put_item", "delete_item", "execute_statement", "batch_execute_statement",
                     "execute_transaction", "delete_table", "create_table"):
            setattr(DynamoDBBackend, name, _locked(getattr(DynamoDBBackend, name)))
        DynamoHandler.call_action = moto_compact.compacting_after(DynamoHandler.call_action)
        DynamoDBStreamsHandler.call_action = _locked(DynamoDBStreamsHandler.call_action)
        moto_streams.patch()
        moto_responses.patch()
        moto_compact.patch()
        _installed = True


def installed() -> bool:
    return _installed


@contextlib.contextmanager
def moto_path() -> Iterator[None]:
    """Every Query on moto's own path for the duration (the comparison tests)."""
    global ENABLED
    with LOCK:
        previous, ENABLED = ENABLED, False
        try:
            yield
        finally:
            ENABLED = previous


