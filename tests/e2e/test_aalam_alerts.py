"""Aalam alerts end to end through the local stack: an application sends over HTTP, the receiver's MQTT
subscriber gets it, and a read calls the alert's backend_url (a receiver in this process on 127.0.0.1, which
the local stack allows: CALLBACK_ALLOW_LOOPBACK_HTTP)."""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

APP = "acme/billing"


@pytest.fixture
def callback_receiver():
    calls: list[dict] = []
    arrived = threading.Condition()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with arrived:
                calls.append({"path": self.path, "headers": dict(self.headers), "body": body})
                arrived.notify_all()
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def wait(n: int, timeout: float = 15.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        with arrived:
            while len(calls) < n:
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"{len(calls)} callbacks within {timeout}s, wanted {n}"
                arrived.wait(remaining)
            return list(calls)

    server.url = f"http://127.0.0.1:{server.server_address[1]}/alerts/callback"
    server.wait = wait
    server.calls = calls
    yield server
    server.shutdown()
    server.server_close()


def test_an_alert_reaches_the_receivers_subscriber_and_a_read_calls_back(local_stack, subscriber, callback_receiver):
    listener = subscriber("postbox/user/bob/inbox")
    response = local_stack.call("PUT", "/aalam/base/message", app=APP, json={"message": {
        "from": "Billing", "app": APP, "index": "invoice_due", "content": {"number": "INV-9", "date": "Friday"},
        "receiver": [{"type": "users", "value": ["bob@example.org"]}], "private_data": "inv-9",
        "frontend_url": "https://billing.acme.example/invoices/9", "backend_url": callback_receiver.url}})
    assert response.status_code == 200, response.text
    alert_id = response.json()["id"]
    assert response.json() == {"id": alert_id, "receivers": 1, "unknown": []}

    events = listener.wait_for(lambda ms: any(p["entry"]["id"] == alert_id for _, p in ms))
    created = next(p for _, p in events if p["entry"]["id"] == alert_id)
    assert created["event"] == "created"
    assert (created["entry"]["kind"], created["entry"]["from"], created["entry"]["text"]) == (
        "alert", "Billing", "Invoice INV-9 is due on Friday")
    [listed] = [a for a in local_stack.call("GET", "/aalam/base/messages", user="bob").json() if a["id"] == alert_id]
    assert listed["isread"] is False and listed["content"] == "Invoice INV-9 is due on Friday"
    assert callback_receiver.calls == []

    read = local_stack.call("POST", f"/aalam/base/message/{alert_id}", user="bob", params={"read": "true"})
    assert read.json() == {"id": alert_id, "isread": True}
    [call] = callback_receiver.wait(1)
    assert json.loads(call["body"]) == {"message_id": alert_id, "private_data": "inv-9", "action": "read",
                                        "user": "bob@example.org"}
    secret = local_stack.call("GET", "/api/v1/app/callback-secret", app=APP).json()["secret"]
    expected = "sha256=" + hmac.new(secret.encode(), call["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(call["headers"]["X-Postbox-Signature"], expected)
    listener.wait_for(lambda ms: any(p["event"] == "read" and p["entry"]["id"] == alert_id for _, p in ms))
    time.sleep(0.5)
    assert len(callback_receiver.calls) == 1  # once per action


def test_a_notify_only_alert_reaches_mqtt_and_no_list(local_stack, subscriber):
    listener = subscriber("postbox/user/erin/inbox")
    response = local_stack.call("PUT", "/aalam/base/message", app=APP, json={"message": {
        "from": "Billing", "app": APP, "content": "Maintenance tonight", "persist": False,
        "receiver": [{"type": "groups", "value": ["field-team"]}]}})
    assert response.status_code == 200, response.text
    alert_id = response.json()["id"]
    events = listener.wait_for(lambda ms: any(p["entry"]["id"] == alert_id for _, p in ms))
    payload = next(p for _, p in events if p["entry"]["id"] == alert_id)
    assert payload["transient"] is True and payload["alert"]["content"] == "Maintenance tonight"
    assert alert_id not in [a["id"] for a in local_stack.call("GET", "/aalam/base/messages", user="erin").json()]
    assert alert_id not in local_stack.inbox_ids("erin")
