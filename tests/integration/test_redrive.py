"""Redrive (docs/realtime.md, docs/local.md): batches the stream functions gave up on are read back from the stream and
processed again, exactly once, and leave the on-failure queue."""

import functools
import json

import pytest
from support.ona import send_to_user
from support.table import entry_owners


def queue_depth(queue_url: str) -> tuple[int, int]:
    """(visible, in flight) messages on the queue."""
    import boto3

    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
    values = attributes["Attributes"]
    return int(values["ApproximateNumberOfMessages"]), int(values["ApproximateNumberOfMessagesNotVisible"])


def queued_bodies(queue_url: str) -> list[dict]:
    """The queue's message bodies, left visible for the redrive."""
    import boto3

    sqs = boto3.client("sqs")
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]
    return [json.loads(m["Body"]) for m in messages]


@pytest.fixture(autouse=True)
def short_polls(monkeypatch):
    """redrive long-polls the queue for a second before it concludes the queue is empty; not needed here."""
    from postbox.integrations import queues

    monkeypatch.setattr(queues, "receive", functools.partial(queues.receive, wait_seconds=0))


class Outage:
    """Makes a processing step fail for one key until healed."""

    def __init__(self) -> None:
        self.broken = True
        self.failures = 0

    def check(self, key: str, broken_key: str) -> None:
        if self.broken and key == broken_key:
            self.failures += 1
            raise ConnectionError(f"{key} is unavailable")


@pytest.fixture
def broker_outage(monkeypatch):
    """IoT Core refuses publishes on one topic (set .topic) until .broken is False."""
    from postbox.integrations import iot

    outage = Outage()
    original = iot.IotDataPublisher.publish

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        outage.check(topic, outage.topic)
        original(self, topic, payload, qos, retain)

    monkeypatch.setattr(iot.IotDataPublisher, "publish", publish)
    return outage


def run_redrive(queue_url: str):
    from postbox.logic.fanout import fan_out
    from postbox.logic.publisher import publish_change
    from postbox.logic.redrive import redrive

    return redrive(queue_url, {"Fanout": fan_out, "Publisher": publish_change})


def abandoned_publisher_batch(api, stream, broker_outage) -> dict[str, dict]:
    """Three messages; carol's target topic is down, so the publisher gives up from her message on."""
    broker_outage.topic = "postbox/user/carol/messages/publish"
    messages = {to: send_to_user(api, "alice", to, f"for {to}") for to in ("bob", "carol", "dave")}
    stream.drain()
    assert broker_outage.failures == 11
    return messages


def test_redrive_publishes_an_abandoned_batch_exactly_once(api, stream, published, aws, broker_outage):
    messages = abandoned_publisher_batch(api, stream, broker_outage)
    [body] = queued_bodies(aws["queue_url"])
    batch_size = body["DDBStreamBatchInfo"]["batchSize"]
    assert batch_size == 5  # carol's and dave's messages, and the three inbox entries written after them
    assert published("postbox/user/carol/messages/publish") == []
    before = len(published())

    broker_outage.broken = False
    report = run_redrive(aws["queue_url"])

    assert (report.batches, report.records, report.skipped, report.failed) == (1, batch_size, 0, [])
    redriven = published()[before:]
    assert sorted(t for t, _ in redriven) == sorted([
        "postbox/user/carol/messages/publish", "postbox/user/dave/messages/publish",
        "postbox/user/bob/inbox", "postbox/user/carol/inbox", "postbox/user/dave/inbox"])
    [(_, payload)] = published("postbox/user/carol/messages/publish")
    assert payload == {"id": messages["carol"]["id"], "verb": "message", "message": "for carol", "user": "alice",
                       "timestamp": messages["carol"]["timestamp"]}
    assert queue_depth(aws["queue_url"]) == (0, 0)

    again = run_redrive(aws["queue_url"])
    assert (again.batches, again.records, again.failed) == (0, 0, [])
    assert len(published()) == before + len(redriven)


def test_redrive_publishes_items_as_they_are_now(api, stream, published, aws, broker_outage):
    messages = abandoned_publisher_batch(api, stream, broker_outage)
    broker_outage.broken = False
    assert api.post(f"/api/v1/messaging/{messages['carol']['id']}/read", user="carol").status_code == 200
    assert api.delete(f"/api/v1/messaging/{messages['dave']['id']}", user="dave").status_code == 204
    stream.drain()  # the read and the deletion are published as they happen
    # (carol's entry was "created" again on every retry of the batch it followed: at-least-once)
    carol_events = [p["event"] for _, p in published("postbox/user/carol/inbox")]
    assert set(carol_events[:-1]) == {"created"} and carol_events[-1] == "read"
    before = len(published())

    report = run_redrive(aws["queue_url"])

    # dave's message and his entry are gone: nothing to say about them (their REMOVEs were published)
    assert (report.batches, report.records, report.skipped) == (1, 3, 2)
    redriven = published()[before:]
    assert sorted(t for t, _ in redriven) == sorted([
        "postbox/user/carol/messages/publish", "postbox/user/bob/inbox", "postbox/user/carol/inbox"])
    carol_event = next(p for t, p in redriven if t == "postbox/user/carol/inbox")
    assert (carol_event["event"], carol_event["entry"]["read"], carol_event["unread"]) == ("created", True, 0)
    assert queue_depth(aws["queue_url"]) == (0, 0)


def test_redrive_through_the_cli(api, stream, published, aws, broker_outage, capsys):
    from postbox_local import cli

    abandoned_publisher_batch(api, stream, broker_outage)
    broker_outage.broken = False
    before = len(published())

    assert cli.main(["redrive", "--aws"]) == 0  # --aws: the environment as it is (moto), the local queue by name
    out = capsys.readouterr().out
    assert "redrove 1 batch(es), 5 record(s); 0 skipped" in out
    assert "for PublisherFunction" in out
    assert len(published()) == before + 5
    assert queue_depth(aws["queue_url"]) == (0, 0)

    assert cli.main(["redrive", "--aws", "--queue-url", aws["queue_url"]]) == 0
    assert "redrove 0 batch(es), 0 record(s)" in capsys.readouterr().out
    assert len(published()) == before + 5


def test_a_batch_that_fails_again_stays_on_the_queue(api, stream, published, aws, broker_outage):
    abandoned_publisher_batch(api, stream, broker_outage)
    before = len(published("postbox/user/carol/messages/publish"))

    report = run_redrive(aws["queue_url"])  # still broken

    assert report.batches == 0
    assert len(report.failed) == 1 and "postbox/user/carol/messages/publish is unavailable" in report.failed[0]
    assert queue_depth(aws["queue_url"]) == (0, 1)  # received, not deleted: back after its visibility timeout
    assert len(published("postbox/user/carol/messages/publish")) == before


def test_messages_that_are_not_stream_batches_are_reported_and_kept(api, stream, published, aws, broker_outage):
    import boto3

    abandoned_publisher_batch(api, stream, broker_outage)
    broker_outage.broken = False
    sqs = boto3.client("sqs")
    batch = queued_bodies(aws["queue_url"])[0]
    for junk in ('{"hello": "world"}', "not json", "[1, 2]"):
        sqs.send_message(QueueUrl=aws["queue_url"], MessageBody=junk)
    unknown = json.loads(json.dumps(batch))
    unknown["requestContext"]["functionArn"] = "arn:aws:lambda:us-east-1:123456789012:function:ChannelFunction"
    sqs.send_message(QueueUrl=aws["queue_url"], MessageBody=json.dumps(unknown))
    gone = json.loads(json.dumps(batch))  # a stream that no longer exists (its table was deleted, say)
    gone["DDBStreamBatchInfo"]["streamArn"] = aws["stream_arn"].replace("/postbox-local/", "/postbox-gone/")
    sqs.send_message(QueueUrl=aws["queue_url"], MessageBody=json.dumps(gone))

    report = run_redrive(aws["queue_url"])

    assert report.batches == 1
    assert len(report.failed) == 5
    assert sum("not a stream batch of a known function" in problem for problem in report.failed) == 4
    assert sum("cannot read its records" in problem for problem in report.failed) == 1
    assert len(published("postbox/user/carol/messages/publish")) == 1
    assert queue_depth(aws["queue_url"]) == (0, 5)  # kept for a look (or the next redrive)


def test_the_cli_reports_what_it_could_not_redrive_in_one_line_each(api, stream, aws, broker_outage, capsys):
    import boto3

    from postbox_local import cli

    abandoned_publisher_batch(api, stream, broker_outage)
    broker_outage.broken = False
    boto3.client("sqs").send_message(QueueUrl=aws["queue_url"], MessageBody="not json")

    assert cli.main(["redrive", "--aws"]) == 1
    captured = capsys.readouterr()
    assert "redrove 1 batch(es), 5 record(s)" in captured.out
    [problem] = captured.err.strip().splitlines()
    assert problem.startswith("not redriven: message ") and "not a stream batch" in problem


def test_an_abandoned_fan_out_batch_is_delivered_by_redrive(api, stream, published, aws, monkeypatch):
    from postbox.logic import fanout

    outage = Outage()
    original = fanout.deliver_message

    def deliver(message):
        outage.check(message["id"], outage.broken_id)
        return original(message)

    monkeypatch.setattr(fanout, "deliver_message", deliver)
    first = send_to_user(api, "alice", "bob", "first")
    outage.broken_id = send_to_user(api, "alice", "carol", "stuck")["id"]
    after = send_to_user(api, "carol", "bob", "after")
    stream.drain()

    assert outage.failures == 11
    [body] = queued_bodies(aws["queue_url"])
    assert body["requestContext"]["functionArn"].endswith(":function:FanoutFunction")
    assert body["DDBStreamBatchInfo"]["batchSize"] == 2
    assert entry_owners(outage.broken_id) == []
    assert entry_owners(first["id"]) == entry_owners(after["id"]) == ["bob"]  # processed in every attempt
    assert api.post(f"/api/v1/messaging/{after['id']}/read", user="bob").status_code == 200

    outage.broken = False
    report = run_redrive(aws["queue_url"])
    assert (report.batches, report.failed) == (1, [])
    assert queue_depth(aws["queue_url"]) == (0, 0)

    stream.drain()  # the redriven entries are new items: the publisher announces them
    assert entry_owners(outage.broken_id) == ["carol"]
    assert [(p["event"], p["entry"]["id"]) for _, p in published("postbox/user/carol/inbox")] == [
        ("created", outage.broken_id)]
    bob = {i["id"]: i for i in api.get("/api/v1/inbox", user="bob").get_json()["items"]}
    assert list(bob) == [after["id"], first["id"]]
    assert bob[after["id"]]["read"] is True  # a redriven batch never resets read state
    assert run_redrive(aws["queue_url"]).batches == 0
