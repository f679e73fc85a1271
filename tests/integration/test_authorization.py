"""Who may call what (docs/architecture.md#permissions, docs/ona.md, docs/inbox.md): one table with a row for every
route of template.yaml.

Each route is called, through the local gateway, without a token and with bad tokens (401 on every authorized
route), then as a stranger (dave: in the directory, no roles), as callers with the wrong role and as the callers
who are allowed. A route of template.yaml without a row fails the test, so a new route cannot go unchecked.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import jwt
import pytest
from support.ona import send

from postbox_local import template, tokens

UNAUTHENTICATED = {"detail": "Authentication credentials were not provided."}
INACTIVE = "This user account is inactive."
NO_PERMISSION = {"detail": "You do not have permission to perform this action."}
NOT_FOUND = {"detail": "Not found."}
NO_INBOX = {"detail": "Applications have no inbox."}
APP = "acme/billing"


def not_allowed(method: str) -> dict[str, str]:
    return {"detail": f'Method "{method}" not allowed.'}


def cannot_add(name: str) -> dict[str, str]:
    return {"detail": f"You do not have permission to add messages to target_id {name}."}


Body = Any  # an expected JSON body, a predicate on (body, world), or None (not checked)


@dataclass
class Case:
    """How to call one route, and what each caller gets, in the order given (the allowed caller last)."""

    name: str
    path: str                                    # formatted with the world: {xform}, {user_msg}, ...
    calls: list[tuple[str, int, Body]]           # (caller, status, body)
    json: Any = None
    query: dict[str, Any] = field(default_factory=dict)
    setup: Callable[[Any, dict[str, str]], None] | None = None
    after: Callable[[Any, dict[str, str]], None] | None = None
    form: Callable[[], dict[str, Any]] | None = None  # a multipart body, made afresh for each call


def counts(api, user: str) -> dict[str, int]:
    return api.get("/api/v1/inbox/counts", user=user).get_json()


def inbox_ids(api, user: str, **query) -> list[str]:
    return [item["id"] for item in api.get("/api/v1/inbox", user=user, query_string=query).get_json()["items"]]


def bob_marks(change: str, *ids_keys: str) -> Callable[[Any, dict[str, str]], None]:
    def setup(api, world):
        response = api.post(f"/api/v1/inbox/{change}", user="bob", json={"ids": [world[k] for k in ids_keys]})
        assert response.status_code == 200
    return setup


def project_with_manager(api, world):
    """carol becomes manager of project 12 (managers may delete on forms, not on projects); alice posts to it."""
    from postbox.logic.directory import parse_document, upsert

    upsert(parse_document({"targets": [{"type": "project", "id": "12", "name": "Household survey",
                                        "acl": {"alice": "owner", "erin": "readonly", "carol": "manager"}}]}))
    world["project_msg"] = send(api, "alice", "project", "12")["id"]


def alice_posts_to_trees(api, world):
    world["trees_msg"] = send(api, "alice", "entitylist", "trees")["id"]


def gone_for(user: str, key: str) -> Callable[[Any, dict[str, str]], None]:
    def after(api, world):
        response = api.get(f"/api/v1/messaging/{world[key]}", user=user)
        assert (response.status_code, response.get_json()) == (404, NOT_FOUND)
    return after


def same_ids(*keys: str) -> Callable[[Any, dict[str, str]], bool]:
    return lambda body, world: sorted(next(iter(body.values()))) == sorted(world[k] for k in keys)


def listing_ids(*keys: str) -> Callable[[Any, dict[str, str]], bool]:
    return lambda body, world: [row["id"] for row in body] == [world[k] for k in keys]


MESSAGE = {"target_type": "xform", "target_id": "34", "message": "hello"}

# Demo directory (local/demo-directory.json): xform 34 "hh_form" in project 12; project 12: alice owner, erin
# readonly; xform 34: bob dataentry, carol editor; entitylist trees: alice manager, bob readonly; dave has no
# role; frank is inactive (and had mail before: {frank_msg}); admin is the superuser; "ghost" is in no directory.
# frank is refused on every authorized route (the inactive column, INACTIVE below), so no row lists him.
# The world of every case: {xform}: carol's message on xform 34 (inbox entries for alice, bob, erin);
# {user_msg}: alice's message to bob (an entry for bob).
ROWS: dict[tuple[str, str], list[Case]] = {
    ("GET", "/health"): [
        Case("public", "/health", [("anonymous", 200, {"status": "ok"}), ("garbage", 200, {"status": "ok"}),
                                   ("dave", 200, {"status": "ok"})]),
    ],
    ("POST", "/api/v1/messaging"): [
        Case("message to a form needs change", "/api/v1/messaging", json=MESSAGE, calls=[
            ("dave", 403, cannot_add("hh_form")), ("ghost", 403, cannot_add("hh_form")),
            ("erin", 403, cannot_add("hh_form")),          # readonly (project)
            ("bob", 403, cannot_add("hh_form")),           # dataentry
            ("carol", 201, None),                          # editor
            ("alice", 201, lambda body, world: body["user"] == "alice"),   # owner through the project
            ("admin", 201, None)]),
        Case("events are for applications", "/api/v1/messaging", json={**MESSAGE, "verb": "submission_created"},
             calls=[("dave", 403, cannot_add("hh_form")), ("alice", 403, cannot_add("hh_form")),
                    ("admin", 403, cannot_add("hh_form")), ("app", 201, lambda body, world: body["user"] == APP)]),
        Case("any active user may message a user", "/api/v1/messaging",
             json={"target_type": "user", "target_id": "bob", "message": "hi"},
             calls=[("ghost", 403, cannot_add("bob")), ("dave", 201, None)]),
    ],
    ("GET", "/api/v1/messaging"): [
        Case("a form's messages need view", "/api/v1/messaging", query={"target_type": "xform", "target_id": "34"},
             calls=[("dave", 403, NO_PERMISSION), ("ghost", 403, NO_PERMISSION), ("app", 403, NO_PERMISSION),
                    ("bob", 200, listing_ids("xform")),
                    ("erin", 200, listing_ids("xform")), ("admin", 200, listing_ids("xform"))]),
        Case("a user's messages are theirs", "/api/v1/messaging", query={"target_type": "user", "target_id": "bob"},
             calls=[("dave", 403, NO_PERMISSION), ("alice", 403, NO_PERMISSION),
                    ("bob", 200, listing_ids("user_msg")), ("admin", 200, listing_ids("user_msg"))]),
        Case("no existence oracle", "/api/v1/messaging", query={"target_type": "xform", "target_id": "404"},
             calls=[("dave", 403, NO_PERMISSION), ("alice", 403, NO_PERMISSION), ("admin", 200, [])]),
    ],
    ("GET", "/api/v1/stats/messaging"): [
        Case("stats need view", "/api/v1/stats/messaging",
             query={"target_type": "xform", "target_id": "34", "group_by": "day"},
             calls=[("dave", 403, NO_PERMISSION), ("app", 403, NO_PERMISSION),
                    ("bob", 200, lambda body, world: [row["message"] for row in body] == [1]),
                    ("admin", 200, lambda body, world: [row["message"] for row in body] == [1])]),
    ],
    ("GET", "/api/v1/messaging/{message_id}"): [
        Case("a form message needs view", "/api/v1/messaging/{xform}", calls=[
            ("dave", 403, NO_PERMISSION), ("ghost", 403, NO_PERMISSION), ("app", 403, NO_PERMISSION),
            ("bob", 200, lambda body, world: body["id"] == world["xform"]),   # dataentry
            ("erin", 200, None), ("alice", 200, None), ("admin", 200, None)]),
        Case("a user message is that user's alone", "/api/v1/messaging/{user_msg}", calls=[
            ("dave", 403, NO_PERMISSION), ("alice", 403, NO_PERMISSION),       # even its sender
            ("admin", 403, NO_PERMISSION),                                     # even a superuser
            ("bob", 200, lambda body, world: body["id"] == world["user_msg"])]),
    ],
    ("DELETE", "/api/v1/messaging/{message_id}"): [
        Case("deleting a form message needs manager or owner", "/api/v1/messaging/{xform}", calls=[
            ("dave", 403, NO_PERMISSION), ("app", 403, NO_PERMISSION), ("erin", 403, NO_PERMISSION),
            ("bob", 403, NO_PERMISSION), ("carol", 403, NO_PERMISSION),       # editor, and its sender
            ("alice", 204, None)],                                             # owner through the project
            after=gone_for("bob", "xform")),
        Case("deleting an entity list message: manager", "/api/v1/messaging/{trees_msg}",
             setup=alice_posts_to_trees,
             calls=[("dave", 403, NO_PERMISSION), ("bob", 403, NO_PERMISSION), ("alice", 204, None)],
             after=gone_for("alice", "trees_msg")),
        Case("deleting a project message needs owner", "/api/v1/messaging/{project_msg}",
             setup=project_with_manager,
             calls=[("erin", 403, NO_PERMISSION), ("carol", 403, NO_PERMISSION), ("alice", 204, None)]),
        Case("a user message: only that user", "/api/v1/messaging/{user_msg}", calls=[
            ("dave", 403, NO_PERMISSION), ("alice", 403, NO_PERMISSION), ("admin", 403, NO_PERMISSION),
            ("bob", 204, None)], after=gone_for("bob", "user_msg")),
    ],
    ("PUT", "/api/v1/messaging/{message_id}"): [
        Case("no update", "/api/v1/messaging/{xform}", json={"message": "changed"},
             calls=[("dave", 405, not_allowed("PUT")), ("alice", 405, not_allowed("PUT"))]),
    ],
    ("PATCH", "/api/v1/messaging/{message_id}"): [
        Case("no update", "/api/v1/messaging/{xform}", json={"message": "changed"},
             calls=[("dave", 405, not_allowed("PATCH")), ("alice", 405, not_allowed("PATCH"))]),
    ],
    ("PUT", "/api/v1/messaging"): [
        Case("no update", "/api/v1/messaging", json=MESSAGE,
             calls=[("dave", 405, not_allowed("PUT")), ("admin", 405, not_allowed("PUT"))]),
    ],
    ("PATCH", "/api/v1/messaging"): [
        Case("no update", "/api/v1/messaging", json=MESSAGE,
             calls=[("dave", 405, not_allowed("PATCH")), ("admin", 405, not_allowed("PATCH"))]),
    ],
    ("DELETE", "/api/v1/messaging"): [
        Case("no bulk delete", "/api/v1/messaging",
             calls=[("dave", 405, not_allowed("DELETE")), ("admin", 405, not_allowed("DELETE"))]),
    ],
    ("POST", "/api/v1/messaging/{message_id}/read"): [
        Case("only a recipient's own entry", "/api/v1/messaging/{xform}/read", calls=[
            ("dave", 404, NOT_FOUND), ("carol", 404, NOT_FOUND),               # carol sent it: no entry
            ("admin", 404, NOT_FOUND), ("app", 403, NO_INBOX),
            ("bob", 200, lambda body, world: body == {"markedRead": [world["xform"]]}),
            ("bob", 200, {"markedRead": []})],
            after=lambda api, world: counts(api, "erin") == {"unread": 1, "total": 1} or pytest.fail("erin")),
    ],
    ("GET", "/api/v1/inbox"): [
        Case("each user sees their own entries", "/api/v1/inbox", calls=[
            ("dave", 200, {"items": [], "next_cursor": None}), ("app", 403, NO_INBOX),
            ("carol", 200, {"items": [], "next_cursor": None}),
            ("alice", 200, lambda body, world: [i["id"] for i in body["items"]] == [world["xform"]]),
            ("bob", 200, lambda body, world: [i["id"] for i in body["items"]] == [world["user_msg"], world["xform"]])]),
    ],
    ("GET", "/api/v1/inbox/counts"): [
        Case("each user counts their own entries", "/api/v1/inbox/counts", calls=[
            ("dave", 200, {"unread": 0, "total": 0}), ("ghost", 200, {"unread": 0, "total": 0}),
            ("app", 403, NO_INBOX), ("erin", 200, {"unread": 1, "total": 1}),
            ("bob", 200, {"unread": 2, "total": 2})]),
    ],
    ("POST", "/api/v1/inbox/read"): [
        Case("only the caller's entries change", "/api/v1/inbox/read",
             json=None, calls=[
                 ("dave", 200, {"markedRead": []}), ("carol", 200, {"markedRead": []}), ("app", 403, NO_INBOX),
                 ("bob", 200, same_ids("xform", "user_msg"))],
             after=lambda api, world: counts(api, "alice")["unread"] == 1 or pytest.fail("alice's entry changed")),
    ],
    ("POST", "/api/v1/inbox/unread"): [
        Case("only the caller's entries change", "/api/v1/inbox/unread", setup=bob_marks("read", "xform"),
             calls=[("dave", 200, {"markedUnread": []}), ("alice", 200, {"markedUnread": []}),
                    ("app", 403, NO_INBOX), ("bob", 200, same_ids("xform"))]),
    ],
    ("POST", "/api/v1/inbox/read-all"): [
        Case("only the caller's entries change", "/api/v1/inbox/read-all", calls=[
            ("dave", 200, {"markedRead": []}), ("app", 403, NO_INBOX), ("bob", 200, same_ids("xform", "user_msg"))],
            after=lambda api, world: counts(api, "alice")["unread"] == 1 or pytest.fail("alice's entry changed")),
    ],
    ("POST", "/api/v1/inbox/archive"): [
        Case("only the caller's entries change", "/api/v1/inbox/archive", calls=[
            ("dave", 200, {"archived": []}), ("app", 403, NO_INBOX), ("bob", 200, same_ids("xform"))],
            after=lambda api, world: inbox_ids(api, "alice") == [world["xform"]] or pytest.fail("alice's entry")),
    ],
    ("POST", "/api/v1/inbox/unarchive"): [
        Case("only the caller's entries change", "/api/v1/inbox/unarchive", setup=bob_marks("archive", "xform"),
             calls=[("dave", 200, {"unarchived": []}), ("alice", 200, {"unarchived": []}),
                    ("app", 403, NO_INBOX), ("bob", 200, same_ids("xform"))]),
    ],
    ("DELETE", "/api/v1/inbox/{entry_id}"): [
        Case("only the caller's copy", "/api/v1/inbox/{xform}", calls=[
            ("dave", 404, NOT_FOUND), ("carol", 404, NOT_FOUND), ("app", 403, NO_INBOX), ("bob", 204, None),
            ("bob", 404, NOT_FOUND)],
            after=lambda api, world: inbox_ids(api, "alice") == [world["xform"]] or pytest.fail("alice's entry")),
    ],
    ("POST", "/api/v1/directory"): [
        Case("superusers only", "/api/v1/directory", json={"users": [{"id": "dave", "username": "dave",
                                                                      "superuser": True}]},
             calls=[("dave", 403, NO_PERMISSION), ("alice", 403, NO_PERMISSION), ("ghost", 403, NO_PERMISSION),
                    ("app", 403, NO_PERMISSION), ("admin", 200, None)]),
    ],
    ("POST", "/api/v1/directory/delete"): [
        Case("superusers only", "/api/v1/directory/delete", json={"users": ["erin"]},
             calls=[("dave", 403, NO_PERMISSION), ("alice", 403, NO_PERMISSION), ("app", 403, NO_PERMISSION),
                    ("admin", 200, None)],
             after=lambda api, world: "erin" not in {u["id"] for u in api.get(
                 "/api/v1/directory/users", user="admin").get_json()["users"]} or pytest.fail("erin still there")),
    ],
    ("GET", "/api/v1/directory/{kind}"): [
        Case("superusers only", "/api/v1/directory/users",
             calls=[("dave", 403, NO_PERMISSION), ("alice", 403, NO_PERMISSION), ("app", 403, NO_PERMISSION),
                    ("admin", 200, lambda body, world: len(body["users"]) == 7)]),
    ],
}
# Bodies that need the world.
ROWS[("POST", "/api/v1/inbox/read")][0].json = {"ids": ["{xform}", "{user_msg}"]}
for route in (("POST", "/api/v1/inbox/unread"), ("POST", "/api/v1/inbox/archive"),
              ("POST", "/api/v1/inbox/unarchive")):
    ROWS[route][0].json = {"ids": ["{xform}"]}


# -- DHIS2 conversations (docs/dhis2.md): every route also under /api/{version}/ ----------------------------------
# {mc}: alice's conversation with bob (set up by the case); {ticket}: dave's feedback ticket (to carol, support).
MC = "/api/messageConversations"
REASONS = {200: "OK", 201: "Created", 403: "Forbidden", 404: "Not Found", 409: "Conflict"}


def web_message(status: int, message: str | None) -> dict[str, Any]:
    return {"httpStatus": REASONS[status], "httpStatusCode": status, "status": "OK" if status < 400 else "ERROR",
            "message": message}


DHIS2_NO_PERMISSION = web_message(403, "You do not have permission to perform this action.")
NO_USER_SETTINGS = web_message(403, "Applications have no user settings.")
FEEDBACK = {"feedbackRecipients": {"id": "support", "name": "support", "displayName": "support"}}
BOB = {"id": "bob", "username": "bob", "firstName": "Bob", "surname": "Baraka", "displayName": "Bob Baraka"}
CAROL = {"id": "carol", "username": "carol", "firstName": "Carol", "surname": "Chebet", "displayName": "Carol Chebet"}
SUPPORT_GROUP = {"pager": {"page": 1, "pageCount": 1, "total": 1, "pageSize": 50},
                 "userGroups": [{"id": "support", "displayName": "support"}]}
DISTRICT = {"organisationUnits": [{"id": "OuDistrict1", "displayName": "District 1"}]}


def alice_writes_bob(api, world):
    response = api.post(MC, user="alice", json={"subject": "Stock", "text": "Hi Bob", "users": [{"id": "bob"}]})
    assert response.status_code == 201, response.get_json()
    world["mc"] = response.headers["Location"].rsplit("/", 1)[1]


def alice_writes_bob_a_file(api, world):
    import io

    upload = api.post("/api/fileResources", user="alice", query_string={"domain": "MESSAGE_ATTACHMENT"},
                      data={"file": (io.BytesIO(b"register\n"), "register.txt", "text/plain")})
    world["mc_file"] = upload.get_json()["response"]["fileResource"]["id"]
    response = api.post(MC, user="alice", json={"subject": "File", "text": "see it", "users": [{"id": "bob"}],
                                                "attachments": [{"id": world["mc_file"]}]})
    assert response.status_code == 201, response.get_json()
    world["mc_file_conv"] = response.headers["Location"].rsplit("/", 1)[1]
    messages = api.get(f"{MC}/{world['mc_file_conv']}", user="alice", query_string={"fields": "messages[id]"})
    world["mc_file_msg"] = messages.get_json()["messages"][0]["id"]


def dave_sends_feedback(api, world):
    response = api.post(f"{MC}/feedback", user="dave", query_string={"subject": "Broken"}, data="It broke",
                        headers={"Content-Type": "text/plain"})
    assert response.status_code == 201, response.get_json()
    world["ticket"] = response.headers["Location"].rsplit("/", 1)[1]


def conversation_ids(user: str) -> Callable[[Any, dict[str, str]], None]:
    def after(api, world):
        listing = api.get(MC, user=user).get_json()["messageConversations"]
        assert [row["id"] for row in listing] == [world["mc"]], (user, listing)
    return after


def no_conversations(user: str) -> Callable[[Any, dict[str, str]], None]:
    """{mc} is gone from the user's list (and from their unread count)."""
    def after(api, world):
        listing = api.get(MC, user=user).get_json()["messageConversations"]
        assert world["mc"] not in [row["id"] for row in listing], user
    return after


def only(key: str, name: str) -> Callable[[Any, dict[str, str]], bool]:
    return lambda body, world: body == {name: [world[key]]}


def empty_listing(body, world) -> bool:
    return body["messageConversations"] == [] and body["pager"]["total"] == 0


CREATED = web_message(201, "Message conversation created")
NOT_ON_BEHALF = web_message(403, "Not authorized to modify this object.")
REMOVE_FORBIDDEN = web_message(403, "Not authorized to remove assigned users to this conversation.")
DHIS2_ROWS: dict[tuple[str, str], list[Case]] = {
    ("POST", MC): [
        Case("any active user or known application", MC,
             json={"subject": "Stock", "text": "Hello", "users": [{"id": "bob"}]},
             calls=[("ghost", 403, web_message(403, "Not authorized to send messages.")),
                    ("dave", 201, CREATED), ("app", 201, CREATED)],
             after=lambda api, world: len(api.get(MC, user="bob").get_json()["messageConversations"]) == 2
             or pytest.fail("bob should have dave's and the application's conversations")),
    ],
    ("GET", MC): [
        Case("only the caller's conversations", MC, setup=alice_writes_bob,
             calls=[("dave", 200, empty_listing), ("ghost", 200, empty_listing), ("admin", 200, empty_listing),
                    ("app", 403, web_message(403, "Applications have no conversations.")),
                    ("bob", 200, lambda body, world: [r["id"] for r in body["messageConversations"]] == [world["mc"]]),
                    ("alice", 200, lambda body, world: body["pager"]["total"] == 1)]),
    ],
    ("GET", f"{MC}/{{conversation_id}}"): [
        Case("participants and superusers", MC + "/{mc}", setup=alice_writes_bob, calls=[
            *[(who, 403, web_message(403, "Not authorized to access this conversation."))
              for who in ("dave", "ghost", "app", "carol", "erin")],
            ("bob", 200, lambda body, world: body["id"] == world["mc"] and body["read"] is False),
            ("alice", 200, lambda body, world: body["read"] is True), ("admin", 200, None)]),
    ],
    ("POST", f"{MC}/{{conversation_id}}"): [
        Case("reply: participants and superusers", MC + "/{mc}", setup=alice_writes_bob, json="Thanks",
             calls=[*[(who, 403, web_message(403, "Not authorized to send messages to this conversation."))
                      for who in ("dave", "ghost", "app", "carol")],
                    ("bob", 201, CREATED), ("admin", 201, CREATED)]),
        Case("internal notes need a ticket manager", MC + "/{mc}", setup=alice_writes_bob, json="Note",
             query={"internal": "true"},
             calls=[("dave", 403, web_message(403, "Not authorized to send internal messages")),
                    ("bob", 403, web_message(403, "Not authorized to send internal messages")),
                    ("carol", 403, web_message(403, "Not authorized to send messages to this conversation.")),
                    ("alice", 201, CREATED)]),
    ],
    ("POST", f"{MC}/{{conversation_id}}/recipients"): [
        Case("participants and superusers", MC + "/{mc}/recipients", setup=alice_writes_bob,
             json={"users": [{"id": "erin"}]},
             calls=[*[(who, 403, web_message(403, "Not authorized to change recipients in this conversation."))
                      for who in ("dave", "ghost", "app", "carol")],
                    ("bob", 204, None)],
             after=conversation_ids("erin")),
    ],
    ("POST", f"{MC}/feedback"): [
        Case("any active user", MC + "/feedback", query={"subject": "Broken"}, json="It broke",
             calls=[("ghost", 403, web_message(403, "Not authorized to send feedback.")),
                    ("app", 403, web_message(403, "Not authorized to send feedback.")),
                    ("dave", 201, web_message(201, "Feedback created"))],
             after=lambda api, world: len(api.get(MC, user="carol").get_json()["messageConversations"]) == 1
             or pytest.fail("carol (support) should have the ticket")),
    ],
    ("POST", f"{MC}/{{conversation_id}}/priority"): [
        Case("participants and superusers", MC + "/{mc}/priority", setup=alice_writes_bob,
             query={"messageConversationPriority": "HIGH"},
             calls=[*[(who, 403, web_message(403, "Not authorized to change priority in this conversation."))
                      for who in ("dave", "ghost", "app", "carol")],
                    ("bob", 200, only("mc", "HIGH")), ("admin", 200, only("mc", "HIGH"))]),
        Case("ticket managers on tickets", MC + "/{ticket}/priority", setup=dave_sends_feedback,
             query={"messageConversationPriority": "LOW"},
             calls=[("bob", 403, web_message(403, "Not authorized to change priority in this conversation.")),
                    ("alice", 200, only("ticket", "LOW")), ("carol", 200, only("ticket", "LOW"))]),
    ],
    ("POST", f"{MC}/{{conversation_id}}/status"): [
        Case("participants and superusers", MC + "/{mc}/status", setup=alice_writes_bob,
             query={"messageConversationStatus": "SOLVED"},
             calls=[*[(who, 403, web_message(403, "Not authorized to change status in this conversation."))
                      for who in ("dave", "ghost", "app", "carol")],
                    ("bob", 200, only("mc", "SOLVED")), ("admin", 200, only("mc", "SOLVED"))]),
    ],
    ("POST", f"{MC}/{{conversation_id}}/assign"): [
        Case("participants and superusers", MC + "/{mc}/assign", setup=alice_writes_bob, query={"userId": "bob"},
             calls=[*[(who, 403, web_message(403, "Not authorized to assign a user to this conversation."))
                      for who in ("dave", "ghost", "app", "carol")],
                    ("alice", 200, {"message": "User Bob Baraka was assigned successfully"})]),
    ],
    ("DELETE", f"{MC}/{{conversation_id}}/assign"): [
        Case("participants and superusers", MC + "/{mc}/assign", setup=alice_writes_bob,
             calls=[*[(who, 403, web_message(403, "Not authorized to remove the assigned user to this conversation."))
                      for who in ("dave", "ghost", "app", "carol")],
                    ("bob", 200, {"message": "Message is no longer assigned to user"})]),
    ],
    ("POST", f"{MC}/{{conversation_id}}/read"): [
        Case("participants, for themselves", MC + "/{mc}/read", setup=alice_writes_bob, calls=[
            *[(who, 403, web_message(403, "Not authorized to change read property of this conversation."))
              for who in ("dave", "ghost", "app", "carol")],
            ("bob", 200, only("mc", "markedRead")), ("bob", 200, {"markedRead": []})]),
        Case("on behalf of another user: superusers only", MC + "/{mc}/read", setup=alice_writes_bob,
             query={"userUid": "bob"},
             calls=[("alice", 403, NOT_ON_BEHALF), ("admin", 200, only("mc", "markedRead"))]),
    ],
    ("POST", f"{MC}/{{conversation_id}}/unread"): [
        Case("participants, for themselves", MC + "/{mc}/unread", setup=alice_writes_bob, calls=[
            *[(who, 403, web_message(403, "Not authorized to change read property of this conversation."))
              for who in ("dave", "ghost", "app", "carol")],
            ("bob", 200, {"markedUnread": []}), ("alice", 200, only("mc", "markedUnread"))]),
        Case("on behalf of another user: superusers only", MC + "/{mc}/unread", setup=alice_writes_bob,
             query={"userUid": "alice"},
             calls=[("bob", 403, NOT_ON_BEHALF), ("admin", 200, only("mc", "markedUnread"))]),
    ],
    ("POST", f"{MC}/read"): [
        Case("participants, for themselves", MC + "/read", setup=alice_writes_bob, json=["{mc}"], calls=[
            *[(who, 403, web_message(403, "Not authorized to change read property of this conversation."))
              for who in ("dave", "ghost", "app", "carol")],
            ("bob", 200, only("mc", "markedRead"))]),
        Case("on behalf of another user: superusers only", MC + "/read", setup=alice_writes_bob, json=["{mc}"],
             query={"user": "bob"}, calls=[("alice", 403, NOT_ON_BEHALF), ("admin", 200, only("mc", "markedRead"))]),
    ],
    ("POST", f"{MC}/unread"): [
        Case("participants, for themselves", MC + "/unread", setup=alice_writes_bob, json=["{mc}"], calls=[
            *[(who, 403, web_message(403, "Not authorized to change read property of this conversation."))
              for who in ("dave", "ghost", "app", "carol")],
            ("alice", 200, only("mc", "markedUnread"))]),
    ],
    ("POST", f"{MC}/followup"): [
        Case("participants, for themselves", MC + "/followup", setup=alice_writes_bob, json=["{mc}"], calls=[
            *[(who, 403, web_message(403, "Not authorized to change followups in this conversation."))
              for who in ("dave", "ghost", "app", "carol")],
            ("bob", 200, only("mc", "markedFollowup")), ("bob", 200, only("mc", "markedFollowup"))]),
        Case("on behalf of another user: superusers only", MC + "/followup", setup=alice_writes_bob, json=["{mc}"],
             query={"user": "bob"},
             calls=[("alice", 403, NOT_ON_BEHALF), ("admin", 200, only("mc", "markedFollowup"))]),
    ],
    ("POST", f"{MC}/unfollowup"): [
        Case("participants, for themselves", MC + "/unfollowup", setup=alice_writes_bob, json=["{mc}"], calls=[
            *[(who, 403, web_message(403, "Not authorized to change unfollowups in this conversation."))
              for who in ("dave", "ghost", "app", "carol")],
            ("bob", 200, only("mc", "unmarkedFollowup"))]),
    ],
    ("DELETE", f"{MC}/{{conversation_id}}"): [
        Case("hard delete: F_METADATA_IMPORT or ALL", MC + "/{mc}", setup=alice_writes_bob, calls=[
            *[(who, 403, web_message(403, "Access is denied, requires one Authority from [F_METADATA_IMPORT]"))
              for who in ("dave", "ghost", "app", "alice", "bob")],
            ("admin", 200, web_message(200, None)),
            ("admin", 404, lambda body, world: body == web_message(
                404, f"Message conversation does not exist: {world['mc']}"))],
            after=no_conversations("bob")),
    ],
    ("DELETE", f"{MC}/{{conversation_id}}/{{child_id}}"): [
        Case("a participant removes themselves", MC + "/{mc}/bob", setup=alice_writes_bob,
             calls=[*[(who, 403, REMOVE_FORBIDDEN) for who in ("dave", "ghost", "app", "carol")],
                    ("alice", 403, REMOVE_FORBIDDEN),               # on behalf of bob: superusers only
                    ("bob", 200, only("mc", "removed")),
                    ("bob", 403, REMOVE_FORBIDDEN)],                # no longer a participant
             after=no_conversations("bob")),
        Case("superusers remove anyone", MC + "/{mc}/alice", setup=alice_writes_bob,
             calls=[("bob", 403, REMOVE_FORBIDDEN), ("admin", 200, only("mc", "removed"))],
             after=no_conversations("alice")),
    ],
    ("DELETE", MC): [
        Case("batch: a participant removes themselves", MC, setup=alice_writes_bob, query={"mc": "{mc}"},
             calls=[*[(who, 403, REMOVE_FORBIDDEN) for who in ("dave", "ghost", "app", "carol")],
                    ("bob", 200, only("mc", "removed")),
                    ("bob", 403, REMOVE_FORBIDDEN)],                # no longer a participant
             after=no_conversations("bob")),
        Case("batch on behalf of another user: superusers only", MC, setup=alice_writes_bob,
             query={"mc": "{mc}", "user": "bob"},
             calls=[("alice", 403, REMOVE_FORBIDDEN), ("admin", 200, only("mc", "removed"))],
             after=no_conversations("bob")),
    ],
    ("GET", f"{MC}/{{conversation_id}}/{{child_id}}/attachments/{{file_id}}"): [
        Case("a conversation's file: participants and superusers", MC + "/{mc_file_conv}/{mc_file_msg}/attachments/"
             "{mc_file}", setup=alice_writes_bob_a_file,
             calls=[*[(who, 403, web_message(403, "Not authorized to access this conversation."))
                      for who in ("dave", "ghost", "app", "carol")],
                    ("bob", 302, None), ("admin", 302, None), ("alice", 302, None)]),
    ],
    ("POST", f"{MC}/attachments"): [
        Case("any authenticated caller may upload (DHIS2's older path)", MC + "/attachments",
             form=lambda: a_file_resource(),
             calls=[("dave", 200, lambda body, world: body["contentLength"] == 9), ("app", 200, None),
                    ("alice", 200, None)]),
    ],
    ("GET", "/api/me/dashboard"): [
        Case("each user counts their own", "/api/me/dashboard", setup=alice_writes_bob,
             calls=[("dave", 200, {"unreadMessageConversations": 0, "unreadInterpretations": 0}),
                    ("alice", 200, {"unreadMessageConversations": 0, "unreadInterpretations": 0}),
                    ("bob", 200, {"unreadMessageConversations": 1, "unreadInterpretations": 0})]),
    ],
    # What the DHIS2 Messaging app reads about people (docs/dhis2.md#looking-people-up): active users and known
    # applications; never anyone's email, phone or authorities but the caller's own.
    ("GET", "/api/me"): [
        Case("each active user reads their own", "/api/me", query={"fields": "id,email"},
             calls=[("app", 403, NO_USER_SETTINGS), ("ghost", 403, DHIS2_NO_PERMISSION),
                    ("dave", 200, {"id": "dave", "email": "dave@example.org"}),
                    ("bob", 200, {"id": "bob", "email": "bob@example.org"})]),
    ],
    ("GET", "/api/userSettings"): [
        Case("each active user reads their own", "/api/userSettings", query={"key": "keyUiLocale"},
             calls=[("app", 403, NO_USER_SETTINGS), ("ghost", 403, DHIS2_NO_PERMISSION),
                    ("bob", 200, {"keyUiLocale": "en"})]),
    ],
    ("GET", "/api/system/info"): [
        Case("anyone authenticated", "/api/system/info", query={"fields": "version"},
             calls=[("ghost", 200, {"version": "2.40.0"}), ("app", 200, None), ("bob", 200, {"version": "2.40.0"})]),
    ],
    ("GET", "/api/configuration"): [
        Case("active users and known applications", "/api/configuration",
             calls=[("ghost", 403, DHIS2_NO_PERMISSION), ("app", 200, FEEDBACK),
                    ("dave", 200, FEEDBACK)]),
    ],
    ("GET", "/api/userLookup"): [
        Case("active users and known applications; names only", "/api/userLookup", query={"query": "bob"},
             calls=[("ghost", 403, DHIS2_NO_PERMISSION),
                    ("app", 200, {"users": [BOB]}), ("dave", 200, {"users": [BOB]})]),
    ],
    ("GET", "/api/userLookup/feedbackRecipients"): [
        Case("active users and known applications; names only", "/api/userLookup/feedbackRecipients",
             query={"query": "car"},
             calls=[("ghost", 403, DHIS2_NO_PERMISSION),
                    ("app", 200, {"users": [CAROL]}), ("dave", 200, {"users": [CAROL]})]),
    ],
    ("GET", "/api/users"): [
        Case("active users and known applications; names only", "/api/users",
             query={"filter": "username:eq:bob", "fields": "*", "paging": "false"},
             calls=[("ghost", 403, DHIS2_NO_PERMISSION),
                    ("app", 200, {"users": [{**BOB, "name": "Bob Baraka"}]}),
                    ("dave", 200, {"users": [{**BOB, "name": "Bob Baraka"}]})]),
    ],
    ("GET", "/api/users/{user_id}"): [
        Case("active users and known applications; names only", "/api/users/bob",
             calls=[("ghost", 403, DHIS2_NO_PERMISSION),
                    ("app", 200, {**BOB, "name": "Bob Baraka"}), ("dave", 200, {**BOB, "name": "Bob Baraka"})]),
    ],
    ("GET", "/api/userGroups"): [
        Case("active users and known applications", "/api/userGroups", query={"filter": "id:eq:support"},
             calls=[("ghost", 403, DHIS2_NO_PERMISSION),
                    ("app", 200, SUPPORT_GROUP), ("dave", 200, SUPPORT_GROUP)]),
    ],
    ("GET", "/api/organisationUnits"): [
        Case("active users and known applications", "/api/organisationUnits",
             query={"filter": "displayName:token:dist", "paging": "false"},
             calls=[("ghost", 403, DHIS2_NO_PERMISSION),
                    ("app", 200, DISTRICT), ("dave", 200, DISTRICT)]),
    ],
}


def _versioned(path: str) -> str:
    return path.replace("/api/", "/api/33/", 1)


for (method, path), cases in DHIS2_ROWS.items():
    ROWS[(method, path)] = cases
    ROWS[(method, path.replace("/api/", "/api/{version}/", 1))] = [
        replace(case, name=f"{case.name} (/api/33)", path=_versioned(case.path)) for case in cases]


# -- attachments (docs/attachments.md) --------------------------------------------------------------------------------
# {file} is alice's upload on {file_msg}, a message on xform 34; {bob_file} carol's upload on a message to bob;
# {pending} is bob's upload, on no message.


def upload_as(api, user: str, data: bytes = b"register\n") -> str:
    import requests

    created = api.post("/api/v1/attachments", user=user,
                       json={"filename": "register.txt", "content_type": "text/plain", "size": len(data)})
    assert created.status_code == 201, created.get_json()
    form = created.get_json()
    posted = requests.post(form["upload"]["url"], data=form["upload"]["fields"], files={"file": ("f", data)},
                           timeout=10)
    assert posted.status_code == 204
    return form["id"]


def attach(sender: str, target_type: str, target_id: str, file_key: str, message_key: str):
    def setup(api, world):
        world[file_key] = upload_as(api, sender)
        world[message_key] = send(api, sender, target_type, target_id, "with a file",
                                  attachments=[world[file_key]])["id"]
    return setup


def bob_uploads(api, world):
    world["pending"] = upload_as(api, "bob")


def file_ids(*keys: str) -> Callable[[Any, dict[str, str]], bool]:
    return lambda body, world: [row["id"] for row in body] == [world[k] for k in keys]


def a_file_resource() -> dict[str, Any]:
    import io

    return {"file": (io.BytesIO(b"register\n"), "register.txt", "text/plain")}


ATTACHMENT = {"filename": "register.txt", "content_type": "text/plain", "size": 9}
ROWS.update({
    ("POST", "/api/v1/attachments"): [
        # One PutItem and no directory read (docs/attachments.md's budget): anyone authenticated may start an
        # upload, which expires unless it is linked, and linking needs an active caller allowed to post the message.
        Case("any authenticated caller may start an upload", "/api/v1/attachments", json=ATTACHMENT,
             calls=[("ghost", 201, None), ("dave", 201, None), ("app", 201, None),
                    ("alice", 201, lambda body, _: body["upload"]["fields"]["key"] == f"attachments/{body['id']}")]),
    ],
    ("GET", "/api/v1/attachments/{attachment_id}"): [
        Case("a linked file: whoever may read its message, and its uploader", "/api/v1/attachments/{file}",
             setup=attach("alice", "xform", "34", "file", "file_msg"),
             calls=[("dave", 404, NOT_FOUND), ("ghost", 404, NOT_FOUND), ("app", 404, NOT_FOUND),
                    ("bob", 302, None), ("erin", 302, None), ("admin", 302, None),
                    ("alice", 302, None)]),
        Case("a user message's file: that user and the uploader", "/api/v1/attachments/{bob_file}",
             setup=attach("carol", "user", "bob", "bob_file", "bob_file_msg"),
             calls=[("dave", 404, NOT_FOUND), ("alice", 404, NOT_FOUND), ("admin", 404, NOT_FOUND),
                    ("bob", 302, None), ("carol", 302, None)]),
        Case("a pending file: its uploader alone", "/api/v1/attachments/{pending}", setup=bob_uploads,
             calls=[("alice", 404, NOT_FOUND), ("admin", 404, NOT_FOUND), ("app", 404, NOT_FOUND),
                    ("bob", 302, None)]),
    ],
    ("GET", "/api/v1/messaging/{message_id}/attachments"): [
        Case("as the message: view on its target", "/api/v1/messaging/{file_msg}/attachments",
             setup=attach("alice", "xform", "34", "file", "file_msg"),
             calls=[("dave", 403, NO_PERMISSION), ("ghost", 403, NO_PERMISSION), ("app", 403, NO_PERMISSION),
                    ("bob", 200, file_ids("file")), ("admin", 200, file_ids("file"))]),
        Case("a user message: that user alone", "/api/v1/messaging/{user_msg}/attachments",
             calls=[("alice", 403, NO_PERMISSION), ("admin", 403, NO_PERMISSION), ("bob", 200, [])]),
    ],
    ("POST", "/api/fileResources"): [
        Case("any authenticated caller may upload (DHIS2)", "/api/fileResources",
             query={"domain": "MESSAGE_ATTACHMENT"}, form=a_file_resource,
             calls=[("dave", 202, lambda body, world: body["response"]["fileResource"]["contentLength"] == 9),
                    ("app", 202, None), ("alice", 202, None)]),
    ],
    ("POST", "/api/{version}/fileResources"): [
        Case("any authenticated caller may upload (DHIS2, versioned)", "/api/40/fileResources",
             query={"domain": "MESSAGE_ATTACHMENT"}, form=a_file_resource,
             calls=[("dave", 202, lambda body, world: body["response"]["fileResource"]["contentLength"] == 9),
                    ("app", 202, None), ("alice", 202, None)]),
    ],
})


# -- Aalam alerts (docs/aalam.md) ----------------------------------------------------------------------------------
# {alert}: the application's alert to bob and alice.
ALERTS_FROM_APPS_ONLY = {"detail": "Only applications may send or edit alerts."}
ALERT = {"message": {"from": "Billing", "app": APP, "content": "Invoice 7 is due",
                     "receiver": [{"type": "users", "value": ["bob@example.org", "alice@example.org"]}]}}


def app_alerts_bob_and_alice(api, world):
    response = api.request("PUT", "/aalam/base/message", app=APP, json=ALERT)
    assert response.status_code == 200, response.get_json()
    world["alert"] = response.get_json()["id"]


def alert_ids(*keys: str) -> Callable[[Any, dict[str, str]], bool]:
    return lambda body, world: [row["id"] for row in body] == [world[k] for k in keys]


def names_field(field: str) -> Callable[[Any, dict[str, str]], bool]:
    return lambda body, world: body["field"] == field


def alice_still_has_the_alert(unread: bool) -> Callable[[Any, dict[str, str]], None]:
    def after(api, world):
        listed = api.get("/aalam/base/messages", user="alice").get_json()
        assert [(a["id"], a["isread"]) for a in listed] == [(world["alert"], not unread)], listed
    return after


ROWS.update({
    ("PUT", "/aalam/base/message"): [
        Case("applications send, as themselves", "/aalam/base/message", json=ALERT,
             calls=[("dave", 403, ALERTS_FROM_APPS_ONLY), ("ghost", 403, ALERTS_FROM_APPS_ONLY),
                    ("admin", 403, ALERTS_FROM_APPS_ONLY),
                    ("app", 200, lambda body, world: (body["receivers"], body["unknown"]) == (2, []))]),
    ],
    ("GET", "/aalam/base/messages"): [
        Case("each user lists their own alerts", "/aalam/base/messages", setup=app_alerts_bob_and_alice,
             calls=[("dave", 200, []), ("ghost", 200, []), ("admin", 200, []), ("carol", 200, []),
                    ("app", 403, NO_INBOX), ("bob", 200, alert_ids("alert")), ("alice", 200, alert_ids("alert"))]),
    ],
    ("POST", "/aalam/base/message/{message_id}"): [
        Case("a receiver marks their own copy read", "/aalam/base/message/{alert}", query={"read": "true"},
             setup=app_alerts_bob_and_alice,
             calls=[("dave", 404, NOT_FOUND), ("ghost", 404, NOT_FOUND), ("admin", 404, NOT_FOUND),
                    ("app", 400, names_field("read")),
                    ("bob", 200, lambda body, world: body == {"id": world["alert"], "isread": True})],
             after=alice_still_has_the_alert(unread=True)),
        Case("the sending application edits", "/aalam/base/message/{alert}", query={"from": "Accounts"},
             setup=app_alerts_bob_and_alice,
             calls=[("dave", 400, names_field("from")), ("bob", 400, names_field("from")),
                    ("admin", 400, names_field("from")),
                    ("app", 200, lambda body, world: (body["id"], body["from"]) == (world["alert"], "Accounts"))]),
    ],
    ("DELETE", "/aalam/base/message/{message_id}"): [
        Case("a receiver deletes their own copy", "/aalam/base/message/{alert}", setup=app_alerts_bob_and_alice,
             calls=[("dave", 404, NOT_FOUND), ("ghost", 404, NOT_FOUND), ("admin", 404, NOT_FOUND),
                    ("app", 403, NO_INBOX),
                    ("bob", 200, lambda body, world: body == {"id": world["alert"]}), ("bob", 404, NOT_FOUND)],
             after=alice_still_has_the_alert(unread=True)),
    ],
    ("POST", "/aalam/base/messages/preference"): [
        Case("each user sets their own", "/aalam/base/messages/preference",
             query={"provider_code": "acme", "app_code": "billing", "unfollow": "true"},
             calls=[("app", 403, NO_INBOX), ("dave", 200, None),
                    ("bob", 200, {"provider_code": "acme", "app_code": "billing", "msg_group": None,
                                  "unfollow": True})],
             after=lambda api, world: api.request("PUT", "/aalam/base/message", app=APP, json=ALERT).get_json()[
                 "receivers"] == 1 or pytest.fail("bob unfollowed: only alice should receive")),
    ],
    ("GET", "/api/v1/app/callback-secret"): [
        Case("an application reads its own", "/api/v1/app/callback-secret",
             calls=[("dave", 403, ALERTS_FROM_APPS_ONLY), ("admin", 403, ALERTS_FROM_APPS_ONLY),
                    ("app", 200, lambda body, world: body["app"] == APP and len(body["secret"]) >= 32)]),
    ],
})


# -- the caller's own notification settings (docs/channels.md) -----------------------------------------------------
NO_SETTINGS = {"detail": "Applications have no user settings."}
ME = "/api/v1/me/settings"


def only_bob_opted_in(api, world):
    states = {user: api.get(ME, user=user).get_json()["notify_email"] for user in ("alice", "bob", "dave")}
    assert states == {"alice": False, "bob": True, "dave": False}, states


ROWS.update({
    ("GET", ME): [
        Case("each active user reads their own", ME,
             calls=[("app", 403, NO_SETTINGS), ("ghost", 403, NO_PERMISSION),
                    ("dave", 200, {"notify_email": False, "notify_sms": False, "email": "dave@example.org",
                                   "phone": None}),
                    ("bob", 200, {"notify_email": False, "notify_sms": False, "email": "bob@example.org",
                                  "phone": "+15550000002"})]),
    ],
    ("PATCH", ME): [
        Case("each active user changes their own", ME, json={"notify_email": True},
             calls=[("app", 403, NO_SETTINGS), ("ghost", 403, NO_PERMISSION),
                    ("bob", 200, lambda body, world: body["notify_email"] is True)],
             after=only_bob_opted_in),
    ],
})

# -- recipients by name for the web inbox's picker (docs/web.md#the-recipient-picker) -----------------------------
HH_FORM = {"results": [{"kind": "xform", "id": "34", "name": "hh_form"}]}

ROWS.update({
    ("GET", "/api/v1/lookup"): [
        Case("an active user finds the targets they may write to", "/api/v1/lookup", query={"query": "hh"},
             calls=[("app", 403, {"detail": "Applications cannot look up recipients."}),
                    ("ghost", 403, NO_PERMISSION),
                    ("dave", 200, {"results": []}),        # no role on the form
                    ("bob", 200, {"results": []}),         # dataentry: may not write to it
                    ("carol", 200, HH_FORM), ("admin", 200, HH_FORM)]),
    ],
})

# -- browser sessions (docs/dhis2.md#browser-sessions) -----------------------------------------------------------
NO_SESSION = {"detail": "Applications have no browser session."}


def sets_the_cookie(body, world) -> bool:
    return body is None


ROWS.update({
    ("POST", "/api/v1/session"): [
        Case("each active person starts their own", "/api/v1/session",
             calls=[("app", 403, NO_SESSION), ("ghost", 403, NO_PERMISSION),
                    ("dave", 204, sets_the_cookie), ("bob", 204, sets_the_cookie)]),
    ],
    ("DELETE", "/api/v1/session"): [
        Case("anyone signed in ends theirs", "/api/v1/session",
             calls=[("app", 204, None), ("bob", 204, None)]),
    ],
})

TEMPLATE_ROUTES = {(route.method, route.path): route for route in template.routes()}


def _fill(value: Any, world: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**world)
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    return value


def _as(caller: str) -> dict[str, Any]:
    if caller == "anonymous":
        return {}
    if caller == "garbage":
        return {"token": "garbage"}
    if caller == "app":
        return {"app": APP}
    return {"user": caller}


def _signed(claims: dict[str, Any], key: str | None = None) -> str:
    now = int(time.time())
    return jwt.encode({"iss": tokens.ISSUER, "iat": now, "exp": now + 600, **claims}, key or tokens._key(),
                      algorithm="HS256")


def bad_tokens() -> dict[str, str]:
    """Tokens no authorizer accepts: not a JWT, ID tokens, another key, expired, no postbox scope."""
    user = {"sub": "x", "username": "alice", "token_use": "access", "scope": "postbox/user"}
    return {
        "garbage": "garbage",
        "id token": _signed({"sub": "x", "cognito:username": "alice", "token_use": "id", "aud": "web",
                             "email": "alice@example.org"}),
        "id token with a scope": _signed({"sub": "x", "cognito:username": "alice", "username": "alice",
                                          "token_use": "id", "scope": "postbox/user"}),
        "another key": _signed(user, key="not-the-local-signing-key-but-long-enough-for-hs256"),
        "expired": _signed({**user, "exp": int(time.time()) - 60}),
        "no postbox scope": _signed({**user, "scope": "openid profile"}),
        "no token_use": _signed({k: v for k, v in user.items() if k != "token_use"}),
    }


def set_active(directory: dict[str, Any], user: str, active: bool) -> None:
    from postbox.logic.directory import parse_document, upsert

    entry = next(u for u in directory["users"] if u["id"] == user)
    upsert(parse_document({"users": [{"email": f"{user}@example.org", **entry, "active": active}]}))


@pytest.fixture
def world(api, stream, directory) -> dict[str, str]:
    set_active(directory, "frank", True)      # frank had an inbox, an alert and a conversation before he left
    ids = {"xform": send(api, "carol", "xform", "34", "Form message")["id"],
           "user_msg": send(api, "alice", "user", "bob", "Hi Bob")["id"],
           "frank_msg": send(api, "dave", "user", "frank", "Hi Frank")["id"]}
    assert api.request("PUT", "/aalam/base/message", app=APP, json={"message": {
        **ALERT["message"], "receiver": [{"type": "users", "value": ["frank@example.org"]}]}}).status_code == 200
    conversation = {"subject": "Hi", "text": "Frank?", "users": [{"id": "frank"}]}
    assert api.post(MC, app=APP, json=conversation).status_code == 201
    stream.drain()
    set_active(directory, "frank", False)
    return ids


def inactive_refusal(function: str) -> dict[str, Any]:
    """403 in the face's shape: DHIS2's WebMessage from its functions, `{"detail": ...}` elsewhere."""
    if function.startswith("Dhis2") or function == "UploadFileResourceFunction":
        return web_message(403, INACTIVE)
    return {"detail": INACTIVE}


@pytest.mark.parametrize("route", sorted(set(TEMPLATE_ROUTES) | set(ROWS)), ids=lambda r: f"{r[0]} {r[1]}")
def test_authorization_matrix(api, stream, world, route):
    if route not in ROWS:
        pytest.fail(f"{route[0]} {route[1]} is a route of template.yaml without a row in ROWS")
    if route not in TEMPLATE_ROUTES:
        pytest.fail(f"ROWS has a row for {route[0]} {route[1]}, which template.yaml does not route")
    method, _ = route
    for case in ROWS[route]:
        if case.setup:
            case.setup(api, world)
            stream.drain()
        path, body, query = _fill(case.path, world), _fill(case.json, world), _fill(case.query, world)
        assert TEMPLATE_ROUTES[route].regex.match(path), (case.name, path)

        def call(path=path, body=body, query=query, form=case.form, **who):
            if form is not None:
                return api.request(method, path, data=form(), query_string=query, **who)
            return api.request(method, path, json=body, query_string=query, **who)

        if TEMPLATE_ROUTES[route].authorized:
            for label, token in {"no token": None, **bad_tokens()}.items():
                response = call(token=token)
                assert (response.status_code, response.get_json()) == (401, UNAUTHENTICATED), (case.name, label)
                assert response.headers.get("WWW-Authenticate") == 'Bearer realm="api"'
            # The inactive column: frank, whatever the route and whatever he had.
            response = call(user="frank")
            refusal = inactive_refusal(TEMPLATE_ROUTES[route].function)
            assert (response.status_code, response.get_json()) == (403, refusal), case.name
        for caller, status, expected in case.calls:
            response = call(**_as(caller))
            got = response.get_json() if response.get_data() else None
            assert response.status_code == status, (case.name, caller, got)
            if callable(expected):
                assert expected(got, world), (case.name, caller, got)
            elif expected is not None:
                assert got == expected, (case.name, caller)
            if status == 204:
                assert got is None
        if case.after:
            stream.drain()
            case.after(api, world)


def test_an_inactive_users_refused_changes_change_nothing(api, stream, world, directory):
    """frank's read-all, entry delete and alert read are refused before any write: his inbox is as it was (and so
    no alert read reaches the stream, which would call the application back)."""
    set_active(directory, "frank", True)
    alert = next(e for e in api.get("/api/v1/inbox", user="frank").get_json()["items"] if e["kind"] == "alert")
    set_active(directory, "frank", False)
    for method, path, query in (("POST", "/api/v1/inbox/read-all", {}),
                                ("DELETE", f"/api/v1/inbox/{world['frank_msg']}", {}),
                                ("POST", f"/aalam/base/message/{alert['source_id']}", {"read": "true"})):
        assert api.request(method, path, user="frank", query_string=query).status_code == 403, path
    stream.drain()
    set_active(directory, "frank", True)
    entries = api.get("/api/v1/inbox", user="frank").get_json()["items"]
    assert sorted(e["kind"] for e in entries) == ["alert", "conversation", "message"]
    assert not any(e["read"] for e in entries)


def test_every_authorized_route_is_authorized_in_the_template():
    """Only /health is public (docs/architecture.md#permissions); the rest carry the Cognito authorizer."""
    public = sorted(f"{r.method} {r.path}" for r in template.routes() if not r.authorized)
    assert public == ["GET /health"]


# -- claims the handlers themselves refuse (defence behind the authorizer) ----------------------------------


def _invoke(api, method: str, path: str, claims: dict[str, str], body: Any = None) -> tuple[int, Any]:
    """Call a route's handler directly with the given authorizer claims (as API Gateway would pass them)."""
    import json

    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    from postbox_local.gateway import Gateway

    route = next(r for r in template.routes() if r.method == method and r.regex.match(path))
    request = Request(EnvironBuilder(path=path, method=method, json=body).get_environ())
    event = Gateway._event(request, route, route.regex.match(path).groupdict(), claims)
    result = api.functions.get(route.function, route.code_dir).invoke(event)
    return result["statusCode"], json.loads(result["body"]) if result.get("body") else None


@pytest.mark.parametrize("claims", [
    {"sub": "x", "cognito:username": "admin", "token_use": "id", "email": "admin@example.org"},
    {"sub": "x", "cognito:username": "admin", "token_use": "id", "scope": "postbox/user"},
    {"sub": "x", "username": "admin", "token_use": "access", "scope": "openid"},
    {"sub": "x", "token_use": "access", "scope": "postbox/user"},
    {"sub": "x", "token_use": "access", "scope": "postbox/app"},
    {},
], ids=["id token", "id token with scope", "no postbox scope", "user scope without username",
        "app scope without client_id", "no claims"])
def test_handlers_refuse_claims_no_authorizer_should_pass(api, world, claims):
    for method, path, body in (("GET", "/api/v1/directory/users", None), ("GET", f"/api/v1/messaging/{world['xform']}",
                                                                          None),
                               ("POST", "/api/v1/messaging", MESSAGE), ("GET", "/api/v1/inbox", None)):
        assert _invoke(api, method, path, claims, body) == (401, UNAUTHENTICATED), (method, path)


def test_handlers_read_an_access_tokens_username(api, world):
    claims = {"sub": "x", "username": "admin", "token_use": "access", "scope": "openid postbox/user",
              "client_id": "web"}
    status, body = _invoke(api, "GET", "/api/v1/directory/users", claims)
    assert status == 200 and len(body["users"]) == 7


def test_a_persons_token_with_the_app_scope_does_not_act_as_the_app(api):
    """A client-credentials token has no user; a user's token that carries postbox/app (a misconfigured app
    client) must not post system events as that client."""
    token = _signed({"sub": "x", "username": "alice", "client_id": APP, "token_use": "access",
                     "scope": "postbox/app"})
    response = api.post("/api/v1/messaging", token=token, json={**MESSAGE, "verb": "submission_created"})
    assert (response.status_code, response.get_json()) == (401, UNAUTHENTICATED)
    listing = api.get("/api/v1/messaging", user="alice", query_string={"target_type": "xform", "target_id": "34"})
    assert listing.get_json() == []


def test_an_unknown_application_may_not_post(api):
    response = api.post("/api/v1/messaging", app="nobody/app", json={**MESSAGE, "verb": "submission_created"})
    assert (response.status_code, response.get_json()) == (403, cannot_add("hh_form"))
