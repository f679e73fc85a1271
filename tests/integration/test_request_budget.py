"""docs/architecture.md#data-model's request budget, counted in DynamoDB requests: create 2, get 2, cursor list page 2,
delete 3, mark-read 2 (and inbox reads stay flat); docs/inbox.md#counts: a count is one GetItem whatever the
inbox's size.

The inactive-user check (docs/architecture.md#permissions) reads the caller's directory entry once per request. A
route whose permission check reads the caller anyway carries it in that BatchGetItem and pays nothing (create, get,
list, delete). The inbox routes and mark-read read nothing of the caller's (an entry is keyed by its user), so they
pay one BatchGetItem for it: the price of refusing an inactive user there at all."""


import pytest

from postbox_local.metering import dynamodb_requests


@pytest.fixture
def message(api, stream):
    created = api.post("/api/v1/messaging", user="alice",
                       json={"target_type": "xform", "target_id": "34", "message": "budget"})
    assert created.status_code == 201
    stream.drain()
    return created.get_json()


def test_create_costs_two_requests(api):
    with dynamodb_requests() as calls:
        response = api.post("/api/v1/messaging", user="alice",
                            json={"target_type": "xform", "target_id": "34", "message": "hi"})
    assert response.status_code == 201
    assert calls == {"BatchGetItem": 1, "TransactWriteItems": 1}  # the message and its feeds' sizes


def test_get_costs_two_requests(api, message):
    with dynamodb_requests() as calls:
        assert api.get(f"/api/v1/messaging/{message['id']}", user="bob").status_code == 200
    assert calls == {"GetItem": 1, "BatchGetItem": 1}


def test_cursor_page_costs_two_requests_wherever_it_is(api):
    for n in range(6):
        api.post("/api/v1/messaging", user="bob", json={"target_type": "user", "target_id": "bob", "message": f"{n}"})
    query = {"target_type": "user", "target_id": "bob", "page_size": "2", "cursor": ""}
    costs = []
    while True:
        with dynamodb_requests() as calls:
            response = api.get("/api/v1/messaging", user="bob", query_string=query)
        assert response.status_code == 200
        costs.append(dict(calls))
        link = response.headers.get("Link")
        if not link:
            break
        query["cursor"] = link.split("cursor=", 1)[1].split("&", 1)[0].split(">", 1)[0]
    assert len(costs) == 3
    assert all(cost == {"BatchGetItem": 1, "Query": 1} for cost in costs)


def test_delete_costs_three_requests(api, message):
    with dynamodb_requests() as calls:
        assert api.delete(f"/api/v1/messaging/{message['id']}", user="alice").status_code == 204
    assert calls == {"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1}


def test_mark_read_costs_two_requests(api, message):
    """The caller's directory entry, then the entry's conditional update and the ADD on bob's counters, in one
    TransactWriteItems."""
    with dynamodb_requests() as calls:
        response = api.post(f"/api/v1/messaging/{message['id']}/read", user="bob")
    assert response.get_json() == {"markedRead": [message["id"]]}
    assert calls == {"BatchGetItem": 1, "TransactWriteItems": 1}
    with dynamodb_requests() as calls:
        response = api.post(f"/api/v1/messaging/{message['id']}/read", user="bob")
    assert response.get_json() == {"markedRead": []}  # already read: the guess fails, one read shows why
    assert calls == {"BatchGetItem": 2, "TransactWriteItems": 1}


def test_inbox_page_and_counts_are_flat(api, message):
    with dynamodb_requests() as calls:
        assert api.get("/api/v1/inbox", user="bob").status_code == 200
    assert calls == {"BatchGetItem": 1, "Query": 1}
    with dynamodb_requests() as calls:
        assert api.get("/api/v1/inbox/counts", user="bob").get_json() == {"unread": 1, "total": 1}
    assert calls == {"BatchGetItem": 1, "GetItem": 1}


def _unread_entries(user: str, count: int) -> None:
    """`count` unread entries for `user`, written the way the fan-out writes them (with their counters)."""
    from postbox.dal import inbox
    from postbox.dal.inbox import NewEntry
    from postbox.ids import new_ulid

    items = [inbox.entry_item(NewEntry(user_id=user, kind="message", source_id=new_ulid(), sender="alice",
                                       text=f"n{n}", truncated=False, created_at=f"2026-01-01T00:00:{n % 60:02d}Z"))
             for n in range(count)]
    inbox.write_entries(items)


@pytest.mark.parametrize("unread", [0, 5000])
def test_an_inbox_event_costs_the_publisher_one_read_of_one_item(api, stream, unread):
    """With 5,000 unread entries as with none: the publisher reads bob's counters item, nothing else."""
    from support.fakes import FakeJobQueue, FakePublisher

    from postbox.dal import keys, table
    from postbox.logic import publisher
    from postbox.logic.changes import Change

    _unread_entries("bob", unread)
    message = api.post("/api/v1/messaging", user="alice",
                       json={"target_type": "user", "target_id": "bob", "message": "one more"}).get_json()
    stream.pump.consumers[:] = [c for c in stream.pump.consumers if c.spec.function == "FanoutFunction"]
    stream.drain()  # the fan-out writes bob's entry; the publisher is called below, alone
    entry = table.get(keys.inbox_key("bob", message["id"]))
    mqtt = FakePublisher()
    with dynamodb_requests() as calls:
        publisher.publish_change(Change(event="INSERT", new=entry, old=None),
                                 publisher.Outlets(mqtt=mqtt, queue=FakeJobQueue()))
    assert calls == {"GetItem": 1}
    assert [payload["unread"] for payload in mqtt.on("postbox/user/bob/inbox")] == [unread + 1]


@pytest.mark.parametrize("unread", [10, 1000])
def test_counts_cost_one_get_item_whatever_the_inbox(api, unread):
    _unread_entries("carol", unread)
    with dynamodb_requests() as calls:
        counts = api.get("/api/v1/inbox/counts", user="carol").get_json()
    assert counts == {"unread": unread, "total": unread}
    assert calls == {"BatchGetItem": 1, "GetItem": 1}  # the caller's directory entry, then the counters


def test_an_inactive_caller_costs_one_read(api, message):
    """Refused before anything else is read or written: one BatchGetItem, whichever route."""
    from postbox.logic.directory import parse_document, upsert

    upsert(parse_document({"users": [{"id": "bob", "username": "bob", "active": False}]}))
    for method, path in (("GET", "/api/v1/inbox"), ("POST", f"/api/v1/messaging/{message['id']}/read"),
                         ("GET", f"/api/v1/messaging/{message['id']}")):
        with dynamodb_requests() as calls:
            assert api.request(method, path, user="bob").status_code == 403
        writes = {"UpdateItem", "PutItem", "DeleteItem", "TransactWriteItems"}
        assert calls.get("BatchGetItem") == 1 and not writes & set(calls), path


def test_a_page_number_first_page_costs_the_same_at_10_and_10000_messages(api):
    """The feed's size comes from its counter (one GetItem), not from counting the feed."""
    from boto3.dynamodb.conditions import Key

    from postbox.dal import table, transactions
    from postbox.dal.messages import feed_counter_actions
    from postbox.ids import new_ulid

    for n in range(10):
        api.post("/api/v1/messaging", user="bob", json={"target_type": "user", "target_id": "bob", "message": f"{n}"})
    query = {"target_type": "user", "target_id": "bob", "page": "1", "page_size": "4"}

    def first_page() -> tuple[dict, str]:
        with dynamodb_requests() as calls:
            response = api.get("/api/v1/messaging", user="bob", query_string=query)
        assert response.status_code == 200
        return dict(calls), response.headers["Link"]

    few, few_links = first_page()
    assert "page=3&" in few_links.split(", ")[-1] and few_links.endswith('rel="last"')
    template = table.query_all(Key("GSI1PK").eq("TGT#user#bob"), index="Feed")[0]
    copies = []
    for n in range(9990):  # more of the same message, written as the create would write them
        message_id = new_ulid()
        sort = f"2020-01-01T00:00:00.{n:06d}Z#{message_id}"
        copies.append({**template, "PK": f"MSG#{message_id}", "id": message_id, "GSI1SK": sort, "GSI2SK": sort})
    table.batch_write(copies)
    transactions.transact_write(feed_counter_actions(template, 9990))
    many, many_links = first_page()
    assert "page=2500&" in many_links.split(", ")[-1] and many_links.endswith('rel="last"')
    assert few == many == {"BatchGetItem": 1, "Query": 1, "GetItem": 1}


@pytest.mark.parametrize("conversations", [2, 40])
def test_the_dhis2_apps_list_and_unread_count_read_their_totals_from_counters(api, conversations):
    """The Messaging app's two requests per folder: a page of one message type, and that type's unread count
    (`pageSize=1`, reading `pager.total`). Their totals are one GetItem of the caller's counters, not a count."""
    from support.dhis2 import MC, create, feedback

    private = [create(api, "alice", subject=f"Private {n}", users=("bob",)) for n in range(conversations)]
    feedback(api, "bob", subject="A ticket")   # another type, not counted in PRIVATE
    assert api.post(f"{MC}/read", user="bob", json=private[:1]).status_code == 200
    folder = {"filter": "messageType:eq:PRIVATE", "pageSize": "35", "page": "1", "fields": "id,read",
              "order": "lastMessage:desc"}
    unread = {"filter": ["read:eq:false", "messageType:eq:PRIVATE"], "pageSize": "1", "fields": "read"}
    for query, total in ((folder, conversations), (unread, conversations - 1)):
        with dynamodb_requests() as calls:
            response = api.get(MC, user="bob", query_string=query)
        assert response.status_code == 200
        assert response.get_json()["pager"]["total"] == total
        assert calls["GetItem"] == 1 and calls["Query"] == 1, calls   # the counters, then the page itself
