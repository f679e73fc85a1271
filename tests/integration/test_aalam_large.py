"""Large Aalam alerts (docs/aalam.md#large-alerts): the send request does a bounded amount of work whatever the
audience, and the fan-out expands the queued groups, authorities and users a page at a time, exactly once per
receiver. Observed over HTTP, MQTT (moto's recorded publishes) and the table.

The demo directory is small, so most tests lower the request's own limit (SYNC_RECEIVERS) and the page of one
expansion step (MEMBERS_PER_STEP) to send its users through the queued path in several steps."""

import pytest
from support.table import entry_owners, inbox_entries
from test_aalam import inbox_events, load, message, send, table_items
from test_fault_injection import assert_counters_match_a_recount

USERS = ("alice", "bob", "carol", "dave", "erin", "admin", "frank", "root")


@pytest.fixture
def queued(monkeypatch):
    """Every receiver beyond `limit` is queued; each expansion step reads `page` members."""
    from postbox.dal import alerts
    from postbox.logic import alert_stream

    def apply(limit: int = 0, page: int = 1) -> None:
        monkeypatch.setattr(alerts, "SYNC_RECEIVERS", limit)
        monkeypatch.setattr(alert_stream, "MEMBERS_PER_STEP", page)

    return apply


def big_group(group_id: str, members: int, *, counted: int | None = None) -> list[str]:
    """A group of `members` users written straight to the table (a directory load of thousands is not what is
    tested), with its member counter (`counted`, if given, instead of the true number)."""
    from postbox.dal import directory, keys, table

    user_ids = [f"{group_id}{n:05d}" for n in range(members)]
    table.batch_write([directory.entry_item(directory.GROUP, group_id, directory.GROUP,
                                            {"id": group_id, "name": group_id})]
                      + [directory.entry_item(directory.USER, uid, directory.USER, {"id": uid, "username": uid})
                         for uid in user_ids]
                      + [keys.member_key(directory.GROUP, group_id, uid) for uid in user_ids])
    table.put({**keys.member_count_key(directory.GROUP, group_id),
               "members": members if counted is None else counted})
    return user_ids


def test_the_send_costs_the_same_requests_whatever_the_groups_size(api, stream):
    from postbox_local.metering import dynamodb_requests

    big_group("small", 1_001)  # just past what the request expands itself
    big_group("huge", 1_500, counted=100_000)  # the request reads the counter only
    costs = []
    for group in ("small", "huge"):
        with dynamodb_requests() as calls:
            response = send(api, message(receiver=[{"type": "groups", "value": [group]},
                                                   {"type": "users", "value": ["bob@example.org"]}]))
        assert response.status_code == 200, response.get_json()
        costs.append(dict(calls))
    assert response.get_json()["receivers"] == 100_001  # addressed: the counter, and bob
    # the app; the lookups with the member counters; bob's entry and preference; the alert with its jobs
    assert costs == [{"BatchGetItem": 3, "TransactWriteItems": 1}] * 2
    stream.drain()
    assert len(entry_owners(response.get_json()["id"])) == 1_501  # the huge group's 1,500 users and bob


def test_a_queued_alert_reaches_each_active_following_receiver_once(api, stream, published, queued):
    # frank is inactive; erin unfollowed the app; alice, bob and carol are in more than one group or authority
    load({"users": [{"id": "frank", "username": "frank", "groups": ["field-team", "support"], "active": False}]})
    assert api.post("/aalam/base/messages/preference", user="erin", query_string={
        "provider_code": "acme", "app_code": "billing", "unfollow": "true"}).status_code == 200
    queued(limit=0, page=1)
    response = send(api, message(receiver=[
        {"type": "groups", "value": ["field-team", "support", "nobody-group"]},
        {"type": "permissions", "value": ["F_MANAGE_TICKETS", "F_NOBODY"]},
        {"type": "users", "value": ["bob@example.org", "+15550000003", "ghost@example.org"]}]))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    # addressed, before the active and unfollow filters: 3 looked-up values, field-team (alice bob erin frank),
    # support (carol frank), F_MANAGE_TICKETS (alice carol) and ALL (admin); unknown: what the request can tell
    assert (body["receivers"], sorted(body["unknown"])) == (3 + 4 + 2 + 2 + 1, ["F_NOBODY", "nobody-group"])
    assert {item["SK"].split("#")[0] for item in table_items(f"ALERT#{body['id']}")} == {"ALERT", "JOB"}

    stream.drain()
    assert entry_owners(body["id"]) == ["admin", "alice", "bob", "carol"]
    assert max(inbox_entries().values()) == 1
    for user in ("admin", "alice", "bob", "carol"):
        assert inbox_events(published, user) == [("created", body["id"])]
    assert_counters_match_a_recount()
    # the steps are gone once done; the chunks they wrote remain (an edit reaches their receivers)
    kinds = [item["SK"].split("#")[0] for item in table_items(f"ALERT#{body['id']}")]
    assert "JOB" not in kinds and kinds.count("RCPT") >= 4
    edited = api.post(f"/aalam/base/message/{body['id']}", app="acme/billing", query_string={"from": "Accounts"})
    assert edited.status_code == 200
    stream.drain()
    assert {item["from"] for item in api.get("/api/v1/inbox", user="carol").get_json()["items"]} == {"Accounts"}


def test_users_named_directly_are_resolved_in_the_request_when_few(api, stream, queued):
    queued(limit=2, page=2)
    response = send(api, message(receiver=[{"type": "groups", "value": ["field-team"]},
                                           {"type": "users", "value": ["dave@example.org", "ghost@example.org"]}]))
    assert response.status_code == 200
    assert response.get_json()["receivers"] == 1 + 3 and response.get_json()["unknown"] == ["ghost@example.org"]
    stream.drain()
    assert entry_owners(response.get_json()["id"]) == ["alice", "bob", "dave", "erin"]


def test_a_redelivered_expansion_step_writes_nothing_twice(api, stream, queued):
    from postbox.dal import table
    from postbox.logic import alert_stream

    queued(limit=0, page=2)
    alert_id = send(api, message(receiver=[{"type": "groups", "value": ["field-team"]}])).get_json()["id"]
    first = next(item for item in table_items(f"ALERT#{alert_id}") if item["SK"].startswith("JOB#"))
    assert alert_stream.expand_step(first) == 2
    assert alert_stream.expand_step(first) == 0  # the same record again: the step is done
    stream.drain()
    chunks = [item for item in table_items(f"ALERT#{alert_id}") if item["SK"].startswith("RCPT#")]
    assert sorted(uid for chunk in chunks for uid in chunk["users"]) == ["alice", "bob", "erin"]
    assert entry_owners(alert_id) == ["alice", "bob", "erin"]
    assert table.get({"PK": f"ALERT#{alert_id}", "SK": first["SK"]}, consistent=True) is None


def test_a_queued_notify_only_alert_notifies_each_receiver_once_and_stores_nothing(api, stream, published, queued):
    queued(limit=0, page=1)
    response = send(api, message(persist=False, receiver=[
        {"type": "groups", "value": ["field-team", "support"]},
        {"type": "permissions", "value": ["F_MANAGE_TICKETS"]}]))
    assert response.status_code == 200, response.get_json()
    alert_id = response.get_json()["id"]
    stream.drain()
    notified = {user: [p for _, p in published(f"postbox/user/{user}/inbox")] for user in USERS}
    assert {user: len(payloads) for user, payloads in notified.items() if payloads} == {
        "alice": 1, "bob": 1, "carol": 1, "erin": 1, "admin": 1}
    assert all(p["transient"] and p["entry"]["id"] == alert_id for ps in notified.values() for p in ps)
    assert entry_owners(alert_id) == []
    # nothing listed or left to expand: only the claims that kept notices single remain, with their TTL
    left = table_items(f"ALERT#{alert_id}")
    assert left and all(item["SK"].startswith("TO#") and item["expires_at"] for item in left)


def test_too_many_groups_and_authorities_is_a_400_naming_the_field(api):
    from postbox.dal import alerts

    values = [f"g{n}" for n in range(alerts.MAX_SOURCES + 1)]
    response = send(api, message(receiver=[{"type": "groups", "value": values}]))
    assert response.status_code == 400
    assert response.get_json()["field"] == "message.receiver"


def test_too_many_users_named_directly_is_a_400_naming_the_field(api, monkeypatch):
    from postbox.dal import alerts

    monkeypatch.setattr(alerts, "MAX_DIRECT", 2)
    response = send(api, message(receiver=[{"type": "users", "value": ["a@example.org", "b@example.org",
                                                                       "+15550000009"]}]))
    assert response.status_code == 400
    assert response.get_json()["field"] == "message.receiver" and "at most 2" in response.get_json()["detail"]
