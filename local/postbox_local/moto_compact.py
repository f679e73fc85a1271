"""moto's DynamoDB and DynamoDB Streams kept to the memory their data needs (postbox_local.moto_index installs this).

moto's `BaseModel` appends every instance it ever makes to its class's `instances_tracked` (for its
`/moto-api/data.json` dashboard): every version of every item (each update and transaction copies one), every
stream record and every shard iterator stayed in memory for good, ~45 KiB per message sent. Those three are made
without it here.

And moto holds every attribute of every item as a `DynamoType` object with its own strings and dicts: about 7 KiB of
Python objects for a 700-byte item, so the local stack's memory grew with its table far faster than the data. Here
only the WARM_ITEMS items made or read most recently keep those objects; after each DynamoDB request the older ones
are pickled and compressed (their attributes as the plain DynamoDB JSON moto itself takes in, against a preset
dictionary of items of the same shape: ~70 bytes for a 700-byte item) and turned back into `DynamoType`s the next
time moto touches them. Compaction happens between requests only (under moto_index's lock): moto's update and
transaction code change an item's attributes in place.

Stream records wait for their readers packed the same way (without the preset): under a burst the pipeline runs
behind the writers, and thousands of waiting records as moto's nested dicts (~6 KiB each) took memory that Python's
allocator could not give back afterwards, its pools pinned by the items written in between.
"""

from __future__ import annotations

import pickle
import zlib
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from postbox_local.moto_streams import LOCK

WARM_ITEMS = 1500  # above the largest page a request reads (Ona's 1,000 messages), so paging through it stays warm
_warm: OrderedDict[int, Any] = OrderedDict()  # id(item) -> item, least recently written or read first
COMPACTED = {"compacted": 0, "restored": 0}
_preset: list[bytes] = []  # see _dictionary


class _Attributes:
    """`Item.attrs`, kept in `_postbox_attrs`: the attribute dict, or for a compacted item its blob, turned back into
    the dict the next time moto reads it. (Stored aside by this data descriptor, compacting an item replaces one
    value and never gives the item an instance dict of its own.)"""

    def __get__(self, item: Any, owner: type | None = None) -> Any:
        if item is None:
            return self
        attributes = item._postbox_attrs
        if type(attributes) is bytes:
            attributes = _restored(attributes)
            item._postbox_attrs = attributes
            COMPACTED["restored"] += 1
            stored(item)
        return attributes

    def __set__(self, item: Any, attributes: Any) -> None:
        item._postbox_attrs = attributes


def _dictionary() -> bytes:
    """The preset dictionary of every blob: pickles of 64 of the items warm at the first compaction (spread over
    them, so every shape written lately is in it), so a blob holds only what sets its item apart from items of its
    shape (~70 bytes for a 700-byte item, 350 without)."""
    if not _preset:
        warm = list(_warm.values())
        sample = warm[::max(1, len(warm) // 64)][-64:]
        _preset.append(b"".join(_pickled(item) for item in sample)[-32768:])
    return _preset[0]


def _pickled(item: Any) -> bytes:
    return pickle.dumps(item.to_json()["Attributes"], protocol=pickle.HIGHEST_PROTOCOL)


def _restored(blob: bytes) -> Any:
    # moto is imported where its models are patched or read, not with this module
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict

    inflate = zlib.decompressobj(zdict=_dictionary())
    attributes = LimitedSizeDict()
    for name, value in pickle.loads(inflate.decompress(blob) + inflate.flush()).items():
        dict.__setitem__(attributes, name, DynamoType(value))  # already validated when first stored
    return attributes


def stored(item: Any) -> None:
    """`item` is in a table and was just written or read: it stays warm until WARM_ITEMS others were since. (Only
    stored items: moto also makes items for projections, which must not push the table's out.)"""
    _warm[id(item)] = item
    _warm.move_to_end(id(item))


def _compact(item: Any) -> None:
    if type(item._postbox_attrs) is bytes:
        return
    deflate = zlib.compressobj(1, zdict=_dictionary())
    item._postbox_attrs = deflate.compress(_pickled(item)) + deflate.flush()
    COMPACTED["compacted"] += 1


def compact_excess() -> None:
    """Compact the least recently used items beyond WARM_ITEMS (call between requests, holding the lock)."""
    while len(_warm) > WARM_ITEMS:
        _, item = _warm.popitem(last=False)
        _compact(item)


def compacting_after(original: Callable[..., Any]) -> Callable[..., Any]:
    """One DynamoDB request at a time (moto_index's lock); the items it left warm beyond WARM_ITEMS compacted after
    it."""
    def call_action(*args: Any, **kwargs: Any) -> Any:
        with LOCK:
            try:
                return original(*args, **kwargs)
            finally:
                compact_excess()
    return call_action


def _packed_on_creation(original: Callable[..., Any]) -> Callable[..., Any]:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.record = zlib.compress(pickle.dumps(self.record, protocol=pickle.HIGHEST_PROTOCOL), 1)
    return __init__


def _unpacked(record: Any) -> dict[str, Any]:
    """`StreamRecord.to_json`: the record as moto made it (a copy of its own to each reader)."""
    return pickle.loads(zlib.decompress(record.record))


def _untracked(cls: Any) -> None:
    """Instances of `cls` are made without moto's `BaseModel.__new__`, which keeps each one forever."""
    def new(klass: type, *args: Any, **kwargs: Any) -> Any:
        return object.__new__(klass)
    cls.__new__ = staticmethod(new)
    cls.instances_tracked = []


def patch() -> None:
    """Called by moto_index.install, under its lock, once per process."""
    # moto is imported where its models are patched or read, not with this module
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import StreamRecord
    from moto.dynamodbstreams.models import ShardIterator

    for model in (Item, StreamRecord, ShardIterator):
        _untracked(model)
    Item.attrs = _Attributes()
    StreamRecord.__init__ = _packed_on_creation(StreamRecord.__init__)
    StreamRecord.to_json = _unpacked
