"""Email and SMS channels (docs/channels.md) without AWS: which inbox changes call for a job, who can be reached, the
SMS
cut, the send outcomes, the settings."""

import pytest

from postbox.logic.changes import Change
from postbox.settings import SettingsError

ENTRY = {"type": "inbox", "kind": "message", "user_id": "bob", "source_id": "01JD5Q7Y3K2M4N6P8R0S2T4V6X",
         "created_at": "2026-11-25T19:17:54.648438Z", "read": False}
ROW = {**ENTRY, "kind": "conversation", "source_id": "aB3dE5fG7hJ"}


@pytest.mark.parametrize("change, wanted", [
    (Change("INSERT", ENTRY, None), True),                                        # a new entry
    (Change("INSERT", {**ENTRY, "read": True}, None), False),                     # the writer's own row
    (Change("INSERT", {**ENTRY, "kind": "alert"}, None), True),
    (Change("MODIFY", {**ENTRY, "read": True}, ENTRY), False),                    # read
    (Change("MODIFY", ENTRY, {**ENTRY, "read": True}), False),                    # unread again: no news
    (Change("MODIFY", {**ENTRY, "text": "edited"}, ENTRY), False),                # an alert's edit
    (Change("MODIFY", {**ROW, "created_at": "2026-11-25T20:00:00.000000Z"}, ROW), True),   # a reply
    (Change("MODIFY", {**ROW, "status": "SOLVED"}, ROW), False),                  # ticket fields copied
    (Change("REMOVE", None, ENTRY), False),
    (Change("INSERT", {"PK": "USER#bob", "SK": "IN#x"}, None), False),            # moto's keys-only image
    (Change("INSERT", {**ENTRY, "type": "message"}, None), False),
])
def test_which_inbox_changes_call_for_a_job(change, wanted):
    from postbox.logic.channels import job_for_entry

    job = job_for_entry(change)
    assert (job is not None) == wanted
    if job:
        assert job == {"kind": change.new["kind"], "user_id": "bob", "source_id": change.new["source_id"],
                       "revision": change.new["created_at"]}


@pytest.fixture
def settings(monkeypatch):
    from postbox.settings import ChannelSettings
    from postbox.settings import reset as reset_settings

    def apply(**env: str):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        reset_settings()
        return ChannelSettings.get()

    yield apply
    monkeypatch.undo()
    reset_settings()


def test_routes_need_an_opt_in_an_address_and_an_active_user(settings):
    from postbox.logic.channels import routes

    settings(EMAIL_SENDER="postbox@example.org")
    user = {"id": "bob", "email": "bob@example.org", "phone": "+15550000002", "notify_email": True, "notify_sms": True}
    assert routes(user) == [("email", "bob@example.org"), ("sms", "+15550000002")]
    assert routes({**user, "notify_email": False}) == [("sms", "+15550000002")]
    assert routes({**user, "phone": "5550000002"}) == [("email", "bob@example.org")]   # not E.164
    assert routes({**user, "email": "a,b@example.org"}) == [("sms", "+15550000002")]    # not one plain address
    assert routes({**user, "active": False}) == []
    assert routes(None) == []
    settings(EMAIL_SENDER="")
    assert routes(user) == [("sms", "+15550000002")]                                    # email not configured


@pytest.mark.parametrize("text, expected", [
    ("short", "short"), ("x" * 160, "x" * 160), ("x" * 161, "x" * 157 + "..."),
    ("word " * 40, ("word " * 32).rstrip()[:157].rstrip() + "..."), ("  padded  ", "padded"),
])
def test_sms_is_the_text_cut_to_160_characters(text, expected):
    from postbox.logic import notices

    sms = notices.sms(notices.Notice("message", "m", text, "", {}))
    assert sms == expected and len(sms) <= 160


def test_send_outcomes_are_sorted_into_not_sent_and_maybe_sent():
    from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

    from postbox.integrations.outbound import NotSent, call_once

    def raising(error):
        def operation(**params):
            raise error
        return operation

    def client_error(code: str, status: int) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                           "SendEmail")

    for error, retryable in ((client_error("TooManyRequestsException", 429), True),
                             (client_error("Throttling", 400), True),
                             (client_error("MessageRejected", 400), False),
                             (EndpointConnectionError(endpoint_url="https://x"), True)):
        with pytest.raises(NotSent) as refused:
            call_once(raising(error))
        assert refused.value.retryable is retryable
    for error in (client_error("InternalFailure", 500), ReadTimeoutError(endpoint_url="https://x")):
        with pytest.raises(type(error)):
            call_once(raising(error))
    assert call_once(lambda **params: params, MessageId="m1") == {"MessageId": "m1"}


@pytest.mark.parametrize("name, value", [
    ("EMAIL_SENDER", "not an address"), ("EMAIL_SENDER", "a@b\r\nBcc: c@d"), ("SMS_SENDER_ID", "TooLongSender"),
    ("SMS_SENDER_ID", "12345"), ("SMS_SENDER_ID", "Post box"), ("WEB_URL", "javascript:alert(1)"),
    ("CHANNEL_SENT_TTL_SECONDS", "60"),
])
def test_bad_channel_settings_stop_the_cold_start(settings, name, value):
    with pytest.raises(SettingsError, match=f"^ChannelSettings: {name}: "):
        settings(**{name: value})


def test_good_channel_settings(settings):
    got = settings(EMAIL_SENDER="Postbox <postbox@example.org>", SMS_SENDER_ID="Postbox1",
                   WEB_URL="https://inbox.example.org/")
    assert (got.EMAIL_SENDER, got.SMS_SENDER_ID, got.CHANNEL_SENT_TTL_SECONDS) == (
        "Postbox <postbox@example.org>", "Postbox1", 30 * 86400)
