"""moto's DynamoDB Streams kept like DynamoDB's (postbox_local.moto_index installs this with its other patches):
`trim_stream` drops the records every reader has consumed (DynamoDB keeps them 24 hours), only the latest shard
iterators are kept (DynamoDB's expire after 15 minutes), and `activity()` wakes the stream pump on every stream
record and queue message. LOCK is the one lock every patched DynamoDB and DynamoDB Streams request holds.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

LOCK = threading.RLock()
ITERATORS_KEPT = 1000
_activity: list[threading.Event] = []  # set on every stream record and queue message (the stream pump waits on one)


def _waking(original: Callable[..., Any]) -> Callable[..., Any]:
    def method(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        for event in list(_activity):
            event.set()
        return result
    return method


def _stream_get(self: Any, start: int, quantity: int) -> list[dict[str, Any]]:
    """Up to `quantity` records from `start`, past released ones; an iterator older than the dropped records reads
    from the oldest kept one."""
    found: list[dict[str, Any]] = []
    at = max(start - self.starting_sequence_number, 0)
    while at < len(self.items) and len(found) < quantity:
        record = self.items[at]
        if record is not None:
            found.append(record.to_json())
        at += 1
    return found


def _retained(self: Any, queue_name: str, message: Any) -> bool:
    """moto's check of a message against its queue's retention period reads it from every attribute of the queue,
    three of which walk all its messages: ReceiveMessage was quadratic in the queue's length."""
    retention = int(self.get_queue(queue_name).message_retention_period)
    return retention + message.sent_timestamp / 1000 > time.time()


def _same_iterator_when_empty(original: Callable[..., Any]) -> Callable[..., Any]:
    """moto makes a new shard iterator on every GetRecords, even one that found nothing: a reader polling an idle
    stream pushed the iterators of slower readers (a consumer waiting to retry) out of the ITERATORS_KEPT."""
    def get(self: Any, limit: int = 1000) -> dict[str, Any]:
        if not self.stream_shard.get(self.sequence_number, 1):
            return {"NextShardIterator": self.arn, "Records": []}
        return original(self, limit)
    return get


class _RecentIterators(OrderedDict):
    """The streams backend's iterators, newest last; the oldest go past ITERATORS_KEPT."""

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        while len(self) > ITERATORS_KEPT:
            self.popitem(last=False)


def _recent_iterators(original: Callable[..., Any]) -> Callable[..., Any]:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.shard_iterators = _RecentIterators(self.shard_iterators)
    return __init__


def patch() -> None:
    """The stream and queue patches (called by moto_index.install, under its lock, once per process)."""
    # moto is imported where its models are patched or read, not with this module
    from moto.dynamodb.models.table import StreamShard
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend, ShardIterator, dynamodbstreams_backends
    from moto.sqs.models import SQSBackend

    StreamShard.add = _waking(StreamShard.add)
    for name in ("send_message", "send_message_batch", "change_message_visibility"):
        setattr(SQSBackend, name, _waking(getattr(SQSBackend, name)))
    StreamShard.get = _stream_get
    ShardIterator.get = _same_iterator_when_empty(ShardIterator.get)
    SQSBackend.is_message_valid_based_on_retention_period = _retained
    DynamoDBStreamsBackend.__init__ = _recent_iterators(DynamoDBStreamsBackend.__init__)
    for regions in dynamodbstreams_backends.values():  # backends made before install
        for backend in regions.values():
            backend.shard_iterators = _RecentIterators(backend.shard_iterators)


def activity() -> threading.Event:
    """An event set whenever moto records a stream record or a queue message (wakes the stream pump)."""
    event = threading.Event()
    _activity.append(event)
    return event


def forget(event: threading.Event) -> None:
    with contextlib.suppress(ValueError):
        _activity.remove(event)


def _shard(stream_arn: str) -> Any:
    # moto is imported where its models are patched or read, not with this module
    from moto.dynamodb.models import dynamodb_backends

    _, _, _, region, account, resource = stream_arn.split(":", 5)
    table_name = resource.split("/")[1]
    table = dynamodb_backends[account][region].tables.get(table_name)
    return table.stream_shard if table is not None else None


def get_records(stream_arn: str, iterator: str, limit: int) -> dict[str, Any] | None:
    """GetRecords straight from moto's backend when moto runs in this process and issued `iterator` (None when it
    does not): the same records without an HTTP round trip and moto's response serializer, which took a sixth of
    the local stack's CPU under load."""
    if "moto.dynamodbstreams.models" not in sys.modules:
        return None
    # moto is imported where its models are patched or read, not with this module
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    _, _, _, region, account, _ = stream_arn.split(":", 5)
    with LOCK:
        backend = dynamodbstreams_backends[account][region]
        if iterator not in backend.shard_iterators:
            return None
        return backend.get_records(iterator, limit)


def trim_stream(stream_arn: str, before_sequence: int, keep: list[tuple[int, int]] = ()) -> int:  # type: ignore[assignment]
    """Release the stream's records with a sequence number below `before_sequence` (every reader is past them), except
    those in the `keep` ranges (inclusive; batches on the on-failure queue, which a redrive reads again), as DynamoDB
    drops records after 24 hours. Released records before the first kept one are removed from the list; the others
    leave a `None` (a pointer) until then. Returns how many records were released."""
    with LOCK:
        shard = _shard(stream_arn)
        if shard is None:
            return 0
        base = shard.starting_sequence_number
        end = min(max(before_sequence - base, 0), len(shard.items))
        released = 0
        for at in range(shard.__dict__.get("_postbox_released", 0), end):
            sequence = base + at
            if shard.items[at] is not None and not any(low <= sequence <= high for low, high in keep):
                shard.items[at] = None
                released += 1
        # Later calls start from here: the end, or the first kept record (released once its range is no longer kept).
        shard.__dict__["_postbox_released"] = min([end, *(max(low - base, 0) for low, high in keep
                                                         if low - base < end and high >= base)])
        drop = 0
        while drop < end and shard.items[drop] is None:
            drop += 1
        if drop:
            del shard.items[:drop]
            shard.starting_sequence_number += drop
            shard.__dict__["_postbox_released"] = max(shard.__dict__["_postbox_released"] - drop, 0)
        return released


def stream_length(stream_arn: str) -> int:
    with LOCK:
        shard = _shard(stream_arn)
        return len(shard.items) if shard is not None else 0
