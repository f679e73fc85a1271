"""DHIS2 face: GET /api/me/dashboard → {"unreadMessageConversations": N} (docs/dhis2.md; ported from DHIS2's
controller tests
MeControllerTest#testGetDashboard): the caller's unread conversations, and nothing else of their inbox."""

from support.dhis2 import MC, create, feedback, reply


def dashboard(api, user: str, path: str = "/api/me/dashboard") -> int:
    response = api.get(path, user=user)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) == {"unreadMessageConversations", "unreadInterpretations"}
    return body["unreadMessageConversations"]


def test_get_dashboard_on_a_fresh_database(api):
    """DHIS2 MeControllerTest#testGetDashboard."""
    assert dashboard(api, "admin") == 0


def test_counts_the_callers_unread_conversations(api):
    first = create(api, "alice", users=("bob", "erin"))
    second = create(api, "carol", users=("bob",))
    assert (dashboard(api, "bob"), dashboard(api, "erin"), dashboard(api, "alice")) == (2, 1, 0)
    assert dashboard(api, "bob", "/api/33/me/dashboard") == 2
    assert api.post(f"{MC}/read", user="bob", json=[first]).status_code == 200
    assert dashboard(api, "bob") == 1
    reply(api, "erin", first, "Reply")                     # unread again for bob and alice
    assert (dashboard(api, "bob"), dashboard(api, "alice"), dashboard(api, "erin")) == (2, 1, 1)
    assert api.delete(f"{MC}/{second}/bob", user="bob").status_code == 200
    assert dashboard(api, "bob") == 1
    assert api.post("/api/v1/inbox/read", user="bob", json={"ids": [first]}).status_code == 200
    assert dashboard(api, "bob") == 0


def test_only_conversations_count_and_internal_notes_do_not_unread_non_managers(api):
    response = api.post("/api/v1/messaging", user="alice",
                        json={"target_type": "user", "target_id": "bob", "message": "An Ona message"})
    assert response.status_code == 201
    assert dashboard(api, "bob") == 0
    uid = feedback(api, "bob")                                   # bob (read), carol
    assert api.post(f"{MC}/{uid}/recipients", user="carol", json={"users": [{"id": "erin"}]}).status_code == 204
    assert api.post(f"{MC}/read", user="erin", json=[uid]).status_code == 200
    assert api.post(f"{MC}/read", user="carol", json=[uid]).status_code == 200
    reply(api, "carol", uid, "Internal", internal=True)
    assert (dashboard(api, "bob"), dashboard(api, "erin")) == (0, 0)
    reply(api, "bob", uid, "Any news?")
    assert (dashboard(api, "carol"), dashboard(api, "erin")) == (1, 1)


def test_applications_have_no_unread_conversations(api):
    create(api, "acme/billing", as_app=True, users=("bob",))
    response = api.get("/api/me/dashboard", app="acme/billing")
    assert (response.status_code, response.get_json()) == (200, {"unreadMessageConversations": 0,
                                                                 "unreadInterpretations": 0})
