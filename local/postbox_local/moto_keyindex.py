"""Each table's items in key order, per partition of the base table and of every secondary index, as DynamoDB
keeps them: what postbox_local.moto_index answers Queries from. moto_index keeps it in step with every write.
"""

from __future__ import annotations

import bisect
from typing import Any


def cast(value: Any) -> Any:
    """The value DynamoDB orders keys by (moto compares `DynamoType.cast_value` too), and a partition's key in a
    space (a key attribute has one declared type, so its value alone tells partitions apart)."""
    return value.cast_value


def _shared(value: Any, strings: dict[str, str]) -> Any:
    """`value`, or the equal string an item already holds (its key values are then held once, in every space)."""
    return strings.setdefault(value, value) if isinstance(value, str) else value


Entry = tuple[Any, tuple[Any, ...]]  # where an item sits in a space: its partition and its sort key


class _Partition:
    """A partition of a space with more than one item: their sort keys in order, and the items in the same order.
    (A partition of one item, such as a message's own, is held as just its (key, item) pair.)"""

    __slots__ = ("items", "keys")

    def __init__(self, keys: list[tuple[Any, ...]], items: list[Any]) -> None:
        self.keys = keys
        self.items = items


class _Space:
    """One key space (the base table or one index): partition -> entries in key order. An item's entry is found
    again from the item itself (its sort key is unique in its space: it ends with the table's key), so the index
    keeps nothing per item beyond the entry."""

    def __init__(self, hash_attr: str, sort_attrs: list[str], required: list[str], *, base: bool = False):
        self.base = base  # the table itself: its partitions' items share their hash key
        self.hash_attr = hash_attr
        self.sort_attrs = sort_attrs
        self.required = required  # attributes an item needs to be in this space
        self.partitions: dict[Any, _Partition | tuple[tuple[Any, ...], Any]] = {}

    def entry(self, item: Any, strings: dict[str, str]) -> Entry | None:
        attrs = item.attrs
        if any(not attrs.get(name) for name in self.required):
            return None
        return cast(attrs[self.hash_attr]), tuple(_shared(cast(attrs[name]), strings) for name in self.sort_attrs)

    def partition(self, value: Any) -> tuple[list[tuple[Any, ...]], list[Any]]:
        """A partition's sort keys and items, in key order."""
        found = self.partitions.get(value)
        if found is None:
            return [], []
        if isinstance(found, tuple):
            return [found[0]], [found[1]]
        return found.keys, found.items

    def discard(self, entry: Entry) -> None:
        found = self.partitions.get(entry[0])
        if isinstance(found, tuple):
            if found[0] == entry[1]:
                del self.partitions[entry[0]]
        elif found is not None:
            keys = found.keys
            at = bisect.bisect_left(keys, entry[1])
            if at < len(keys) and keys[at] == entry[1]:
                del keys[at], found.items[at]
                if not keys:
                    del self.partitions[entry[0]]

    def add(self, entry: Entry, item: Any) -> None:
        found = self.partitions.get(entry[0])
        if found is None:
            self.partitions[entry[0]] = (entry[1], item)
            return
        if isinstance(found, tuple):
            found = self.partitions[entry[0]] = _Partition([found[0]], [found[1]])
        at = bisect.bisect_left(found.keys, entry[1])
        found.keys.insert(at, entry[1])
        found.items.insert(at, item)
        if self.base:  # one hash key object for a partition's items (a user's inbox holds thousands)
            item.hash_key = found.items[1 if at == 0 else 0].hash_key


class TableIndex:
    """Every write reads the item's entries before it (`entries`) and moves them after it (`change`): moto's
    updates change a stored item in place, so its old place is known only beforehand."""

    def __init__(self, table: Any):
        # moto is imported where its models are patched or read, not with this module
        from moto.dynamodb.models.table import GlobalSecondaryIndex

        self.table = table
        self.spaces: dict[str | None, _Space] = {}
        if table.range_key_attr:
            self.spaces[None] = _Space(table.hash_key_attr, [table.range_key_attr], [], base=True)
        for index in table.all_indexes():
            hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
            ranges = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
            if len(hashes) != 1 or len(ranges) > 1:
                continue  # multi-attribute keys: moto's own path
            if ranges:
                range_attrs: list[str | None] = [ranges[0], table.range_key_attr]
            elif isinstance(index, GlobalSecondaryIndex) and table.range_key_attr:
                range_attrs = [table.range_key_attr, table.range_key_attr]
            else:
                range_attrs = [table.hash_key_attr, table.range_key_attr]
            # moto orders an index by these attributes (Table._generate_attr_to_sort_by); the first is the index's hash.
            order = table._generate_attr_to_sort_by([hashes[0], table.hash_key_attr], range_attrs)
            self.spaces[index.name] = _Space(hashes[0], order[1:], hashes + ranges)
        for item in table.all_items():
            self.change(self.entries(None), item)

    def entries(self, item: Any | None) -> list[Entry | None]:
        """Where `item` sits in each space, as it is now (None: nowhere)."""
        if item is None:
            return [None] * len(self.spaces)
        strings = {key.value: key.value for key in (item.hash_key, item.range_key)
                   if key is not None and isinstance(key.value, str)}
        return [space.entry(item, strings) for space in self.spaces.values()]

    def change(self, before: list[Entry | None], item: Any | None) -> None:
        """Move an item from `before` (its entries before the write) to where it sits now (None: deleted)."""
        for space, old, new in zip(self.spaces.values(), before, self.entries(item), strict=True):
            if old is not None:
                space.discard(old)
            if new is not None:
                space.add(new, item)

    def stored(self, hash_key: Any, range_key: Any | None) -> Any | None:
        """The item stored under this key, if any."""
        if range_key is None and self.table.range_key_attr:
            return None
        return self.table.get_item(hash_key, range_key)


def index_of(table: Any) -> TableIndex:
    index = table.__dict__.get("_postbox_index")
    if index is None or index.table is not table:
        index = TableIndex(table)
        table.__dict__["_postbox_index"] = index
    return index


def known_index(table: Any) -> TableIndex | None:
    index = table.__dict__.get("_postbox_index")
    return index if index is not None and index.table is table else None


def key_of(table: Any, key: Any) -> tuple[Any, Any]:
    # moto is imported where its models are patched or read, not with this module
    from moto.dynamodb.models.dynamo_type import DynamoType

    if isinstance(key, dict) and table.hash_key_attr in key:
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
        return hash_key, range_key
    return DynamoType(key), None
