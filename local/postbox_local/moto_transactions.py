"""moto's TransactWriteItems without a table copy (postbox_local.moto_index installs this with its other patches):
the items a transaction names are copied before it runs and put back, with the stream cut back to its length, if
it is cancelled (moto's copy of the whole table also swapped the stream shard under readers).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from postbox_local import moto_compact
from postbox_local.moto_keyindex import key_of, known_index
from postbox_local.moto_streams import LOCK


def _transaction_keys(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any]]:
    touched = []
    for entry in transact_items:
        for op_type, op in entry.items():
            table = backend.tables.get(op.get("TableName"))
            if table is None or op_type == "ConditionCheck":
                continue
            if op_type == "Put":
                attrs = op.get("Item") or {}
                if table.hash_key_attr not in attrs or (table.range_key_attr and table.range_key_attr not in attrs):
                    continue
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op.get("Key") or {}
            if table.hash_key_attr in key and (not table.range_key_attr or table.range_key_attr in key):
                touched.append((table, *key_of(table, key)))
    return touched


def _restore(table: Any, hash_key: Any, range_key: Any, saved: Any) -> None:
    index = known_index(table)
    before = index.entries(index.stored(hash_key, range_key)) if index is not None else []
    if range_key is not None:
        partition = table.items[hash_key]
        if saved is None:
            partition.pop(range_key, None)
        else:
            partition[range_key] = saved
        if not partition:
            table.items.pop(hash_key, None)
    elif saved is None:
        table.items.pop(hash_key, None)
    else:
        table.items[hash_key] = saved
    if saved is not None:
        moto_compact.stored(saved)
    if index is not None:
        index.change(before, saved)


class NoTableCopy:
    """moto's transaction code copies whole tables to roll back; `transact_write_items` below rolls back by item."""

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        # moto is imported where its models are patched or read, not with this module
        from moto.dynamodb.models.table import Table

        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def transact(original: Callable[..., Any]) -> Callable[..., Any]:
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with LOCK:
            touched = _transaction_keys(self, transact_items)
            saved = [(table, h, r, copy.deepcopy(table.get_item(h, r))) for table, h, r in touched]
            streams = {id(t): (t.stream_shard, len(t.stream_shard.items))
                       for t, *_ in touched if t.stream_shard is not None}
            try:
                return original(self, transact_items)
            except Exception:
                for table, h, r, item in reversed(saved):
                    _restore(table, h, r, item)
                for shard, length in streams.values():
                    del shard.items[length:]
                raise
    return transact_write_items
