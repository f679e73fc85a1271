"""Redrive: stream batches that reached the on-failure destination are read back from the stream and
processed again by the function that gave up on them. Items are re-read by key, so what gets published
is their current state; a message leaves the queue only once its whole batch has been processed."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from postbox.dal import table
from postbox.dal.counters import COUNTS_SK
from postbox.integrations import queues, streams
from postbox.logic.changes import Change
from postbox.streaming import change_from_record

Processor = Callable[[Change], Any]


@dataclass
class RedriveReport:
    batches: int = 0
    records: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)


def current_change(record: dict[str, Any]) -> Change | None:
    """The record's change with its item as it is now; None if the item no longer exists (its own REMOVE
    record is what subscribers need) or for TTL expirations."""
    change = change_from_record(DynamoDBRecord(record))
    if change is None or change.event == "REMOVE":
        return change
    keys = table.deserialize(record["dynamodb"]["Keys"])
    current = table.get(keys, consistent=True)
    if current is None:
        return None
    return Change(change.event, current, change.old)


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _is_counter(record: dict[str, Any]) -> bool:
    return ((record.get("dynamodb") or {}).get("Keys") or {}).get("SK", {}).get("S") == COUNTS_SK


def redrive(queue_url: str, processors: dict[str, Processor], *,
            progress: Callable[[str], None] = lambda _: None) -> RedriveReport:
    """Process every failed batch on the queue with the processor whose name is in the function ARN."""
    report = RedriveReport()
    while messages := queues.receive(queue_url):
        for message in messages:
            body = _json_object(message["Body"])
            info = body.get("DDBStreamBatchInfo")
            arn = (body.get("requestContext") or {}).get("functionArn", "")
            process = next((fn for name, fn in processors.items() if name in arn), None)
            if info is None or process is None:
                report.failed.append(f"message {message['MessageId']}: not a stream batch of a known function")
                continue
            try:
                records = streams.read_range(info["streamArn"], info["shardId"], info["startSequenceNumber"],
                                             info["endSequenceNumber"])
            except Exception as error:  # trimmed (24 h retention), a stream that is gone, a malformed message
                report.failed.append(f"message {message['MessageId']}: cannot read its records: {error}")
                continue
            if not records:
                report.failed.append(f"message {message['MessageId']}: its records are no longer in the stream")
                continue
            try:
                for record in records:
                    if _is_counter(record):
                        continue  # counters (dal/counters.py) pass no consumer's filter: never part of a batch
                    change = current_change(record)
                    if change is None:
                        report.skipped += 1
                        continue
                    process(change)
                    report.records += 1
            except Exception as error:  # the batch stays on the queue for the next redrive
                report.failed.append(f"message {message['MessageId']}: {error}")
                continue
            queues.delete(queue_url, message["ReceiptHandle"])
            report.batches += 1
            progress(f"redrove batch {info['startSequenceNumber']}..{info['endSequenceNumber']} "
                     f"({len(records)} records) for {arn.rsplit(':', 1)[-1]}")
    return report
