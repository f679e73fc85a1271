"""The local stream pump (Lambda's event source mapping, locally) and the stream handlers' record handling."""

import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from postbox.streaming import change_from_record, stream_entry
from postbox_local import template
from postbox_local.functions import FunctionRegistry, LambdaContext
from postbox_local.pump import StreamPump, matches

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/postbox-local/stream/2026-01-01T00:00:00.000"
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/postbox-local-stream-failures"
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def record(sequence: int, sk: str = "MSG", event: str = "INSERT", *, pk: str | None = None,
           identity: dict | None = None, **image: Any) -> dict[str, Any]:
    """A Lambda-shaped DynamoDB stream record."""
    keys = {"PK": {"S": pk or f"KEY#{sequence}"}, "SK": {"S": sk}}
    body = {**keys, "type": {"S": "message"}, **{k: {"S": v} for k, v in image.items()}}
    dynamodb: dict[str, Any] = {"Keys": keys, "SequenceNumber": str(1000 + sequence), "SizeBytes": 10,
                                "StreamViewType": "NEW_AND_OLD_IMAGES", "ApproximateCreationDateTime": 1_800_000_000}
    if event != "REMOVE":
        dynamodb["NewImage"] = body
    if event != "INSERT":
        dynamodb["OldImage"] = body
    raw = {"eventID": f"e{sequence}", "eventName": event, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
           "awsRegion": "us-east-1", "dynamodb": dynamodb, "eventSourceARN": STREAM_ARN}
    if identity:
        raw["userIdentity"] = identity
    return raw


def sequence_of(raw: dict[str, Any]) -> str:
    return raw["dynamodb"]["SequenceNumber"]


# -- filter patterns ---------------------------------------------------------------------------------------------


def test_exact_values():
    assert matches({"eventName": ["INSERT"]}, {"eventName": "INSERT"})
    assert matches({"eventName": ["INSERT", "MODIFY"]}, {"eventName": "MODIFY"})
    assert not matches({"eventName": ["INSERT"]}, {"eventName": "REMOVE"})
    assert not matches({"eventName": ["INSERT"]}, {})
    assert matches({"a": {"b": {"c": [1]}}}, {"a": {"b": {"c": 1, "d": 2}}, "e": 3})
    assert not matches({"a": {"b": ["x"]}}, {"a": "b"})  # a pattern object needs an object


def test_prefix():
    pattern = {"dynamodb": {"Keys": {"SK": {"S": [{"prefix": "IN#"}]}}}}
    assert matches(pattern, {"dynamodb": {"Keys": {"SK": {"S": "IN#01ARZ"}}}})
    assert not matches(pattern, {"dynamodb": {"Keys": {"SK": {"S": "MSG"}}}})
    assert not matches(pattern, {"dynamodb": {"Keys": {"SK": {"S": "XIN#"}}}})
    assert not matches(pattern, {"dynamodb": {"Keys": {"SK": {"N": "1"}}}})
    assert not matches({"n": [{"prefix": "1"}]}, {"n": 12})  # prefix applies to strings only


def test_anything_but():
    assert matches({"eventName": [{"anything-but": "REMOVE"}]}, {"eventName": "INSERT"})
    assert not matches({"eventName": [{"anything-but": "REMOVE"}]}, {"eventName": "REMOVE"})
    assert matches({"eventName": [{"anything-but": ["REMOVE", "MODIFY"]}]}, {"eventName": "INSERT"})
    assert not matches({"eventName": [{"anything-but": ["REMOVE", "MODIFY"]}]}, {"eventName": "MODIFY"})
    assert not matches({"eventName": [{"anything-but": "REMOVE"}]}, {})  # a missing field matches nothing


def test_exists():
    pattern = {"userIdentity": {"principalId": [{"exists": False}]}}
    assert matches(pattern, {"eventName": "REMOVE"})
    assert not matches(pattern, {"userIdentity": TTL_IDENTITY})
    assert matches({"userIdentity": [{"exists": True}]}, {"userIdentity": TTL_IDENTITY})
    assert not matches({"userIdentity": [{"exists": True}]}, {})


def test_options_of_a_list_are_alternatives():
    pattern = {"dynamodb": {"Keys": {"SK": {"S": ["MSG", {"prefix": "IN#"}]}}}}
    assert matches(pattern, record(1, "MSG"))
    assert matches(pattern, record(2, "IN#01ARZ"))
    assert not matches(pattern, record(3, "DIR"))
    assert not matches({"x": [{"unknown-operator": 1}]}, {"x": 1})


def test_the_templates_filters_route_records_to_their_functions():
    wanted = {c.function: c for c in template.stream_consumers()}
    assert set(wanted) == {"FanoutFunction", "PublisherFunction"}

    def takers(raw: dict[str, Any]) -> set[str]:
        return {name for name, c in wanted.items() if any(matches(p, raw) for p in c.filters)}

    assert takers(record(1, "MSG")) == {"FanoutFunction", "PublisherFunction"}
    assert takers(record(2, "MSG", "REMOVE")) == {"FanoutFunction", "PublisherFunction"}
    assert takers(record(3, "IN#01ARZ", "MODIFY")) == {"PublisherFunction"}
    assert takers(record(4, "DIR")) == set()
    assert takers(record(5, "ROLE#bob")) == set()
    for c in wanted.values():
        assert (c.batch_size, c.max_retries, c.bisect) == (100, 10, True)


# -- TTL expirations ----------------------------------------------------------------------------------------------


def test_ttl_removals_are_not_changes():
    assert change_from_record(DynamoDBRecord(record(1, "IN#x", "REMOVE", identity=TTL_IDENTITY))) is None


def test_other_records_become_changes():
    removed = change_from_record(DynamoDBRecord(record(1, "MSG", "REMOVE", id="m1")))
    assert (removed.event, removed.new, removed.old["id"]) == ("REMOVE", None, "m1")
    other_service = record(2, "MSG", "REMOVE", identity={"type": "Service", "principalId": "example.amazonaws.com"})
    assert change_from_record(DynamoDBRecord(other_service)).event == "REMOVE"
    inserted = change_from_record(DynamoDBRecord(record(3, "MSG", id="m3")))
    assert (inserted.event, inserted.new["id"], inserted.old) == ("INSERT", "m3", None)
    assert inserted.item_type() == "message"
    modified = change_from_record(DynamoDBRecord(record(4, "MSG", "MODIFY", id="m4")))
    assert (modified.event, modified.new["id"], modified.old["id"]) == ("MODIFY", "m4", "m4")


def test_stream_handlers_ignore_ttl_removals_and_report_failed_records():
    seen: list[tuple[str, str | None]] = []

    def process(change):
        item = change.new or change.old
        if item.get("id") == "bad":
            raise RuntimeError("cannot process")
        seen.append((change.event, item.get("id")))

    handler = stream_entry(process)
    ttl = record(1, "IN#a", "REMOVE", identity=TTL_IDENTITY, id="expired")
    good = record(2, "MSG", id="good")
    bad = record(3, "MSG", id="bad")
    removed = record(4, "IN#b", "REMOVE", id="removed")

    response = handler({"Records": [ttl, good, bad, removed]}, LambdaContext("Test"))

    assert response == {"batchItemFailures": [{"itemIdentifier": sequence_of(bad)}]}
    assert seen == [("INSERT", "good"), ("REMOVE", "removed")]
    assert handler({"Records": [ttl]}, LambdaContext("Test")) == {"batchItemFailures": []}
    assert seen == [("INSERT", "good"), ("REMOVE", "removed")]


# -- the pump's delivery: partial batches, bisection, retries, the on-failure destination ---------------------------


class FakeFunction:
    """A stream function: fails the records whose sequence numbers are in `bad`, as partial failures, or by
    raising (a function error) when `crash` is set."""

    arn = "arn:aws:lambda:us-east-1:123456789012:function:PublisherFunction"

    def __init__(self, bad: set[str] = frozenset(), crash: bool = False, response: dict | None = None):
        self.bad, self.crash, self.response = set(bad), crash, response
        self.batches: list[list[str]] = []

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        sequences = [sequence_of(r) for r in event["Records"]]
        self.batches.append(sequences)
        if self.response is not None:
            return self.response
        failed = [s for s in sequences if s in self.bad]
        if failed and self.crash:
            raise RuntimeError("function error")
        return {"batchItemFailures": [{"itemIdentifier": s} for s in failed]}


class FakeStreams:
    """One shard of pages, read with get_records as moto (or DynamoDB) would serve them."""

    def __init__(self, pages: list[list[dict[str, Any]]]):
        self.pages = pages

    def describe_stream(self, StreamArn):
        return {"StreamDescription": {"Shards": [{"ShardId": "shard-1"}]}}

    def get_shard_iterator(self, StreamArn, ShardId, ShardIteratorType):
        return {"ShardIterator": "0"}

    def get_records(self, ShardIterator, Limit):
        position = int(ShardIterator)
        records = self.pages[position] if position < len(self.pages) else []
        return {"Records": records, "NextShardIterator": str(min(position + 1, len(self.pages)))}


class FakeQueue:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def send_message(self, QueueUrl, MessageBody):
        assert QueueUrl == QUEUE_URL
        self.bodies.append(json.loads(MessageBody))


@pytest.fixture
def pump():
    """A StreamPump on the template's consumers whose AWS clients are fakes (nothing leaves the process)."""
    pump = StreamPump(FunctionRegistry(), STREAM_ARN, QUEUE_URL)
    pump.streams = FakeStreams([])
    pump.sqs = FakeQueue()
    return pump


def publisher(pump: StreamPump):
    return next(c for c in pump.consumers if c.spec.function == "PublisherFunction")


def test_a_partial_failure_redelivers_from_the_lowest_failed_record(pump):
    records = [record(i) for i in range(5)]
    consumer = publisher(pump)
    consumer.function = FakeFunction(bad={sequence_of(records[3]), sequence_of(records[1])})
    assert pump._invoke(consumer, records) == 1


def test_success_and_empty_failure_lists_complete_the_batch(pump):
    consumer = publisher(pump)
    for response in ({"batchItemFailures": []}, {}, None):
        consumer.function = FakeFunction(response=response)
        assert pump._invoke(consumer, [record(1), record(2)]) is None


def test_failure_identifiers_outside_the_batch_fail_the_whole_batch(pump):
    """Lambda treats an empty, null or unknown itemIdentifier as a failure of the whole batch."""
    consumer = publisher(pump)
    for identifier in ("", None, "999999"):
        consumer.function = FakeFunction(response={"batchItemFailures": [{"itemIdentifier": identifier}]})
        assert pump._invoke(consumer, [record(1), record(2)]) == 0


def test_a_function_error_is_bisected_to_the_failing_record(pump):
    records = [record(i) for i in range(8)]
    consumer = publisher(pump)
    consumer.function = FakeFunction(bad={sequence_of(records[5])}, crash=True)
    assert pump._invoke(consumer, records) == 5

    consumer.function = FakeFunction(bad={sequence_of(records[0])}, crash=True)
    assert pump._invoke(consumer, [records[0]]) == 0


def test_retries_then_the_on_failure_queue(pump):
    records = [record(i, "IN#x") for i in range(4)]
    pump.streams = FakeStreams([records])
    consumer = publisher(pump)
    consumer.function = FakeFunction(bad={sequence_of(records[2])})
    fanout = next(c for c in pump.consumers if c.spec.function == "FanoutFunction")
    fanout.function = FakeFunction()

    pump.drain()

    assert consumer.function.batches[0] == [sequence_of(r) for r in records]
    assert consumer.function.batches[1:] == [[sequence_of(r) for r in records[2:]]] * 10
    assert fanout.function.batches == []  # inbox records are not the fan-out's
    [body] = pump.sqs.bodies
    assert body["requestContext"]["functionArn"] == FakeFunction.arn
    assert body["requestContext"]["approximateInvokeCount"] == 11
    info = body["DDBStreamBatchInfo"]
    assert (info["shardId"], info["streamArn"], info["batchSize"]) == ("shard-1", STREAM_ARN, 2)
    assert info["startSequenceNumber"] == sequence_of(records[2])
    assert info["endSequenceNumber"] == sequence_of(records[3])
    assert consumer.failed_batches == 1 and not consumer.pending.get("shard-1")


def test_drain_reads_past_pages_that_the_filters_drop_entirely(pump):
    """A page of records no consumer wants (directory writes, say) is not the end of the stream."""
    directory_page = [record(i, "DIR") for i in range(100)]
    message = record(100, "MSG")
    pump.streams = FakeStreams([directory_page, directory_page, [message]])
    for consumer in pump.consumers:
        consumer.function = FakeFunction()

    pump.drain()

    for consumer in pump.consumers:
        assert consumer.function.batches == [[sequence_of(message)]], consumer.spec.function


def test_keys_only_images_are_skipped_by_both_stream_functions(monkeypatch):
    """moto emits a keys-only INSERT before the full one for items created by UpdateItem."""
    from support.fakes import FakeJobQueue, FakePublisher

    from postbox.logic import fanout
    from postbox.logic.changes import Change
    from postbox.logic.publisher import Outlets, publish_change

    mqtt, queue = FakePublisher(), FakeJobQueue()
    monkeypatch.setattr(fanout, "deliver_message", lambda *args: pytest.fail("fanned out"))
    keys_only = Change("INSERT", {"PK": "MSG#01ARZ3NDEKTSV4RRFFQ69G5FAV", "SK": "MSG"}, None)
    assert keys_only.item_type() is None
    assert publish_change(keys_only, Outlets(mqtt=mqtt, queue=queue)) is None
    assert (mqtt.published, queue.queued) == ([], [])
    fanout.fan_out(keys_only)
