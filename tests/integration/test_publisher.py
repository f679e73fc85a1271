"""Publisher (docs/realtime.md): messages reach their target topic, in Ona's flat or full payload; failures are
retried record by record and, when they persist, handed to the on-failure queue."""

import json

import pytest
from support.ona import send
from support.table import entry_count

FLAT_KEYS = ["id", "verb", "message", "user", "timestamp"]


def raw_payloads(topic: str) -> list[bytes]:
    """The exact bytes published on a topic."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iotdata.models import iotdata_backends

    backend = iotdata_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    return [payload for t, payload in backend.published_payloads if t == topic]


def strict_json(data: bytes):
    """JSON as any subscriber parses it: NaN and Infinity are not JSON."""
    def refuse(name):
        raise ValueError(f"{name} is not JSON")

    return json.loads(data, parse_constant=refuse)


@pytest.fixture
def publisher_calls(stream, monkeypatch) -> list[tuple[dict, dict]]:
    """(event, response) of every publisher invocation by the pump."""
    return stream.invocations("PublisherFunction", monkeypatch)


def failing_publish(monkeypatch, topic: str, times: float) -> list[str]:
    """IoT Core refuses publishes on `topic` the first `times` times; returns the topics of the failed attempts."""
    from postbox.integrations import iot

    original = iot.IotDataPublisher.publish
    failures: list[str] = []

    def publish(self, t: str, payload: bytes, qos: int, retain: bool) -> None:
        if t == topic and len(failures) < times:
            failures.append(t)
            raise ConnectionError(f"broker unavailable for {t}")
        original(self, t, payload, qos, retain)

    monkeypatch.setattr(iot.IotDataPublisher, "publish", publish)
    return failures


# -- topics and the flat payload ----------------------------------------------------------------------------


def test_user_message_is_published_flat_on_the_target_topic(api, stream, published):
    message = send(api, "alice", "user", "bob", "Hello Bob")
    stream.drain()

    [(topic, payload)] = published("postbox/user/bob/messages/publish")
    assert list(payload) == FLAT_KEYS
    assert payload == {"id": message["id"], "verb": "message", "message": "Hello Bob", "user": "alice",
                       "timestamp": message["timestamp"]}
    assert published("postbox/user/alice/messages/publish") == []


@pytest.mark.parametrize(("target_type", "target_id", "sender", "topic"), [
    ("xform", 34, "carol", "postbox/xform/34/messages/publish"),
    ("xform", "34", "alice", "postbox/xform/34/messages/publish"),
    ("project", "12", "alice", "postbox/project/12/messages/publish"),
    ("entitylist", "trees", "alice", "postbox/entitylist/trees/messages/publish"),
])
def test_each_target_type_has_its_topic(api, stream, published, target_type, target_id, sender, topic):
    message = send(api, sender, target_type, target_id)
    stream.drain()
    assert [p["id"] for _, p in published(topic)] == [message["id"]]
    assert [t for t, _ in published() if t.endswith("/messages/publish")] == [topic]


def test_event_messages_that_are_json_are_decoded(api, stream, published):
    event = send(api, None, "xform", 34, '{"id": [12]}', app="acme/billing", verb="submission_created")
    described = send(api, None, "xform", 34, '{"id": [13], "description": "submitted_via_web"}',
                     app="acme/billing", verb="submission_edited")
    plain = send(api, None, "kmskey", "key-1", "rotated by the scheduler", app="acme/billing", verb="kmskey_rotated")
    stream.drain()

    payloads = {p["id"]: p for _, p in published() if "verb" in p}
    assert payloads[event["id"]] == {"id": event["id"], "verb": "submission_created", "message": {"id": [12]},
                                     "user": "acme/billing", "timestamp": event["timestamp"]}
    assert payloads[described["id"]]["message"] == {"id": [13], "description": "submitted_via_web"}
    assert payloads[plain["id"]]["message"] == "rotated by the scheduler"


def test_free_text_stays_text_even_when_it_looks_like_json(api, stream, published):
    texts = ["42", '{"id": [12]}', "true", "null", '"quoted"']
    for text in texts:
        send(api, "alice", "user", "bob", text)
    stream.drain()
    assert [p["message"] for _, p in published("postbox/user/bob/messages/publish")] == texts


def test_event_text_that_is_not_strict_json_stays_text(api, stream):
    """Python's json module reads NaN and Infinity, which no JSON subscriber can parse."""
    texts = ["NaN", "Infinity", "-Infinity", '{"id": [NaN]}', "1e999"]
    for text in texts:
        send(api, None, "xform", 34, text, app="acme/billing", verb="submission_deleted")
    send(api, None, "xform", 34, "12.5", app="acme/billing", verb="submission_deleted")
    stream.drain()
    messages = [strict_json(data)["message"] for data in raw_payloads("postbox/xform/34/messages/publish")]
    assert messages == [*texts, 12.5]


def test_non_ascii_text_is_published_as_utf8(api, stream):
    send(api, "alice", "user", "bob", "Habari yako? ✓ 你好")
    stream.drain()
    [data] = raw_payloads("postbox/user/bob/messages/publish")
    assert "Habari yako? ✓ 你好".encode() in data


# -- settings -------------------------------------------------------------------------------------------------


def test_full_payload_is_onas_full_form(api, stream, settings):
    settings(MQTT_FULL_PAYLOAD="true")
    to_user = send(api, "alice", "user", "bob", "I love oov")
    to_form = send(api, "carol", "xform", 34, "form news")
    to_project = send(api, "alice", "project", 12, "project news")
    event = send(api, None, "kmskey", "key-1", '{"id": [7]}', app="acme/billing", verb="kmskey_rotated")
    stream.drain()

    def expected(message: dict, author: dict, context: dict, body) -> bytes:
        # Ona's key order and json.dumps' default separators
        return json.dumps({"id": message["id"], "time": message["timestamp"],
                           "payload": {"author": author, "context": context, "message": body}}).encode()

    assert raw_payloads("postbox/user/bob/messages/publish") == [expected(
        to_user, {"username": "alice", "real_name": "Alice Achieng"},
        {"type": "user", "metadata": {"id": "bob", "name": "Bob Baraka"}, "verb": "message"}, "I love oov")]
    assert raw_payloads("postbox/xform/34/messages/publish") == [expected(
        to_form, {"username": "carol", "real_name": "Carol Chebet"},
        {"type": "xform", "metadata": {"id": 34, "name": "hh_form", "form_id": "hh_form"}, "verb": "message"},
        "form news")]
    assert raw_payloads("postbox/project/12/messages/publish") == [expected(
        to_project, {"username": "alice", "real_name": "Alice Achieng"},
        {"type": "project", "metadata": {"id": 12, "name": "Household survey"}, "verb": "message"},
        "project news")]
    assert raw_payloads("postbox/kmskey/key-1/messages/publish") == [expected(
        event, {"username": "acme/billing", "real_name": ""},
        {"type": "kmskey", "metadata": {"id": "key-1"}, "verb": "kmskey_rotated"}, {"id": [7]})]
    # the inbox topic keeps its own shape
    inbox_payload = strict_json(raw_payloads("postbox/user/bob/inbox")[0])
    assert set(inbox_payload) == {"event", "entry", "unread"}


def test_topic_base_onadata_gives_onas_topics(api, stream, published, settings):
    settings(MQTT_TOPIC_BASE="/onadata")
    message = send(api, "alice", "user", "bob")
    form = send(api, "carol", "xform", 34)
    stream.drain()
    topics = {t for t, _ in published()}
    assert "/onadata/user/bob/messages/publish" in topics
    assert "/onadata/xform/34/messages/publish" in topics
    assert {"/onadata/user/bob/inbox", "/onadata/user/alice/inbox", "/onadata/user/erin/inbox"} <= topics
    assert all(t.startswith("/onadata/") for t in topics)
    assert [p["id"] for _, p in published("/onadata/user/bob/messages/publish")] == [message["id"]]
    assert [p["id"] for _, p in published("/onadata/xform/34/messages/publish")] == [form["id"]]


def test_qos_and_retain_reach_iot_core(api, stream, settings):
    from postbox.integrations import iot

    def publish_params() -> list[tuple[int, bool]]:
        seen: list[tuple[int, bool]] = []
        iot.client().meta.events.register("before-parameter-build.iot-data.Publish",
                                          lambda params, **_: seen.append((params["qos"], params["retain"])))
        return seen

    seen = publish_params()
    send(api, "alice", "user", "bob")
    stream.drain()
    assert seen and set(seen) == {(1, False)}

    settings(MQTT_QOS="0", MQTT_RETAIN="true")
    seen = publish_params()
    send(api, "alice", "user", "bob")
    stream.drain()
    assert seen and set(seen) == {(0, True)}


# -- partial failures ----------------------------------------------------------------------------------------


def test_a_failing_record_is_reported_and_redelivered_until_published(api, stream, published, publisher_calls,
                                                                        monkeypatch):
    failures = failing_publish(monkeypatch, "postbox/user/carol/messages/publish", times=2)
    messages = {to: send(api, "alice", "user", to, f"for {to}") for to in ("bob", "carol", "dave")}
    stream.drain()

    assert len(failures) == 2
    first_event, first_response = publisher_calls[0]
    sequence = {r["dynamodb"]["NewImage"]["id"]["S"]: r["dynamodb"]["SequenceNumber"]
                for r in first_event["Records"] if r["dynamodb"]["Keys"]["SK"]["S"] == "MSG"}
    assert first_response == {"batchItemFailures": [{"itemIdentifier": sequence[messages["carol"]["id"]]}]}
    # the retries start at the failed record (Lambda checkpoints before it)
    retried = [event["Records"][0]["dynamodb"]["SequenceNumber"] for event, _ in publisher_calls[1:3]]
    assert retried == [sequence[messages["carol"]["id"]]] * 2
    assert publisher_calls[2][1] == {"batchItemFailures": []}

    for to, message in messages.items():
        ids = [p["id"] for _, p in published(f"postbox/user/{to}/messages/publish")]
        assert set(ids) == {message["id"]}, to
    assert len(published("postbox/user/carol/messages/publish")) == 1
    assert len(published("postbox/user/bob/messages/publish")) == 1  # before the failed record: not re-sent
    assert entry_count() == 3
    for to in messages:
        assert api.get("/api/v1/inbox/counts", user=to).get_json() == {"unread": 1, "total": 1}
        assert {p["event"] for _, p in published(f"postbox/user/{to}/inbox")} == {"created"}
    assert stream.pump.consumers[1].failed_batches == 0


def test_a_record_that_keeps_failing_goes_to_the_on_failure_queue(api, stream, published, publisher_calls, aws,
                                                                   monkeypatch):
    import boto3

    failures = failing_publish(monkeypatch, "postbox/user/carol/messages/publish", times=float("inf"))
    to_bob = send(api, "alice", "user", "bob")
    to_carol = send(api, "alice", "user", "carol")
    to_dave = send(api, "alice", "user", "dave")
    stream.drain()

    assert len(failures) == 11  # the first attempt and MaximumRetryAttempts (10) retries
    carol_sequence = next(r["dynamodb"]["SequenceNumber"] for r in publisher_calls[0][0]["Records"]
                          if r["dynamodb"]["Keys"]["PK"]["S"] == f"MSG#{to_carol['id']}")
    failed_calls = [event for event, response in publisher_calls if response["batchItemFailures"]]
    assert len(failed_calls) == 11
    last_batch = failed_calls[-1]["Records"]
    assert last_batch[0]["dynamodb"]["SequenceNumber"] == carol_sequence

    sqs = boto3.client("sqs")
    received = sqs.receive_message(QueueUrl=aws["queue_url"], MaxNumberOfMessages=10)["Messages"]
    assert len(received) == 1
    body = json.loads(received[0]["Body"])
    assert set(body) == {"requestContext", "responseContext", "version", "timestamp", "DDBStreamBatchInfo"}
    assert body["requestContext"]["functionArn"].endswith(":function:PublisherFunction")
    assert body["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert body["requestContext"]["approximateInvokeCount"] == 11
    assert body["version"] == "1.0"
    info = body["DDBStreamBatchInfo"]
    assert set(info) == {"shardId", "streamArn", "batchSize", "startSequenceNumber", "endSequenceNumber",
                         "approximateArrivalOfFirstRecord", "approximateArrivalOfLastRecord"}
    assert info["streamArn"] == aws["stream_arn"]
    assert info["startSequenceNumber"] == carol_sequence
    assert info["endSequenceNumber"] == last_batch[-1]["dynamodb"]["SequenceNumber"]
    assert info["batchSize"] == len(last_batch)

    assert published("postbox/user/carol/messages/publish") == []
    assert {p["id"] for _, p in published("postbox/user/bob/messages/publish")} == {to_bob["id"]}
    assert {p["id"] for _, p in published("postbox/user/dave/messages/publish")} == {to_dave["id"]}
    assert entry_count() == 3  # the fan-out is a separate consumer: unaffected

    # the stream moves on past the abandoned batch
    later = send(api, "alice", "user", "erin")
    stream.drain()
    assert [p["id"] for _, p in published("postbox/user/erin/messages/publish")] == [later["id"]]
    assert len(failures) == 11
