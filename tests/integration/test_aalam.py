"""The Aalam alerts face (docs/aalam.md), through the gateway and the stream, observed over HTTP, MQTT (moto's
recorded iot-data publishes) and the table: sending, receivers, templates, listing, read and edit, delete,
preferences, notify-only alerts and the app's callback secret."""

import json

import pytest

APP = "acme/billing"
OTHER_APP = "globex/crm"
SEND = "/aalam/base/message"
LIST = "/aalam/base/messages"
PREFERENCE = "/aalam/base/messages/preference"
NOT_FOUND = {"detail": "Not found."}
NO_INBOX = {"detail": "Applications have no inbox."}
ALERT_FIELDS = {"id", "from", "frontend_url", "content", "private_data", "isread", "time"}


def message(**fields) -> dict:
    """An alert body: Billing to bob by email, unless fields say otherwise (None removes a field)."""
    base = {"from": "Billing", "app": APP, "receiver": [{"type": "users", "value": ["bob@example.org"]}],
            "content": "Your invoice is ready"}
    base.update(fields)
    return {"message": {k: v for k, v in base.items() if v is not None}}


def send(api, body: dict, app: str = APP):
    return api.request("PUT", SEND, app=app, json=body)


def sent(api, stream, app: str = APP, **fields) -> dict:
    response = send(api, message(**fields), app)
    assert response.status_code == 200, response.get_json()
    stream.drain()
    return response.get_json()


def alerts(api, user: str = "bob", **query) -> list[dict]:
    response = api.get(LIST, user=user, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def inbox(api, user: str = "bob") -> list[dict]:
    response = api.get("/api/v1/inbox", user=user)
    if response.status_code == 403:  # an inactive user is locked out: what the table holds for them
        from postbox.dal import feed
        from postbox.dal import inbox as store
        from postbox.logic.inbox import render_entry

        return [render_entry(item) for item in feed.fetch(store.feed_query(user, archived=False, kind=None),
                                                           limit=100).items]
    return response.get_json()["items"]


def inbox_events(published, user: str = "bob") -> list[tuple[str, str]]:
    return [(p["event"], p["entry"]["id"]) for _, p in published(f"postbox/user/{user}/inbox")]


def receivers_of(api, stream, **fields) -> list[str]:
    """Who holds an inbox entry for an alert sent with these fields."""
    alert = sent(api, stream, **fields)
    return sorted(owner for owner in ("alice", "bob", "carol", "dave", "erin", "admin", "frank", "root")
                  if any(item["id"] == alert["id"] for item in inbox(api, owner)))


def table_items(prefix: str) -> list[dict]:
    from postbox.dal import table

    pages = table.client().get_paginator("scan").paginate(
        TableName=table.table_name(), FilterExpression="begins_with(PK, :p)",
        ExpressionAttributeValues={":p": {"S": prefix}})
    return [table.deserialize(item) for page in pages for item in page["Items"]]


def load(document: dict) -> None:
    from postbox.logic.directory import parse_document, upsert

    upsert(parse_document(document))


def bad(response, field: str) -> None:
    body = response.get_json()
    assert response.status_code == 400, body
    assert body["field"] == field, body
    assert body["detail"].startswith(f"{field}: "), body


# -- sending -------------------------------------------------------------------------------------------------


def test_an_app_sends_an_alert_that_reaches_the_inbox_the_list_and_mqtt(api, stream, published):
    response = send(api, message(frontend_url="https://acme.example/invoices?tab=due", private_data="inv-7"))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"id", "receivers", "unknown"}
    assert (body["receivers"], body["unknown"]) == (1, [])
    assert inbox(api) == []  # the fan-out has not run yet
    stream.drain()

    [alert] = alerts(api)
    assert alert == {
        "id": body["id"], "from": "Billing",
        "frontend_url": f"https://acme.example/invoices?tab=due&message_id={body['id']}&private_data=inv-7",
        "content": "Your invoice is ready", "private_data": "inv-7", "isread": False, "time": alert["time"]}
    [entry] = inbox(api)
    assert (entry["id"], entry["kind"], entry["from"], entry["text"], entry["read"]) == (
        body["id"], "alert", "Billing", "Your invoice is ready", False)
    assert entry["created_at"] == alert["time"]  # ISO-8601 by default
    assert inbox_events(published) == [("created", body["id"])]
    assert api.get("/api/v1/inbox", user="bob", query_string={"kind": "alert"}).get_json()["items"] == [entry]
    assert alerts(api, "alice") == [] and inbox_events(published, "alice") == []


def test_users_by_email_and_phone(api, stream):
    assert receivers_of(api, stream, receiver=[{"type": "users", "value": ["BOB@Example.org", "+15550000001"]}]) == [
        "alice", "bob"]


def test_groups_by_id_and_by_name(api, stream):
    load({"groups": [{"id": "night-shift", "name": "Night shift"}],
          "users": [{"id": "dave", "username": "dave", "email": "dave@example.org", "groups": ["night-shift"]}]})
    assert receivers_of(api, stream, receiver=[{"type": "groups", "value": ["field-team"]}]) == [
        "alice", "bob", "erin"]
    assert receivers_of(api, stream, receiver=[{"type": "groups", "value": ["Night shift"]}]) == ["dave"]


def test_permissions_reach_holders_of_the_authority_and_of_all_but_not_superusers_by_the_flag(api, stream):
    # alice and carol hold F_MANAGE_TICKETS; admin holds ALL; root is a superuser holding no authority
    load({"users": [{"id": "root", "username": "root", "email": "root@example.org", "superuser": True}]})
    assert receivers_of(api, stream, receiver=[{"type": "permissions", "value": ["F_MANAGE_TICKETS"]}]) == [
        "admin", "alice", "carol"]


def test_the_same_name_as_a_group_and_as_an_authority_are_two_receivers(api, stream):
    load({"groups": [{"id": "F_MANAGE_TICKETS", "name": "F_MANAGE_TICKETS"}],
          "users": [{"id": "dave", "username": "dave", "email": "dave@example.org", "groups": ["F_MANAGE_TICKETS"]}]})
    body = sent(api, stream, receiver=[{"type": "groups", "value": ["F_MANAGE_TICKETS", "support"]},
                                       {"type": "permissions", "value": ["support", "F_MANAGE_TICKETS"]}])
    assert (body["receivers"], body["unknown"]) == (4, ["support"])  # dave; carol; alice carol admin; no authority


def test_receivers_are_expanded_and_counted_once(api, stream):
    body = sent(api, stream, receiver=[{"type": "users", "value": ["bob@example.org", "+15550000002"]},
                                       {"type": "groups", "value": ["field-team", "field-team"]},
                                       {"type": "permissions", "value": ["F_MANAGE_TICKETS"]}])
    assert (body["receivers"], body["unknown"]) == (5, [])  # alice bob erin carol admin
    assert [item["id"] for item in inbox(api)] == [body["id"]]


def test_unknown_receivers_are_skipped_and_listed(api, stream):
    load({"users": [{"id": "frank", "username": "frank", "email": "frank@example.org", "active": False}]})
    body = sent(api, stream, receiver=[
        {"type": "users", "value": ["bob@example.org", "nobody@example.org", "+19999999999", "not a user",
                                    "frank@example.org"]},
        {"type": "groups", "value": ["no-such-group", "No such name"]},
        {"type": "permissions", "value": ["F_NOBODY_HAS_IT", "bad authority!"]}])
    assert body["receivers"] == 1
    assert sorted(body["unknown"]) == sorted(["nobody@example.org", "+19999999999", "not a user", "frank@example.org",
                                              "no-such-group", "No such name", "F_NOBODY_HAS_IT", "bad authority!"])
    assert [a["id"] for a in alerts(api)] == [body["id"]]
    assert inbox(api, "frank") == []


def test_nobody_left_is_a_400_and_stores_nothing(api, stream, published):
    response = send(api, message(receiver=[{"type": "users", "value": ["nobody@example.org"]},
                                           {"type": "groups", "value": ["ghosts"]}]))
    bad(response, "message.receiver")
    assert response.get_json()["unknown"] == ["nobody@example.org", "ghosts"]
    stream.drain()
    assert table_items("ALERT#") == [] and published() == []


def test_template_substitution(api, stream):
    body = sent(api, stream, index="invoice_due", content={"number": "INV-7", "date": "1 December"})
    [alert] = alerts(api)
    assert alert["content"] == "Invoice INV-7 is due on 1 December"
    assert inbox(api)[0]["text"] == "Invoice INV-7 is due on 1 December"
    assert alert["id"] == body["id"]


def test_template_values_may_be_numbers_and_booleans_and_braces_escape(api, stream):
    load({"apps": [{"provider_code": "acme", "app_code": "billing", "client_id": APP,
                    "message_map": {"invoice_due": "Invoice {number} is due on {date}",
                                    "literal": "{{number}} is {number}, paid: {paid}", "plain": "No keys here"},
                    "msg_groups": ["reminders"]}]})
    sent(api, stream, index="literal", content={"number": 7, "paid": False, "unused": "ignored"})
    sent(api, stream, index="plain", content=None)
    assert [a["content"] for a in alerts(api)] == ["No keys here", "{number} is 7, paid: false"]


@pytest.mark.parametrize(("fields", "field", "text"), [
    ({"content": {"number": "INV-7"}}, "message.content.date", "missing key 'date'"),
    ({"content": {}}, "message.content.number", "missing key 'number', 'date'"),
    ({"content": "INV-7"}, "message.content", "JSON object"),
    ({"content": None}, "message.content", "JSON object"),
    ({"content": {"number": ["INV-7"], "date": "x"}}, "message.content.number", "string, a number or a boolean"),
    ({"index": "no_such_index", "content": {}}, "message.index", "not in the message map"),
])
def test_template_errors_name_the_field(api, stream, fields, field, text):
    response = send(api, message(**{"index": "invoice_due", **fields}))
    bad(response, field)
    assert text in response.get_json()["detail"]
    stream.drain()
    assert table_items("ALERT#") == []


def test_without_index_content_is_mandatory_and_kept_as_given(api, stream):
    bad(send(api, message(content=None)), "message.content")
    bad(send(api, message(content="  ")), "message.content")
    sent(api, stream, content={"amount": 12, "items": ["a", "b"]})
    assert alerts(api)[0]["content"] == {"amount": 12, "items": ["a", "b"]}
    assert json.loads(inbox(api)[0]["text"]) == {"amount": 12, "items": ["a", "b"]}


def test_msg_group_must_be_one_of_the_apps(api, stream):
    bad(send(api, message(msg_group="newsletters")), "message.msg_group")
    assert sent(api, stream, msg_group="reminders")["receivers"] == 1


def test_only_an_application_sends_and_only_as_itself(api, stream):
    load({"apps": [{"provider_code": "globex", "app_code": "crm", "client_id": OTHER_APP}]})
    bad(send(api, message(app=OTHER_APP)), "message.app")
    user = api.request("PUT", SEND, user="alice", json=message())
    assert (user.status_code, user.get_json()) == (403, {"detail": "Only applications may send or edit alerts."})
    stranger = send(api, message(app="nobody/app"), app="nobody/app")
    assert (stranger.status_code, stranger.get_json()) == (403, {"detail": "Unknown application."})
    response = send(api, message(app=OTHER_APP), app=OTHER_APP)
    assert (response.status_code, response.get_json()["receivers"]) == (200, 1)
    stream.drain()
    assert table_items("ALERT#")[0]["app_id"] == OTHER_APP


@pytest.mark.parametrize(("body", "field"), [
    (message(**{"from": None}), "message.from"),
    (message(**{"from": "   "}), "message.from"),
    (message(**{"from": "x" * 256}), "message.from"),
    (message(app=None), "message.app"),
    (message(app="acme"), "message.app"),
    (message(app="acme/bill/ing"), "message.app"),
    (message(receiver=None), "message.receiver"),
    (message(receiver=[]), "message.receiver"),
    (message(receiver="bob@example.org"), "message.receiver"),
    (message(receiver=[{"type": "people", "value": ["bob@example.org"]}]), "message.receiver[0].type"),
    (message(receiver=[{"type": "users", "value": []}]), "message.receiver[0].value"),
    (message(receiver=[{"type": "users", "value": "bob@example.org"}]), "message.receiver[0].value"),
    (message(receiver=[{"type": "users"}]), "message.receiver[0].value"),
    (message(receiver=[{"type": "users", "value": ["bob@example.org"], "extra": 1}]), "message.receiver[0].extra"),
    (message(index=7), "message.index"),
    (message(msg_group="a/b"), "message.msg_group"),
    (message(private_data="x" * 1025), "message.private_data"),
    (message(private_data=12), "message.private_data"),
    (message(persist="maybe"), "message.persist"),
    (message(frontend_url="javascript:alert(1)"), "message.frontend_url"),
    (message(frontend_url="/relative/path"), "message.frontend_url"),
    (message(backend_url="http://hooks.acme.example/cb"), "message.backend_url"),
    (message(content="x" * 10001), "message.content"),
    (message(colour="red"), "message.colour"),
    ({**message(), "extra": True}, "extra"),
    ({}, "message"),
    ({"message": "hello"}, "message"),
    ([message()], "body"),
])
def test_every_wrong_field_is_a_400_naming_it(api, stream, dns, body, field):
    response = api.request("PUT", SEND, app=APP, json=body)
    bad(response, field)
    stream.drain()
    assert table_items("ALERT#") == []


def test_a_body_that_is_not_json_is_a_400(api):
    response = api.request("PUT", SEND, app=APP, data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["field"] == "body"


# -- backend_url: SSRF at send time ------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "https://10.0.0.5/cb", "https://10.255.255.255/cb", "https://172.16.3.4/cb", "https://172.31.0.1/cb",
    "https://192.168.1.1/cb", "https://127.0.0.1/cb", "https://127.8.9.10/cb", "https://[::1]/cb",
    "https://169.254.169.254/latest/meta-data/", "https://[fe80::1]/cb", "https://[::ffff:10.0.0.1]/cb",
    "https://[::ffff:169.254.169.254]/cb", "https://0.0.0.0/cb", "https://100.64.0.1/cb", "https://224.0.0.1/cb",
    "https://localhost/cb", "https://metadata.internal.example/cb", "https://rebind.example/cb",
    "http://hooks.acme.example/cb", "ftp://hooks.acme.example/cb", "https://user:pw@hooks.acme.example/cb",
    "https://unresolvable.example/cb", "https://hooks.acme.example:99999/cb",
])
def test_callback_urls_to_non_public_hosts_or_without_https_are_refused(api, stream, dns, url):
    dns.update({"localhost": ["127.0.0.1", "::1"], "metadata.internal.example": ["169.254.169.254"],
                     "rebind.example": ["93.184.216.34", "10.0.0.7"]})
    response = send(api, message(backend_url=url))
    bad(response, "message.backend_url")
    stream.drain()
    assert table_items("ALERT#") == []


def test_loopback_http_is_refused_unless_the_local_setting_allows_it(api, stream, dns, settings):
    bad(send(api, message(backend_url="http://127.0.0.1:8080/cb")), "message.backend_url")
    settings(CALLBACK_ALLOW_LOOPBACK_HTTP="true")
    assert send(api, message(backend_url="http://127.0.0.1:8080/cb")).status_code == 200
    assert send(api, message(backend_url="http://[::1]:8080/cb")).status_code == 200
    # a name is never trusted: only the literal loopback address, and no other private range
    dns["localhost"] = ["127.0.0.1"]
    bad(send(api, message(backend_url="http://localhost:8080/cb")), "message.backend_url")
    bad(send(api, message(backend_url="http://10.0.0.5:8080/cb")), "message.backend_url")


def test_a_public_https_callback_url_is_accepted(api, stream, dns):
    assert send(api, message(backend_url="https://hooks.acme.example/alerts?k=1")).status_code == 200


# -- notify-only alerts --------------------------------------------------------------------------------------


def test_a_notify_only_alert_reaches_mqtt_and_never_storage(api, stream, published):
    response = send(api, message(persist=False, frontend_url="https://acme.example/x", private_data="p1",
                                 receiver=[{"type": "users", "value": ["bob@example.org", "+15550000001"]}]))
    assert response.status_code == 200
    body = response.get_json()
    assert body["receivers"] == 2
    chunks = table_items("ALERT#")
    assert [(c["SK"], c["transient"], sorted(c["users"])) for c in chunks] == [("RCPT#0000", True, ["alice", "bob"])]
    assert chunks[0]["expires_at"] > 0  # a TTL backs up the publisher's delete
    stream.drain()

    for user in ("bob", "alice"):
        [(_, payload)] = published(f"postbox/user/{user}/inbox")
        assert payload["event"] == "created" and payload["transient"] is True
        assert payload["entry"]["id"] == body["id"] and payload["entry"]["kind"] == "alert"
        assert payload["alert"] == {"id": body["id"], "from": "Billing",
                                    "frontend_url": f"https://acme.example/x?message_id={body['id']}&private_data=p1",
                                    "content": "Your invoice is ready", "private_data": "p1", "isread": False,
                                    "time": payload["entry"]["created_at"]}
        assert alerts(api, user) == [] and inbox(api, user) == []
    assert table_items("ALERT#") == []
    assert not [i for i in table_items("USER#") if i["SK"].startswith("IN#")]
    not_listed = api.post(f"{SEND}/{body['id']}", user="bob", query_string={"read": "true"})
    assert (not_listed.status_code, not_listed.get_json()) == (404, NOT_FOUND)


def test_content_with_fractions_is_kept_whether_stored_or_notify_only(api, stream, published):
    content = {"amount": 12.5, "rate": 0.075, "nested": {"x": [1.5, None, True]}}
    sent(api, stream, content=content)
    sent(api, stream, content=content, persist=False)
    assert alerts(api)[0]["content"] == content
    assert published("postbox/user/bob/inbox")[-1][1]["alert"]["content"] == content


# -- listing -------------------------------------------------------------------------------------------------


def test_the_list_is_newest_first_bounded_by_count_and_date_floor(api, stream):
    from postbox.timefmt import iso, parse_iso

    ids = [sent(api, stream, content=f"alert {n}")["id"] for n in range(4)]
    listed = alerts(api)
    assert [a["id"] for a in listed] == ids[::-1]
    assert [a["content"] for a in alerts(api, count=2)] == ["alert 3", "alert 2"]
    assert len(alerts(api, count=1000)) == 4
    floor = listed[2]["time"]  # strictly after: alerts 2 and 3
    assert [a["content"] for a in alerts(api, date_floor=floor)] == ["alert 3", "alert 2"]
    assert alerts(api, date_floor=listed[0]["time"]) == []
    earlier = iso(parse_iso(listed[3]["time"]).replace(microsecond=0))
    assert len(alerts(api, date_floor=earlier)) == 4
    assert len(alerts(api, date_floor="2000-01-01")) == 4


@pytest.mark.parametrize(("query", "field"), [
    ({"count": "0"}, "count"), ({"count": "1001"}, "count"), ({"count": "many"}, "count"),
    ({"date_floor": "yesterday"}, "date_floor"), ({"date_floor": "2026-13-40"}, "date_floor"),
])
def test_wrong_list_parameters_are_400s_naming_them(api, query, field):
    bad(api.get(LIST, user="bob", query_string=query), field)


def test_the_date_format_setting_shapes_time_and_date_floor(api, stream, settings):
    settings(AALAM_DATE_FORMAT="%d-%m-%Y %H:%M:%S")
    old = sent(api, stream, content="old")
    from postbox.dal import alerts as store
    from postbox.dal import keys, table

    table.update(keys.alert_key(old["id"]), "SET created_at = :t", values={":t": "2026-01-02T03:04:05.000000Z"})
    [listed] = [a for a in alerts(api) if a["id"] == old["id"]]
    assert listed["time"] == "02-01-2026 03:04:05"
    assert store.get_alert(old["id"])["created_at"].startswith("2026-01-02")
    bad(api.get(LIST, user="bob", query_string={"date_floor": "2026-01-02T03:04:05Z"}), "date_floor")
    assert api.get(LIST, user="bob", query_string={"date_floor": "01-01-2026 00:00:00"}).status_code == 200


def test_bad_date_format_settings_stop_the_start():
    from pydantic import ValidationError

    from postbox.settings import AalamSettings

    assert AalamSettings(AALAM_DATE_FORMAT="%Y/%m/%d").AALAM_DATE_FORMAT == "%Y/%m/%d"
    for bad_format in ("dd-mm-yyyy", "%Q"):
        with pytest.raises(ValidationError, match="AALAM_DATE_FORMAT"):
            AalamSettings(AALAM_DATE_FORMAT=bad_format)


def test_applications_have_no_alert_list(api):
    response = api.get(LIST, app=APP)
    assert (response.status_code, response.get_json()) == (403, NO_INBOX)


# -- read state ----------------------------------------------------------------------------------------------


def test_a_user_marks_an_alert_read_and_unread_with_the_inbox_sharing_the_state(api, stream, published):
    alert = sent(api, stream)
    read = api.post(f"{SEND}/{alert['id']}", user="bob", query_string={"read": "true"})
    assert (read.status_code, read.get_json()) == (200, {"id": alert["id"], "isread": True})
    assert alerts(api)[0]["isread"] is True and inbox(api)[0]["read"] is True
    assert api.get("/api/v1/inbox/counts", user="bob").get_json() == {"unread": 0, "total": 1}
    stream.drain()
    assert inbox_events(published) == [("created", alert["id"]), ("read", alert["id"])]

    unread = api.post(f"{SEND}/{alert['id']}", user="bob", query_string={"read": "false"})
    assert unread.get_json() == {"id": alert["id"], "isread": False}
    assert alerts(api)[0]["isread"] is False and inbox(api)[0]["read"] is False
    # and the other way round: the native inbox's read is Aalam's isread
    assert api.post("/api/v1/inbox/read", user="bob", json={"ids": [alert["id"]]}).get_json() == {
        "markedRead": [alert["id"]]}
    assert alerts(api)[0]["isread"] is True


def test_read_is_per_receiver(api, stream):
    alert = sent(api, stream, receiver=[{"type": "groups", "value": ["field-team"]}])
    api.post(f"{SEND}/{alert['id']}", user="bob", query_string={"read": "true"})
    assert alerts(api, "bob")[0]["isread"] is True
    assert alerts(api, "alice")[0]["isread"] is False


def test_user_action_errors(api, stream):
    alert = sent(api, stream)
    path = f"{SEND}/{alert['id']}"
    for name in ("private_data", "from", "content"):
        bad(api.post(path, user="bob", query_string={name: "x"}), name)
    bad(api.post(path, user="bob"), "read")
    bad(api.post(path, user="bob", query_string={"read": "maybe"}), "read")
    for user, target in (("dave", alert["id"]), ("bob", "01ARZ3NDEKTSV4RRFFQ69G5FAV"), ("bob", "not-an-id"),
                         ("bob", "x" * 2000)):
        response = api.post(f"{SEND}/{target}", user=user, query_string={"read": "true"})
        assert (response.status_code, response.get_json()) == (404, NOT_FOUND), (user, target)
    assert alerts(api)[0]["isread"] is False


def test_the_aalam_paths_reach_alerts_only(api, stream):
    """An Ona message in bob's inbox is not an alert: /aalam/base/message/{id} does not see it."""
    message_id = api.post("/api/v1/messaging", user="alice",
                          json={"target_type": "user", "target_id": "bob", "message": "hi"}).get_json()["id"]
    stream.drain()
    for response in (api.post(f"{SEND}/{message_id}", user="bob", query_string={"read": "true"}),
                     api.delete(f"{SEND}/{message_id}", user="bob")):
        assert (response.status_code, response.get_json()) == (404, NOT_FOUND)
    assert [(i["id"], i["read"]) for i in inbox(api)] == [(message_id, False)]


# -- the sending app edits -----------------------------------------------------------------------------------


def test_the_sending_app_edits_its_alert_for_every_receiver(api, stream, published):
    alert = sent(api, stream, private_data="v1", frontend_url="https://acme.example/a",
                 receiver=[{"type": "users", "value": ["bob@example.org", "alice@example.org"]}])
    api.post(f"{SEND}/{alert['id']}", user="bob", query_string={"read": "true"})
    response = api.post(f"{SEND}/{alert['id']}", app=APP,
                        query_string={"private_data": "v2", "from": "Accounts", "content": "Paid, thank you"})
    assert (response.status_code, response.get_json()) == (200, {
        "id": alert["id"], "from": "Accounts", "content": "Paid, thank you", "private_data": "v2"})
    for user in ("bob", "alice"):  # read-your-writes in the Aalam list
        [listed] = alerts(api, user)
        assert (listed["from"], listed["content"], listed["private_data"]) == ("Accounts", "Paid, thank you", "v2")
        assert listed["frontend_url"].endswith("private_data=v2")
    assert alerts(api, "bob")[0]["isread"] is True  # an edit keeps read state
    stream.drain()
    for user in ("bob", "alice"):
        [entry] = inbox(api, user)
        assert (entry["from"], entry["text"]) == ("Accounts", "Paid, thank you")
        assert ("updated", alert["id"]) in inbox_events(published, user)
    assert inbox(api, "bob")[0]["read"] is True


def test_private_data_alone_changes_no_inbox_entry(api, stream, published):
    alert = sent(api, stream)
    assert api.post(f"{SEND}/{alert['id']}", app=APP, query_string={"private_data": "v2"}).status_code == 200
    stream.drain()
    assert inbox_events(published) == [("created", alert["id"])]
    assert alerts(api)[0]["private_data"] == "v2"


def test_editing_a_templated_alert_renders_its_template_again(api, stream):
    alert = sent(api, stream, index="invoice_due", content={"number": "1", "date": "Monday"})
    path = f"{SEND}/{alert['id']}"
    edited = api.post(path, app=APP, query_string={"content": json.dumps({"number": "1", "date": "Friday"})})
    assert edited.get_json()["content"] == "Invoice 1 is due on Friday"
    bad(api.post(path, app=APP, query_string={"content": "not json"}), "content")
    bad(api.post(path, app=APP, query_string={"content": json.dumps({"number": "1"})}), "content.date")
    stream.drain()
    assert inbox(api)[0]["text"] == "Invoice 1 is due on Friday"


def test_app_edit_errors(api, stream):
    load({"apps": [{"provider_code": "globex", "app_code": "crm", "client_id": OTHER_APP}]})
    alert = sent(api, stream)
    path = f"{SEND}/{alert['id']}"
    bad(api.post(path, app=APP, query_string={"read": "true"}), "read")
    bad(api.post(path, app=APP), "content")
    bad(api.post(path, app=APP, query_string={"from": " "}), "from")
    bad(api.post(path, app=APP, query_string={"private_data": "x" * 1025}), "private_data")
    bad(api.post(path, app=APP, query_string={"content": "x" * 10001}), "content")
    for app, target in ((OTHER_APP, alert["id"]), (APP, "01ARZ3NDEKTSV4RRFFQ69G5FAV"), (APP, "nope")):
        response = api.post(f"{SEND}/{target}", app=app, query_string={"from": "Intruder"})
        assert (response.status_code, response.get_json()) == (404, NOT_FOUND)
    stranger = api.post(path, app="nobody/app", query_string={"from": "x"})
    assert stranger.status_code == 403
    assert alerts(api)[0]["from"] == "Billing"


# -- delete ---------------------------------------------------------------------------------------------------


def test_a_user_deletes_their_own_copy_only(api, stream, published):
    alert = sent(api, stream, receiver=[{"type": "users", "value": ["bob@example.org", "alice@example.org"]}])
    path = f"{SEND}/{alert['id']}"
    for caller in ("dave", "carol"):
        response = api.delete(path, user=caller)
        assert (response.status_code, response.get_json()) == (404, NOT_FOUND)
    assert (api.delete(path, app=APP).status_code, api.delete(path, app=APP).get_json()) == (403, NO_INBOX)
    deleted = api.delete(path, user="bob")
    assert (deleted.status_code, deleted.get_json()) == (200, {"id": alert["id"]})
    again = api.delete(path, user="bob")
    assert (again.status_code, again.get_json()) == (404, NOT_FOUND)
    assert alerts(api, "bob") == [] and inbox(api, "bob") == []
    assert [a["id"] for a in alerts(api, "alice")] == [alert["id"]]
    stream.drain()
    assert inbox_events(published, "bob") == [("created", alert["id"]), ("deleted", alert["id"])]


# -- preferences ---------------------------------------------------------------------------------------------


def prefer(api, user: str = "bob", **query):
    return api.post(PREFERENCE, user=user, query_string=query)


def test_unfollowing_an_app_stops_its_ungrouped_alerts(api, stream):
    field_team = [{"type": "groups", "value": ["field-team"]}]
    response = prefer(api, provider_code="acme", app_code="billing", unfollow="true")
    assert (response.status_code, response.get_json()) == (200, {
        "provider_code": "acme", "app_code": "billing", "msg_group": None, "unfollow": True})
    assert receivers_of(api, stream, receiver=field_team) == ["alice", "erin"]
    # its grouped alerts still arrive
    assert receivers_of(api, stream, receiver=field_team, msg_group="reminders") == ["alice", "bob", "erin"]
    assert prefer(api, provider_code="acme", app_code="billing", unfollow="false").status_code == 200
    assert receivers_of(api, stream, receiver=field_team) == ["alice", "bob", "erin"]


def test_unfollowing_a_message_group(api, stream):
    field_team = [{"type": "groups", "value": ["field-team"]}]
    assert prefer(api, provider_code="acme", app_code="billing", msg_group="reminders",
                  unfollow="true").get_json()["msg_group"] == "reminders"
    assert receivers_of(api, stream, receiver=field_team, msg_group="reminders") == ["alice", "erin"]
    assert receivers_of(api, stream, receiver=field_team) == ["alice", "bob", "erin"]


def test_unfollowing_is_idempotent_and_an_alert_to_unfollowers_only_is_refused(api, stream, published):
    for _ in range(2):
        assert prefer(api, provider_code="acme", app_code="billing", unfollow="true").status_code == 200
    response = send(api, message())
    bad(response, "message.receiver")
    assert response.get_json()["unknown"] == []  # bob is known; he unfollowed
    stream.drain()
    assert published() == []


@pytest.mark.parametrize(("query", "status", "field"), [
    ({"app_code": "billing", "unfollow": "true"}, 400, "provider_code"),
    ({"provider_code": "acme", "unfollow": "true"}, 400, "app_code"),
    ({"provider_code": "acme", "app_code": "billing"}, 400, "unfollow"),
    ({"provider_code": "acme", "app_code": "billing", "unfollow": "sometimes"}, 400, "unfollow"),
    ({"provider_code": "acme", "app_code": "payroll", "unfollow": "true"}, 404, None),
    ({"provider_code": "ac/me", "app_code": "billing", "unfollow": "true"}, 404, None),
    ({"provider_code": "acme", "app_code": "billing", "msg_group": "newsletters", "unfollow": "true"}, 404, None),
])
def test_preference_errors(api, stream, query, status, field):
    response = prefer(api, **query)
    assert response.status_code == status, response.get_json()
    if field:
        bad(response, field)
    else:
        assert "not found" in response.get_json()["detail"]
    assert receivers_of(api, stream) == ["bob"]


def test_applications_have_no_preferences(api):
    response = api.post(PREFERENCE, app=APP, query_string={"provider_code": "acme", "app_code": "billing",
                                                           "unfollow": "true"})
    assert (response.status_code, response.get_json()) == (403, NO_INBOX)


# -- the app's callback secret ----------------------------------------------------------------------------


def test_an_app_reads_its_own_callback_secret_and_nobody_else_can(api):
    from postbox.dal import keys, table

    response = api.get("/api/v1/app/callback-secret", app=APP)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    stored = table.get(keys.directory_key("app", APP))["secret"]
    assert response.get_json() == {"app": APP, "client_id": APP, "secret": stored, "algorithm": "HMAC-SHA256",
                                   "header": "X-Postbox-Signature"}
    for who in ({"user": "admin"}, {"user": "alice"}, {"app": "nobody/app"}):
        refused = api.get("/api/v1/app/callback-secret", **who)
        assert refused.status_code == 403 and stored not in refused.get_data(as_text=True)


# -- cost ------------------------------------------------------------------------------------------------------


def test_request_costs(api, stream):
    from postbox_local.metering import dynamodb_requests

    with dynamodb_requests() as calls:
        alert = send(api, message(receiver=[{"type": "users", "value": ["bob@example.org", "+15550000001"]}]))
    # the app; the lookups with the member counters; the users with their preferences; the alert and its chunk
    assert calls == {"BatchGetItem": 3, "TransactWriteItems": 1}
    stream.drain()
    alert_id = alert.get_json()["id"]
    with dynamodb_requests() as calls:
        alerts(api)
    assert calls == {"Query": 1, "BatchGetItem": 1}  # the caller's entry (inactive check) rides with the entries'
    # A write first: the caller's entry is read on its own before it (docs/architecture.md#permissions).
    with dynamodb_requests() as calls:
        api.post(f"{SEND}/{alert_id}", user="bob", query_string={"read": "true"})
    assert calls == {"BatchGetItem": 1, "TransactWriteItems": 1}  # the entry and its counter (docs/inbox.md#counts)
    with dynamodb_requests() as calls:
        api.delete(f"{SEND}/{alert_id}", user="bob")
    assert calls == {"BatchGetItem": 1, "TransactWriteItems": 1}  # the caller's entry rides with the entry's read
