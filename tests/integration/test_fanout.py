"""Fan-out (docs/realtime.md, docs/inbox.md): the stream turns a message into one inbox entry per recipient,
idempotently,
and a deleted message takes its entries along."""

import pytest
from support.directory import add_directory
from support.ona import send
from support.table import entry_count, entry_owners, stored_entry

INBOX = "/api/v1/inbox"


@pytest.fixture
def fanout_calls(stream, monkeypatch) -> list[tuple[dict, dict]]:
    """(event, response) of every fan-out invocation by the pump."""
    return stream.invocations("FanoutFunction", monkeypatch)


# -- recipients ---------------------------------------------------------------------------------------------


def test_xform_message_reaches_every_user_with_a_role_except_the_sender(api, stream):
    # xform 34: bob dataentry, carol editor; its project 12: alice owner, erin readonly
    message = send(api, "carol", "xform", "34", "form news")
    stream.drain()

    assert entry_owners(message["id"]) == ["alice", "bob", "erin"]
    for user in ("alice", "bob", "erin"):
        items = api.get(INBOX, user=user).get_json()["items"]
        assert [(i["id"], i["from"], i["text"]) for i in items] == [(message["id"], "carol", "form news")]
    for user in ("carol", "dave", "admin"):
        assert api.get(INBOX, user=user).get_json()["items"] == []


def test_project_owner_sending_to_the_form_gets_no_entry(api, stream):
    message = send(api, "alice", "xform", 34)
    stream.drain()
    assert entry_owners(message["id"]) == ["bob", "carol", "erin"]


def test_project_message_reaches_the_project_roles(api, stream):
    message = send(api, "alice", "project", "12")
    stream.drain()
    assert entry_owners(message["id"]) == ["erin"]  # bob and carol have roles on the form, not the project


def test_user_target_reaches_that_user_only(api, stream):
    message = send(api, "alice", "user", "bob")
    stream.drain()
    assert entry_owners(message["id"]) == ["bob"]
    assert api.get(f"{INBOX}/counts", user="bob").get_json() == {"unread": 1, "total": 1}
    assert api.get(f"{INBOX}/counts", user="alice").get_json() == {"unread": 0, "total": 0}


def test_a_message_to_oneself_leaves_no_entry(api, stream):
    message = send(api, "bob", "user", "bob", "note to self")
    stream.drain()
    assert entry_owners(message["id"]) == []


def test_application_events_reach_every_viewer(api, stream):
    message = send(api, None, "xform", 34, '{"id": [12]}', app="acme/billing", verb="submission_created")
    stream.drain()
    assert entry_owners(message["id"]) == ["alice", "bob", "carol", "erin"]
    entry = api.get(INBOX, user="carol").get_json()["items"][0]
    assert (entry["from"], entry["text"]) == ("acme/billing", '{"id": [12]}')


def test_inactive_users_are_skipped(api, stream):
    add_directory({"targets": [{"type": "xform", "id": "34", "name": "hh_form", "project": "12",
                       "acl": {"bob": "dataentry", "carol": "editor", "frank": "readonly"}}]})
    message = send(api, "carol", "xform", 34)
    stream.drain()
    assert entry_owners(message["id"]) == ["alice", "bob", "erin"]

    add_directory({"users": [{"id": "erin", "username": "erin", "active": False}]})
    later = send(api, "carol", "xform", 34)
    stream.drain()
    assert entry_owners(later["id"]) == ["alice", "bob"]


# -- idempotency ---------------------------------------------------------------------------------------------


def test_redelivered_insert_neither_duplicates_nor_resets_entries(api, stream, published, fanout_calls):
    message = send(api, "carol", "xform", 34, "once")
    stream.drain()
    assert len(fanout_calls) == 1
    assert api.post(f"/api/v1/messaging/{message['id']}/read", user="bob").get_json() == {"markedRead": [message["id"]]}
    stream.drain()
    bob_before = stored_entry("bob", message["id"])
    assert bob_before["read"] is True
    published_before = len(published())

    function = stream.consumer("FanoutFunction").function
    for _ in range(2):
        assert function.invoke(fanout_calls[0][0]) == {"batchItemFailures": []}
    stream.drain()

    assert entry_owners(message["id"]) == ["alice", "bob", "erin"]
    assert entry_count() == 3
    assert stored_entry("bob", message["id"]) == bob_before
    assert api.get(f"{INBOX}/counts", user="bob").get_json() == {"unread": 0, "total": 1}
    assert api.get(f"{INBOX}/counts", user="alice").get_json() == {"unread": 1, "total": 1}
    assert len(published()) == published_before  # nothing was rewritten, so nothing new to publish


def test_fan_out_of_the_same_change_twice_writes_only_missing_entries(api, stream, fanout_calls):
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

    from postbox.logic.fanout import deliver_message, fan_out
    from postbox.streaming import change_from_record

    message = send(api, "carol", "xform", 34)
    stream.drain()
    change = change_from_record(DynamoDBRecord(fanout_calls[0][0]["Records"][0]))
    assert change.event == "INSERT" and change.new["id"] == message["id"]
    api.post(f"{INBOX}/archive", user="alice", json={"ids": [message["id"]]})
    api.delete(f"{INBOX}/{message['id']}", user="erin")  # erin's copy is gone; bob's is untouched

    alice_before = stored_entry("alice", message["id"])
    assert deliver_message(change.new) == 1  # only erin's (missing) entry is written again
    fan_out(change)
    assert entry_owners(message["id"]) == ["alice", "bob", "erin"]
    assert stored_entry("alice", message["id"]) == alice_before


# -- deletion ------------------------------------------------------------------------------------------------


def test_deleting_a_message_removes_every_recipients_entry(api, stream, published):
    message = send(api, "carol", "xform", 34, "soon gone")
    keep = send(api, "carol", "xform", 34, "stays")
    stream.drain()
    api.post(f"{INBOX}/archive", user="bob", json={"ids": [message["id"]]})
    api.post(f"{INBOX}/read", user="erin", json={"ids": [message["id"]]})
    stream.drain()
    before = {user: len(published(f"postbox/user/{user}/inbox")) for user in ("alice", "bob", "erin")}

    response = api.delete(f"/api/v1/messaging/{message['id']}", user="alice")  # owner via the project
    assert response.status_code == 204
    stream.drain()

    assert entry_owners(message["id"]) == []
    assert entry_owners(keep["id"]) == ["alice", "bob", "erin"]
    for user in ("alice", "bob", "erin"):
        events = [p for _, p in published(f"postbox/user/{user}/inbox")][before[user]:]
        assert [(p["event"], p["entry"]["id"]) for p in events] == [("deleted", message["id"])], user
        assert events[0]["unread"] == 1
        assert api.get(f"{INBOX}/counts", user=user).get_json() == {"unread": 1, "total": 1}
    assert [p["entry"]["archived"] for _, p in published("postbox/user/bob/inbox")][-1] is True
    assert api.get(INBOX, user="bob", query_string={"archived": "true"}).get_json()["items"] == []


def test_deleted_message_entries_go_even_if_the_source_index_lags(api, stream, monkeypatch):
    """DynamoDB GSIs are eventually consistent: entries written a moment ago may not be in the source index
    yet when the message's REMOVE arrives (same batch, even). The recipients' keys are known anyway."""
    from postbox.dal import inbox

    message = send(api, "carol", "xform", 34)
    api.delete(f"/api/v1/messaging/{message['id']}", user="alice")
    monkeypatch.setattr(inbox, "source_entry_keys", lambda source_id: [])  # the index has not caught up
    stream.drain()
    assert entry_owners(message["id"]) == []


def test_a_sources_entries_are_spread_over_the_source_index_shards_and_all_are_found(api, stream):
    """BySource keys are `SRC#{source}#{shard}` by a hash of the user (docs/architecture.md#data-model); a delete
    queries every shard and the unsharded partition of entries written before the shards."""
    import zlib

    from postbox.dal import inbox, keys

    message = send(api, "carol", "xform", 34)
    stream.drain()
    shards = {user: stored_entry(user, message["id"])["GSI4PK"] for user in ("alice", "bob", "erin")}
    assert shards == {user: f"SRC#{message['id']}#{zlib.crc32(user.encode()) % 16}" for user in shards}
    assert keys.SOURCE_SHARDS == 16 and len(set(shards.values())) == 3
    # an entry written before the shards, for a user who is no longer a recipient: found by its old key
    old = {**stored_entry("bob", message["id"]), "PK": "USER#dave", "user_id": "dave",
           "GSI4PK": f"SRC#{message['id']}"}
    inbox.write_entries([old])
    assert entry_owners(message["id"]) == ["alice", "bob", "dave", "erin"]
    assert api.delete(f"/api/v1/messaging/{message['id']}", user="alice").status_code == 204
    stream.drain()
    assert entry_owners(message["id"]) == []
    assert api.get(f"{INBOX}/counts", user="dave").get_json() == {"unread": 0, "total": 0}


def test_deleting_a_user_message_removes_the_users_entry(api, stream):
    message = send(api, "alice", "user", "bob")
    stream.drain()
    assert api.delete(f"/api/v1/messaging/{message['id']}", user="bob").status_code == 204
    stream.drain()
    assert entry_owners(message["id"]) == []
    assert api.get(f"{INBOX}/counts", user="bob").get_json() == {"unread": 0, "total": 0}


# -- batching -------------------------------------------------------------------------------------------------


def test_fan_out_writes_in_transactions_of_at_most_25_entries_with_their_counters(api, stream, monkeypatch):
    """Each entry is created (or deleted) with the ADD on its user's counters: 25 entries and 25 counter updates per
    TransactWriteItems (docs/inbox.md#counts)."""
    from postbox.dal import counters, table

    monkeypatch.setattr(stream.pump, "consumers", [stream.consumer("FanoutFunction")])  # the fan-out's writes only
    users = [f"member{i:02d}" for i in range(60)]
    add_directory({"users": [{"id": u, "username": u} for u in users],
          "targets": [{"type": "xform", "id": "99", "name": "big_form", "acl": dict.fromkeys(users, "readonly")}]})
    calls: list[int] = []

    def count_call(params, **_):  # the call's own parameters, before serialization
        calls.append(len(params["TransactItems"]))

    events = table.client().meta.events
    events.register("before-parameter-build.dynamodb.TransactWriteItems", count_call)
    try:
        message = send(api, None, "xform", 99, '{"id": [1]}', app="acme/billing", verb="form_updated")
        assert calls == [3]  # the create's own: the message and its two feed counters (docs/ona.md), not fan-out's
        calls.clear()
        stream.drain()
        assert entry_owners(message["id"]) == users
        assert calls == [50, 50, 20]
        assert all(counters.read(u) == {"total": 1, "unread": 1, "conversation_unread": 0} for u in users)

        calls.clear()
        admin_delete = api.delete(f"/api/v1/messaging/{message['id']}", user="admin")
        assert admin_delete.status_code == 204
        assert calls == [3]  # the delete's own: the message and its two feed counters
        calls.clear()
        stream.drain()
        assert entry_owners(message["id"]) == []
        assert sorted(calls, reverse=True) == [50, 50, 20]
        assert all(counters.read(u) == {"total": 0, "unread": 0, "conversation_unread": 0} for u in users)
    finally:
        events.unregister("before-parameter-build.dynamodb.TransactWriteItems", count_call)


# -- failures -------------------------------------------------------------------------------------------------


def test_a_failing_record_is_retried_without_duplicating_entries(api, stream, published, monkeypatch):
    from postbox.logic import fanout

    original = fanout.deliver_message
    failures: list[str] = []

    def deliver(message):
        if message["message"] == "flaky" and len(failures) < 2:
            failures.append(message["id"])
            raise ConnectionError("throttled")
        return original(message)

    monkeypatch.setattr(fanout, "deliver_message", deliver)
    before = send(api, "alice", "user", "bob", "before")
    flaky = send(api, "carol", "xform", 34, "flaky")
    after = send(api, "alice", "user", "bob", "after")
    stream.drain()

    assert failures == [flaky["id"], flaky["id"]]
    assert entry_owners(before["id"]) == entry_owners(after["id"]) == ["bob"]
    assert entry_owners(flaky["id"]) == ["alice", "bob", "erin"]
    assert entry_count() == 5
    # "after" was processed on every attempt, but written once: one entry, one "created" event
    created = [p["entry"]["id"] for _, p in published("postbox/user/bob/inbox") if p["event"] == "created"]
    assert sorted(created) == sorted([before["id"], flaky["id"], after["id"]])
    assert api.get(f"{INBOX}/counts", user="bob").get_json() == {"unread": 3, "total": 3}
