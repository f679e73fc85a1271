"""The publisher keeps many publishes in flight (docs/realtime.md#publishing-concurrently), without AWS: the stream
function's entry point (postbox.streaming.stream_entry, Powertools' BatchProcessor) drives publish_change with a
ConcurrentPublisher around a recording fake whose publishes block until the test lets them go. Shown here: the
publishes really overlap, never more than the bound, each topic's publishes leave in stream order, and a failed
publish fails its own record alone in the batch response (and is not remembered as finished)."""

import threading
import time
from functools import partial

import pytest
from support.fakes import FakeJobQueue, FakePublisher

from postbox.dal.inbox import NewEntry, entry_item
from postbox.dal.messages import NewMessage, message_item
from postbox.integrations.iot import ConcurrentPublisher
from postbox.logic.publisher import Outlets, publish_change
from postbox.streaming import stream_entry
from postbox_local.functions import LambdaContext

CONTEXT = LambdaContext("PublisherFunction")
WAIT = 10.0  # seconds a test waits for the publishes it expects, then fails instead of hanging


class GatedPublisher(FakePublisher):
    """Records publishes like FakePublisher; each one blocks until the gate opens, and the most publishes in
    flight at once is kept. `fail` names payload texts whose publish raises; `slow` payload texts whose publish
    takes that many seconds."""

    def __init__(self, fail: set[str] | None = None, slow: dict[str, float] | None = None):
        super().__init__()
        self.gate = threading.Event()
        self.in_flight = 0
        self.most_in_flight = 0
        self.fail = fail or set()
        self.slow = slow or {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        with self._changed:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self._changed.notify_all()
        try:
            assert self.gate.wait(WAIT), "the test never let the publishes go"
            time.sleep(sum(seconds for text, seconds in self.slow.items() if text.encode() in payload))
            if any(text.encode() in payload for text in self.fail):
                raise ConnectionError(f"IoT Core refused {topic}")
            with self._lock:
                super().publish(topic, payload, qos, retain)
        finally:
            with self._changed:
                self.in_flight -= 1
                self._changed.notify_all()

    def wait_for_in_flight(self, count: int) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.in_flight >= count, timeout=WAIT)


def message(n: int, target: str) -> dict:
    from datetime import UTC, datetime

    return message_item(NewMessage(id=f"m{n:03d}", verb="message", message=f"text {n:03d}", user="alice",
                                   sender_id="alice", sender_kind="user", sender_name="Alice", target_type="user",
                                   target_id=target, target_name="", created=datetime(2026, 3, 1, tzinfo=UTC),
                                   timestamp="2026-03-01T00:00:00.000000Z"))


def entry(n: int, user: str, **changes) -> dict:
    item = entry_item(NewEntry(user_id=user, kind="message", source_id=f"m{n:03d}", sender="alice",
                               text=f"text {n:03d}", truncated=False, created_at="2026-03-01T00:00:00.000000Z"))
    return {**item, **changes}


def image(item: dict) -> dict:
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    return {name: serializer.serialize(value) for name, value in item.items()}


def record(sequence: int, event: str, new: dict | None, old: dict | None = None) -> dict:
    """A DynamoDB stream record as Lambda delivers it."""
    item = new or old or {}
    body = {"Keys": image({"PK": item["PK"], "SK": item["SK"]}), "SequenceNumber": str(sequence),
            "StreamViewType": "NEW_AND_OLD_IMAGES"}
    if new is not None:
        body["NewImage"] = image(new)
    if old is not None:
        body["OldImage"] = image(old)
    return {"eventID": f"event-{sequence}", "eventName": event, "eventSource": "aws:dynamodb", "dynamodb": body,
            "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/postbox/stream/2026"}


class Run:
    """The publisher's Lambda entry point over the fakes, invoked in a thread (its publishes block on the gate)."""

    def __init__(self, mqtt: GatedPublisher, limit: int):
        self.mqtt = mqtt
        self.unread_reads: list[str] = []
        pipeline = ConcurrentPublisher(mqtt, limit)
        outlets = Outlets(mqtt=pipeline, queue=FakeJobQueue(), unread_count=self._unread,
                          forget_chunk=lambda chunk: None)
        self.handler = stream_entry(partial(publish_change, outlets=outlets), in_flight=pipeline)

    def _unread(self, user_id: str) -> int:
        self.unread_reads.append(user_id)
        return 7

    def start(self, records: list[dict]) -> "Run":
        self.response: dict | None = None
        self.thread = threading.Thread(target=lambda: setattr(self, "response", self.handler({"Records": records},
                                                                                             CONTEXT)))
        self.thread.start()
        return self

    def finish(self) -> dict:
        self.mqtt.gate.set()
        self.thread.join(WAIT)
        assert not self.thread.is_alive(), "the batch never answered"
        assert self.response is not None
        return self.response

    def __call__(self, records: list[dict]) -> dict:
        return self.start(records).finish()


@pytest.fixture(autouse=True)
def _queues_off(settings):
    settings(CHANNEL_QUEUE_URL="", CALLBACK_QUEUE_URL="")


def failures(response: dict) -> list[str]:
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]


def test_publishes_of_a_batch_are_in_flight_at_once():
    mqtt = GatedPublisher()
    run = Run(mqtt, limit=16).start([record(n, "INSERT", message(n, f"user{n}")) for n in range(1, 41)])

    # All 16 are in flight before any of them has been let go: the batch does not wait publish by publish.
    assert mqtt.wait_for_in_flight(16), f"only {mqtt.in_flight} publishes in flight"
    assert mqtt.published == []
    time.sleep(0.2)  # a 17th never starts while 16 are in flight
    assert mqtt.in_flight == 16
    assert failures(run.finish()) == []
    assert mqtt.most_in_flight == 16
    assert sorted(p.json()["id"] for p in mqtt.published) == [f"m{n:03d}" for n in range(1, 41)]


@pytest.mark.parametrize("limit", [1, 4])
def test_the_bound_is_respected(limit):
    mqtt = GatedPublisher()
    run = Run(mqtt, limit=limit).start([record(n, "INSERT", message(n, f"user{n}")) for n in range(1, 21)])
    assert mqtt.wait_for_in_flight(limit)
    time.sleep(0.2)
    assert mqtt.in_flight == limit
    assert failures(run.finish()) == []
    assert mqtt.most_in_flight == limit
    assert len(mqtt.published) == 20


def test_each_topics_publishes_leave_in_stream_order():
    # Three users' inbox topics and two target topics, interleaved: each topic's events keep the stream's order
    # (an entry's created, then read, then deleted), whatever the concurrency across topics.
    records, expected = [], {}
    sequence = 0
    for n in range(12):
        for user in ("bob", "carol", "dave"):
            created = entry(n, user)
            read = entry(n, user, read=True, read_at="2026-03-01T01:00:00Z")
            for event, new, old, name in (("INSERT", created, None, "created"), ("MODIFY", read, created, "read"),
                                          ("REMOVE", None, read, "deleted")):
                sequence += 1
                records.append(record(sequence, event, new, old))
                expected.setdefault(f"postbox/user/{user}/inbox", []).append((name, f"m{n:03d}"))
        for target in ("erin", "frank"):
            sequence += 1
            records.append(record(sequence, "INSERT", message(sequence, target)))
            expected.setdefault(f"postbox/user/{target}/messages/publish", []).append(("message", f"m{sequence:03d}"))
    # A `created` publish takes longer than the others: the `read` given right after it would overtake it.
    mqtt = GatedPublisher(slow={'"event": "created"': 0.01})
    mqtt.gate.set()

    response = Run(mqtt, limit=16)(records)

    assert failures(response) == []
    sent: dict[str, list[tuple[str, str]]] = {}
    for p in mqtt.published:
        body = p.json()
        sent.setdefault(p.topic, []).append((body["event"], body["entry"]["id"]) if "entry" in body
                                            else ("message", body["id"]))
    assert sent == expected


def test_a_failed_publish_fails_its_record_alone():
    mqtt = GatedPublisher(fail={"text 003", "text 007"})
    run = Run(mqtt, limit=8)
    records = [record(n, "INSERT", message(n, f"user{n % 3}")) for n in range(1, 11)]

    response = run(records)

    # Only the two records whose publish failed are reported; the others went out.
    assert failures(response) == ["3", "7"]
    assert sorted(p.json()["id"] for p in mqtt.published) == [f"m{n:03d}" for n in range(1, 11) if n not in (3, 7)]
    # Lambda re-delivers from the first failure: the records that went out are remembered and not published again,
    # the failed ones are not remembered and are published now.
    mqtt.fail = set()
    mqtt.published.clear()
    assert failures(run(records[2:])) == []
    assert sorted(p.json()["id"] for p in mqtt.published) == ["m003", "m007"]


def test_a_failed_publish_does_not_hold_back_the_next_on_its_topic():
    mqtt = GatedPublisher(fail={"text 001"})
    response = Run(mqtt, limit=4)([record(n, "INSERT", message(n, "bob")) for n in range(1, 4)])
    assert failures(response) == ["1"]
    assert [p.json()["id"] for p in mqtt.published] == ["m002", "m003"]


def test_a_batch_whose_every_publish_failed_fails_as_a_whole():
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    mqtt = GatedPublisher(fail={"text"})
    mqtt.gate.set()
    with pytest.raises(BatchProcessingError):
        Run(mqtt, limit=4).handler({"Records": [record(n, "INSERT", message(n, "bob")) for n in range(1, 4)]}, CONTEXT)


def test_the_unread_count_is_read_when_its_publish_goes():
    mqtt = GatedPublisher()
    run = Run(mqtt, limit=4).start([record(1, "INSERT", entry(1, "bob"))])
    assert mqtt.wait_for_in_flight(1)
    assert run.unread_reads == ["bob"]
    run.finish()
    [sent] = mqtt.published
    assert sent.json()["unread"] == 7


def test_threads_that_need_a_client_at_once_share_the_one_built():
    from postbox.integrations import built_once

    builds: list[object] = []

    @built_once
    def client() -> object:
        time.sleep(0.05)  # long enough for every thread to ask before it is built
        builds.append(object())
        return builds[-1]

    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(client())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert len(builds) == 1
    assert got == builds * 8
    client.cache_clear()
    assert client() is not builds[0]


@pytest.mark.parametrize(("in_flight", "pool"), [("40", 40), ("16", 16), ("1", 10)])
def test_the_iot_client_pools_a_connection_for_every_publish_in_flight(settings, in_flight, pool):
    from postbox.integrations import iot

    settings(MQTT_PUBLISH_CONCURRENCY=in_flight, AWS_DEFAULT_REGION="us-east-1")
    assert iot.client().meta.config.max_pool_connections == pool


@pytest.mark.parametrize("value", ["0", "65", "many"])
def test_the_concurrency_setting_is_checked(settings, value):
    from postbox.settings import MqttSettings, SettingsError

    settings(MQTT_PUBLISH_CONCURRENCY=value)
    with pytest.raises(SettingsError, match="MQTT_PUBLISH_CONCURRENCY"):
        MqttSettings.get()
