"""The publisher's rules without AWS (docs/realtime.md, docs/channels.md): which change is published on which
topic with which payload, QoS and retain flag, which email/SMS or callback job it queues, and how a notify-only
alert fans out to its receivers' topics. The outlets are recording fakes (tests/support/fakes.py);
tests/integration/test_publisher.py runs the same path on moto."""

from datetime import UTC, datetime

import pytest
from support.fakes import FakeJobQueue, FakePublisher

from postbox.dal.alerts import receiver_items
from postbox.dal.inbox import NewEntry, entry_item
from postbox.dal.messages import NewMessage, message_item
from postbox.logic.changes import Change
from postbox.logic.publisher import Outlets, publish_change

CHANNEL_QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/postbox-channels"
CALLBACK_QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/postbox-callbacks.fifo"
UNREAD = {"bob": 3, "carol": 0}


@pytest.fixture
def mqtt() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def queue() -> FakeJobQueue:
    return FakeJobQueue()


@pytest.fixture
def forgotten() -> list[dict]:
    """The notify-only alert chunks the publisher removed."""
    return []


@pytest.fixture
def publish(mqtt, queue, forgotten, settings):
    """publish_change with the fakes as outlets and each user's unread count from UNREAD."""
    settings(CHANNEL_QUEUE_URL=CHANNEL_QUEUE, CALLBACK_QUEUE_URL=CALLBACK_QUEUE)
    outlets = Outlets(mqtt=mqtt, queue=queue, unread_count=UNREAD.__getitem__, forget_chunk=forgotten.append)
    return lambda change: publish_change(change, outlets)


def message(text: str = "Hello Bob", *, verb: str = "message", target_type: str = "user", target_id: str = "bob",
            sender: str = "alice", sender_kind: str = "user") -> dict:
    created = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    return message_item(NewMessage(id="m1", verb=verb, message=text, user=sender, sender_id=sender,
                                   sender_kind=sender_kind, sender_name="Alice A.", target_type=target_type,
                                   target_id=target_id, target_name="Trees", created=created,
                                   timestamp="2026-03-01T12:30:00.000000Z"))


def entry(user: str = "bob", *, kind: str = "message", created_at: str = "2026-03-01T12:30:00.000000Z",
          **changes) -> dict:
    item = entry_item(NewEntry(user_id=user, kind=kind, source_id="m1", sender="alice", text="Hello Bob",
                               truncated=False, created_at=created_at))
    return {**item, **changes}


# -- target messages -----------------------------------------------------------------------------------------


def test_a_new_message_is_published_flat_on_its_target_topic_at_qos_1(publish, mqtt, queue):
    assert publish(Change("INSERT", message(), None)) == "postbox/user/bob/messages/publish"

    [sent] = mqtt.published
    assert (sent.topic, sent.qos, sent.retain) == ("postbox/user/bob/messages/publish", 1, False)
    assert sent.json() == {"id": "m1", "verb": "message", "message": "Hello Bob", "user": "alice",
                           "timestamp": "2026-03-01T12:30:00.000000Z"}
    assert queue.queued == []  # a message's email goes with its inbox entries, not with the message


@pytest.mark.parametrize("event", ["MODIFY", "REMOVE"])
def test_a_changed_or_deleted_message_is_not_published(publish, mqtt, event):
    assert publish(Change(event, message(), message())) is None
    assert mqtt.published == []


def test_qos_retain_and_topic_base_come_from_the_settings(publish, mqtt, settings):
    settings(MQTT_QOS="0", MQTT_RETAIN="true", MQTT_TOPIC_BASE="/onadata")
    publish(Change("INSERT", message(target_type="xform", target_id="34"), None))
    [sent] = mqtt.published
    assert (sent.topic, sent.qos, sent.retain) == ("/onadata/xform/34/messages/publish", 0, True)


def test_event_messages_that_are_json_are_published_decoded(publish, mqtt):
    publish(Change("INSERT", message('{"id": [12]}', verb="submission_created", sender_kind="app"), None))
    publish(Change("INSERT", message("NaN", verb="submission_edited", sender_kind="app"), None))
    assert [p["message"] for p in mqtt.on()] == [{"id": [12]}, "NaN"]  # NaN is not JSON to a subscriber


def test_the_full_payload_carries_author_and_target_metadata(publish, mqtt, settings):
    settings(MQTT_FULL_PAYLOAD="true")
    publish(Change("INSERT", message(target_type="xform", target_id="34"), None))
    assert mqtt.on() == [{"id": "m1", "time": "2026-03-01T12:30:00.000000Z", "payload": {
        "author": {"username": "alice", "real_name": "Alice A."},
        "context": {"type": "xform", "metadata": {"id": 34, "name": "Trees", "form_id": "Trees"}, "verb": "message"},
        "message": "Hello Bob"}}]


# -- inbox entries -------------------------------------------------------------------------------------------


def test_a_new_entry_is_published_on_its_users_inbox_topic_with_the_unread_count(publish, mqtt):
    assert publish(Change("INSERT", entry(), None)) == "postbox/user/bob/inbox"
    [body] = mqtt.on("postbox/user/bob/inbox")
    assert body["event"] == "created"
    assert body["unread"] == 3
    assert body["entry"]["id"] == "m1"
    assert body["entry"]["from"] == "alice"
    assert mqtt.topics() == ["postbox/user/bob/inbox"]


@pytest.mark.parametrize(("old", "new", "event"), [
    ({}, {"read": True, "read_at": "2026-03-01T13:00:00Z"}, "read"),
    ({"read": True}, {}, "unread"),
    ({}, {"archived": True}, "archived"),
    ({"archived": True}, {}, "unarchived"),
    ({}, {"text": "Hello again"}, "updated"),
])
def test_each_state_change_of_an_entry_is_its_own_event(publish, mqtt, old, new, event):
    publish(Change("MODIFY", entry(**new), entry(**old)))
    assert [body["event"] for body in mqtt.on()] == [event]


def test_a_change_subscribers_cannot_see_is_not_published(publish, mqtt):
    assert publish(Change("MODIFY", entry(GSI1PK="elsewhere"), entry())) is None
    assert mqtt.published == []


def test_a_deleted_entry_is_published_from_its_old_image(publish, mqtt):
    publish(Change("REMOVE", None, entry("carol")))
    assert [(body["event"], body["entry"]["id"], body["unread"]) for body in mqtt.on("postbox/user/carol/inbox")] \
        == [("deleted", "m1", 0)]


def test_other_items_are_not_published(publish, mqtt, queue):
    assert publish(Change("INSERT", {"type": "conversation", "id": "c1"}, None)) is None
    assert publish(Change("INSERT", {"PK": "USER#bob", "SK": "IN#m1"}, None)) is None  # a keys-only image
    assert (mqtt.published, queue.queued) == ([], [])


# -- email and SMS jobs (channels) ---------------------------------------------------------------------------


def test_a_new_unread_entry_queues_one_channel_job(publish, queue):
    publish(Change("INSERT", entry(), None))
    assert queue.jobs(CHANNEL_QUEUE) == [{"kind": "message", "user_id": "bob", "source_id": "m1",
                                          "revision": "2026-03-01T12:30:00.000000Z"}]


def test_an_entry_bumped_by_a_newer_message_queues_a_job_and_a_read_or_archive_does_not(publish, queue):
    publish(Change("MODIFY", entry(kind="conversation", created_at="2026-03-02T08:00:00.000000Z"),
                   entry(kind="conversation")))
    publish(Change("MODIFY", entry(read=True), entry()))
    publish(Change("MODIFY", entry(archived=True), entry()))
    publish(Change("INSERT", entry(read=True), None))  # the sender's own copy of a conversation is read
    assert [job["revision"] for job in queue.jobs(CHANNEL_QUEUE)] == ["2026-03-02T08:00:00.000000Z"]


def test_without_a_channel_queue_no_job_is_queued_and_the_entry_is_still_published(publish, mqtt, queue, settings):
    settings(CHANNEL_QUEUE_URL="")
    publish(Change("INSERT", entry(), None))
    assert queue.queued == []
    assert mqtt.topics() == ["postbox/user/bob/inbox"]


# -- Aalam alert callbacks -----------------------------------------------------------------------------------


def test_reading_an_alert_with_a_callback_queues_one_fifo_job_per_read(publish, queue):
    alert = entry(kind="alert", callback=True, app_id="app-1")
    publish(Change("MODIFY", {**alert, "read": True, "read_at": "2026-03-01T13:00:00Z"}, alert))
    publish(Change("MODIFY", {**alert, "read": True, "read_at": "2026-03-01T13:00:00Z"}, alert))  # redelivered
    publish(Change("MODIFY", {**alert, "archived": True}, alert))  # no callback for an archive

    [first, again] = [q for q in queue.queued if q.queue_url == CALLBACK_QUEUE]
    assert first.json() == {"alert_id": "m1", "app_id": "app-1", "user_id": "bob", "action": "read",
                            "delivery_id": first.deduplication_id}
    assert first.group_id == first.deduplication_id == again.deduplication_id  # SQS drops the second


def test_deleting_an_alert_calls_back_and_a_message_entry_never_does(publish, queue):
    publish(Change("REMOVE", None, entry(kind="alert", callback=True, app_id="app-1")))
    publish(Change("REMOVE", None, entry(callback=True)))
    assert [job["action"] for job in queue.jobs(CALLBACK_QUEUE)] == ["delete"]


# -- notify-only Aalam alerts: fanned out on MQTT, never stored -----------------------------------------------


NOTICE = {"id": "a1", "from": "Billing", "content": "Your invoice is ready", "frontend_url": "https://acme.example/i"}


def transient_chunk(users: list[str]) -> dict:
    [chunk] = receiver_items("a1", users, transient=NOTICE, created_at="2026-03-01T12:30:00.000000Z", expires_at=1)
    return chunk


def test_a_notify_only_alert_reaches_each_receivers_inbox_topic_then_its_chunk_is_removed(publish, mqtt, forgotten):
    chunk = transient_chunk(["bob", "carol"])
    assert publish(Change("INSERT", chunk, None)) == "postbox/user/carol/inbox"

    assert mqtt.topics() == ["postbox/user/bob/inbox", "postbox/user/carol/inbox"]
    bob, carol = mqtt.on()
    assert (bob["event"], bob["transient"], bob["alert"], bob["unread"]) == ("created", True, NOTICE, 3)
    assert (bob["entry"]["id"], bob["entry"]["kind"], bob["entry"]["from"], bob["entry"]["text"]) \
        == ("a1", "alert", "Billing", "Your invoice is ready")
    assert carol["unread"] == 0
    assert forgotten == [chunk]


def test_a_notify_only_alert_queues_its_channel_jobs_in_one_batch_carrying_the_alert(publish, queue):
    publish(Change("INSERT", transient_chunk(["bob", "carol"]), None))
    assert queue.batches == 1
    assert [(job["user_id"], job["alert"]["text"]) for job in queue.jobs(CHANNEL_QUEUE)] \
        == [("bob", "Your invoice is ready"), ("carol", "Your invoice is ready")]


def test_a_stored_alerts_chunk_is_not_published(publish, mqtt, queue, forgotten):
    [chunk] = receiver_items("a1", ["bob"])  # persist=true: fan-out writes the entries, which are published
    assert publish(Change("INSERT", chunk, None)) is None
    assert (mqtt.published, queue.queued, forgotten) == ([], [], [])
