"""The Lambda entry point shared by the DynamoDB-stream functions: Powertools BatchProcessor with
partial batch responses, records turned into plain `Change`s, TTL deletions skipped."""

import json
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, cast

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


def _batch_entry(processor: Any, record_handler: Callable[[Any], None], unit: str
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


def stream_entry(process: Callable[[Change], Any]) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    # Lambda re-delivers a stream batch from its lowest failed record, so the records after a failure that had
    # already succeeded come again with every retry. A warm container remembers the records it finished and skips
    # them: without this a record behind a failing one is published once per retry. Delivery stays at-least-once
    # (a new container, or a redrive, may repeat a record).
    finished: OrderedDict[str, None] = OrderedDict()

    def record_handler(record: DynamoDBRecord) -> None:
        if record.event_id in finished:
            return
        change = change_from_record(record)
        if change is not None:
            process(change)
        if record.event_id:
            finished[record.event_id] = None
            if len(finished) > FINISHED_RECORDS_KEPT:
                finished.popitem(last=False)

    return _batch_entry(BatchProcessor(event_type=EventType.DynamoDBStreams), record_handler, "Records")


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
