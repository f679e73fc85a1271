"""POST /api/v1/messaging (docs/ona.md; ported from Ona's test suite).

Ona test 12 (a user needs auth.change_user to message even themselves) does not carry over: docs/ona.md lets any
active user message any user. Anonymous requests (test 11) are in test_ona_get_delete.py, for every route.
"""

import json
import re

MESSAGING = "/api/v1/messaging"
ULID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
FIELDS = ["id", "verb", "message", "user", "target_id", "target_type", "timestamp"]
SYSTEM_VERBS = [
    "submission_created", "submission_edited", "submission_deleted", "submission_reviewed", "form_updated",
    "export_created", "export_downloaded", "profile_updated", "kmskey_rotated", "entitylist_imported",
    "entitylist_deleted",
]


def stored_messages() -> list[dict]:
    """Every message item in the table (the test reads storage directly to prove nothing was written)."""
    from postbox.dal import table

    pages = table.client().get_paginator("scan").paginate(
        TableName=table.table_name(), FilterExpression="begins_with(PK, :msg)",
        ExpressionAttributeValues={":msg": {"S": "MSG#"}})
    return [table.deserialize(raw) for page in pages for raw in page["Items"]]


def forbidden(name: str) -> dict:
    return {"detail": f"You do not have permission to add messages to target_id {name}."}


def test_create_message_to_self(api):
    """Ona test 1 (_create_message): a user posts to their own user target."""
    response = api.post(MESSAGING, user="alice",
                        json={"message": "Hello World!", "target_id": "alice", "target_type": "user"})

    assert response.status_code == 201
    body = response.get_json()
    assert list(body) == FIELDS
    assert ULID.fullmatch(body["id"])
    assert TIMESTAMP.fullmatch(body["timestamp"])
    assert body == {"id": body["id"], "verb": "message", "message": "Hello World!", "user": "alice",
                    "target_id": "alice", "target_type": "user", "timestamp": body["timestamp"]}
    assert "Location" not in response.headers
    [item] = stored_messages()
    assert (item["id"], item["message"], item["user"], item["timestamp"]) == (
        body["id"], "Hello World!", "alice", body["timestamp"])


def test_create_json_renders_numeric_target_id_as_int(api):
    response = api.post(MESSAGING, user="carol",
                        json={"target_type": "xform", "target_id": 34, "message": "Form v2 is live"})

    assert response.status_code == 201
    body = response.get_json()
    assert list(body) == FIELDS
    assert body["target_id"] == 34 and type(body["target_id"]) is int
    assert (body["verb"], body["message"], body["user"], body["target_type"]) == (
        "message", "Form v2 is live", "carol", "xform")
    # A JSON string of digits is the same target and renders the same way.
    again = api.post(MESSAGING, user="carol", json={"target_type": "xform", "target_id": "34", "message": "again"})
    assert again.status_code == 201
    assert again.get_json()["target_id"] == 34


def test_create_form_encoded(api):
    response = api.post(MESSAGING, user="alice",
                        data={"target_type": "xform", "target_id": "34", "message": "From a form", "verb": "message"})

    assert response.status_code == 201
    body = response.get_json()
    assert list(body) == FIELDS
    assert (body["target_id"], body["target_type"], body["message"], body["user"]) == (
        34, "xform", "From a form", "alice")


def test_create_form_encoded_to_user_keeps_string_id(api):
    response = api.post(MESSAGING, user="alice", data={"target_type": "user", "target_id": "bob", "message": "Hi Bob"})

    assert response.status_code == 201
    assert response.get_json()["target_id"] == "bob"


def test_content_types_with_parameters(api):
    for content_type, data in [
        ("application/x-www-form-urlencoded; charset=utf-8", "target_type=user&target_id=bob&message=caf%C3%A9"),
        ("application/json; charset=utf-8", '{"target_type": "user", "target_id": "bob", "message": "café"}'),
    ]:
        response = api.post(MESSAGING, user="alice", data=data.encode(), content_type=content_type)
        assert response.status_code == 201, content_type
        assert response.get_json()["message"] == "café"


def test_create_message_for_kmskey_and_entitylist(api):
    """Ona tests 2-3: kmskey (alice owner) and entitylist (alice manager) targets."""
    for target_type, target_id in [("kmskey", "key-1"), ("entitylist", "trees")]:
        response = api.post(MESSAGING, user="alice",
                            json={"message": "Hello World!", "target_id": target_id, "target_type": target_type})

        assert response.status_code == 201
        body = response.get_json()
        assert (body["target_type"], body["target_id"], body["user"], body["message"]) == (
            target_type, target_id, "alice", "Hello World!")
    assert sorted(item["target_type"] for item in stored_messages()) == ["entitylist", "kmskey"]


def test_client_supplied_user_and_timestamp_are_ignored(api):
    response = api.post(MESSAGING, user="alice", json={
        "target_type": "user", "target_id": "bob", "message": "x", "user": "bob",
        "timestamp": "2020-01-01T00:00:00Z", "unknown": 1})

    assert response.status_code == 201
    body = response.get_json()
    assert body["user"] == "alice"
    assert not body["timestamp"].startswith("2020-")


def test_message_is_trimmed_and_10000_characters_are_allowed(api):
    text = "y" * 10000
    response = api.post(MESSAGING, user="alice",
                        json={"target_type": "user", "target_id": "bob", "message": f"  {text}\n"})

    assert response.status_code == 201
    assert response.get_json()["message"] == text


INVALID_JSON_FIELDS = [
    ({"target_type": "user", "target_id": "bob"}, {"message": ["This field is required."]}),
    ({"target_type": "user", "target_id": "bob", "message": ""}, {"message": ["This field may not be blank."]}),
    ({"target_type": "user", "target_id": "bob", "message": " \n "}, {"message": ["This field may not be blank."]}),
    ({"target_type": "user", "target_id": "bob", "message": "x" * 10001},
     {"message": ["Ensure this field has no more than 10000 characters."]}),
    ({"target_type": "user", "target_id": "bob", "message": None}, {"message": ["This field may not be null."]}),
    ({"target_id": "bob", "message": "x"}, {"target_type": ["This field is required."]}),
    ({"target_type": "xyz", "target_id": "bob", "message": "x"}, {"target_type": ['"xyz" is not a valid choice.']}),
    ({"target_type": "XForm", "target_id": "34", "message": "x"},
     {"target_type": ['"XForm" is not a valid choice.']}),
    ({"target_type": None, "target_id": "bob", "message": "x"}, {"target_type": ["This field may not be null."]}),
    ({"target_type": "user", "message": "x"}, {"target_id": ["This field is required."]}),
    ({"target_type": "user", "target_id": True, "message": "x"}, {"target_id": ["A valid integer is required."]}),
    ({"target_type": "user", "target_id": ["bob"], "message": "x"}, {"target_id": ["A valid integer is required."]}),
    ({"target_type": "user", "target_id": None, "message": "x"}, {"target_id": ["This field may not be null."]}),
    ({"target_type": "user", "target_id": "bob", "message": "x", "verb": "foo"},
     {"verb": ['"foo" is not a valid choice.']}),
    ({"target_type": "user", "target_id": "bob", "message": "x", "verb": None},
     {"verb": ["This field may not be null."]}),
    ({}, {"target_type": ["This field is required."], "target_id": ["This field is required."],
          "message": ["This field is required."]}),
    ({"target_type": "xyz", "target_id": "bob", "message": "", "verb": "foo"},
     {"target_type": ['"xyz" is not a valid choice.'], "message": ["This field may not be blank."],
      "verb": ['"foo" is not a valid choice.']}),
]
INVALID_FORM_FIELDS = [
    ({"target_type": "user", "target_id": "bob"}, {"message": ["This field is required."]}),
    ({"target_type": "user", "target_id": "bob", "message": ""}, {"message": ["This field may not be blank."]}),
    ({"target_type": "xyz", "target_id": "bob", "message": "x"}, {"target_type": ['"xyz" is not a valid choice.']}),
    ({"target_type": "user", "target_id": "bob", "message": "x", "verb": "foo"},
     {"verb": ['"foo" is not a valid choice.']}),
]


def test_invalid_fields_are_400_per_field(api):
    for body, errors in INVALID_JSON_FIELDS:
        response = api.post(MESSAGING, user="alice", json=body)
        assert (response.status_code, response.get_json()) == (400, errors), body
    for form, errors in INVALID_FORM_FIELDS:
        response = api.post(MESSAGING, user="alice", data=form)
        assert (response.status_code, response.get_json()) == (400, errors), form
    assert stored_messages() == []


def test_body_that_is_not_an_object_is_400(api):
    for body, kind in [([1, 2], "list"), (["bob"], "list"), ("text", "str"), (7, "int"), (None, "NoneType")]:
        response = api.post(MESSAGING, user="alice", json=body)

        assert response.status_code == 400
        assert response.get_json() == {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]}
    assert stored_messages() == []


def test_malformed_json_is_400(api):
    response = api.post(MESSAGING, user="alice", data='{"target_type": "user", ', content_type="application/json")

    assert response.status_code == 400
    body = response.get_json()
    assert list(body) == ["detail"]
    assert body["detail"].startswith("JSON parse error - ")
    assert stored_messages() == []


def test_a_body_over_1_mb_is_413_and_changes_nothing(api):
    """docs/architecture.md#limits: request bodies are at most 1 MB (a valid message padded with an extra field, so
    only the size
    is wrong); exactly 1 MB is still read."""
    message = {"target_type": "user", "target_id": "bob", "message": "hello"}
    padding = 1024 * 1024 - len(json.dumps({**message, "pad": ""}))
    exactly = api.post(MESSAGING, user="alice", json={**message, "pad": "x" * padding})
    assert exactly.status_code == 201, exactly.get_json()
    over = api.post(MESSAGING, user="alice", json={**message, "pad": "x" * (padding + 1)})
    assert (over.status_code, over.get_json()) == (413, {"detail": "The request body is larger than 1 MB."})
    over_form = api.post(MESSAGING, user="alice", data={**message, "pad": "é" * (600 * 1024)})
    assert over_form.status_code == 413
    assert [m["message"] for m in stored_messages()] == ["hello"]


def test_unsupported_content_type_is_400(api):
    for content_type in ["text/plain", "application/xml", "application/octet-stream"]:
        response = api.post(MESSAGING, user="alice", data="target_type=user&target_id=bob&message=x",
                            content_type=content_type)

        assert response.status_code == 400
        assert response.get_json() == {"detail": f'Unsupported media type "{content_type}" in request.'}
    assert stored_messages() == []


UNKNOWN_TARGETS = [
    ("user", 1000000000),      # Ona test 4
    ("user", "nobody"),
    ("user", "a/b"), ("user", "a+b"), ("user", "#"), ("xform", "34/#"), ("project", "+"),
    ("user", "x" * 65),
    ("user", "frank"),         # inactive users are not targets
    ("xform", 999), ("project", "34"), ("kmskey", "trees"), ("entitylist", "key-1"),
]


def test_unknown_target_is_400_before_permission(api):
    for target_type, target_id in UNKNOWN_TARGETS:
        # dave has no role anywhere: the existence check still comes first (Ona's order).
        response = api.post(MESSAGING, user="dave",
                            json={"target_type": target_type, "target_id": target_id, "message": "x"})

        assert response.status_code == 400, (target_type, target_id)
        assert response.get_json() == {"target_id": "target_id not found"}
    assert stored_messages() == []


REFUSED_MESSAGES = [
    ("bob", "xform", "34", "hh_form"),              # dataentry
    ("erin", "xform", "34", "hh_form"),             # readonly through the project
    ("dave", "xform", "34", "hh_form"),             # no role
    ("erin", "project", "12", "Household survey"),  # readonly
    ("carol", "project", "12", "Household survey"),  # editor of a form only, not of its project
    ("bob", "entitylist", "trees", "trees"),        # readonly
    ("bob", "kmskey", "key-1", "Form signing key"),
    ("frank", "user", "bob", "bob"),                # an inactive user may not send
]


def test_message_verb_needs_change_on_the_target(api):
    for caller, target_type, target_id, name in REFUSED_MESSAGES:
        response = api.post(MESSAGING, user=caller,
                            json={"target_type": target_type, "target_id": target_id, "message": "x"})

        assert response.status_code == 403, (caller, target_type)
        # An inactive user is locked out before any permission is looked at (docs/architecture.md#permissions).
        assert response.get_json() == ({"detail": "This user account is inactive."} if caller == "frank"
                                       else forbidden(name))
    assert stored_messages() == []


def test_change_roles_may_post_messages(api):
    allowed = [
        ("carol", "xform", "34"),          # editor
        ("alice", "xform", "34"),          # owner through the project
        ("alice", "project", "12"),        # owner
        ("alice", "kmskey", "key-1"),      # owner
        ("alice", "entitylist", "trees"),  # manager
    ]
    for caller, target_type, target_id in allowed:
        response = api.post(MESSAGING, user=caller,
                            json={"target_type": target_type, "target_id": target_id, "message": "x"})

        assert response.status_code == 201, (caller, target_type)
        assert response.get_json()["user"] == caller
    assert sorted((m["user"], m["target_type"]) for m in stored_messages()) == sorted(
        (caller, target_type) for caller, target_type, _ in allowed)


def test_any_active_user_may_message_any_user(api):
    for sender, recipient in [("dave", "alice"), ("erin", "admin"), ("bob", "bob")]:
        response = api.post(MESSAGING, user=sender,
                            json={"target_type": "user", "target_id": recipient, "message": "hello"})
        assert response.status_code == 201, (sender, recipient)
        assert response.get_json()["user"] == sender


def test_superuser_may_post_messages_to_any_target(api):
    for target_type, target_id in [("xform", 34), ("project", 12), ("kmskey", "key-1"), ("entitylist", "trees"),
                                   ("user", "bob")]:
        response = api.post(MESSAGING, user="admin",
                            json={"target_type": target_type, "target_id": target_id, "message": "maintenance"})

        assert response.status_code == 201, target_type
        body = response.get_json()
        assert (body["user"], body["target_type"], body["target_id"]) == ("admin", target_type, target_id)


def test_users_may_not_post_system_verbs(api):
    callers = [
        ("alice", "user", "alice", "alice"),   # even on oneself
        ("carol", "xform", "34", "hh_form"),   # an editor
        ("alice", "project", "12", "Household survey"),
        ("admin", "xform", "34", "hh_form"),   # even a superuser
    ]
    for caller, target_type, target_id, name in callers:
        for verb in SYSTEM_VERBS:
            response = api.post(MESSAGING, user=caller, json={
                "target_type": target_type, "target_id": target_id, "message": "{}", "verb": verb})
            assert response.status_code == 403, (caller, verb)
            assert response.get_json() == forbidden(name)
    assert stored_messages() == []


def test_application_may_post_every_system_verb(api):
    for verb in SYSTEM_VERBS:
        response = api.post(MESSAGING, app="acme/billing",
                            json={"target_type": "xform", "target_id": 34, "message": '{"id": [7]}', "verb": verb})
        assert response.status_code == 201, verb
        body = response.get_json()
        assert list(body) == FIELDS
        assert (body["verb"], body["user"], body["target_id"], body["message"]) == (
            verb, "acme/billing", 34, '{"id": [7]}')
    assert sorted(item["verb"] for item in stored_messages()) == sorted(SYSTEM_VERBS)


def test_application_event_on_a_user_target(api):
    response = api.post(MESSAGING, app="acme/billing",
                        data={"target_type": "user", "target_id": "bob", "message": "{}", "verb": "profile_updated"})

    assert response.status_code == 201
    assert (response.get_json()["user"], response.get_json()["target_id"]) == ("acme/billing", "bob")


def test_application_gets_400_for_unknown_target(api):
    response = api.post(MESSAGING, app="acme/billing",
                        json={"target_type": "xform", "target_id": 999, "message": "{}", "verb": "form_updated"})

    assert response.status_code == 400
    assert response.get_json() == {"target_id": "target_id not found"}


def test_recipients_get_inbox_entries_but_not_the_sender(api, stream):
    created = api.post(MESSAGING, user="carol", json={"target_type": "xform", "target_id": 34, "message": "Hi all"})
    assert created.status_code == 201
    stream.drain()

    message_id = created.get_json()["id"]
    for user in ("alice", "bob", "erin"):  # owner (project), dataentry, readonly (project)
        assert [item["id"] for item in api.get("/api/v1/inbox", user=user).get_json()["items"]] == [message_id], user
    for user in ("carol", "dave"):  # the sender; a stranger
        assert api.get("/api/v1/inbox", user=user).get_json()["items"] == [], user


def test_a_json_array_holding_a_valid_object_is_still_refused(api):
    """Powertools would unwrap a one-element list into the object it holds; every face refuses it instead."""
    valid = {"target_type": "user", "target_id": "bob", "message": "wrapped"}
    ona = api.post("/api/v1/messaging", user="alice", json=[valid])
    assert (ona.status_code, ona.get_json()) == (
        400, {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]})
    assert api.post("/api/v1/inbox/read", user="alice", json=[{"ids": ["x"]}]).status_code == 400
    dhis2 = api.post("/api/messageConversations", user="alice",
                     json=[{"subject": "s", "text": "t", "users": [{"id": "bob"}]}])
    assert dhis2.status_code == 400
    listed = api.get("/api/v1/messaging", user="bob", query_string={"target_type": "user", "target_id": "bob"})
    assert listed.get_json() == []
