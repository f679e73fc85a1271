"""Email and SMS channels (docs/channels.md) on moto: the publisher queues a job per recipient of each new message,
conversation, reply and alert (an Ona message's recipients only if they have a channel); the channel function
(driven by the stream pump, as Lambda's SQS event source would) sends the email through SES and the SMS through
SNS to those who opted in, at most once each. What moto recorded is read through the local stack's outbox
(GET /local/outbox)."""

import json
from email import message_from_string, policy

import pytest
from support.dhis2 import MC, create, feedback, reply

QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/postbox-local-channels"
APP = "acme/billing"
XFORM_MESSAGE = {"target_type": "xform", "target_id": "34"}  # carol (editor) -> alice, bob, erin


@pytest.fixture(autouse=True)
def channels(monkeypatch):
    """Channels on (the rest of the suite runs without CHANNEL_QUEUE_URL, so publishing queues nothing)."""
    from postbox.integrations import ses, sns
    from postbox.settings import reset as reset_settings

    monkeypatch.setenv("CHANNEL_QUEUE_URL", QUEUE)
    monkeypatch.setenv("EMAIL_SENDER", "Postbox <postbox@example.org>")
    monkeypatch.setenv("WEB_URL", "https://inbox.example.org/")
    reset_settings()
    for cached in (ses.client, sns.client):
        cached.cache_clear()
    yield
    monkeypatch.undo()
    reset_settings()
    for cached in (ses.client, sns.client):
        cached.cache_clear()


def opt_in(api, user: str, **flags: bool) -> dict:
    response = api.request("PATCH", "/api/v1/me/settings", user=user,
                           json=flags or {"notify_email": True, "notify_sms": True})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def outbox(source_id: str | None = None) -> list[dict]:
    from postbox_local import outbox as local_outbox

    return [e for e in local_outbox.entries() if source_id is None or e["source_id"] == source_id]


def sent(source_id: str | None = None) -> list[tuple[str, str]]:
    return sorted((e["channel"], e["to"]) for e in outbox(source_id))


def html_parts() -> list[str]:
    from moto.ses.models import ses_backends

    return [message_from_string(m.raw_data, policy=policy.default).get_body(("html",)).get_content()
            for m in ses_backends["123456789012"]["us-east-1"].sent_messages]


def post(api, sender: str, text: str, **target: str) -> str:
    response = api.post("/api/v1/messaging", **({"app": APP} if sender == "app" else {"user": sender}),
                        json={**(target or XFORM_MESSAGE), "message": text})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def alert(api, *emails: str, **fields) -> str:
    response = api.request("PUT", "/aalam/base/message", app=APP, json={"message": {
        "from": "Billing", "app": APP, "content": "Invoice 7 is due",
        "receiver": [{"type": "users", "value": list(emails)}], **fields}})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["id"]


# -- who gets what ----------------------------------------------------------------------------------------------


def test_an_ona_message_reaches_each_opted_in_recipient_once_per_channel(api, stream):
    opt_in(api, "bob", notify_email=True)
    opt_in(api, "alice")                      # email and SMS
    opt_in(api, "carol")                      # the sender: nothing for her own message
    message_id = post(api, "carol", "Counts for week 47 are in")
    assert outbox() == []                     # the request sends nothing: the stream and the queue do
    stream.drain()

    assert sent(message_id) == [("email", "alice@example.org"), ("email", "bob@example.org"),
                                ("sms", "+15550000001")]  # erin did not opt in; dave, frank are no recipients
    email = next(e for e in outbox(message_id) if e["to"] == "bob@example.org")
    assert email["subject"] == "New message on hh_form"
    assert "Carol Chebet wrote on hh_form:\n\nCounts for week 47 are in\n" in email["text"]
    assert f"https://inbox.example.org/#/message/{message_id}" in email["text"]
    assert email["sent_at"].endswith("Z")
    [sms] = [e for e in outbox(message_id) if e["channel"] == "sms"]
    assert (sms["text"], "subject" in sms) == ("Counts for week 47 are in", False)

    stream.drain()
    assert len(outbox()) == 3


def test_nobody_opted_in_nothing_is_sent_and_a_user_without_an_address_gets_nothing(api, stream):
    post(api, "carol", "Nobody asked")
    opt_in(api, "erin", notify_sms=True)      # erin has no phone number
    post(api, "alice", "Still nobody", target_type="user", target_id="erin")
    stream.drain()
    assert outbox() == []


def test_a_conversation_and_its_replies_reach_the_other_participants(api, stream):
    opt_in(api, "bob", notify_email=True)
    opt_in(api, "alice", notify_sms=True)
    cid = create(api, "alice", subject="Tablet 7 is broken", text="The screen cracked", users=("bob",))
    stream.drain()
    assert sent() == [("email", "bob@example.org")]  # alice wrote it: her row is read, and it is hers
    [email] = outbox(cid)
    assert email["subject"] == "Tablet 7 is broken"
    assert "Alice Achieng wrote in \"Tablet 7 is broken\":\n\nThe screen cracked" in email["text"]
    assert f"https://inbox.example.org/#/conversation/{cid}" in email["text"]

    assert reply(api, "bob", cid, "A new one is on its way").status_code == 201
    stream.drain()
    assert sent(cid) == [("email", "bob@example.org"), ("sms", "+15550000001")]
    [sms] = [e for e in outbox(cid) if e["channel"] == "sms"]
    assert sms["text"] == "A new one is on its way"

    assert reply(api, "bob", cid, "Shipped").status_code == 201   # alice's row is still unread: a second SMS
    assert api.post(f"{MC}/{cid}/read", user="alice").status_code == 200   # reads change nothing
    stream.drain()
    assert [e["text"] for e in outbox(cid) if e["channel"] == "sms"] == ["A new one is on its way", "Shipped"]
    assert len(outbox(cid)) == 3


def test_only_recipients_with_a_channel_cost_a_job(api, stream):
    """The fan-out notes on each entry whether its user has a channel; the publisher queues no job for the others
    (most users), and one who opts in later is notified of what arrives from then on."""
    from postbox.integrations import queues

    jobs: list[str] = []

    def count(params, **_):
        jobs.extend([params["MessageBody"]] if "MessageBody" in params else
                    [entry["MessageBody"] for entry in params.get("Entries", [])])

    events = queues.client().meta.events
    events.register("provide-client-params.sqs.SendMessage", count)
    events.register("provide-client-params.sqs.SendMessageBatch", count)
    try:
        opt_in(api, "bob", notify_email=True)
        first = post(api, "carol", "Only bob has a channel")      # to alice, bob and erin
        stream.drain()
        assert [json.loads(job)["user_id"] for job in jobs] == ["bob"] and sent(first) == [("email", "bob@example.org")]
        opt_in(api, "alice", notify_email=True)
        second = post(api, "carol", "Alice has one now")
        stream.drain()
    finally:
        events.unregister("provide-client-params.sqs.SendMessage", count)
        events.unregister("provide-client-params.sqs.SendMessageBatch", count)
    assert sorted(json.loads(job)["user_id"] for job in jobs[1:]) == ["alice", "bob"]
    assert sent(second) == [("email", "alice@example.org"), ("email", "bob@example.org")]


def test_internal_notes_reach_only_ticket_managers(api, stream):
    """dave's feedback ticket goes to the support group (carol, a ticket manager); alice (F_MANAGE_TICKETS) is
    added. carol's internal note reaches alice alone; her public answer reaches dave and alice."""
    for user in ("dave", "alice", "carol"):
        opt_in(api, user, notify_email=True)
    ticket = feedback(api, "dave", subject="Login fails", text="I cannot sign in")
    assert api.post(f"{MC}/{ticket}/recipients", user="carol", json={"users": [{"id": "alice"}]}).status_code == 204
    stream.drain()
    assert sent() == [("email", "alice@example.org"), ("email", "carol@example.org")]

    assert reply(api, "carol", ticket, "Looks like the LDAP outage", internal=True).status_code == 201
    stream.drain()
    note = [e for e in outbox(ticket) if "LDAP" in e["text"]]
    assert [(e["to"], e["subject"]) for e in note] == [("alice@example.org", "Re: Login fails (internal note)")]
    assert all("LDAP" not in e["text"] for e in outbox() if e["to"] == "dave@example.org")

    assert reply(api, "carol", ticket, "Fixed, please try again").status_code == 201
    stream.drain()
    answer = [e for e in outbox(ticket) if "Fixed" in e["text"]]
    assert sorted((e["to"], e["subject"]) for e in answer) == [("alice@example.org", "Re: Login fails"),
                                                               ("dave@example.org", "Re: Login fails")]


def test_an_internal_note_job_for_a_non_manager_sends_nothing(api, stream):
    """Defence in depth: even a job naming a non-manager (the fan-out never writes one) sends no email."""
    from postbox.dal import conversations
    from postbox.logic import channels

    opt_in(api, "dave", notify_email=True)
    ticket = feedback(api, "dave", subject="Login fails", text="I cannot sign in")
    assert reply(api, "carol", ticket, "Internal: reset his password", internal=True).status_code == 201
    stream.drain()
    [note] = [m for m in conversations.messages(ticket) if m.get("internal")]
    job = {"kind": "conversation", "user_id": "dave", "source_id": ticket, "revision": note["created"]}
    assert channels.deliver(job) == {}
    assert outbox() == []


def test_alerts_reach_followers_and_unfollowed_apps_send_nothing(api, stream):
    opt_in(api, "bob", notify_email=True)
    opt_in(api, "alice", notify_email=True)
    assert api.post("/aalam/base/messages/preference", user="bob", query_string={
        "provider_code": "acme", "app_code": "billing", "unfollow": "true"}).status_code == 200
    first = alert(api, "bob@example.org", "alice@example.org", frontend_url="https://billing.acme.example/inv/7",
                  private_data="inv-7")
    stream.drain()
    assert sent(first) == [("email", "alice@example.org")]
    [email] = outbox(first)
    assert email["subject"] == "Billing: Invoice 7 is due"
    assert f"https://billing.acme.example/inv/7?message_id={first}&private_data=inv-7" in email["text"]

    # alice unfollows after the alert was sent but before its copies went out: nothing for her either
    second = alert(api, "alice@example.org")
    assert api.post("/aalam/base/messages/preference", user="alice", query_string={
        "provider_code": "acme", "app_code": "billing", "unfollow": "true"}).status_code == 200
    stream.drain()
    assert outbox(second) == []


def test_a_notify_only_alert_goes_out_once_to_its_receivers(api, stream):
    opt_in(api, "bob")
    alert_id = alert(api, "bob@example.org", "alice@example.org", persist=False)
    stream.drain()
    assert sent(alert_id) == [("email", "bob@example.org"), ("sms", "+15550000002")]
    assert f"https://inbox.example.org/#/alert/{alert_id}" in next(e["text"] for e in outbox(alert_id)
                                                                    if e["channel"] == "email")


def test_an_ona_event_from_an_unfollowed_app_sends_nothing(api, stream):
    opt_in(api, "bob", notify_email=True)
    opt_in(api, "alice", notify_email=True)
    assert api.post("/aalam/base/messages/preference", user="bob", query_string={
        "provider_code": "acme", "app_code": "billing", "unfollow": "true"}).status_code == 200
    response = api.post("/api/v1/messaging", app=APP, json={**XFORM_MESSAGE, "verb": "submission_created",
                                                            "message": '{"id": 7}'})
    assert response.status_code == 201
    stream.drain()
    assert sent() == [("email", "alice@example.org")]


def test_the_sender_gets_nothing(api, stream):
    for user in ("alice", "bob", "carol"):
        opt_in(api, user)
    post(api, "alice", "My own project note", target_type="project", target_id="12")   # alice owns it; erin reads
    post(api, "bob", "Talking to myself", target_type="user", target_id="bob")
    cid = create(api, "bob", subject="Hello", text="Hi Alice", users=("alice", "bob"))
    stream.drain()
    assert all(e["to"] not in ("bob@example.org", "+15550000002") for e in outbox())
    assert sent(cid) == [("email", "alice@example.org"), ("sms", "+15550000001")]
    assert all(e["source_id"] == cid for e in outbox())


def test_deleted_messages_and_inactive_users_get_nothing(api, stream):
    from postbox.logic import channels
    from postbox.logic.directory import parse_document, upsert

    opt_in(api, "bob")
    opt_in(api, "erin", notify_email=True)
    gone = post(api, "carol", "Soon gone")
    assert api.delete(f"/api/v1/messaging/{gone}", user="alice").status_code == 204
    stream.drain()
    assert outbox() == []

    kept = post(api, "carol", "Erin is away")
    upsert(parse_document({"users": [{"id": "erin", "username": "erin", "email": "erin@example.org",
                                      "active": False, "notify_email": True}]}))
    timestamp = api.get(f"/api/v1/messaging/{kept}", user="bob").get_json()["timestamp"]
    assert channels.deliver({"kind": "message", "user_id": "erin", "source_id": kept, "revision": timestamp}) == {}
    stream.drain()
    assert sent() == [("email", "bob@example.org"), ("sms", "+15550000002")]


# -- exactly once -----------------------------------------------------------------------------------------------


def test_a_retried_stream_batch_and_redelivered_jobs_send_nothing_twice(api, stream, aws):
    import boto3

    from postbox.dal import keys, table
    from postbox.logic import channels, publisher
    from postbox.logic.changes import Change

    opt_in(api, "bob")
    message_id = post(api, "carol", "Once only")
    stream.drain()
    assert sent() == [("email", "bob@example.org"), ("sms", "+15550000002")]

    entry = table.get(keys.inbox_key("bob", message_id))
    insert = Change("INSERT", entry, None)
    for _ in range(2):
        publisher.publish_change(insert)      # the publisher's batch, re-delivered by Lambda after a failure
    job = channels.job_for_entry(insert)
    boto3.client("sqs").send_message(QueueUrl=aws["channel_queue_url"], MessageBody=json.dumps(job))
    stream.drain()
    assert channels.deliver(job) == {"email": "duplicate", "sms": "duplicate"}
    assert sent() == [("email", "bob@example.org"), ("sms", "+15550000002")]


def test_the_same_queue_batch_delivered_twice_sends_once(api, stream):
    from postbox_local import template
    from postbox_local.functions import FunctionRegistry
    from postbox_local.pump import sqs_record

    opt_in(api, "bob", notify_sms=True)
    message_id = post(api, "carol", "Hi")
    job = {"kind": "message", "user_id": "bob", "source_id": message_id,
           "revision": api.get(f"/api/v1/messaging/{message_id}", user="bob").get_json()["timestamp"]}
    spec = next(c for c in template.queue_consumers() if c.function == "ChannelFunction")
    function = FunctionRegistry().get(spec.function, spec.code_dir)
    event = {"Records": [sqs_record({"MessageId": f"m{i}", "ReceiptHandle": f"r{i}", "Body": json.dumps(job)},
                                    "arn:aws:sqs:us-east-1:123456789012:postbox-local-channels") for i in range(2)]}
    assert function.invoke(event) == {"batchItemFailures": []}
    assert function.invoke(event) == {"batchItemFailures": []}
    assert sent() == [("sms", "+15550000002")]


def test_a_throttled_send_is_retried_by_the_queue_and_the_other_channel_is_not_repeated(api, stream, monkeypatch):
    from botocore.exceptions import ClientError

    from postbox.integrations import ses

    real = ses.client().send_email
    refusals = []

    def throttled_once(**params):
        if not refusals:
            refusals.append(params)
            raise ClientError({"Error": {"Code": "TooManyRequestsException", "Message": "Maximum sending rate"},
                               "ResponseMetadata": {"HTTPStatusCode": 429}}, "SendEmail")
        return real(**params)

    monkeypatch.setattr(ses.client(), "send_email", throttled_once)
    opt_in(api, "bob")
    message_id = post(api, "carol", "Throttled, then sent")
    stream.drain()
    assert len(refusals) == 1
    assert sent(message_id) == [("email", "bob@example.org"), ("sms", "+15550000002")]  # the SMS went out once


def test_a_send_whose_outcome_is_unknown_is_not_repeated(api, stream, monkeypatch, aws):
    """Mark-then-send: a timeout after the request went out leaves the marker claimed; no second email (at most
    once), and the job is not retried."""
    import boto3
    from botocore.exceptions import ReadTimeoutError

    from postbox.integrations import ses

    calls = []

    def timed_out(**params):
        calls.append(params)
        raise ReadTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com")

    monkeypatch.setattr(ses.client(), "send_email", timed_out)
    opt_in(api, "bob", notify_email=True)
    post(api, "carol", "Maybe sent")
    stream.drain()
    assert len(calls) == 1 and outbox() == []
    sqs = boto3.client("sqs")
    assert sqs.receive_message(QueueUrl=aws["channel_failure_queue_url"]).get("Messages") is None


def test_a_final_refusal_is_recorded_and_not_retried(api, stream, monkeypatch):
    from botocore.exceptions import ClientError

    from postbox.dal import channels as markers
    from postbox.dal import keys
    from postbox.integrations import sns

    calls = []

    def refused(**params):
        calls.append(params)
        raise ClientError({"Error": {"Code": "InvalidParameter", "Message": "Invalid phone number"},
                           "ResponseMetadata": {"HTTPStatusCode": 400}}, "Publish")

    monkeypatch.setattr(sns.client(), "publish", refused)
    opt_in(api, "bob", notify_sms=True)
    message_id = post(api, "carol", "Refused")
    stream.drain()
    assert len(calls) == 1
    timestamp = api.get(f"/api/v1/messaging/{message_id}", user="bob").get_json()["timestamp"]
    marker = markers.get(keys.sent_key("bob", "sms", message_id, timestamp))
    assert (marker["state"], marker["reason"]) == ("refused", "InvalidParameter: Invalid phone number")


# -- content ----------------------------------------------------------------------------------------------------


def test_message_text_is_escaped_in_the_html_part_and_kept_as_is_in_the_text_part(api, stream):
    opt_in(api, "bob", notify_email=True)
    text = '<script>alert("x")</script> <a href="https://evil.example">click</a> & {target} {0.__class__}'
    message_id = post(api, "carol", text)
    cid = create(api, "alice", subject="<img src=x onerror=alert(1)>", text="<b>bold</b>", users=("bob",))
    stream.drain()
    by_source = {e["source_id"]: e for e in outbox()}
    assert text in by_source[message_id]["text"]                # plain text part: as written
    assert by_source[cid]["subject"] == "<img src=x onerror=alert(1)>"
    html = "\n".join(html_parts())
    assert "<script>" not in html and "<img" not in html and "<b>" not in html and 'href="https://evil' not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "&amp; {target} {0.__class__}" in html              # no placeholder or format-string expansion
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert html.count("<a href=") == 2                          # the links back, nothing else


def test_sms_is_cut_to_160_characters(api, stream):
    opt_in(api, "bob", notify_sms=True)
    exact = "x" * 160
    long = "Long report: " + "word " * 100
    post(api, "carol", exact)
    post(api, "carol", long)
    stream.drain()
    texts = [e["text"] for e in outbox() if e["channel"] == "sms"]
    assert exact in texts
    [cut] = [t for t in texts if t.startswith("Long report")]
    assert len(cut) == 160 and cut.endswith("...") and long.startswith(cut[:-3])


def test_templates_use_only_known_placeholders():
    import configparser
    import re

    from postbox.logic import notices

    known = {"heading", "text", "link", "link_label", "subject", "sender", "target", "summary"}
    parser = configparser.RawConfigParser()
    parser.read_string((notices.TEMPLATES / "notices.ini").read_text())
    texts = [parser[section][line] for section in notices.KINDS for line in ("subject", "heading", "link")]
    texts += [notices.template("email.txt"), notices.template("email.html")]
    for text in texts:
        assert set(notices.PLACEHOLDER.findall(text)) <= known, text
        assert not re.search(r"\{(?![a-z_]+\})", text), text   # no other braces a renderer could trip on


def test_subjects_are_one_line():
    from postbox.logic import notices

    notice = notices.Notice("conversation", "c1", "text", "https://x/", {"sender": "S", "subject": "A\r\nBcc: x@y"})
    content = notices.email(notice)
    assert content.subject == "A Bcc: x@y"
    raw = notices.mime("postbox@example.org", "bob@example.org", "c1", content).decode()
    assert "\r\nBcc:" not in raw


# -- the function and its sample event ---------------------------------------------------------------------------


def test_the_sample_event_runs_through_the_channel_function(directory):
    from pathlib import Path

    from postbox_local import template
    from postbox_local.functions import FunctionRegistry

    spec = next(c for c in template.queue_consumers() if c.function == "ChannelFunction")
    event = json.loads((Path(template.ROOT) / "events" / "ChannelFunction.json").read_text())
    assert FunctionRegistry().get(spec.function, spec.code_dir).invoke(event) == {"batchItemFailures": []}
