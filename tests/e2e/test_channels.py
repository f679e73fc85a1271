"""Email and SMS channels end to end (docs/channels.md): users opt in over HTTP (PATCH /api/v1/me/settings), items are
sent over HTTP, and the local stack's outbox (GET /local/outbox: what moto's SES and SNS recorded) shows exactly
one email or SMS per opted-in recipient and item, none for anyone else."""

import time

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

SETTINGS = "/api/v1/me/settings"
MC = "/api/messageConversations"
APP = "acme/billing"


@pytest.fixture
def opt_in(local_stack):
    """Turn a demo user's channels on for one test (the stack is shared: they are turned off again after)."""
    changed: list[str] = []

    def opt(user: str, **flags: bool) -> None:
        response = local_stack.call("PATCH", SETTINGS, user=user, json=flags)
        assert response.status_code == 200, response.text
        assert all(response.json()[name] is value for name, value in flags.items())
        changed.append(user)

    yield opt
    for user in changed:
        local_stack.call("PATCH", SETTINGS, user=user, json={"notify_email": False, "notify_sms": False})


def sent(local_stack, source_id: str, expect: int, timeout: float = 15.0) -> list[dict]:
    """The outbox's entries for a source once `expect` are there, and still only those a moment later."""
    deadline = time.monotonic() + timeout
    while True:
        response = local_stack.call("GET", "/local/outbox")   # local only: no token
        assert response.status_code == 200, response.text
        found = [entry for entry in response.json() if entry["source_id"] == source_id]
        if len(found) >= expect:
            break
        assert time.monotonic() < deadline, f"{len(found)} of {expect} sends for {source_id}: {found}"
        time.sleep(0.1)
    time.sleep(0.3)
    # sent_at may still change in between: until a send's marker is confirmed the outbox shows the email's Date
    again = [entry for entry in local_stack.call("GET", "/local/outbox").json() if entry["source_id"] == source_id]
    assert sorted(map(_without_time, again), key=str) == sorted(map(_without_time, found), key=str), \
        "more was sent than expected"
    return found


def _without_time(entry: dict) -> dict:
    return {name: value for name, value in entry.items() if name != "sent_at"}


def post_text(local_stack, path: str, user: str, text: str, **params: str):
    """DHIS2's raw-text bodies (feedback, replies)."""
    import requests

    return requests.post(local_stack.url + path, params=params, data=text.encode(), timeout=30,
                         headers={**local_stack.headers(user=user), "Content-Type": "text/plain"})


def recipients(entries: list[dict]) -> list[tuple[str, str]]:
    return sorted((entry["channel"], entry["to"]) for entry in entries)


def test_each_opted_in_recipient_gets_one_email_or_sms_per_item(local_stack, opt_in):
    opt_in("bob", notify_email=True)
    opt_in("alice", notify_sms=True)
    opt_in("carol", notify_email=True, notify_sms=True)     # the sender of the first item

    message = local_stack.send("carol", "xform", "34", "Counts for week 47 are in")   # to alice, bob, erin
    entries = sent(local_stack, message["id"], expect=2)
    assert recipients(entries) == [("email", "bob@example.org"), ("sms", "+15550000001")]
    email = next(entry for entry in entries if entry["channel"] == "email")
    assert email["subject"] == "New message on hh_form"
    assert "Counts for week 47 are in" in email["text"]
    assert f"{local_stack.url}/#/message/{message['id']}" in email["text"]
    assert next(entry for entry in entries if entry["channel"] == "sms")["text"] == "Counts for week 47 are in"

    response = local_stack.call("PUT", "/aalam/base/message", app=APP, json={"message": {
        "from": "Billing", "app": APP, "content": "Invoice 9 is due", "frontend_url": "https://billing.acme.example/9",
        "receiver": [{"type": "users", "value": ["bob@example.org", "alice@example.org", "erin@example.org"]}]}})
    assert response.status_code == 200, response.text
    alert_id = response.json()["id"]
    entries = sent(local_stack, alert_id, expect=2)
    assert recipients(entries) == [("email", "bob@example.org"), ("sms", "+15550000001")]
    assert next(e for e in entries if e["channel"] == "email")["subject"] == "Billing: Invoice 9 is due"

    response = local_stack.call("POST", MC, user="alice", json={
        "subject": "Tablet 7", "text": "The screen cracked", "users": [{"id": "bob"}, {"id": "erin"}]})
    assert response.status_code == 201, response.text
    conversation = response.headers["Location"].rsplit("/", 1)[1]
    [entry] = sent(local_stack, conversation, expect=1)       # alice wrote it; erin did not opt in
    assert (entry["channel"], entry["to"], entry["subject"]) == ("email", "bob@example.org", "Tablet 7")


def test_internal_notes_never_reach_non_managers_by_email(local_stack, opt_in):
    opt_in("dave", notify_email=True)                          # no ticket manager
    opt_in("alice", notify_email=True)                         # F_MANAGE_TICKETS
    response = post_text(local_stack, f"{MC}/feedback", "dave", "I cannot sign in", subject="Login fails")
    assert response.status_code == 201, response.text
    ticket = response.headers["Location"].rsplit("/", 1)[1]
    assert local_stack.call("POST", f"{MC}/{ticket}/recipients", user="carol",
                            json={"users": [{"id": "alice"}]}).status_code == 204
    sent(local_stack, ticket, expect=1)                        # alice, added to the ticket

    note = post_text(local_stack, f"{MC}/{ticket}", "carol", "Locked by the LDAP outage", internal="true")
    assert note.status_code == 201, note.text
    entries = [e for e in sent(local_stack, ticket, expect=2) if "LDAP" in e["text"]]
    assert recipients(entries) == [("email", "alice@example.org")]

    answer = post_text(local_stack, f"{MC}/{ticket}", "carol", "Fixed, please try again")
    assert answer.status_code == 201, answer.text
    entries = sent(local_stack, ticket, expect=4)
    assert recipients(e for e in entries if "Fixed" in e["text"]) == [("email", "alice@example.org"),
                                                                      ("email", "dave@example.org")]
    assert all("LDAP" not in e["text"] for e in entries if e["to"] == "dave@example.org")


def test_a_retried_stream_batch_sends_nothing_twice(local_stack, opt_in):
    """With the broker down the publisher fails and its batch is retried; every attempt queues the email job
    again, and the channel function sends one email."""
    opt_in("erin", notify_email=True)
    assert local_stack.call("POST", "/local/broker/stop").json() == {"broker": "stopped"}
    try:
        message = local_stack.send("bob", "user", "erin", "sent while the broker is down")
        deadline = time.monotonic() + 20
        while local_stack.call("GET", "/local/status").json()["stream_consumers"]["PublisherFunction"][
                "retrying"] == 0:
            assert time.monotonic() < deadline, "the publisher never failed while the broker was down"
            time.sleep(0.1)
        time.sleep(0.3)                                        # another attempt or two
    finally:
        assert local_stack.call("POST", "/local/broker/start").json() == {"broker": "running"}
    deadline = time.monotonic() + 30
    while local_stack.call("GET", "/local/status").json()["stream_consumers"]["PublisherFunction"]["retrying"]:
        assert time.monotonic() < deadline, "the publisher did not recover"
        time.sleep(0.1)
    [entry] = sent(local_stack, message["id"], expect=1)
    assert (entry["channel"], entry["to"]) == ("email", "erin@example.org")
