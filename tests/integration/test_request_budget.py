"""docs/architecture.md#data-model's request budget, counted in DynamoDB requests: create 2, get 2, cursor list page 2,
delete 3, mark-read 2 (and inbox reads stay flat).

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
    assert calls == {"BatchGetItem": 1, "PutItem": 1}


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
    assert calls == {"GetItem": 1, "BatchGetItem": 1, "DeleteItem": 1}


def test_mark_read_costs_two_requests(api, message):
    with dynamodb_requests() as calls:
        response = api.post(f"/api/v1/messaging/{message['id']}/read", user="bob")
    assert response.get_json() == {"markedRead": [message["id"]]}
    assert calls == {"BatchGetItem": 1, "UpdateItem": 1}   # the caller's entry, then the write


def test_inbox_page_and_counts_are_flat(api, message):
    with dynamodb_requests() as calls:
        assert api.get("/api/v1/inbox", user="bob").status_code == 200
    assert calls == {"BatchGetItem": 1, "Query": 1}
    with dynamodb_requests() as calls:
        assert api.get("/api/v1/inbox/counts", user="bob").get_json() == {"unread": 1, "total": 1}
    assert calls == {"BatchGetItem": 1, "Query": 2}


def test_an_inactive_caller_costs_one_read(api, message):
    """Refused before anything else is read or written: one BatchGetItem, whichever route."""
    from postbox.logic.directory import parse_document, upsert

    upsert(parse_document({"users": [{"id": "bob", "username": "bob", "active": False}]}))
    for method, path in (("GET", "/api/v1/inbox"), ("POST", f"/api/v1/messaging/{message['id']}/read"),
                         ("GET", f"/api/v1/messaging/{message['id']}")):
        with dynamodb_requests() as calls:
            assert api.request(method, path, user="bob").status_code == 403
        assert calls.get("BatchGetItem") == 1 and not {"UpdateItem", "PutItem", "DeleteItem"} & set(calls), path
