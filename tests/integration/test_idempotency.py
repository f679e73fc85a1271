"""`Idempotency-Key` on the create endpoints (Ona, DHIS2 create and feedback, Aalam send, attachments): a retry
returns the first response — status, body, Location — without a second copy; the same key with another request
is a 422; keys are per caller and per route; a create that was refused keeps no key; without the header nothing
changes (tests/integration/test_request_budget.py holds the budget without it)."""

import threading
import time

import pytest

from postbox_local.metering import dynamodb_requests

KEY = "Idempotency-Key"
MESSAGING = "/api/v1/messaging"
MC = "/api/messageConversations"
REUSED = ("This Idempotency-Key was already used with a different request; send the same request to retry it, "
          "or use a new key for a new request.")


def post_message(api, user: str = "alice", key: str | None = "key-1", **fields):
    body = {"target_type": "user", "target_id": "bob", "message": "hello", **fields}
    return api.post(MESSAGING, user=user, json=body, headers={KEY: key} if key is not None else {})


def items_with(prefix: str) -> list[dict]:
    """Items of the main table whose PK starts with `prefix` (a scan: tests only)."""
    from postbox.dal import table

    pages = table.client().get_paginator("scan").paginate(
        TableName=table.table_name(), FilterExpression="begins_with(PK, :p)",
        ExpressionAttributeValues={":p": {"S": prefix}})
    return [table.deserialize(raw) for page in pages for raw in page["Items"]]


def messages() -> list[dict]:
    return [item for item in items_with("MSG#") if item["SK"] == "MSG"]


def idempotency_records() -> list[dict]:
    from postbox.dal import table
    from postbox.settings import IdempotencySettings

    response = table.client().scan(TableName=IdempotencySettings.get().IDEMPOTENCY_TABLE_NAME)
    return [table.deserialize(raw) for raw in response["Items"]]


# -- Ona ---------------------------------------------------------------------------------------------------------


def test_a_retried_create_returns_the_first_response_and_makes_no_second_copy(api, stream, published):
    first = post_message(api)
    again = post_message(api)

    assert first.status_code == again.status_code == 201
    assert again.get_data() == first.get_data()
    assert again.headers["Content-Type"] == first.headers["Content-Type"] == "application/json"
    assert "Idempotent-Replayed" not in first.headers and again.headers["Idempotent-Replayed"] == "true"
    assert [m["id"] for m in messages()] == [first.get_json()["id"]]
    stream.drain()
    assert [i["id"] for i in api.get("/api/v1/inbox", user="bob").get_json()["items"]] == [first.get_json()["id"]]
    assert len(published("postbox/user/bob/messages/publish")) == 1


def test_the_same_key_with_a_different_request_is_refused_and_changes_nothing(api):
    first = post_message(api, message="hello")
    # (the last means the same, but it is not the same request: the bytes are compared)
    for changed in ({"message": "hello again"}, {"target_id": "carol"}, {"verb": "message", "message": "hello "}):
        response = post_message(api, **changed)
        assert (response.status_code, response.get_json()) == (422, {"detail": REUSED}), changed
    form = api.post(MESSAGING, user="alice", headers={KEY: "key-1"},
                    data={"target_type": "user", "target_id": "bob", "message": "hello"})
    assert form.status_code == 422  # the same fields as a form are another request
    assert [m["id"] for m in messages()] == [first.get_json()["id"]]


def test_keys_are_per_caller(api):
    alice = post_message(api, "alice", key="shared")
    carol = post_message(api, "carol", key="shared")
    app = api.post(MESSAGING, app="acme/billing", headers={KEY: "shared"},
                   json={"target_type": "user", "target_id": "bob", "message": "hello"})

    assert alice.status_code == carol.status_code == app.status_code == 201
    assert len({alice.get_json()["id"], carol.get_json()["id"], app.get_json()["id"]}) == 3
    assert (alice.get_json()["user"], carol.get_json()["user"], app.get_json()["user"]) == \
        ("alice", "carol", "acme/billing")
    assert post_message(api, "carol", key="shared").get_json() == carol.get_json()


def test_keys_are_per_route(api):
    message = post_message(api, key="same")
    upload = api.post("/api/v1/attachments", user="alice", headers={KEY: "same"},
                      json={"filename": "a.txt", "content_type": "text/plain", "size": 3})
    assert message.status_code == upload.status_code == 201


def test_without_the_header_every_create_is_a_new_message(api):
    first, second = post_message(api, key=None), post_message(api, key=None)
    assert first.status_code == second.status_code == 201
    assert first.get_json()["id"] != second.get_json()["id"]
    assert "Idempotent-Replayed" not in second.headers
    assert idempotency_records() == []


def test_a_refused_create_keeps_no_key(api):
    unknown = post_message(api, target_id="nobody")
    assert (unknown.status_code, unknown.get_json()) == (400, {"target_id": "target_id not found"})
    forbidden = post_message(api, "dave", key="k2", target_type="xform", target_id="34")
    assert forbidden.status_code == 403

    assert idempotency_records() == []
    corrected = post_message(api)  # the same key, now with a request that works
    assert corrected.status_code == 201 and "Idempotent-Replayed" not in corrected.headers
    invalid = post_message(api, key="k3", message="")  # refused by validation, before the key is looked at
    assert invalid.status_code == 400
    assert [r["status"] for r in idempotency_records()] == ["COMPLETED"]


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "é-key"])
def test_a_malformed_key_is_a_400_naming_the_header(api, key):
    response = api.post(MESSAGING, user="alice", headers={KEY: key.encode("utf-8").decode("latin-1")},
                        json={"target_type": "user", "target_id": "bob", "message": "hello"})
    assert (response.status_code, response.get_json()) == (
        400, {"detail": "Idempotency-Key must be 1 to 255 printable ASCII characters."})
    assert messages() == []


def test_the_record_keeps_the_response_for_a_day_and_hides_the_caller_and_key(api):
    before = int(time.time())
    post_message(api, key="secret-key-42")
    [record] = idempotency_records()

    assert record["status"] == "COMPLETED"
    assert before + 86400 <= record["expiration"] <= int(time.time()) + 86400
    assert record["id"].startswith("postbox#") and "alice" not in record["id"] and "secret" not in record["id"]


def test_a_key_in_use_by_a_running_request_is_a_409(api, monkeypatch):
    """Two containers (two function registries) get the same key at once: the second is told to wait."""
    first_container, second_container = api, type(api)()
    module = first_container.functions.get("CreateMessageFunction", _code_dir("CreateMessageFunction"))._load()
    inside, release = threading.Event(), threading.Event()
    original = module.create_message

    def slow_create(caller, request):
        inside.set()
        assert release.wait(10)
        return original(caller, request)

    monkeypatch.setattr(module, "create_message", slow_create)
    results = {}
    worker = threading.Thread(target=lambda: results.setdefault("first", post_message(first_container)))
    worker.start()
    try:
        assert inside.wait(10)
        busy = post_message(second_container)
        assert (busy.status_code, busy.get_json()) == (
            409, {"detail": "A request with this Idempotency-Key is still in progress; retry it in a moment."})
    finally:
        release.set()
        worker.join(10)
    assert results["first"].status_code == 201
    retried = post_message(second_container)
    assert (retried.status_code, retried.get_data()) == (201, results["first"].get_data())
    assert len(messages()) == 1


def test_request_budget_with_a_key(api):
    """The key adds one conditional PutItem and one UpdateItem on the idempotency table; a replay is one PutItem
    (its condition fails and returns the stored response) and the caller's entry, read before any answer leaves so an
    inactive user is refused a replay too (docs/architecture.md#permissions), and touches nothing else."""
    with dynamodb_requests() as first:
        assert post_message(api).status_code == 201
    # the idempotency record's PutItem and UpdateItem; the message with its feed counters in one TransactWriteItems
    assert first == {"BatchGetItem": 1, "PutItem": 1, "TransactWriteItems": 1, "UpdateItem": 1}
    with dynamodb_requests() as replay:
        assert post_message(api).status_code == 201
    assert replay == {"BatchGetItem": 1, "PutItem": 1}


def _code_dir(function: str):
    from postbox_local import template

    return next(route.code_dir for route in template.routes() if route.function == function)


# -- the other create endpoints ------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", [MC, "/api/33/messageConversations"])
def test_dhis2_create_retried_returns_the_same_location_and_one_conversation(api, prefix):
    body = {"subject": "Stock-out", "text": "We are out of ORS", "users": [{"id": "bob"}]}
    first = api.post(prefix, user="alice", json=body, headers={KEY: "conv-1"})
    again = api.post(prefix, user="alice", json=body, headers={KEY: "conv-1"})

    assert first.status_code == again.status_code == 201
    assert again.headers["Location"] == first.headers["Location"]
    assert again.get_json() == first.get_json()
    assert prefix in first.headers["Location"]
    assert len([i for i in items_with("CONV#") if i["SK"] == "CONV"]) == 1
    other = api.post(prefix, user="alice", json={**body, "text": "Still out"}, headers={KEY: "conv-1"})
    assert other.status_code == 422
    assert (other.get_json()["httpStatusCode"], other.get_json()["message"]) == (422, REUSED)


def test_dhis2_xml_create_retried_returns_the_same_location(api):
    xml = '<message><subject>Hi</subject><text>Text</text><users><user id="bob"/></users></message>'
    headers = {KEY: "xml-1", "Content-Type": "application/xml"}
    first = api.post(MC, user="alice", data=xml, headers=headers)
    again = api.post(MC, user="alice", data=xml, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Location"] == first.headers["Location"]


def test_dhis2_feedback_retried_returns_the_same_ticket(api):
    def feedback(subject: str):
        return api.post(f"{MC}/feedback", user="bob", query_string={"subject": subject}, data="The app crashes",
                        headers={"Content-Type": "text/plain", KEY: "fb-1"})

    first, again = feedback("Crash"), feedback("Crash")
    assert first.status_code == again.status_code == 201
    assert again.headers["Location"] == first.headers["Location"]
    assert len([i for i in items_with("CONV#") if i["SK"] == "CONV"]) == 1
    assert feedback("Another subject").status_code == 422


def test_aalam_send_retried_returns_the_same_alert_and_one_entry_per_receiver(api, stream):
    body = {"message": {"from": "Billing", "app": "acme/billing", "content": "Your invoice is ready",
                        "receiver": [{"type": "users", "value": ["bob@example.org", "carol@example.org"]}]}}
    first = api.request("PUT", "/aalam/base/message", app="acme/billing", json=body, headers={KEY: "alert-1"})
    again = api.request("PUT", "/aalam/base/message", app="acme/billing", json=body, headers={KEY: "alert-1"})

    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json() and first.get_json()["receivers"] == 2
    stream.drain()
    for user in ("bob", "carol"):
        assert [i["id"] for i in api.get("/api/v1/inbox", user=user).get_json()["items"]] == [first.get_json()["id"]]


def test_a_refused_dhis2_create_feedback_alert_or_upload_keeps_no_key(api):
    """As on Ona: a create the handler refuses (not validation) frees its key, so a corrected retry runs."""
    conversation = {"subject": "Stock-out", "text": "We are out of ORS", "users": [{"id": "nobody"}]}
    feedback = {"data": "The app crashes", "headers": {"Content-Type": "text/plain", KEY: "fb-1"}}
    alert = {"from": "Billing", "app": "acme/billing", "content": "Your invoice is ready",
             "receiver": [{"type": "users", "value": ["nobody@example.org"]}]}
    upload = {"filename": "register.txt", "content_type": "text/plain", "size": 28}
    refused = [
        api.post(MC, user="alice", json=conversation, headers={KEY: "conv-1"}),
        api.post(f"{MC}/feedback", user="bob", **feedback),                                  # no subject
        api.request("PUT", "/aalam/base/message", app="acme/billing", json={"message": alert},
                    headers={KEY: "alert-1"}),                                               # reaches nobody
        api.post("/api/v1/attachments", user="alice", json={**upload, "content_type": "application/x-msdownload"},
                 headers={KEY: "up-1"}),
    ]
    assert [r.status_code for r in refused] == [409, 400, 400, 400]
    assert idempotency_records() == []

    reaching_bob = {**alert, "receiver": [{"type": "users", "value": ["bob@example.org"]}]}
    corrected = [
        api.post(MC, user="alice", json={**conversation, "users": [{"id": "bob"}]}, headers={KEY: "conv-1"}),
        api.post(f"{MC}/feedback", user="bob", query_string={"subject": "Crash"}, **feedback),
        api.request("PUT", "/aalam/base/message", app="acme/billing", json={"message": reaching_bob},
                    headers={KEY: "alert-1"}),
        api.post("/api/v1/attachments", user="alice", json=upload, headers={KEY: "up-1"}),
    ]
    assert [r.status_code for r in corrected] == [201, 201, 200, 201]
    assert not any("Idempotent-Replayed" in r.headers for r in corrected)
    assert [r["status"] for r in idempotency_records()] == ["COMPLETED"] * 4


def test_attachment_upload_retried_returns_the_same_id_and_form(api):
    body = {"filename": "register.txt", "content_type": "text/plain", "size": 28}
    first = api.post("/api/v1/attachments", user="alice", json=body, headers={KEY: "up-1"})
    again = api.post("/api/v1/attachments", user="alice", json=body, headers={KEY: "up-1"})

    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert [a["id"] for a in items_with("ATT#")] == [first.get_json()["id"]]
    bigger = api.post("/api/v1/attachments", user="alice", json={**body, "size": 29}, headers={KEY: "up-1"})
    assert (bigger.status_code, bigger.get_json()) == (422, {"detail": REUSED})
