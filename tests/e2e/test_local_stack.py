"""End to end through the local stack: real HTTP to the gateway, real MQTT from the broker."""

import time

import pytest
import requests

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

XFORM_VIEWERS = ("bob", "carol", "erin")  # xform 34: bob dataentry, carol editor, erin readonly via project 12


def inbox_topic(user: str) -> str:
    return f"postbox/user/{user}/inbox"


def test_health_is_public_and_routes_are_protected(local_stack):
    assert requests.get(local_stack.url + "/health", timeout=10).json() == {"status": "ok"}
    anonymous = requests.get(local_stack.url + "/api/v1/inbox", timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.json() == {"detail": "Authentication credentials were not provided."}
    forged = requests.get(local_stack.url + "/api/v1/inbox", headers={"Authorization": "Bearer x.y.z"}, timeout=10)
    assert forged.status_code == 401
    unknown = local_stack.call("GET", "/api/v1/nowhere", user="alice")
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "Not found."})


def test_message_reaches_target_topic_and_each_viewers_inbox_but_no_stranger(local_stack, subscriber):
    topics = ["postbox/xform/34/messages/publish", *(inbox_topic(u) for u in (*XFORM_VIEWERS, "dave", "alice"))]
    listener = subscriber(*topics)

    message = local_stack.send("alice", "xform", "34", "Form 34 closes on Friday")

    def arrived(messages):
        seen = {topic for topic, payload in messages
                if payload.get("id") == message["id"] or payload.get("entry", {}).get("id") == message["id"]}
        return seen >= {"postbox/xform/34/messages/publish", *(inbox_topic(u) for u in XFORM_VIEWERS)}

    listener.wait_for(arrived)
    target = [p for p in listener.on("postbox/xform/34/messages/publish") if p["id"] == message["id"]]
    assert target == [{"id": message["id"], "verb": "message", "message": "Form 34 closes on Friday",
                       "user": "alice", "timestamp": message["timestamp"]}]
    for user in XFORM_VIEWERS:
        events = [p for p in listener.on(inbox_topic(user)) if p["entry"]["id"] == message["id"]]
        assert [e["event"] for e in events] == ["created"]
        assert events[0]["entry"]["from"] == "alice" and events[0]["unread"] >= 1
        assert local_stack.inbox_ids(user, expect=message["id"]).count(message["id"]) == 1
    time.sleep(0.5)  # anything misrouted would have arrived by now
    assert listener.on(inbox_topic("dave")) == []
    assert all(p["entry"]["id"] != message["id"] for p in listener.on(inbox_topic("alice")))
    for outsider in ("dave", "alice"):
        assert message["id"] not in local_stack.inbox_ids(outsider)
    stranger = local_stack.call("GET", f"/api/v1/messaging/{message['id']}", user="dave")
    assert stranger.status_code == 403


def test_marking_read_updates_inbox_count_and_publishes(local_stack, subscriber):
    listener = subscriber(inbox_topic("bob"))
    message = local_stack.send("carol", "user", "bob", "Please check the register")
    listener.wait_for(lambda ms: any(p["entry"]["id"] == message["id"] for _, p in ms))
    before = local_stack.call("GET", "/api/v1/inbox/counts", user="bob").json()

    read = local_stack.call("POST", f"/api/v1/messaging/{message['id']}/read", user="bob")
    assert (read.status_code, read.json()) == (200, {"markedRead": [message["id"]]})

    after = local_stack.call("GET", "/api/v1/inbox/counts", user="bob").json()
    assert after == {"unread": before["unread"] - 1, "total": before["total"]}
    entry = next(i for i in local_stack.call("GET", "/api/v1/inbox", user="bob").json()["items"]
                 if i["id"] == message["id"])
    assert entry["read"] is True and entry["read_at"]
    events = listener.wait_for(lambda ms: any(p["event"] == "read" and p["entry"]["id"] == message["id"]
                                              for _, p in ms))
    read_event = next(p for _, p in events if p["event"] == "read")
    assert read_event["unread"] == after["unread"]
    assert read_event["entry"]["read"] is True


def test_broker_outage_neither_fails_nor_slows_create_and_publishes_when_back(local_stack, subscriber):
    # A persistent session (QoS 1) gets what is published while it is disconnected, as on IoT Core.
    listener = subscriber(inbox_topic("erin"), "postbox/user/erin/messages/publish", persistent=True)
    warmup = local_stack.send("bob", "user", "erin", "warm-up")
    listener.wait_for(lambda ms: any(p.get("id") == warmup["id"] for _, p in ms))
    started = time.monotonic()
    normal = local_stack.send("bob", "user", "erin", "timing reference")
    normal_seconds = time.monotonic() - started

    assert local_stack.call("POST", "/local/broker/stop").json() == {"broker": "stopped"}
    try:
        started = time.monotonic()
        message = local_stack.send("bob", "user", "erin", "sent while the broker is down")
        outage_seconds = time.monotonic() - started
        assert outage_seconds < max(1.0, 5 * normal_seconds)

        # Fan-out does not need the broker.
        assert local_stack.inbox_ids("erin", expect=message["id"]).count(message["id"]) == 1

        deadline = time.monotonic() + 20
        while local_stack.call("GET", "/local/status").json()["stream_consumers"]["PublisherFunction"][
                "retrying"] == 0:
            assert time.monotonic() < deadline, "the publisher never failed while the broker was down"
            time.sleep(0.2)
    finally:
        assert local_stack.call("POST", "/local/broker/start").json() == {"broker": "running"}

    listener.wait_for(lambda ms: any(p.get("id") == message["id"] for _, p in ms), timeout=30)
    listener.wait_for(lambda ms: any(p.get("entry", {}).get("id") == message["id"] for _, p in ms), timeout=30)
    ids = local_stack.inbox_ids("erin")
    assert ids.count(message["id"]) == 1
    assert normal["id"] in ids
