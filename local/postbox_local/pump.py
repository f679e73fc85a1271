"""The stream pump: polls the table's DynamoDB stream in moto and invokes each stream consumer of the
template as Lambda's event source mapping would (filters, batch size, partial batch responses,
bisect on error, bounded retries, the SQS on-failure destination). It also polls the template's SQS event
sources (the alert callback queue): handled messages are deleted, failed ones become visible again after a
backoff, and SQS itself moves a message past its maxReceiveCount to the dead-letter queue.

Idle, it backs off (POLL_SECONDS doubling up to IDLE_MAX_SECONDS) and wakes at once when moto records a stream
record or a queue message (local/postbox_local/moto_index.py), so an idle stack costs almost no CPU and a write is
still delivered without waiting out a poll. Records every consumer has read are dropped from moto's stream (DynamoDB
keeps them 24 hours), so the stack's memory does not grow with the stream."""

import json
import logging
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3

from postbox_local import iam, moto_streams, template
from postbox_local.functions import FunctionRegistry, LocalFunction
from postbox_local.state import ACCOUNT_ID, LOCAL_QUEUES, REGION

log = logging.getLogger("postbox.local.pump")

POLL_SECONDS = 0.1
IDLE_MAX_SECONDS = 2.0
# Batches sent to the on-failure queue stay in the local stream this long for `postbox redrive`, as DynamoDB keeps
# every record 24 hours.
RETENTION_SECONDS = 24 * 3600
RETRY_BASE_SECONDS = 0.25
RETRY_MAX_SECONDS = 4.0
SHARD_REFRESH_SECONDS = 5.0
# While the stream is busy, a queue that gave less than a full batch is asked again after this long: every
# ReceiveMessage makes moto walk the whole queue, and polling the queues on every turn of a busy stream took a fifth
# of the stack's CPU.
QUEUE_POLL_SECONDS = 0.5
MAX_READS_PER_BATCH = 20


def matches(pattern: Any, value: Any) -> bool:
    """Lambda event filtering, for the operators the template uses: exact values, prefix, anything-but, exists."""
    if isinstance(pattern, dict):
        if value is None:
            value = {}  # an absent object has absent fields: {"exists": false} below it matches
        if not isinstance(value, dict):
            return False
        return all(matches(sub, value.get(key)) for key, sub in pattern.items())
    if isinstance(pattern, list):
        return any(_matches_one(option, value) for option in pattern)
    return pattern == value


def _matches_one(option: Any, value: Any) -> bool:
    if isinstance(option, dict):
        if "prefix" in option:
            return isinstance(value, str) and value.startswith(option["prefix"])
        if "anything-but" in option:
            excluded = option["anything-but"]
            return value is not None and value not in (excluded if isinstance(excluded, list) else [excluded])
        if "exists" in option:
            return (value is not None) == bool(option["exists"])
        return False
    return option == value


class Consumer:
    """One event source mapping: its own position in each shard, like a separate Lambda poller."""

    def __init__(self, spec: template.StreamConsumer, function: LocalFunction, stream_arn: str, queue_url: str):
        self.spec = spec
        self.function = function
        self.stream_arn = stream_arn
        self.queue_url = queue_url
        self.iterators: dict[str, str] = {}
        self.positions: dict[str, int] = {}  # per shard: the sequence number after the last record read
        self.pending: dict[str, list[dict[str, Any]]] = {}
        self.attempts: dict[str, int] = {}
        self.retry_at: dict[str, float] = {}
        self.failed_batches = 0

    def wanted(self, record: dict[str, Any]) -> bool:
        return not self.spec.filters or any(matches(pattern, record) for pattern in self.spec.filters)


class QueueConsumer:
    """One SQS event source mapping; its queue URL is looked up on first use."""

    def __init__(self, spec: template.QueueConsumer, function: LocalFunction):
        self.spec = spec
        self.function = function
        self.url: str | None = None
        self.arn = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{LOCAL_QUEUES.get(spec.queue, spec.queue)}"
        self.unavailable = False
        self.failed_messages = 0
        self.next_poll = 0.0


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS message as Lambda delivers it."""
    return {"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
            "attributes": dict(message.get("Attributes") or {}), "messageAttributes": {},
            "md5OfBody": message.get("MD5OfBody", ""), "eventSource": "aws:sqs", "eventSourceARN": queue_arn,
            "awsRegion": REGION}


def lambda_record(raw: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """moto's records lack eventSourceARN and carry datetimes; Lambda's carry both as JSON."""
    record = json.loads(json.dumps(raw, default=_json_default))
    record["eventSourceARN"] = stream_arn
    record.setdefault("awsRegion", REGION)
    return record


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):  # moto's own records carry naive UTC datetimes, its API's aware ones
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    raise TypeError(type(value))


class StreamPump:
    def __init__(self, functions: FunctionRegistry, stream_arn: str, queue_url: str):
        self.streams = boto3.client("dynamodbstreams")
        self.sqs = boto3.client("sqs")
        self.stream_arn = stream_arn
        self.consumers = [Consumer(spec, functions.get(spec.function, spec.code_dir), stream_arn, queue_url)
                          for spec in template.stream_consumers()]
        self.queue_consumers = [QueueConsumer(spec, functions.get(spec.function, spec.code_dir))
                                for spec in template.queue_consumers()]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stream-pump", daemon=True)
        self.idle = threading.Event()
        self._shard_ids: list[str] = []
        self._shards_checked = float("-inf")
        # Set by moto (in this process) on every stream record and queue message; never set when moto runs elsewhere.
        self._wake = moto_streams.activity()
        self.trimmed = 0
        self.kept: list[tuple[int, int, float]] = []  # (first, last sequence, when) of batches sent to the queue

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)
        moto_streams.forget(self._wake)

    def _shards(self) -> list[str]:
        """Shard ids, re-read every few seconds (shards split and close over time)."""
        if time.monotonic() >= self._shards_checked + SHARD_REFRESH_SECONDS:
            description = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
            self._shard_ids = [shard["ShardId"] for shard in description["Shards"]]
            self._shards_checked = time.monotonic()
        return self._shard_ids

    def _run(self) -> None:
        pause = POLL_SECONDS
        while not self._stop.is_set():
            self._wake.clear()
            busy = False
            try:
                for consumer in self.consumers:
                    busy |= self._step(consumer)
                for queue_consumer in self.queue_consumers:
                    busy |= self._poll_queue(queue_consumer, spaced=busy)
                self._trim()
            except Exception:
                log.exception("stream pump step failed")
                time.sleep(1)
            if busy:
                self.idle.clear()
                pause = POLL_SECONDS
            else:
                self.idle.set()
                if self._retrying():
                    pause = POLL_SECONDS  # a retry is due soon: keep polling
                self._wake.wait(pause)
                pause = min(pause * 2, IDLE_MAX_SECONDS)

    def _retrying(self) -> bool:
        return any(pending for consumer in self.consumers for pending in consumer.pending.values())

    def _trim(self) -> None:
        """Drop the stream records every consumer has read (moto in this process only)."""
        now = time.monotonic()
        self.kept = [kept for kept in self.kept if kept[2] > now - RETENTION_SECONDS]
        keep = [(first, last) for first, last, _ in self.kept]
        for shard in self._shard_ids:
            # Records still being retried stay: if they are given up, `postbox redrive` reads them again.
            positions = [int(consumer.pending[shard][0]["dynamodb"]["SequenceNumber"]) if consumer.pending.get(shard)
                         else consumer.positions.get(shard) for consumer in self.consumers]
            if positions and None not in positions:
                self.trimmed += moto_streams.trim_stream(self.stream_arn, min(positions), keep)

    def _step(self, consumer: Consumer) -> bool:
        """Deliver one batch per shard (a retry when one is pending); True if anything was delivered."""
        busy = False
        for shard in self._shards():
            if consumer.pending.get(shard):
                # A retry not yet due is no work: the loop waits (POLL_SECONDS while retries are pending) instead of
                # spinning through the other consumers' empty reads until it is.
                if time.monotonic() >= consumer.retry_at.get(shard, 0):
                    self._deliver(consumer, shard, consumer.pending[shard])
                    busy = True
                continue
            iterator = consumer.iterators.get(shard)
            if iterator is None:
                iterator = self.streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard,
                                                           ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            # Lambda filters before it batches: read on until the batch is full or the shard has no more for now.
            records = []
            for _ in range(MAX_READS_PER_BATCH):
                response = self._get_records(iterator, consumer.spec.batch_size - len(records))
                iterator = response.get("NextShardIterator") or iterator
                consumer.iterators[shard] = iterator
                page = [lambda_record(raw, self.stream_arn) for raw in response.get("Records", [])]
                if not page:
                    break
                consumer.positions[shard] = int(page[-1]["dynamodb"]["SequenceNumber"]) + 1
                busy = True  # a page of records that the filters all drop is still progress
                records += [record for record in page if consumer.wanted(record)]
                if len(records) >= consumer.spec.batch_size:
                    break
            if records:
                consumer.attempts[shard] = 0
                self._deliver(consumer, shard, records)
        return busy

    def _get_records(self, iterator: str, limit: int) -> dict[str, Any]:
        """From moto in this process when it runs here (no HTTP, no serializing), else through its API."""
        direct = moto_streams.get_records(self.stream_arn, iterator, limit)
        return direct if direct is not None else self.streams.get_records(ShardIterator=iterator, Limit=limit)

    def _deliver(self, consumer: Consumer, shard: str, records: list[dict[str, Any]]) -> None:
        failed_from = self._invoke(consumer, records)
        if failed_from is None:
            consumer.pending.pop(shard, None)
            return
        remaining = records[failed_from:]
        attempts = consumer.attempts.get(shard, 0) + 1
        consumer.attempts[shard] = attempts
        if 0 <= consumer.spec.max_retries < attempts:
            self._send_to_failure_destination(consumer, shard, remaining, attempts)
            consumer.pending.pop(shard, None)
            consumer.attempts[shard] = 0
            return
        # Lambda checkpoints at the lowest failed record and re-delivers from there.
        consumer.pending[shard] = remaining
        consumer.retry_at[shard] = time.monotonic() + min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** (attempts - 1))

    def _invoke(self, consumer: Consumer, records: list[dict[str, Any]]) -> int | None:
        """Index of the first record to re-deliver, or None when the whole batch succeeded."""
        try:
            response = consumer.function.invoke({"Records": records}) or {}
        except Exception as error:
            log.warning("%s failed on a batch of %d records: %s", consumer.spec.function, len(records),
                        _summary(error))
            response = None
        if response is None:
            # Bisect outside the except block: a retry raising inside it would chain every earlier error as its
            # context, and Powertools' BatchProcessingError renders its children's whole chains in str().
            if consumer.spec.bisect and len(records) > 1:
                half = len(records) // 2
                first = self._invoke(consumer, records[:half])
                if first is not None:
                    return first
                second = self._invoke(consumer, records[half:])
                return None if second is None else half + second
            return 0
        failures = {item.get("itemIdentifier") for item in response.get("batchItemFailures") or []}
        if not failures:
            return None
        sequence = [record["dynamodb"]["SequenceNumber"] for record in records]
        if not failures <= set(sequence):
            return 0  # Lambda fails the whole batch on an empty, null or unknown itemIdentifier
        return min(sequence.index(s) for s in failures)

    def _send_to_failure_destination(self, consumer: Consumer, shard: str, records: list[dict[str, Any]],
                                     attempts: int) -> None:
        consumer.failed_batches += 1
        first, last = records[0], records[-1]
        self.kept.append((int(first["dynamodb"]["SequenceNumber"]), int(last["dynamodb"]["SequenceNumber"]),
                          time.monotonic()))
        body = {
            "requestContext": {"requestId": str(uuid.uuid4()), "functionArn": consumer.function.arn,
                               "condition": "RetryAttemptsExhausted", "approximateInvokeCount": attempts},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0", "timestamp": datetime.now(UTC).isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": shard, "streamArn": self.stream_arn, "batchSize": len(records),
                "startSequenceNumber": first["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": last["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _arrival(first),
                "approximateArrivalOfLastRecord": _arrival(last),
            },
        }
        log.error("%s gave up on %d records after %d attempts; sent to the on-failure queue",
                  consumer.spec.function, len(records), attempts)
        with iam.acting_as(consumer.spec.function):  # Lambda sends with the function's role
            self.sqs.send_message(QueueUrl=consumer.queue_url, MessageBody=json.dumps(body))

    def _poll_queue(self, consumer: QueueConsumer, *, draining: bool = False, spaced: bool = False) -> bool:
        """Deliver one batch from an SQS event source; True if there was one. A message reported failed becomes
        visible again after a backoff (at once while draining). `spaced` (the stream is busy): a queue that last
        gave less than a full batch waits QUEUE_POLL_SECONDS."""
        if consumer.url is None:
            if consumer.unavailable:
                return False
            try:
                consumer.url = self.sqs.get_queue_url(QueueName=LOCAL_QUEUES[consumer.spec.queue])["QueueUrl"]
            except Exception:
                consumer.unavailable = True
                log.warning("%s: no local queue for %s; its jobs are not delivered", consumer.spec.function,
                            consumer.spec.queue)
                return False
        if spaced and not draining and time.monotonic() < consumer.next_poll:
            return False
        wanted = min(10, consumer.spec.batch_size)
        messages = self.sqs.receive_message(QueueUrl=consumer.url, AttributeNames=["All"], WaitTimeSeconds=0,
                                            MaxNumberOfMessages=wanted).get("Messages", [])
        consumer.next_poll = 0.0 if len(messages) == wanted else time.monotonic() + QUEUE_POLL_SECONDS
        if not messages:
            return False
        failed = self._invoke_queue(consumer, [sqs_record(message, consumer.arn) for message in messages])
        for message in messages:
            if message["MessageId"] in failed:
                consumer.failed_messages += 1
                receives = int((message.get("Attributes") or {}).get("ApproximateReceiveCount", "1"))
                delay = 0 if draining else int(min(RETRY_MAX_SECONDS, 2 ** (receives - 1)))
                self.sqs.change_message_visibility(QueueUrl=consumer.url, ReceiptHandle=message["ReceiptHandle"],
                                                   VisibilityTimeout=delay)
        done = [{"Id": str(n), "ReceiptHandle": message["ReceiptHandle"]} for n, message in enumerate(messages)
                if message["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(QueueUrl=consumer.url, Entries=done)
        return True

    def _invoke_queue(self, consumer: QueueConsumer, records: list[dict[str, Any]]) -> set[str]:
        """The message ids to retry: those reported failed, or all of them when the function fails."""
        ids = {record["messageId"] for record in records}
        try:
            response = consumer.function.invoke({"Records": records}) or {}
        except Exception as error:
            log.warning("%s failed on %d messages: %s", consumer.spec.function, len(records), _summary(error))
            return ids
        failures = {item.get("itemIdentifier") for item in response.get("batchItemFailures") or []}
        return failures if failures <= ids else ids  # an unknown identifier fails the whole batch

    def drain(self, *, max_rounds: int = 200) -> None:
        """Deliver everything now, retries included without their backoff (in-process tests)."""
        for _ in range(max_rounds):
            for consumer in self.consumers:
                for shard in consumer.retry_at:
                    consumer.retry_at[shard] = 0
            delivered = [self._step(consumer) for consumer in self.consumers]  # every consumer steps
            delivered += [self._poll_queue(consumer, draining=True) for consumer in self.queue_consumers]
            self._trim()
            if not any(delivered):
                return
        raise RuntimeError("the stream did not settle")

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once the pump has found nothing to deliver (used by tests and benchmarks)."""
        self.idle.clear()
        return self.idle.wait(timeout)


def _summary(error: Exception) -> str:
    """One line about a function's failure. Powertools' BatchProcessingError keeps its own short text in `msg`
    (its str() appends every child exception's traceback)."""
    text = getattr(error, "msg", None) or str(error)
    return text.splitlines()[0] if text else type(error).__name__


def _arrival(record: dict[str, Any]) -> str:
    created = record["dynamodb"].get("ApproximateCreationDateTime") or time.time()
    return datetime.fromtimestamp(float(created), UTC).isoformat()
