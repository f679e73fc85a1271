"""`postbox counters rebuild` (docs/runbook.md#rebuilding-counters): counters lost or wrong — a deployment whose
data predates them — are recounted from the stored entries and messages, and what the API answers is right again."""

from support.dhis2 import MC, create

from postbox.dal import counters, keys, table
from postbox.dal.messages import FEED_COUNTS_SK
from postbox_local.recount import rebuild_all


def _answers(api) -> tuple:
    inbox = api.get("/api/v1/inbox/counts", user="bob").get_json()
    dhis2 = api.get(MC, user="bob", query_string={"filter": ["messageType:eq:PRIVATE", "read:eq:false"],
                                                  "pageSize": "1"}).get_json()["pager"]["total"]
    ona = api.get("/api/v1/messaging", user="bob",
                  query_string={"target_type": "user", "target_id": "bob", "page_size": "2"}).headers.get("Link")
    return inbox, dhis2, ona


def test_lost_and_wrong_counters_are_rebuilt(api, stream):
    for n in range(5):
        assert api.post("/api/v1/messaging", user="alice",
                        json={"target_type": "user", "target_id": "bob", "message": f"m{n}"}).status_code == 201
    for n in range(3):
        create(api, "alice", subject=f"Private {n}", users=("bob",))
    stream.drain()
    right = _answers(api)
    assert right[0] == {"unread": 8, "total": 8} and right[1] == 3
    assert "page=3&" in right[2] and right[2].endswith('rel="last"')

    table.delete(counters.counters_key("bob"))                                  # lost
    table.put({**counters.counters_key("alice"), "total": 40, "unread": -2})    # wrong
    table.put({"PK": keys.target_feed("user", "bob"), "SK": FEED_COUNTS_SK, "messages": 1})
    assert _answers(api) != right

    done = rebuild_all()
    assert (done.users_fixed, done.feeds_fixed) == (2, 1) and done.users >= 2
    assert _answers(api) == right
    assert counters.read("alice")["total"] == 3 and counters.read("alice")["unread"] == 0  # her sent conversations
    assert rebuild_all().users_fixed == 0 and rebuild_all().feeds_fixed == 0


def test_a_change_during_the_rebuild_is_not_overwritten(api, stream, monkeypatch):
    """The counters moved between the rebuild's read and its write: it reads and recounts again."""
    api.post("/api/v1/messaging", user="alice", json={"target_type": "user", "target_id": "bob", "message": "one"})
    stream.drain()
    table.delete(counters.counters_key("bob"))
    original = counters.stored_entries
    calls = []

    def entries_then_a_new_message(user_id):
        found = original(user_id)
        if not calls:   # another message lands after this recount read the entries
            api.post("/api/v1/messaging", user="alice",
                     json={"target_type": "user", "target_id": "bob", "message": "two"})
            stream.drain()
        calls.append(user_id)
        return found

    monkeypatch.setattr(counters, "stored_entries", entries_then_a_new_message)
    assert counters.rebuild("bob")
    assert len(calls) == 2
    assert api.get("/api/v1/inbox/counts", user="bob").get_json() == {"unread": 2, "total": 2}
