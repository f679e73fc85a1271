"""Fault injection (docs/realtime.md, docs/architecture.md#limits), in-process on moto, with the counts asserted:
nothing is lost, nothing is
duplicated in inboxes, every stream record is eventually published or lands on the on-failure queue (and a
redrive publishes it), and the API is unaffected.

Faults are injected at the boto3 clients (botocore events), so the code under test runs unchanged:
- IoT publish: a deterministic 30% of the stream's records (chosen by hashing topic, event and text) fail: all
  but one fail their first attempts, one fails until it is healed; and the whole IoT endpoint down during 100
  creates;
- DynamoDB: the fan-out's TransactWriteItems (each entry with the ADD on its user's counters) throttled
  (ProvisionedThroughputExceededException) and cancelled by conflicts (TransactionConflict), and throttled longer
  than the fan-out's own retries last.
After the faults, every user's counters (docs/inbox.md#counts) equal a recount of their stored entries.
The stream pump drains without its backoff; the table's backoff sleeps are recorded instead of slept.
"""

import hashlib
import json
import time
from collections import Counter
from types import SimpleNamespace

import pytest
from support.ona import send
from support.table import inbox_entries

FLAKY_FAILURES = 3       # a flaky publish fails this many attempts, then succeeds
FAILING_PERCENT = 30     # of the stream's records: the flaky ones and the stuck one


# -- helpers ---------------------------------------------------------------------------------------------------


def queued_batches(queue_url: str) -> list[dict]:
    """The on-failure queue's stream batches (at most 10 here), left visible for the redrive."""
    import boto3

    messages = boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def queue_depth(queue_url: str) -> int:
    import boto3

    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
    return sum(int(value) for value in attributes["Attributes"].values())


def redrive(queue_url: str):
    from postbox.integrations import queues
    from postbox.logic.fanout import fan_out
    from postbox.logic.publisher import publish_change
    from postbox.logic.redrive import redrive as run

    original = queues.receive
    queues.receive = lambda url: original(url, wait_seconds=0)
    try:
        return run(queue_url, {"Fanout": fan_out, "Publisher": publish_change})
    finally:
        queues.receive = original


def publish_key(topic: str, payload: dict) -> str:
    """What identifies a publish across retries (ids are random ULIDs; texts and topics are the test's own)."""
    if "entry" in payload:
        return f"{topic}|{payload['event']}|{payload['entry']['text']}"
    return f"{topic}|message|{payload['message']}"


def failing_share(keys, percent: int) -> set[str]:
    """A deterministic `percent` of the keys: those whose hashes sort first."""
    ordered = sorted(keys, key=lambda key: hashlib.sha256(key.encode()).hexdigest())
    return set(ordered[: round(len(ordered) * percent / 100)])


class IotFaults:
    """Decides, per publish, whether the IoT data endpoint fails it; counts attempts, failures and successes."""

    def __init__(self) -> None:
        self.down = False                  # the whole endpoint
        self.flaky: set[str] = set()       # these keys fail their first FLAKY_FAILURES attempts
        self.stuck: set[str] = set()       # these keys fail until removed
        self.attempts: Counter = Counter()
        self.failures: Counter = Counter()

    def before_publish(self, params: dict, **_: object) -> None:
        from botocore.exceptions import EndpointConnectionError

        key = publish_key(params["topic"], json.loads(params["payload"]))
        self.attempts[key] += 1
        failing = self.down or key in self.stuck or (key in self.flaky and self.failures[key] < FLAKY_FAILURES)
        if failing:
            self.failures[key] += 1
            raise EndpointConnectionError(endpoint_url="https://data-ats.iot.us-east-1.amazonaws.com")


@pytest.fixture
def iot_faults(aws):
    from postbox.integrations import iot

    faults = IotFaults()
    events = iot.client().meta.events
    events.register("before-parameter-build.iot-data.Publish", faults.before_publish)
    yield faults
    events.unregister("before-parameter-build.iot-data.Publish", faults.before_publish)


def published_keys(published) -> Counter:
    return Counter(publish_key(topic, payload) for topic, payload in published())


def expected_publishes(messages: dict[str, dict], recipients: dict[str, list[str]]) -> Counter:
    """Each message once on its target topic, and one `created` inbox event per recipient."""
    expected: Counter = Counter()
    for text, message in messages.items():
        target = message["target"]
        expected[f"postbox/{target}/messages/publish|message|{text}"] += 1
        for user in recipients[text]:
            expected[f"postbox/user/{user}/inbox|created|{text}"] += 1
    return expected


# -- IoT publish failing for 30% of the stream's records -------------------------------------------------------

# alice → bob, carol → xform 34 (its project's owner alice, bob, erin), dave → carol, alice → project 12 (erin)
ROUTES = [("alice", "user", "bob", ["bob"]), ("carol", "xform", "34", ["alice", "bob", "erin"]),
          ("dave", "user", "carol", ["carol"]), ("alice", "project", "12", ["erin"])]


def send_round(api, count: int, prefix: str) -> tuple[dict[str, dict], dict[str, list[str]]]:
    messages, recipients = {}, {}
    for n in range(count):
        sender, target_type, target_id, users = ROUTES[n % len(ROUTES)]
        text = f"{prefix}-{n:03d}"
        messages[text] = {**send(api, sender, target_type, target_id, text), "target": f"{target_type}/{target_id}"}
        recipients[text] = users
    return messages, recipients


def test_flaky_iot_publishes_are_retried_until_each_record_is_published(api, stream, published, aws, iot_faults):
    messages, recipients = send_round(api, 24, "flaky")
    expected = expected_publishes(messages, recipients)
    stuck = "postbox/user/carol/inbox|created|flaky-010"  # fails until healed: its batch gives up
    flaky = failing_share(set(expected) - {stuck}, FAILING_PERCENT) - failing_share(set(expected) - {stuck}, 1)
    iot_faults.flaky, iot_faults.stuck = flaky, {stuck}
    # 24 messages: 24 target-topic records and 36 inbox entries; 18 of those 60 records (30%) fail
    assert len(expected) == 60 and len(flaky | {stuck}) == 18

    stream.drain()

    # Fan-out is untouched by the publisher's trouble: exactly one entry per recipient and message.
    entries = inbox_entries()
    assert sum(entries.values()) == sum(len(users) for users in recipients.values()) == 36
    assert set(entries.values()) == {1}
    # Every flaky record failed exactly its three attempts, then went through.
    assert {key: iot_faults.failures[key] for key in flaky} == dict.fromkeys(flaky, FLAKY_FAILURES)
    assert iot_faults.failures[stuck] == 11  # the first delivery and its 10 retries
    # Everything but the stuck record is published; the stuck one is on the on-failure queue.
    sent = published_keys(published)
    assert set(sent) == set(expected) - {stuck}
    [batch] = queued_batches(aws["queue_url"])
    assert batch["requestContext"]["functionArn"].endswith(":function:PublisherFunction")
    assert _batch_holds(batch, ("USER#carol", f"IN#{messages['flaky-010']['id']}"))
    # Retries re-deliver a batch from its first failed record; the records behind it that had gone out already
    # are not published again.
    assert set(sent.values()) == {1}

    iot_faults.stuck = set()
    report = redrive(aws["queue_url"])

    assert (report.batches, report.failed) == (1, [])
    assert queue_depth(aws["queue_url"]) == 0
    sent = published_keys(published)
    assert set(sent) == set(expected) and sent[stuck] == 1
    per_topic = Counter(key.split("|")[0] for key in sent)  # distinct records per topic
    assert per_topic == Counter({"postbox/user/bob/messages/publish": 6, "postbox/xform/34/messages/publish": 6,
                                 "postbox/user/carol/messages/publish": 6, "postbox/project/12/messages/publish": 6,
                                 "postbox/user/alice/inbox": 6, "postbox/user/bob/inbox": 12,
                                 "postbox/user/erin/inbox": 12, "postbox/user/carol/inbox": 6})
    assert redrive(aws["queue_url"]).batches == 0
    assert set(inbox_entries().values()) == {1}
    assert_counters_match_a_recount()


def _batch_holds(batch: dict, key: tuple[str, str]) -> bool:
    from postbox.integrations import streams

    info = batch["DDBStreamBatchInfo"]
    records = streams.read_range(info["streamArn"], info["shardId"], info["startSequenceNumber"],
                                 info["endSequenceNumber"])
    return any((r["dynamodb"]["Keys"]["PK"]["S"], r["dynamodb"]["Keys"]["SK"]["S"]) == key for r in records)


# -- DynamoDB throttling on the fan-out's BatchWriteItem ---------------------------------------------------------


@pytest.fixture
def crowd(directory):
    """xform 900 viewed by 60 users (u00..u59): a message to it fans out in chunks of 25, 25 and 10."""
    from postbox.logic.directory import parse_document, upsert

    users = [f"u{n:02d}" for n in range(60)]
    upsert(parse_document({"users": [{"id": u, "username": u} for u in users],
                           "targets": [{"type": "xform", "id": "900", "name": "crowd",
                                        "acl": {"alice": "owner", **dict.fromkeys(users, "readonly")}}]}))
    return users


class Throttle:
    """Answers the table client's TransactWriteItems calls by a script, per call: "throttle" (the whole request
    refused), "conflict" (cancelled: another transaction was changing the same items), or "ok" (the real call)."""

    def __init__(self, script) -> None:
        self.script = script
        self.calls: list[tuple[str, int]] = []  # (what was done, how many actions were asked for)

    def before_call(self, params: dict, **_: object):
        from botocore.awsrequest import AWSResponse

        actions = json.loads(params["body"])["TransactItems"]
        action = self.script(len(self.calls))
        self.calls.append((action, len(actions)))
        if action == "throttle":
            return AWSResponse("https://dynamodb", 400, {}, None), {
                "Error": {"Code": "ProvisionedThroughputExceededException", "Message": "Rate of requests exceeded"},
                "ResponseMetadata": {"HTTPStatusCode": 400}}
        if action == "conflict":
            return AWSResponse("https://dynamodb", 400, {}, None), {
                "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
                "CancellationReasons": [{"Code": "TransactionConflict"}] * len(actions),
                "ResponseMetadata": {"HTTPStatusCode": 400}}
        return None


def assert_counters_match_a_recount() -> None:
    """Every user's counters item equals what their stored inbox entries add up to (a scan: tests only)."""
    from postbox.dal import counters, table
    from postbox.dal.inbox import user_of

    pages = table.client().get_paginator("scan").paginate(TableName=table.table_name())
    items = [table.deserialize(raw) for page in pages for raw in page["Items"]]
    entries: dict[str, list[dict]] = {}
    stored: dict[str, dict[str, int]] = {}
    for item in items:
        if item.get("type") == "inbox":
            entries.setdefault(user_of(item), []).append(item)
        elif item["SK"] == counters.COUNTS_SK and item["PK"].startswith("USER#"):
            stored[item["PK"].removeprefix("USER#")] = counters.normalized(item)
    users = set(entries) | set(stored)
    assert users, "no inbox entries at all"
    for user in users:
        assert stored.get(user, counters.normalized({})) == counters.recount(entries.get(user, [])), user


@pytest.fixture
def throttled(aws, monkeypatch):
    """Installs a Throttle on the table client; the table's backoff sleeps are recorded, not slept."""
    from postbox.dal import table

    sleeps: list[float] = []
    monkeypatch.setattr(table, "time", SimpleNamespace(sleep=sleeps.append))
    installed: list[Throttle] = []

    def install(script) -> Throttle:
        throttle = Throttle(script)
        table.client().meta.events.register("before-call.dynamodb.TransactWriteItems", throttle.before_call)
        installed.append(throttle)
        return throttle

    install.sleeps = sleeps
    yield install
    for throttle in installed:
        table.client().meta.events.unregister("before-call.dynamodb.TransactWriteItems", throttle.before_call)


def test_throttled_fan_out_writes_are_retried_with_backoff_and_each_recipient_gets_one_entry(
        api, stream, published, crowd, throttled):
    message = send(api, "alice", "xform", "900", "to the crowd")
    throttle = throttled(lambda n: ("throttle", "conflict", "ok")[n % 3])  # each chunk: refused, cancelled, written

    stream.drain()

    # chunks of 25, 25, 10 entries (each with its user's counter update): refused, cancelled, then written
    assert throttle.calls == [("throttle", 50), ("conflict", 50), ("ok", 50),
                              ("throttle", 50), ("conflict", 50), ("ok", 50),
                              ("throttle", 20), ("conflict", 20), ("ok", 20)]
    # two backoffs per chunk, exponential with jitter: attempt 0 in [25, 50] ms, attempt 1 in [50, 100] ms
    assert len(throttled.sleeps) == 6
    for attempt, delay in zip([0, 1] * 3, throttled.sleeps, strict=True):
        assert 0.05 * 2**attempt / 2 <= delay <= 0.05 * 2**attempt
    entries = inbox_entries()
    assert sorted(user for user, source in entries if source == message["id"]) == crowd
    assert set(entries.values()) == {1}
    created = sorted(t.split("/")[2] for t, p in published() if t.endswith("/inbox") and p["event"] == "created")
    assert created == crowd  # each entry was written once, so announced once
    assert api.get("/api/v1/inbox/counts", user="u42").get_json() == {"unread": 1, "total": 1}
    assert_counters_match_a_recount()


def test_throttling_longer_than_the_fan_outs_retries_fails_the_record_and_the_stream_retries_it(
        api, stream, published, crowd, throttled):
    message = send(api, "alice", "xform", "900", "patience")
    # The first 12 calls are refused: the first chunk uses up its 10 attempts, the record fails, and the
    # stream delivers it again; the retry writes only what is missing.
    throttle = throttled(lambda n: "throttle" if n < 12 else "ok")
    fanout = next(c for c in stream.pump.consumers if c.spec.function == "FanoutFunction")

    stream.drain()

    assert [action for action, _ in throttle.calls[:10]] == ["throttle"] * 10
    assert throttle.calls[10:] == [("throttle", 50), ("throttle", 50), ("ok", 50), ("ok", 50), ("ok", 20)]
    assert fanout.failed_batches == 0
    entries = inbox_entries()
    assert sorted(user for user, source in entries if source == message["id"]) == crowd
    assert set(entries.values()) == {1}
    created = sorted(t.split("/")[2] for t, p in published() if t.endswith("/inbox") and p["event"] == "created")
    assert created == crowd
    assert_counters_match_a_recount()


# -- the IoT endpoint down during 100 creates ---------------------------------------------------------------------


def test_iot_down_during_100_creates_the_api_is_unaffected_and_everything_is_published_after(
        api, stream, published, aws, iot_faults):
    iot_faults.down = True
    started = time.monotonic()
    latencies = []
    messages, recipients = {}, {}
    for n in range(100):
        sender, target_type, target_id, users = ROUTES[n % 2]  # alice → bob, carol → xform 34
        text = f"outage-{n:03d}"
        begun = time.monotonic()
        messages[text] = {**send(api, sender, target_type, target_id, text), "target": f"{target_type}/{target_id}"}
        latencies.append(time.monotonic() - begun)
        recipients[text] = users
    elapsed = time.monotonic() - started

    assert len(messages) == 100
    assert sum(iot_faults.attempts.values()) == 0  # the request path never touches IoT
    assert max(latencies) < 2.0, f"slowest create {max(latencies):.2f}s (all 100 in {elapsed:.1f}s)"

    # The stream: fan-out delivers while IoT is down; the publisher's first delivery fails, then IoT is back.
    publisher = next(c for c in stream.pump.consumers if c.spec.function == "PublisherFunction")
    original = stream.pump._deliver

    def deliver(consumer, shard, records):
        original(consumer, shard, records)
        if consumer is publisher:
            iot_faults.down = False  # recovery after the first (failed) delivery

    stream.pump._deliver = deliver
    stream.drain()

    entries = inbox_entries()
    assert sum(entries.values()) == 50 * 1 + 50 * 3 == 200 and set(entries.values()) == {1}
    assert published_keys(published) == expected_publishes(messages, recipients)  # each exactly once
    assert sum(iot_faults.failures.values()) > 0 and iot_faults.down is False
    assert publisher.failed_batches == 0 and queue_depth(aws["queue_url"]) == 0
    assert Counter(topic for topic, _ in published()) == Counter({
        "postbox/user/bob/messages/publish": 50, "postbox/xform/34/messages/publish": 50,
        "postbox/user/bob/inbox": 100, "postbox/user/alice/inbox": 50, "postbox/user/erin/inbox": 50})
    assert_counters_match_a_recount()


def test_an_outage_longer_than_the_retries_lands_on_the_failure_queue_and_one_redrive_publishes_it(
        api, stream, published, aws, iot_faults):
    iot_faults.down = True
    messages, recipients = send_round(api, 8, "long-outage")

    stream.drain()

    assert published() == []
    assert set(inbox_entries().values()) == {1} and sum(inbox_entries().values()) == 12
    batches = queued_batches(aws["queue_url"])
    assert [b["requestContext"]["functionArn"].rsplit(":", 1)[1] for b in batches] == ["PublisherFunction"]
    assert batches[0]["DDBStreamBatchInfo"]["batchSize"] == 20  # 8 messages and their 12 entries

    iot_faults.down = False
    report = redrive(aws["queue_url"])

    assert (report.batches, report.records, report.failed) == (1, 20, [])
    assert published_keys(published) == expected_publishes(messages, recipients)  # each exactly once
    assert queue_depth(aws["queue_url"]) == 0 and redrive(aws["queue_url"]).batches == 0
    assert_counters_match_a_recount()
