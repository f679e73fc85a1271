"""Alert callbacks (docs/aalam.md): after a receiver reads or deletes an alert, its backend_url gets one signed POST
from the queue function (fed by the publisher), with a timeout, bounded retries and a failure queue; URLs are
checked again before each call. A real HTTP receiver on 127.0.0.1 (CALLBACK_ALLOW_LOOPBACK_HTTP) observes them."""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

APP = "acme/billing"
SEND = "/aalam/base/message"


class Receiver:
    """An HTTP server on 127.0.0.1 recording every request; answers `status` after `delay` seconds."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.status = 200
        self.delay = 0.0
        self.location: str | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.calls.append({"path": self.path, "headers": dict(self.headers), "body": body})
                time.sleep(receiver.delay)
                try:
                    self.send_response(receiver.status)
                    if receiver.location:
                        self.send_header("Location", receiver.location)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the caller timed out first (the timeout test)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/alerts?token=t1"

    def bodies(self) -> list[dict]:
        return [json.loads(call["body"]) for call in self.calls]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def loopback_receivers(settings):
    """The receivers here listen on 127.0.0.1: allowed by the local stack's setting."""
    settings(CALLBACK_ALLOW_LOOPBACK_HTTP="true")


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


def send(api, stream, backend_url: str, **fields) -> str:
    body = {"from": "Billing", "app": APP, "content": "Invoice 7", "backend_url": backend_url,
            "receiver": [{"type": "users", "value": ["bob@example.org", "alice@example.org"]}], **fields}
    response = api.request("PUT", SEND, app=APP, json={"message": body})
    assert response.status_code == 200, response.get_json()
    stream.drain()
    return response.get_json()["id"]


def read(api, alert_id: str, user: str = "bob", value: str = "true"):
    response = api.post(f"{SEND}/{alert_id}", user=user, query_string={"read": value})
    assert response.status_code == 200, response.get_json()


def secret(api) -> str:
    return api.get("/api/v1/app/callback-secret", app=APP).get_json()["secret"]


def queued(url: str) -> list[dict]:
    import boto3

    messages = boto3.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_a_read_calls_the_backend_url_once_with_a_verifiable_signature(api, stream, receiver):
    alert_id = send(api, stream, receiver.url, private_data="inv-7")
    assert receiver.calls == []  # sending calls nothing
    read(api, alert_id)
    assert receiver.calls == []  # nor does the request: the stream does
    stream.drain()

    [call] = receiver.calls
    assert call["path"] == "/hooks/alerts?token=t1"
    assert json.loads(call["body"]) == {"message_id": alert_id, "private_data": "inv-7", "action": "read",
                                        "user": "bob@example.org"}
    assert call["headers"]["Content-Type"] == "application/json"
    expected = "sha256=" + hmac.new(secret(api).encode(), call["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(call["headers"]["X-Postbox-Signature"], expected)
    assert call["headers"]["X-Postbox-Delivery"]

    read(api, alert_id)  # already read: no action, no call
    stream.drain()
    assert len(receiver.calls) == 1


def test_each_action_calls_once(api, stream, receiver):
    alert_id = send(api, stream, receiver.url)
    read(api, alert_id)
    read(api, alert_id, value="false")  # unread is not an Aalam action
    read(api, alert_id)                 # a second read is
    read(api, alert_id, user="alice")
    assert api.delete(f"{SEND}/{alert_id}", user="bob").status_code == 200
    stream.drain()
    assert sorted((b["user"], b["action"]) for b in receiver.bodies()) == [
        ("alice@example.org", "read"), ("bob@example.org", "delete"), ("bob@example.org", "read"),
        ("bob@example.org", "read")]
    deliveries = [call["headers"]["X-Postbox-Delivery"] for call in receiver.calls]
    assert len(set(deliveries)) == 4


def test_the_native_inbox_triggers_the_same_callbacks(api, stream, receiver):
    alert_id = send(api, stream, receiver.url)
    assert api.post("/api/v1/inbox/read", user="bob", json={"ids": [alert_id]}).status_code == 200
    assert api.delete(f"/api/v1/inbox/{alert_id}", user="alice").status_code == 204
    stream.drain()
    assert sorted((b["user"], b["action"]) for b in receiver.bodies()) == [
        ("alice@example.org", "delete"), ("bob@example.org", "read")]


def test_the_callback_carries_the_current_private_data_and_the_user_as_the_app_knows_them(api, stream, receiver):
    from postbox.logic.directory import parse_document, upsert

    upsert(parse_document({"users": [{"id": "dave", "username": "dave", "phone": "+15550000004"},
                                     {"id": "erin", "username": "erin", "groups": ["field-team"]}]}))
    alert_id = send(api, stream, receiver.url, private_data="v1",
                    receiver=[{"type": "users", "value": ["+15550000004"]},
                              {"type": "groups", "value": ["field-team"]}])
    assert api.post(f"{SEND}/{alert_id}", app=APP, query_string={"private_data": "v2"}).status_code == 200
    for user in ("dave", "erin", "alice"):
        read(api, alert_id, user)
    stream.drain()
    # Aalam knows users by email or phone: the email, else the phone, else the directory id
    assert sorted((b["user"], b["private_data"]) for b in receiver.bodies()) == [
        ("+15550000004", "v2"), ("alice@example.org", "v2"), ("erin", "v2")]


def test_an_alert_without_backend_url_queues_nothing(api, stream, receiver, aws):
    response = api.request("PUT", SEND, app=APP, json={"message": {
        "from": "Billing", "app": APP, "content": "x", "receiver": [{"type": "users", "value": ["bob@example.org"]}]}})
    stream.drain()
    read(api, response.get_json()["id"])
    stream.drain()
    assert receiver.calls == [] and queued(aws["callback_queue_url"]) == []


def test_a_redelivered_stream_record_does_not_call_twice(api, stream, receiver, aws):
    """Lambda re-delivers the records after a failed one in a batch: the FIFO queue drops the second job."""
    from postbox.logic.changes import Change
    from postbox.logic.publisher import publish_change

    alert_id = send(api, stream, receiver.url)
    read(api, alert_id)
    stream.drain()
    assert len(receiver.calls) == 1
    from postbox.dal import inbox, keys, table

    entry = table.get(keys.inbox_key("bob", alert_id))
    change = Change("MODIFY", entry, {**entry, "read": False})
    publish_change(change)
    publish_change(change)
    stream.drain()
    assert len(receiver.calls) == 2  # both copies of the re-delivered record: one call
    assert inbox.get_entries([keys.inbox_key("bob", alert_id)])


def test_failing_calls_are_retried_a_bounded_number_of_times_then_kept(api, stream, receiver, aws):
    receiver.status = 503
    alert_id = send(api, stream, receiver.url)
    read(api, alert_id)
    stream.drain()
    assert len(receiver.calls) == 5  # the queue's maxReceiveCount
    [job] = queued(aws["callback_failure_queue_url"])
    assert (job["alert_id"], job["user_id"], job["action"]) == (alert_id, "bob", "read")


@pytest.mark.parametrize("status", [400, 404, 410])
def test_a_receiver_that_refuses_is_not_called_again(api, stream, receiver, aws, status):
    receiver.status = status
    read(api, send(api, stream, receiver.url))
    stream.drain()
    assert len(receiver.calls) == 1
    assert queued(aws["callback_failure_queue_url"]) == []


def test_redirects_are_not_followed(api, stream, receiver, aws):
    other = Receiver()
    try:
        receiver.status, receiver.location = 307, other.url
        read(api, send(api, stream, receiver.url))
        stream.drain()
        assert len(receiver.calls) == 1 and other.calls == []
    finally:
        other.close()


def test_a_slow_receiver_times_out_and_is_retried(api, stream, receiver, settings, aws):
    settings(CALLBACK_TIMEOUT_SECONDS="0.2")
    receiver.delay = 0.5
    read(api, send(api, stream, receiver.url))
    started = time.monotonic()
    stream.drain()
    assert len(receiver.calls) == 5
    assert time.monotonic() - started < 5 * 0.5
    assert len(queued(aws["callback_failure_queue_url"])) == 1


def test_the_url_is_checked_again_before_each_call(api, stream, settings, monkeypatch, aws):
    """A host that resolved to a public address at send time and to a private one at call time (DNS
    rebinding) is not called."""
    from postbox.integrations import webhooks

    answers = {"hooks.acme.example": ["93.184.216.34"]}
    monkeypatch.setattr(webhooks, "resolve", lambda host, port, *, timeout: answers[host])
    calls = []
    monkeypatch.setattr(webhooks, "post", lambda *args, **kwargs: calls.append(args) or 200)
    alert_id = send(api, stream, "https://hooks.acme.example/alerts")
    answers["hooks.acme.example"] = ["127.0.0.1"]
    read(api, alert_id)
    answers["hooks.acme.example"] = ["169.254.169.254"]
    read(api, alert_id, user="alice")
    stream.drain()
    assert calls == []
    assert queued(aws["callback_failure_queue_url"]) == []  # refused for good, not retried

    answers["hooks.acme.example"] = ["93.184.216.34"]
    assert api.delete(f"{SEND}/{alert_id}", user="bob").status_code == 200
    stream.drain()
    [(scheme, host, port, address, target, body, headers)] = calls
    assert (scheme, host, port, address, target) == ("https", "hooks.acme.example", 443, "93.184.216.34", "/alerts")
    assert json.loads(body)["action"] == "delete"


def test_loopback_receivers_need_the_local_setting_at_call_time_too(api, stream, receiver, settings):
    alert_id = send(api, stream, receiver.url)
    settings(CALLBACK_ALLOW_LOOPBACK_HTTP="false")
    read(api, alert_id)
    stream.drain()
    assert receiver.calls == []


def test_the_sample_event_runs_through_the_callback_function(directory):
    from pathlib import Path

    from postbox_local import template
    from postbox_local.functions import FunctionRegistry

    spec = next(c for c in template.queue_consumers() if c.function == "CallbackFunction")
    event = json.loads((Path(template.ROOT) / "events" / "CallbackFunction.json").read_text())
    assert FunctionRegistry().get(spec.function, spec.code_dir).invoke(event) == {"batchItemFailures": []}
