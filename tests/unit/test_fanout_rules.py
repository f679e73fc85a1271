"""Fan-out's rules without AWS (docs/realtime.md, docs/inbox.md): who receives a message's inbox entry, and what the
entry shows. tests/integration/test_fanout.py runs the whole path (stream, table, directory) on moto."""

from datetime import UTC, datetime

from postbox.dal import keys
from postbox.dal.messages import NewMessage, message_item
from postbox.logic.fanout import candidates_of, entries_for, recipients_among


def message(text: str = "Hello", *, sender: str = "alice", sender_kind: str = "user") -> dict:
    return message_item(NewMessage(id="m1", verb="message", message=text, user=sender, sender_id=sender,
                                   sender_kind=sender_kind, sender_name="", target_type="project", target_id="12",
                                   target_name="", created=datetime(2026, 3, 1, tzinfo=UTC),
                                   timestamp="2026-03-01T00:00:00.000000Z"))


def test_the_sender_is_not_a_recipient_of_their_own_message():
    assert candidates_of(message(sender="alice"), ["alice", "bob", "carol"]) == ["bob", "carol"]


def test_an_app_that_shares_a_users_id_does_not_drop_that_user():
    assert candidates_of(message(sender="alice", sender_kind="app"), ["alice", "bob"]) == ["alice", "bob"]


def test_only_active_users_in_the_directory_receive_an_entry():
    users = {"bob": {"id": "bob"}, "carol": {"id": "carol", "active": False}, "dave": {"id": "dave", "active": True}}
    assert recipients_among(["bob", "carol", "dave", "erin"], users) == ["bob", "dave"]


def test_each_recipient_gets_an_unread_entry_keyed_by_user_and_source(settings):
    [bob, dave] = entries_for(message("Hello"), ["bob", "dave"])
    assert {k: bob[k] for k in ("PK", "SK")} == keys.inbox_key("bob", "m1")
    assert {k: dave[k] for k in ("PK", "SK")} == keys.inbox_key("dave", "m1")
    assert {k: bob[k] for k in ("kind", "source_id", "from", "text", "truncated", "read", "archived", "created_at")} \
        == {"kind": "message", "source_id": "m1", "from": "alice", "text": "Hello", "truncated": False,
            "read": False, "archived": False, "created_at": "2026-03-01T00:00:00.000000Z"}


def test_an_entry_shows_a_preview_of_a_long_message(settings):
    settings(INBOX_PREVIEW_CHARS=5)
    [entry] = entries_for(message("Hello, world"), ["bob"])
    assert (entry["text"], entry["truncated"]) == ("Hello", True)
    assert entries_for(message("Hello"), []) == []
