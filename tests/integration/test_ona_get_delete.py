"""GET and DELETE /api/v1/messaging/{id}, 405 for PUT/PATCH, 401 everywhere (docs/ona.md; ported from Ona's test
suite)."""

from support.ona import MESSAGING, send

NO_PERMISSION = {"detail": "You do not have permission to perform this action."}
INACTIVE = {"detail": "This user account is inactive."}
NOT_FOUND = {"detail": "Not found."}
UNAUTHENTICATED = {"detail": "Authentication credentials were not provided."}
UNKNOWN_ULID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
MALFORMED_IDS = ["abc", "1", "01arz3ndektsv4rrffq69g5fav", UNKNOWN_ULID + "A", "01ARZ3NDEKTSV4RRFFQ69G5FAU!"]


def without_target(body: dict) -> dict:
    return {key: value for key, value in body.items() if key not in ("target_id", "target_type")}


def stored(message_id: str) -> dict | None:
    from postbox.dal import messages

    return messages.get(message_id)


def inbox_ids(api, user: str) -> list[str]:
    response = api.get("/api/v1/inbox", user=user)
    assert response.status_code == 200
    return [item["id"] for item in response.get_json()["items"]]


# -- retrieve ----------------------------------------------------------------------------------------


def test_retrieve_message(api):
    """Ona test 10: the target user gets the POST body without the target fields."""
    created = send(api, "alice", "user", "alice")

    response = api.get(f"{MESSAGING}/{created['id']}", user="alice")

    assert response.status_code == 200
    assert response.get_json() == without_target(created)
    assert list(response.get_json()) == ["id", "verb", "message", "user", "timestamp"]


def test_retrieve_user_target_only_by_that_user(api):
    """Ona test 13, and neither the sender nor a superuser may read another user's message."""
    created = send(api, "alice", "user", "bob", "for Bob only")

    assert api.get(f"{MESSAGING}/{created['id']}", user="bob").get_json() == without_target(created)
    for caller in ("alice", "admin", "dave", "frank"):
        response = api.get(f"{MESSAGING}/{created['id']}", user=caller)
        refusal = INACTIVE if caller == "frank" else NO_PERMISSION   # an inactive user is locked out first
        assert (response.status_code, response.get_json()) == (403, refusal), caller


def test_retrieve_needs_view_on_the_target(api):
    form = send(api, "carol", "xform", 34, "form news")
    event = send(api, "acme/billing", "entitylist", "trees", '{"id": [3]}', verb="entitylist_imported")

    for caller in ("alice", "bob", "carol", "erin", "admin"):  # owner (project), dataentry, editor, readonly, su
        response = api.get(f"{MESSAGING}/{form['id']}", user=caller)
        assert (response.status_code, response.get_json()) == (200, without_target(form)), caller
    for caller in ("alice", "bob", "admin"):  # manager, readonly, superuser
        response = api.get(f"{MESSAGING}/{event['id']}", user=caller)
        assert (response.status_code, response.get_json()) == (200, without_target(event)), caller
    for caller, message in [("dave", form), ("frank", form), ("carol", event), ("erin", event)]:
        response = api.get(f"{MESSAGING}/{message['id']}", user=caller)
        refusal = INACTIVE if caller == "frank" else NO_PERMISSION
        assert (response.status_code, response.get_json()) == (403, refusal), caller


def test_retrieve_unknown_or_malformed_id_is_404(api):
    send(api, "alice", "user", "alice")

    for message_id in [UNKNOWN_ULID, *MALFORMED_IDS]:
        response = api.get(f"{MESSAGING}/{message_id}", user="alice")
        assert (response.status_code, response.get_json()) == (404, NOT_FOUND), message_id


# -- delete ------------------------------------------------------------------------------------------


def test_delete_message(api):
    """Ona test 5: the target user deletes; 204 with an empty body and the message is gone."""
    created = send(api, "alice", "user", "alice")

    response = api.delete(f"{MESSAGING}/{created['id']}", user="alice")

    assert response.status_code == 204
    assert response.data == b""
    assert stored(created["id"]) is None
    assert api.get(f"{MESSAGING}/{created['id']}", user="alice").status_code == 404
    assert api.get(MESSAGING, user="alice", query_string={"target_type": "user", "target_id": "alice"}).get_json() == []
    again = api.delete(f"{MESSAGING}/{created['id']}", user="alice")
    assert (again.status_code, again.get_json()) == (404, NOT_FOUND)


def test_delete_user_target_only_by_that_user(api):
    created = send(api, "alice", "user", "bob")

    for caller in ("alice", "admin", "dave"):  # the sender, a superuser, a stranger
        response = api.delete(f"{MESSAGING}/{created['id']}", user=caller)
        assert (response.status_code, response.get_json()) == (403, NO_PERMISSION), caller
    assert stored(created["id"]) is not None
    assert api.delete(f"{MESSAGING}/{created['id']}", user="bob").status_code == 204
    assert stored(created["id"]) is None


def test_delete_needs_manager_or_owner_on_forms_keys_and_entity_lists(api):
    form = send(api, "carol", "xform", 34)
    key = send(api, "alice", "kmskey", "key-1")
    trees = send(api, "alice", "entitylist", "trees")

    for caller, message in [("carol", form), ("bob", form), ("erin", form), ("dave", form),  # editor, dataentry...
                            ("bob", trees), ("dave", key)]:
        response = api.delete(f"{MESSAGING}/{message['id']}", user=caller)
        assert (response.status_code, response.get_json()) == (403, NO_PERMISSION), caller
        assert stored(message["id"]) is not None
    for caller, message in [("alice", form), ("alice", key), ("alice", trees)]:  # owner via project, owner, manager
        response = api.delete(f"{MESSAGING}/{message['id']}", user=caller)
        assert response.status_code == 204
        assert stored(message["id"]) is None


def test_delete_on_a_project_needs_owner(api):
    directory = {"targets": [{"type": "project", "id": "12", "name": "Household survey",
                              "acl": {"alice": "owner", "erin": "readonly", "dave": "manager"}}]}
    assert api.post("/api/v1/directory", user="admin", json=directory).status_code == 200
    first = send(api, "alice", "project", 12)
    second = send(api, "dave", "project", 12)  # a manager may post

    for caller in ("dave", "erin", "carol"):
        response = api.delete(f"{MESSAGING}/{first['id']}", user=caller)
        assert (response.status_code, response.get_json()) == (403, NO_PERMISSION), caller
    assert api.delete(f"{MESSAGING}/{first['id']}", user="alice").status_code == 204
    assert api.delete(f"{MESSAGING}/{second['id']}", user="admin").status_code == 204  # a superuser
    assert stored(first["id"]) is None and stored(second["id"]) is None


def test_delete_unknown_or_malformed_id_is_404(api):
    for message_id in [UNKNOWN_ULID, *MALFORMED_IDS]:
        response = api.delete(f"{MESSAGING}/{message_id}", user="admin")
        assert (response.status_code, response.get_json()) == (404, NOT_FOUND), message_id


def test_delete_removes_the_recipients_inbox_entries(api, stream):
    created = send(api, "carol", "xform", 34, "soon gone")
    kept = send(api, "carol", "xform", 34, "stays")
    stream.drain()
    for user in ("alice", "bob", "erin"):
        assert inbox_ids(api, user) == [kept["id"], created["id"]], user

    assert api.delete(f"{MESSAGING}/{created['id']}", user="alice").status_code == 204
    stream.drain()

    for user in ("alice", "bob", "erin"):
        assert inbox_ids(api, user) == [kept["id"]], user


# -- methods Ona does not route, and authentication ----------------------------------------------------


def test_put_and_patch_are_405(api):
    created = send(api, "alice", "user", "alice", "Hello World!")

    for method in ("PUT", "PATCH"):
        for path in (f"{MESSAGING}/{created['id']}", f"{MESSAGING}/{UNKNOWN_ULID}", MESSAGING):
            response = api.request(method, path, user="alice", json={"message": "changed"})
            assert response.status_code == 405, (method, path)
            assert response.get_json() == {"detail": f'Method "{method}" not allowed.'}
    response = api.request("DELETE", MESSAGING, user="alice")
    assert (response.status_code, response.get_json()) == (405, {"detail": 'Method "DELETE" not allowed.'})
    assert api.get(f"{MESSAGING}/{created['id']}", user="alice").get_json()["message"] == "Hello World!"


def test_anonymous_is_401_on_every_route(api):
    """Ona test 11 (retrieve, delete) and every other route of the face."""
    created = send(api, "alice", "user", "alice")
    requests = [
        ("GET", f"{MESSAGING}/{created['id']}"), ("GET", f"{MESSAGING}/{UNKNOWN_ULID}"),
        ("DELETE", f"{MESSAGING}/{created['id']}"), ("PUT", f"{MESSAGING}/{created['id']}"),
        ("PATCH", f"{MESSAGING}/{created['id']}"), ("POST", f"{MESSAGING}/{created['id']}/read"),
        ("GET", f"{MESSAGING}?target_type=xform&target_id=1"), ("POST", MESSAGING),
        ("PUT", MESSAGING), ("PATCH", MESSAGING), ("DELETE", MESSAGING),
        ("GET", "/api/v1/stats/messaging?target_type=user&target_id=alice&group_by=day"),
    ]
    for method, path in requests:
        for token in (None, "not-a-token"):
            response = api.request(method, path, token=token)
            assert response.status_code == 401, (method, path, token)
            assert response.get_json() == UNAUTHENTICATED
    assert stored(created["id"]) is not None
