"""GET/PATCH /api/v1/me/settings (docs/channels.md): a user's own notify_email / notify_sms, directory fields that
nothing else about the user changes with."""

import pytest

PATH = "/api/v1/me/settings"
NO_PERMISSION = {"detail": "You do not have permission to perform this action."}


def patch(api, body, user: str = "bob", **kwargs):
    return api.request("PATCH", PATH, user=user, json=body, **kwargs)


def test_get_shows_the_defaults_and_where_notifications_go(api):
    response = api.get(PATH, user="bob")
    assert (response.status_code, response.get_json()) == (200, {
        "notify_email": False, "notify_sms": False, "email": "bob@example.org", "phone": "+15550000002"})
    assert api.get(PATH, user="dave").get_json() == {"notify_email": False, "notify_sms": False,
                                                     "email": "dave@example.org", "phone": None}


def test_patch_changes_only_the_given_keys_and_nothing_else_in_the_directory(api):
    from postbox.dal import directory

    before = directory.get_user("bob")
    response = patch(api, {"notify_sms": True})
    assert (response.status_code, response.get_json()) == (200, {
        "notify_email": False, "notify_sms": True, "email": "bob@example.org", "phone": "+15550000002"})
    assert patch(api, {"notify_email": True}).get_json()["notify_sms"] is True
    assert patch(api, {"notify_sms": False}).get_json() == {
        "notify_email": True, "notify_sms": False, "email": "bob@example.org", "phone": "+15550000002"}
    assert patch(api, {}).get_json()["notify_email"] is True   # an empty change changes nothing
    after = directory.get_user("bob")
    assert {k: v for k, v in after.items() if not k.startswith("notify_")} == \
        {k: v for k, v in before.items() if not k.startswith("notify_")}
    assert api.get(PATH, user="bob").get_json()["notify_email"] is True
    assert api.get(PATH, user="alice").get_json()["notify_email"] is False   # only the caller's own


def test_the_directory_admin_api_lists_the_settings(api):
    patch(api, {"notify_email": True})
    users = api.get("/api/v1/directory/users", user="admin").get_json()["users"]
    assert next(u for u in users if u["id"] == "bob")["notify_email"] is True


@pytest.mark.parametrize("body, problem", [
    ({"notify_push": True}, "notify_push: unknown key 'notify_push'"),
    ({"notify_email": True, "email": "me@evil.example"}, "email: unknown key 'email'"),
    ({"notify_email": "true"}, "notify_email: Input should be a valid boolean"),
    ({"notify_email": 1}, "notify_email: Input should be a valid boolean"),
    ({"notify_sms": None}, "notify_sms: Input should be a valid boolean"),
    ({"notify_sms": [True]}, "notify_sms: Input should be a valid boolean"),
])
def test_unknown_keys_and_wrong_types_are_400_and_change_nothing(api, body, problem):
    response = patch(api, body)
    assert response.status_code == 400, response.get_json()
    assert problem in response.get_json()["errors"]
    assert api.get(PATH, user="bob").get_json()["notify_email"] is False


@pytest.mark.parametrize("raw", ["[]", '"yes"', "not json", ""])
def test_a_body_that_is_not_an_object_is_400(api, raw):
    response = api.request("PATCH", PATH, user="bob", data=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.get_json()


def test_applications_and_unknown_or_inactive_users_are_refused(api):
    for method in ("GET", "PATCH"):
        response = api.request(method, PATH, app="acme/billing", json={"notify_email": True})
        assert (response.status_code, response.get_json()) == (403, {"detail": "Applications have no user settings."})
        for user, refusal in (("ghost", NO_PERMISSION), ("frank", {"detail": "This user account is inactive."})):
            response = api.request(method, PATH, user=user, json={"notify_email": True})
            assert (response.status_code, response.get_json()) == (403, refusal)
