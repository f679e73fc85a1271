"""DHIS2 face: creating conversations (docs/dhis2.md; ported from DHIS2's controller tests).

JSON and dxf2 XML bodies, /api/{version}/ paths, recipient expansion, DHIS2's error order, message types,
bad input, read-your-writes and the DynamoDB request budget.
"""

import math
import re

import pytest
from support.dhis2 import (
    CREATED,
    MC,
    UID,
    XML,
    assert_web_message,
    create,
    get,
    ids,
    listing,
    participants,
    reply,
    uid_of,
)
from support.directory import add_directory

from postbox_local.metering import dynamodb_requests


def test_post_json_object_creates_a_private_conversation(api):
    """DHIS2 testPostJsonObject: create(admin→admin) → 201 ("Created", 201, "OK", "Message conversation created")."""
    response = api.post(MC, user="admin", json={"subject": "Subject", "text": "Text", "users": [{"id": "admin"}]})
    assert_web_message(response, 201, CREATED)
    assert re.fullmatch(rf"https?://[^/]+{MC}/{UID}", response.headers["Location"]), response.headers["Location"]
    conversation = get(api, "admin", uid_of(response))
    assert conversation["messageType"] == "PRIVATE"
    assert (conversation["status"], conversation["priority"]) == ("NONE", "NONE")
    assert conversation["subject"] == conversation["name"] == conversation["displayName"] == "Subject"
    assert conversation["messageCount"] == 1
    assert [row["user"]["id"] for row in conversation["userMessages"]] == ["admin"]   # one row, read
    assert conversation["read"] is True


def test_the_conversation_its_message_and_participants(api):
    uid = create(api, "alice", subject="Stock levels", text="Please count the stock", users=("bob", "erin"))
    assert participants(api, uid) == {"alice": True, "bob": False, "erin": False}
    conversation = get(api, "bob", uid)
    assert conversation["id"] == uid
    assert conversation["createdBy"]["id"] == conversation["lastSender"]["id"] == "alice"
    assert conversation["lastSender"]["name"] == "Alice Achieng"
    assert conversation["lastMessage"] == conversation["messages"][0]["created"]
    [message] = conversation["messages"]
    assert re.fullmatch(UID, message["id"]) and message["id"] != uid
    assert message["text"] == "Please count the stock"
    assert message["sender"]["id"] == "alice" and message["internal"] is False
    assert conversation["assignee"] is None
    # Read-your-writes: every participant's list shows it at once (no stream drained).
    for user in ("alice", "bob", "erin"):
        assert ids(api, user) == [uid], user
    assert ids(api, "dave") == []


def test_the_user_agent_is_recorded_in_the_message_metadata(api):
    response = api.post(MC, user="alice", headers={"User-Agent": "dhis2-messaging/1.0"},
                        json={"subject": "S", "text": "T", "users": [{"id": "bob"}]})
    message = get(api, "bob", uid_of(response))["messages"][0]
    assert message["metaData"] == "User-agent: dhis2-messaging/1.0"


def test_versioned_paths_keep_the_version_in_location(api):
    response = api.post("/api/33/messageConversations", user="alice",
                        json={"subject": "Versioned", "text": "Hi", "users": [{"id": "bob"}]})
    assert_web_message(response, 201, CREATED)
    location = response.headers["Location"]
    assert re.fullmatch(rf"https?://[^/]+/api/33/messageConversations/{UID}", location), location
    uid = location.rsplit("/", 1)[1]
    assert api.get(f"/api/33/messageConversations/{uid}", user="bob").get_json()["subject"] == "Versioned"
    assert [c["id"] for c in api.get("/api/41/messageConversations", user="bob").get_json()[
        "messageConversations"]] == [uid]
    answered = reply(api, "bob", uid, "Thanks", prefix="/api/41/messageConversations")
    assert_web_message(answered, 201, CREATED)
    assert answered.headers["Location"].endswith(f"/api/41/messageConversations/{uid}")
    # The unversioned path has no version in Location.
    plain = reply(api, "bob", uid, "Again")
    assert plain.headers["Location"].endswith(f"/api/messageConversations/{uid}")
    assert "/api/41/" not in plain.headers["Location"]
    # A path segment that is not a two-digit version is no API version.
    for bad in ("/api/v1/messageConversations", "/api/3/messageConversations", "/api/abc/messageConversations"):
        response = api.get(bad, user="bob")
        assert response.status_code == 404, bad


def test_no_recipients_selected(api):
    """DHIS2 testPostJsonObject_MissingProperty: users [] → 409 "No recipients selected."."""
    response = api.post(MC, user="admin", json={"subject": "Subject", "text": "Text", "users": []})
    assert_web_message(response, 409, "No recipients selected.")
    # Lists that are missing altogether, and a group whose only member is inactive, select nobody either.
    add_directory({"groups": [{"id": "retired", "name": "retired"}],
                   "users": [{"id": "frank", "username": "frank", "active": False, "groups": ["retired"]}]})
    for body in ({"subject": "S", "text": "T"}, {"subject": "S", "text": "T", "userGroups": [{"id": "retired"}]}):
        assert_web_message(api.post(MC, user="alice", json=body), 409, "No recipients selected.")
    assert listing(api, "alice")["pager"]["total"] == 0


def test_recipient_errors_come_in_dhis2s_order_and_write_nothing(api):
    body = {"subject": "S", "text": "T", "organisationUnits": [{"id": "OuDistrict1"}, {"id": "OuNowhere01"}],
            "users": [{"id": "bob"}, {"id": "ghost"}], "userGroups": [{"id": "field-team"}, {"id": "no-group"}]}
    assert_web_message(api.post(MC, user="alice", json=body), 409, "Organisation Unit does not exist: OuNowhere01")
    body["organisationUnits"] = [{"id": "OuDistrict1"}]
    assert_web_message(api.post(MC, user="alice", json=body), 409, "User does not exist: ghost")
    body["users"] = [{"id": "bob"}]
    assert_web_message(api.post(MC, user="alice", json=body), 404, "UserGroup with id no-group could not be found.")
    body["userGroups"] = [{"id": "field-team"}]
    assert api.post(MC, user="alice", json=body).status_code == 201
    assert listing(api, "alice")["pager"]["total"] == 1
    assert listing(api, "bob")["pager"]["total"] == 1


def test_ids_of_one_kind_are_not_found_as_another(api):
    cases = [({"users": [{"id": "support"}]}, 409, "User does not exist: support"),
             ({"users": [{"id": "OuDistrict1"}]}, 409, "User does not exist: OuDistrict1"),
             ({"userGroups": [{"id": "bob"}]}, 404, "UserGroup with id bob could not be found."),
             ({"organisationUnits": [{"id": "field-team"}]}, 409, "Organisation Unit does not exist: field-team"),
             ({"users": [{"id": "bo#b"}]}, 409, "User does not exist: bo#b"),
             ({"users": [{"id": "postbox/user/+"}]}, 409, "User does not exist: postbox/user/+")]
    for recipients, status, message in cases:
        assert_web_message(api.post(MC, user="alice", json={"subject": "S", "text": "T", **recipients}),
                           status, message)


def test_recipients_expand_users_groups_and_org_units_by_assignment(api):
    # field-team: alice, bob, erin; support: carol; OuDistrict1: alice, bob (assigned); OuCountry01: carol only —
    # its child OuDistrict1's users are not included (DHIS2 expands direct assignment).
    uid = create(api, "dave", users=("bob",), groups=("field-team",))
    assert participants(api, uid) == {"dave": True, "alice": False, "bob": False, "erin": False}
    uid = create(api, "dave", users=(), units=("OuCountry01",))
    assert participants(api, uid) == {"dave": True, "carol": False}
    uid = create(api, "dave", users=(), units=("OuDistrict1",), groups=("support",))
    assert participants(api, uid) == {"dave": True, "alice": False, "bob": False, "carol": False}
    # The sender is always a participant, read, once — also when a group or list includes them.
    uid = create(api, "alice", users=("alice", "bob"), groups=("field-team",), units=("OuDistrict1",))
    assert participants(api, uid) == {"alice": True, "bob": False, "erin": False}
    # Inactive users are not recipients (frank is inactive).
    uid = create(api, "alice", users=("frank", "bob"))
    assert participants(api, uid) == {"alice": True, "bob": False}


def test_expansion_happens_once_at_send_time(api):
    uid = create(api, "dave", users=(), groups=("support",))
    add_directory({"users": [{"id": "erin", "username": "erin", "name": "Erin Eko", "groups": ["support"]}]})
    assert participants(api, uid) == {"dave": True, "carol": False}


def test_create_from_a_dxf2_xml_message(api):
    """The seed's XML form: <message><subject/><text/><users><user id=""/></users>...</message>."""
    document = ('<?xml version="1.0" encoding="UTF-8"?>'
                '<message xmlns="http://dhis2.org/schema/dxf/2.0">'
                "<subject>Hey</subject><text>How are you?</text>"
                '<users><user id="bob"/></users>'
                '<userGroups><userGroup id="support"/></userGroups>'
                '<organisationUnits><organisationUnit id="OuCountry01"/></organisationUnits>'
                "</message>")
    response = api.post(MC, user="alice", data=document, headers={"Content-Type": "application/xml"})
    assert_web_message(response, 201, CREATED)
    uid = uid_of(response)
    assert participants(api, uid) == {"alice": True, "bob": False, "carol": False}
    assert get(api, "bob", uid)["messages"][0]["text"] == "How are you?"
    # Without the namespace, too; and the answer in XML when asked.
    plain = '<message><subject>S</subject><text>T</text><users><user id="erin"/></users></message>'
    response = api.post(MC, user="alice", data=plain, headers={"Content-Type": "application/xml", **XML})
    assert response.status_code == 201
    assert response.headers["Content-Type"].startswith("application/xml")
    text = response.get_data(as_text=True)
    assert 'xmlns="http://dhis2.org/schema/dxf/2.0"' in text
    assert "<httpStatusCode>201</httpStatusCode>" in text and f"<message>{CREATED}</message>" in text
    # The XML errors follow the same order as JSON.
    unknown = '<message><subject>S</subject><text>T</text><users><user id="ghost"/></users></message>'
    assert_web_message(api.post(MC, user="alice", data=unknown, headers={"Content-Type": "application/xml"}),
                       409, "User does not exist: ghost")


@pytest.mark.parametrize("document", [
    # entity expansion (billion laughs)
    '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    '<message><subject>&b;</subject><text>T</text><users><user id="bob"/></users></message>',
    # an external entity
    '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    '<message><subject>S</subject><text>&x;</text><users><user id="bob"/></users></message>',
    # not XML, not well-formed, another root element
    "subject=S&text=T",
    "<message><subject>S</subject>",
    '<conversation><subject>S</subject><text>T</text><users><user id="bob"/></users></conversation>',
], ids=["entities", "external entity", "not xml", "not well-formed", "wrong root"])
def test_unsafe_or_bad_xml_is_refused_and_writes_nothing(api, document):
    response = api.post(MC, user="alice", data=document, headers={"Content-Type": "application/xml"})
    assert response.status_code == 400, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["httpStatus"], body["status"]) == ("Bad Request", "ERROR") and body["message"]
    assert "root:" not in body["message"]          # nothing of /etc/passwd
    assert listing(api, "bob")["pager"]["total"] == 0


def test_bad_json_bodies_are_400_web_messages(api):
    good = {"subject": "S", "text": "T", "users": [{"id": "bob"}]}
    cases = [{k: v for k, v in good.items() if k != "subject"}, {**good, "subject": "  "},
             {**good, "subject": "x" * 256}, {k: v for k, v in good.items() if k != "text"}, {**good, "text": ""},
             {**good, "text": "x" * 10001}, {**good, "users": "bob"}, {**good, "users": [{"name": "bob"}]},
             {**good, "users": [{"id": ""}]}, ["not", "an", "object"]]
    for body in cases:
        response = api.post(MC, user="alice", json=body)
        assert response.status_code == 400, (body, response.get_json())
        message = response.get_json()
        assert (message["httpStatus"], message["httpStatusCode"], message["status"]) == ("Bad Request", 400, "ERROR")
        assert message["message"], body
    response = api.post(MC, user="alice", data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    # The limits themselves are allowed.
    assert api.post(MC, user="alice", json={**good, "subject": "s" * 255, "text": "t" * 10000}).status_code == 201
    assert listing(api, "bob")["pager"]["total"] == 1


def test_users_create_private_conversations_only(api):
    for extra in ({"messageType": "SYSTEM"}, {"messageType": "VALIDATION_RESULT"}, {"priority": "HIGH"}):
        response = api.post(MC, user="alice", json={"subject": "S", "text": "T", "users": [{"id": "bob"}], **extra})
        assert_web_message(response, 403, "Only applications may create SYSTEM or VALIDATION_RESULT conversations.")
    uid = create(api, "alice", messageType="PRIVATE")
    assert get(api, "bob", uid)["messageType"] == "PRIVATE"
    for extra in ({"messageType": "TICKET"}, {"messageType": "NOPE"}, {"priority": "URGENT"}):
        response = api.post(MC, user="alice", json={"subject": "S", "text": "T", "users": [{"id": "bob"}], **extra})
        assert response.status_code == 400, extra


def test_applications_create_system_and_validation_result_conversations(api):
    system = create(api, "acme/billing", as_app=True, subject="Backup done", text="Nightly backup completed")
    conversation = get(api, "bob", system)
    assert (conversation["messageType"], conversation["status"], conversation["priority"]) == \
        ("SYSTEM", "NONE", "NONE")
    assert conversation["messages"][0]["sender"] is None            # DHIS2: null sender for system messages
    assert [row["user"]["id"] for row in conversation["userMessages"]] == ["bob"]
    assert conversation["read"] is False

    validation = create(api, "acme/billing", as_app=True, subject="Rule violated", text="ANC 1 > ANC 2",
                        users=("bob", "alice"), messageType="VALIDATION_RESULT", priority="HIGH")
    conversation = get(api, "alice", validation)
    assert (conversation["messageType"], conversation["status"], conversation["priority"]) == \
        ("VALIDATION_RESULT", "OPEN", "HIGH")
    assert set(ids(api, "bob")) == {system, validation}
    assert ids(api, "bob", filter="messageType:eq:VALIDATION_RESULT") == [validation]

    response = api.post(MC, app="acme/billing", json={"subject": "S", "text": "T", "users": [{"id": "bob"}],
                                                      "messageType": "PRIVATE"})
    assert_web_message(response, 409, "Applications create SYSTEM or VALIDATION_RESULT conversations.")
    response = api.post(MC, app="nobody/app", json={"subject": "S", "text": "T", "users": [{"id": "bob"}]})
    assert_web_message(response, 403, "Not authorized to send messages.")


def test_inactive_and_unknown_users_may_not_create(api):
    for user, words in (("frank", "This user account is inactive."), ("ghost", "Not authorized to send messages.")):
        response = api.post(MC, user=user, json={"subject": "S", "text": "T", "users": [{"id": "bob"}]})
        assert_web_message(response, 403, words)
    assert listing(api, "bob")["pager"]["total"] == 0


def _org_unit_with_users(count: int, unit: str = "OuBig000001", prefix: str = "user") -> list[str]:
    users = [f"{prefix}{i:04d}" for i in range(count)]
    add_directory({"org_units": [{"id": unit, "name": "Big"}],
                   "users": [{"id": u, "username": u, "org_units": [unit]} for u in users]})
    return users


def test_request_budget_create_and_add_recipients(api):
    """Adding N recipients costs ⌈N/25⌉ TransactWriteItems calls: a participant's row is an inbox entry, written with
    its user's counter update, 25 rows to a transaction (docs/inbox.md#counts); nothing Scans."""
    _org_unit_with_users(60)
    with dynamodb_requests() as calls:
        uid = create(api, "alice", users=(), units=("OuBig000001",))
    # header + first message in one BatchWriteItem; 60 recipients + the sender's row: 61 counted participant rows
    assert (calls["BatchWriteItem"], calls["TransactWriteItems"]) == (1, math.ceil(61 / 25)), calls
    assert "Scan" not in calls and sum(calls.values()) <= 10, calls
    assert len(participants(api, uid)) == 61

    more = _org_unit_with_users(30, unit="OuBig000002", prefix="more")
    with dynamodb_requests() as calls:
        response = api.post(f"{MC}/{uid}/recipients", user="alice",
                            json={"organisationUnits": [{"id": "OuBig000002"}], "users": [{"id": "user0001"}]})
    assert response.status_code == 204
    assert calls["TransactWriteItems"] == math.ceil(len(more) / 25), calls   # user0001 is already a participant
    assert "BatchWriteItem" not in calls, calls
    assert "Scan" not in calls and sum(calls.values()) <= 12, calls
    assert len(participants(api, uid)) == 91
