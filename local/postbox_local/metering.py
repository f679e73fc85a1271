"""Counts the DynamoDB requests an operation makes, through botocore's event system (tests, benchmarks)."""

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from postbox.dal import table


@contextmanager
def dynamodb_requests() -> Iterator[Counter]:
    """Counter of DynamoDB operation names called on the shared table client inside the block."""
    calls: Counter = Counter()

    def count(event_name: str, **_: object) -> None:
        calls[event_name.rsplit(".", 1)[-1]] += 1

    events = table.client().meta.events
    events.register("before-call.dynamodb", count)
    try:
        yield calls
    finally:
        events.unregister("before-call.dynamodb", count)
