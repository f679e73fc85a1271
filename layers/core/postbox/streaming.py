"""The Lambda entry point shared by the DynamoDB-stream functions: Powertools BatchProcessor with
partial batch responses, records turned into plain `Change`s, TTL deletions skipped. A function whose work
leaves a record's effects in flight (the publisher's concurrent publishes) has the batch wait for them: a record
succeeds once all of its effects have, and one that failed is reported alone, as if its handler had raised."""

import json
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, wait
from dataclasses import dataclass
from typing import Any, Protocol, cast

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from postbox.dal.table import plain
from postbox.logic.changes import Change, ChangeEvent
from postbox.observability import logger, metrics

TTL_PRINCIPAL = "dynamodb.amazonaws.com"
FINISHED_RECORDS_KEPT = 10_000  # ids of stream records a container finished (a few batches' worth; ~1 MB)


def change_from_record(record: DynamoDBRecord) -> Change | None:
    """None for TTL expirations (the template's event source filters do not exclude them, so this does)."""
    identity = record.raw_event.get("userIdentity") or {}
    if identity.get("principalId") == TTL_PRINCIPAL:
        return None
    stream = record.dynamodb
    return Change(
        event=cast(ChangeEvent, record.event_name.name) if record.event_name else "MODIFY",
        new=plain(stream.new_image) if stream and stream.new_image else None,
        old=plain(stream.old_image) if stream and stream.old_image else None,
    )


def _batch_entry(processor: Any, record_handler: Callable[[Any], Any], unit: str
                 ) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """A Lambda handler around a Powertools batch processor: partial batch responses, and the batch's size
    and failures as metrics ({unit}Processed, {unit}Failed)."""

    @logger.inject_lambda_context
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        response = process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                            context=context)
        failed = len(response.get("batchItemFailures", []))
        metrics.add_metric(name=f"{unit}Processed", unit=MetricUnit.Count, value=len(event.get("Records", [])))
        if failed:
            metrics.add_metric(name=f"{unit}Failed", unit=MetricUnit.Count, value=failed)
        return dict(response)

    return lambda_handler


class InFlight(Protocol):
    """Effects a record's processing started and did not wait for (postbox.integrations.iot.ConcurrentPublisher)."""

    def take(self) -> list[Future[None]]:
        """The futures of the effects started since the last call."""
        ...


@dataclass(frozen=True)
class _Pending:
    """A record handler's result: the record is done once `futures` all succeeded, and then `done()` runs."""

    futures: list[Future[None]]
    done: Callable[[], None]


class _SettlingBatchProcessor(BatchProcessor):
    """Powertools' BatchProcessor, whose record handler may leave work in flight (`_Pending`): once every record
    has been handled it waits for all of that work, and a record whose work failed moves from the successes to
    the failures with its exception, exactly as if its handler had raised (so a batch whose every record failed
    still fails as a whole)."""

    def process(self) -> list[tuple]:
        results = super().process()
        wait([future for _, result, _ in results if isinstance(result, _Pending) for future in result.futures])
        settled = []
        for status, result, record in results:
            if status == "success" and isinstance(result, _Pending):
                error = next((f.exception() for f in result.futures if f.exception() is not None), None)
                if error is not None:
                    self.success_messages = [m for m in self.success_messages if m is not record]
                    data = self._to_batch_type(record=record, event_type=self.event_type, model=self.model)
                    settled.append(self.failure_handler(record=data,
                                                        exception=(type(error), error, error.__traceback__)))
                    continue
                result.done()
            settled.append((status, result, record))
        return settled


def stream_entry(process: Callable[[Change], Any], in_flight: InFlight | None = None
                 ) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """`in_flight`: where `process` leaves work it does not wait for; each record's share is waited for before the
    batch answers, and counts for that record alone."""
    # Lambda re-delivers a stream batch from its lowest failed record, so the records after a failure that had
    # already succeeded come again with every retry. A warm container remembers the records it finished and skips
    # them: without this a record behind a failing one is published once per retry. Delivery stays at-least-once
    # (a new container, or a redrive, may repeat a record).
    finished: OrderedDict[str, None] = OrderedDict()

    def remember(event_id: str | None) -> None:
        if event_id:
            finished[event_id] = None
            if len(finished) > FINISHED_RECORDS_KEPT:
                finished.popitem(last=False)

    def record_handler(record: DynamoDBRecord) -> _Pending | None:
        if record.event_id in finished:
            return None
        change = change_from_record(record)
        if change is not None:
            try:
                process(change)
            except Exception:
                if in_flight:
                    wait(in_flight.take())  # what it started leaves (or fails) before the batch answers
                raise
        started = in_flight.take() if in_flight else []
        if started:
            return _Pending(started, lambda: remember(record.event_id))
        remember(record.event_id)
        return None

    return _batch_entry(_SettlingBatchProcessor(event_type=EventType.DynamoDBStreams), record_handler, "Records")


def fifo_queue_entry(process: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda entry point of a FIFO SQS consumer: each message body is JSON; a failure is reported for its
    message alone and the rest of its message group (SQS then redelivers them after the visibility timeout, up
    to the queue's maxReceiveCount, then moves them to its dead-letter queue)."""
    def record_handler(record: SQSRecord) -> None:
        process(json.loads(record.body))

    return _batch_entry(SqsFifoPartialProcessor(skip_group_on_error=True), record_handler, "Jobs")


def queue_entry(process: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda entry point of a standard SQS consumer: each message body is JSON; a failure is reported for
    that message alone (SQS redelivers it after the visibility timeout, up to the queue's maxReceiveCount, then
    moves it to its dead-letter queue). Standard queues may deliver a message twice: `process` must be
    idempotent."""
    def record_handler(record: SQSRecord) -> None:
        process(json.loads(record.body))

    return _batch_entry(BatchProcessor(event_type=EventType.SQS), record_handler, "Jobs")
