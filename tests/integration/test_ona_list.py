"""GET /api/v1/messaging: parameters, permission, filters and order (docs/ona.md; ported from Ona's test suite)."""

from support.ona import MESSAGING, send

NO_PERMISSION = {"detail": "You do not have permission to perform this action."}
INACTIVE = {"detail": "This user account is inactive."}
ITEM_FIELDS = ["id", "verb", "message", "user", "timestamp"]


def listed(body: dict) -> dict:
    return {key: body[key] for key in ITEM_FIELDS}


def get_list(api, caller: str = "alice", **params):
    return api.get(MESSAGING, user=caller, query_string=params)


def test_list_messages(api):
    """Ona test 6 (a)-(f)."""
    created = send(api, "alice", "user", "alice")

    # (a) the one message, equal to the POST body without the target fields
    response = get_list(api, target_type="user", target_id="alice")
    assert response.status_code == 200
    assert response.get_json() == [listed(created)]
    assert list(response.get_json()[0]) == ITEM_FIELDS
    assert "Link" not in response.headers
    # (b) the same id as another target type (superuser, so the target's absence is not a 403)
    response = get_list(api, "admin", target_type="xform", target_id="alice")
    assert (response.status_code, response.get_json()) == (200, [])
    # (c) no parameters
    response = get_list(api)
    assert (response.status_code, response.get_json()) == (400, {"detail": "Parameter 'target_type' is missing."})
    # (d) only target_type
    response = get_list(api, target_type="user")
    assert (response.status_code, response.get_json()) == (400, {"detail": "Parameter 'target_id' is missing."})
    # (e) only target_id
    response = get_list(api, target_id="alice")
    assert (response.status_code, response.get_json()) == (400, {"detail": "Parameter 'target_type' is missing."})
    # (f) unknown type, checked before the id
    for target_type in ("xyz", "XForm"):
        response = get_list(api, target_type=target_type, target_id="alice")
        assert (response.status_code, response.get_json()) == (400, {"detail": f"Unknown target_type {target_type}"})
    response = get_list(api, target_type="xyz")
    assert (response.status_code, response.get_json()) == (400, {"detail": "Unknown target_type xyz"})


def test_user_target_is_listed_only_by_that_user_or_a_superuser(api):
    created = send(api, "alice", "user", "bob", "Hi Bob")

    assert get_list(api, "bob", target_type="user", target_id="bob").get_json() == [listed(created)]
    assert get_list(api, "admin", target_type="user", target_id="bob").get_json() == [listed(created)]
    for caller in ("alice", "carol", "dave"):  # the sender has no special right
        response = get_list(api, caller, target_type="user", target_id="bob")
        assert (response.status_code, response.get_json()) == (403, NO_PERMISSION), caller


def test_other_targets_need_view(api):
    created = send(api, "carol", "xform", 34, "Form news")
    project = send(api, "alice", "project", 12, "Project news")

    for caller in ("alice", "bob", "carol", "erin", "admin"):  # owner (project), dataentry, editor, readonly, su
        response = get_list(api, caller, target_type="xform", target_id="34")
        assert (response.status_code, response.get_json()) == (200, [listed(created)]), caller
    for caller in ("alice", "erin", "admin"):
        response = get_list(api, caller, target_type="project", target_id="12")
        assert (response.status_code, response.get_json()) == (200, [listed(project)]), caller
    for caller, target_type, target_id in [("dave", "xform", "34"), ("bob", "project", "12"),
                                           ("carol", "project", "12"), ("frank", "xform", "34"),
                                           ("carol", "kmskey", "key-1"), ("dave", "entitylist", "trees")]:
        response = get_list(api, caller, target_type=target_type, target_id=target_id)
        refusal = INACTIVE if caller == "frank" else NO_PERMISSION   # an inactive user is locked out first
        assert (response.status_code, response.get_json()) == (403, refusal), (caller, target_type)


def test_nonexistent_target_is_403_for_users_and_empty_for_a_superuser(api):
    for target_type, target_id in [("xform", "999"), ("user", "nobody"), ("user", "frank"), ("project", "a/b"),
                                   ("user", "#")]:
        response = get_list(api, "dave", target_type=target_type, target_id=target_id)
        assert (response.status_code, response.get_json()) == (403, NO_PERMISSION), target_id
        response = get_list(api, "admin", target_type=target_type, target_id=target_id)
        assert (response.status_code, response.get_json()) == (200, []), target_id


def test_newest_first(api):
    created = [send(api, "carol", "xform", 34, f"m{i}") for i in range(4)]

    response = get_list(api, "bob", target_type="xform", target_id="34")

    assert response.get_json() == [listed(m) for m in reversed(created)]


def test_verb_filter(api):
    message = send(api, "carol", "xform", 34, "a message")
    event = send(api, "acme/billing", "xform", 34, '{"id": [1]}', verb="submission_created")
    edited = send(api, "acme/billing", "xform", 34, '{"id": [1]}', verb="submission_edited")

    def verbs(**params):
        response = get_list(api, "bob", target_type="xform", target_id="34", **params)
        assert response.status_code == 200
        return response.get_json()

    assert verbs() == [listed(edited), listed(event), listed(message)]
    assert verbs(verb="message") == [listed(message)]
    assert verbs(verb="submission_created") == [listed(event)]
    assert verbs(verb="no_such_verb") == []


def test_user_filter(api):
    by_carol = send(api, "carol", "xform", 34, "from carol")
    by_alice = send(api, "alice", "xform", 34, "from alice")
    by_app = send(api, "acme/billing", "xform", 34, "{}", verb="form_updated")

    def users(**params):
        response = get_list(api, "erin", target_type="xform", target_id="34", **params)
        assert response.status_code == 200
        return response.get_json()

    assert users(user="carol") == [listed(by_carol)]
    assert users(user="alice") == [listed(by_alice)]
    assert users(user="acme/billing") == [listed(by_app)]   # applications are listed under their client_id
    assert users(user="nobody") == []                        # Ona returns everything; Postbox nothing
    assert users(user="bob") == []
    assert users(user="alice", verb="message") == [listed(by_alice)]
    assert users(user="alice", verb="form_updated") == []


def test_target_ids_are_kept_apart(api):
    mine = send(api, "alice", "user", "alice", "to alice")
    send(api, "alice", "user", "bob", "to bob")
    send(api, "carol", "xform", 34, "to the form")

    assert get_list(api, target_type="user", target_id="alice").get_json() == [listed(mine)]
    assert get_list(api, target_type="project", target_id="12").get_json() == []


def test_new_and_deleted_messages_show_at_once(api):
    """Ona test 7 runs the other way here: Postbox has no 10-minute list cache (docs/ona.md)."""
    first = send(api, "alice", "user", "alice", "first")
    assert get_list(api, target_type="user", target_id="alice").get_json() == [listed(first)]

    second = send(api, "alice", "user", "alice", "second")
    assert get_list(api, target_type="user", target_id="alice").get_json() == [listed(second), listed(first)]

    assert api.delete(f"{MESSAGING}/{second['id']}", user="alice").status_code == 204
    assert get_list(api, target_type="user", target_id="alice").get_json() == [listed(first)]


def test_anonymous_list_is_401(api):
    """Ona tests 9 and 11 (list): 401 even after an authenticated request for the same URL."""
    send(api, "alice", "user", "alice")
    assert get_list(api, target_type="user", target_id="alice").status_code == 200

    for params in ({"target_type": "user", "target_id": "alice"}, {"target_type": "xform", "target_id": "1"}, {}):
        response = api.get(MESSAGING, query_string=params)
        assert response.status_code == 401
        assert response.get_json() == {"detail": "Authentication credentials were not provided."}


def test_unknown_or_oversized_verb_filter_lists_nothing_without_an_index_key(api):
    from postbox_local.metering import dynamodb_requests

    api.post("/api/v1/messaging", user="bob", json={"target_type": "user", "target_id": "bob", "message": "hi"})
    for verb in ("nope", "v" * 3000):
        with dynamodb_requests() as calls:
            response = api.get("/api/v1/messaging", user="bob",
                               query_string={"target_type": "user", "target_id": "bob", "verb": verb})
        assert (response.status_code, response.get_json()) == (200, [])
        assert "Query" not in calls
