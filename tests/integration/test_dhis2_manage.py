"""DHIS2 face: recipients, feedback tickets, priority/status/assignment, read and follow-up state, removal and
hard delete (docs/dhis2.md; ported from DHIS2's controller tests)."""

import pytest
from support.dhis2 import MC, TEXT, assert_web_message, create, feedback, get, ids, participants, reply, uid_of
from support.directory import add_directory, ringo

NO_ID = {"message": "No MessageConversation found for the given ID."}
NO_IDS = {"message": "No MessageConversations found for the given IDs."}        # read/unread: "IDs."
NO_UIDS = {"message": "No MessageConversations found for the given UIDs"}       # follow-up: no period
NO_UIDS_REMOVE = {"message": "No MessageConversations found for the given UIDs."}
REMOVE_FORBIDDEN = "Not authorized to remove assigned users to this conversation."
ON_BEHALF = "Not authorized to modify this object."


def plain(response, status: int, body: dict) -> None:
    """DHIS2's RootNode "plain object": a bare body, the outcome only in the HTTP status."""
    assert (response.status_code, response.get_json()) == (status, body)


def support_group(*members: str) -> None:
    """Make group-a, holding the given users, the feedback recipients group (DHIS2's tests' "group A")."""
    add_directory({"groups": [{"id": "group-a", "name": "A"}],
                   "users": [{"id": m, "username": m, "name": m.title(), "groups": ["group-a"]} for m in members],
                   "settings": {"feedback_recipients_group": "group-a"}})


# -- recipients -------------------------------------------------------------------------------------------------


def test_add_recipients(api):
    uid = create(api, "alice", text="First message", users=("bob",))
    assert api.post(f"{MC}/read", user="bob", json=[uid]).status_code == 200
    response = api.post(f"{MC}/{uid}/recipients", user="bob",
                        json={"users": [{"id": "dave"}, {"id": "alice"}], "userGroups": [{"id": "support"}],
                              "organisationUnits": []})
    assert response.status_code == 204 and response.get_data() == b""
    # New participants unread; existing ones untouched (bob stays read, alice stays read).
    assert participants(api, uid) == {"alice": True, "bob": True, "dave": False, "carol": False}
    assert ids(api, "dave") == [uid]
    # A newcomer can read and search the whole history.
    assert [m["text"] for m in get(api, "dave", uid)["messages"]] == ["First message"]
    assert ids(api, "dave", queryString="first") == [uid]
    # Every list may be empty: a no-op, not "No recipients selected.".
    assert api.post(f"{MC}/{uid}/recipients", user="bob", json={}).status_code == 204
    assert api.post(f"{MC}/{uid}/recipients", user="bob", json={"users": []}).status_code == 204


def test_newcomers_search_the_history_and_see_no_internal_notes(api):
    uid = feedback(api, "bob", subject="Printer", text="It is jammed")
    reply(api, "carol", uid, "Vendor is slow", internal=True)
    reply(api, "carol", uid, "We ordered toner")
    assert api.post(f"{MC}/{uid}/recipients", user="carol", json={"users": [{"id": "erin"}]}).status_code == 204
    assert ids(api, "erin", queryString="jammed") == [uid]
    assert ids(api, "erin", queryString="toner") == [uid]
    assert ids(api, "erin", queryString="vendor") == []
    [entry] = api.get("/api/v1/inbox", user="erin").get_json()["items"]
    assert entry["text"] == "We ordered toner"


def test_add_recipients_errors(api):
    uid = create(api, "alice", users=("bob",))
    ringo()
    assert_web_message(api.post(f"{MC}/xyz/recipients", user="bob", json={"users": [{"id": "dave"}]}), 404,
                       "Message conversation does not exist: xyz")
    # DHIS2 testAddRecipientWithoutPermission
    assert_web_message(api.post(f"{MC}/{uid}/recipients", user="ringo",
                                json={"users": [{"id": "ringo"}], "userGroups": [], "organisationUnits": []}),
                       403, "Not authorized to change recipients in this conversation.")
    body = {"organisationUnits": [{"id": "OuNowhere01"}], "users": [{"id": "ghost"}], "userGroups": [{"id": "no"}]}
    assert_web_message(api.post(f"{MC}/{uid}/recipients", user="bob", json=body), 409,
                       "Organisation Unit does not exist: OuNowhere01")
    body["organisationUnits"] = []
    assert_web_message(api.post(f"{MC}/{uid}/recipients", user="bob", json=body), 409, "User does not exist: ghost")
    body["users"] = [{"id": "dave"}]
    assert_web_message(api.post(f"{MC}/{uid}/recipients", user="bob", json=body), 404,
                       "UserGroup with id no could not be found.")
    assert set(participants(api, uid)) == {"alice", "bob"}
    assert api.post(f"{MC}/{uid}/recipients", user="bob", json={"users": "dave"}).status_code == 400


# -- feedback ---------------------------------------------------------------------------------------------------


def test_post_message_conversation_feedback(api):
    """DHIS2 testPostMessageConversationFeedback."""
    response = api.post(f"{MC}/feedback", user="admin", query_string={"subject": "test"}, data="The message",
                        headers=TEXT)
    assert_web_message(response, 201, "Feedback created")
    uid = uid_of(response)
    assert response.headers["Location"].endswith(f"{MC}/{uid}")
    ticket = get(api, "admin", uid)
    assert (ticket["messageType"], ticket["status"], ticket["priority"]) == ("TICKET", "OPEN", "NONE")
    assert ticket["subject"] == "test" and ticket["messages"][0]["text"] == "The message"
    # Recipients: the feedback group's current members (support: carol), and the sender, read.
    assert participants(api, uid) == {"admin": True, "carol": False}
    versioned = api.post("/api/40/messageConversations/feedback", user="dave", query_string={"subject": "x"},
                         data="y", headers=TEXT)
    assert versioned.headers["Location"].rsplit("/", 1)[0].endswith("/api/40/messageConversations")


def test_feedback_goes_to_the_groups_current_members(api):
    support_group("ringo", "erin")
    uid = feedback(api, "bob")
    assert participants(api, uid) == {"bob": True, "ringo": False, "erin": False}
    # A member sending feedback is one participant, read.
    uid = feedback(api, "erin")
    assert participants(api, uid) == {"erin": True, "ringo": False}


def test_feedback_without_a_feedback_group_has_only_the_sender(api):
    add_directory({"settings": {"feedback_recipients_group": None}})
    uid = feedback(api, "bob")
    assert participants(api, uid) == {"bob": True}


def test_feedback_bad_input(api):
    for query, body in (({}, "Text"), ({"subject": ""}, "Text"), ({"subject": "x" * 256}, "Text"),
                        ({"subject": "S"}, ""), ({"subject": "S"}, "x" * 10001)):
        response = api.post(f"{MC}/feedback", user="bob", query_string=query, data=body, headers=TEXT)
        assert response.status_code == 400, (query, len(body))
    response = api.post(f"{MC}/feedback", user="bob", data="Text", headers=TEXT)
    assert response.get_json()["message"] == \
        "Required request parameter 'subject' for method parameter type String is not present"
    assert ids(api, "carol") == []


# -- priority, status, assignment -------------------------------------------------------------------------------


def test_priority_and_status(api):
    uid = create(api, "alice", users=("bob",))
    plain(api.post(f"{MC}/{uid}/priority", user="bob", query_string={"messageConversationPriority": "HIGH"}),
          200, {"HIGH": [uid]})
    plain(api.post(f"{MC}/{uid}/status", user="alice", query_string={"messageConversationStatus": "SOLVED"}),
          200, {"SOLVED": [uid]})
    conversation = get(api, "bob", uid)
    assert (conversation["priority"], conversation["status"]) == ("HIGH", "SOLVED")   # also on PRIVATE
    plain(api.post(f"{MC}/xyz/priority", user="bob", query_string={"messageConversationPriority": "LOW"}),
          404, NO_ID)
    plain(api.post(f"{MC}/AbCdEfGhIj1/status", user="bob", query_string={"messageConversationStatus": "OPEN"}),
          404, NO_ID)
    response = api.post(f"{MC}/{uid}/status", user="bob", query_string={"messageConversationStatus": "FOO"})
    assert_web_message(response, 400, "Value 'FOO' is not valid for parameter messageConversationStatus. "
                                      "Valid values are: [NONE, OPEN, PENDING, INVALID, SOLVED]")
    response = api.post(f"{MC}/{uid}/priority", user="bob", query_string={"messageConversationPriority": "URGENT"})
    assert_web_message(response, 400, "Value 'URGENT' is not valid for parameter messageConversationPriority. "
                                      "Valid values are: [NONE, LOW, MEDIUM, HIGH]")
    for path in ("status", "priority"):
        response = api.post(f"{MC}/{uid}/{path}", user="bob")
        assert response.status_code == 400, path
        assert "is not present" in response.get_json()["message"]


def test_change_priority_and_status_without_permission(api):
    """DHIS2 testChangePriorityWithoutPermission and testChangeStatusWithoutPermission."""
    uid = create(api, "admin", users=("admin",))
    ringo()
    assert_web_message(api.post(f"{MC}/{uid}/priority", user="ringo",
                                query_string={"messageConversationPriority": "HIGH"}),
                       403, "Not authorized to change priority in this conversation.")
    assert_web_message(api.post(f"{MC}/{uid}/status", user="ringo",
                                query_string={"messageConversationStatus": "SOLVED"}),
                       403, "Not authorized to change status in this conversation.")
    conversation = get(api, "admin", uid)
    assert (conversation["priority"], conversation["status"]) == ("NONE", "NONE")


def test_assign_and_unassign(api):
    uid = create(api, "alice", users=("bob",))
    plain(api.post(f"{MC}/{uid}/assign", user="bob", query_string={"userId": "dave"}), 200,
          {"message": "User Dave Dida was assigned successfully"})
    conversation = get(api, "bob", uid)
    assert conversation["assignee"]["id"] == "dave" and conversation["assignee"]["name"] == "Dave Dida"
    assert set(participants(api, uid)) == {"alice", "bob"}          # the assignee is not added
    assert ids(api, "bob", filter="assignee.id:eq:dave") == [uid]
    plain(api.delete(f"{MC}/{uid}/assign", user="alice"), 200, {"message": "Message is no longer assigned to user"})
    assert get(api, "bob", uid)["assignee"] is None
    assert ids(api, "bob", filter="assignee.id:eq:dave") == []
    for query in ({}, {"userId": "ghost"}, {"userId": "frank"}, {"userId": "bo#b"}):
        plain(api.post(f"{MC}/{uid}/assign", user="bob", query_string=query), 404,
              {"message": "Could not find user to assign"})
    plain(api.post(f"{MC}/xyz/assign", user="bob", query_string={"userId": "bob"}), 404, NO_ID)
    plain(api.delete(f"{MC}/xyz/assign", user="bob"), 404, NO_ID)


def test_ticket_assignees_must_be_in_the_feedback_group(api):
    uid = feedback(api, "bob")                                     # support: carol
    not_member = {"message": "User provided is not a member of the system's feedback recipient group"}
    plain(api.post(f"{MC}/{uid}/assign", user="carol", query_string={"userId": "dave"}), 409, not_member)
    plain(api.post(f"{MC}/{uid}/assign", user="carol", query_string={"userId": "admin"}), 409, not_member)  # ALL too
    plain(api.post(f"{MC}/{uid}/assign", user="carol", query_string={"userId": "carol"}), 200,
          {"message": "User Carol Chebet was assigned successfully"})
    # A validation result may be assigned to anyone.
    validation = create(api, "acme/billing", as_app=True, users=("bob",), messageType="VALIDATION_RESULT")
    plain(api.post(f"{MC}/{validation}/assign", user="bob", query_string={"userId": "dave"}), 200,
          {"message": "User Dave Dida was assigned successfully"})
    # Ticket managers act on tickets they do not take part in (alice: F_MANAGE_TICKETS); others do not.
    plain(api.post(f"{MC}/{uid}/status", user="alice", query_string={"messageConversationStatus": "SOLVED"}), 200,
          {"SOLVED": [uid]})
    assert_web_message(api.post(f"{MC}/{uid}/status", user="erin",
                                query_string={"messageConversationStatus": "OPEN"}),
                       403, "Not authorized to change status in this conversation.")


def test_ticket_changes_reach_every_participant(api):
    """Status, priority and assignee are copied onto each participant's row (the list filters on them), one
    conditional UpdateItem per row (docs/architecture.md#data-model's "N conditional updates"): read and follow-up
    state stay as each
    user left them, and nothing Scans."""
    from postbox_local.metering import dynamodb_requests

    users = [f"user{i:03d}" for i in range(60)]
    add_directory({"org_units": [{"id": "OuBig000001", "name": "Big"}],
                   "users": [{"id": u, "username": u, "org_units": ["OuBig000001"]} for u in users]})
    uid = create(api, "alice", users=(), units=("OuBig000001",))
    assert api.post(f"{MC}/read", user="user007", json=[uid]).status_code == 200
    assert api.post(f"{MC}/followup", user="user008", json=[uid]).status_code == 200
    with dynamodb_requests() as calls:
        plain(api.post(f"{MC}/{uid}/status", user="alice", query_string={"messageConversationStatus": "PENDING"}),
              200, {"PENDING": [uid]})
    assert calls["UpdateItem"] == 1 + 61 and "Scan" not in calls, calls          # the header, 61 rows
    assert sum(calls.values()) <= 61 + 4, calls
    for user in ("user000", "user059", "alice"):
        assert ids(api, user, filter="status:eq:PENDING") == [uid], user
    assert get(api, "user007", uid)["read"] is True and get(api, "user008", uid)["followUp"] is True
    assert get(api, "user009", uid)["read"] is False
    assert api.post(f"{MC}/{uid}/assign", user="alice", query_string={"userId": "bob"}).status_code == 200
    assert ids(api, "user010", filter="assignee.id:eq:bob") == [uid]
    assert api.delete(f"{MC}/{uid}/assign", user="alice").status_code == 200
    assert ids(api, "user010", filter="assignee.id:ne:bob") == [uid]


def test_assign_users_without_permission(api):
    """DHIS2 testAssignUsersWithoutPermission and testDeleteAssignUsersWithoutPermission."""
    uid = create(api, "admin", users=("admin",))
    ringo()
    assert_web_message(api.post(f"{MC}/{uid}/assign", user="ringo", query_string={"userId": "ringo"}),
                       403, "Not authorized to assign a user to this conversation.")
    assert_web_message(api.delete(f"{MC}/{uid}/assign", user="ringo"),
                       403, "Not authorized to remove the assigned user to this conversation.")


# -- read and unread --------------------------------------------------------------------------------------------


def test_batch_read_lists_only_what_changed(api):
    a = create(api, "alice", subject="A")
    b = create(api, "alice", subject="B")
    assert api.post(f"{MC}/read", user="bob", json=[b]).status_code == 200
    plain(api.post(f"{MC}/read", user="bob", json=[a, b, "AbCdEfGhIj1", "xyz"]), 200, {"markedRead": [a]})
    plain(api.post(f"{MC}/read", user="bob", json=[a]), 200, {"markedRead": []})
    plain(api.post(f"{MC}/read", user="bob", json=["AbCdEfGhIj1", "xyz"]), 404, NO_IDS)
    plain(api.post(f"{MC}/read", user="bob", json=[]), 404, NO_IDS)
    plain(api.post(f"{MC}/unread", user="bob", json=[a, b, a]), 200, {"markedUnread": [a, b]})
    plain(api.post(f"{MC}/unread", user="bob", json=[a]), 200, {"markedUnread": []})
    plain(api.post(f"{MC}/unread", user="bob", json=["AbCdEfGhIj1"]), 404, NO_IDS)
    assert participants(api, a)["bob"] is False


def test_single_read_and_unread(api):
    uid = create(api, "alice")
    plain(api.post(f"{MC}/{uid}/read", user="bob"), 200, {"markedRead": [uid]})
    plain(api.post(f"{MC}/{uid}/read", user="bob"), 200, {"markedRead": []})
    plain(api.post(f"{MC}/{uid}/unread", user="bob"), 200, {"markedUnread": [uid]})
    plain(api.post(f"{MC}/xyz/read", user="bob"), 404, NO_IDS)
    plain(api.post(f"{MC}/AbCdEfGhIj1/unread", user="bob"), 404, NO_IDS)


def test_read_on_behalf_of_another_user_needs_a_superuser(api):
    uid = create(api, "alice", users=("bob",))
    # DHIS2 HEAD lets any participant change another's state; Postbox allows it to superusers only.
    assert_web_message(api.post(f"{MC}/{uid}/read", user="alice", query_string={"userUid": "bob"}), 403, ON_BEHALF)
    assert_web_message(api.post(f"{MC}/read", user="alice", json=[uid], query_string={"user": "bob"}), 403,
                       ON_BEHALF)
    assert_web_message(api.post(f"{MC}/followup", user="alice", json=[uid], query_string={"user": "bob"}), 403,
                       ON_BEHALF)
    assert participants(api, uid)["bob"] is False
    plain(api.post(f"{MC}/{uid}/read", user="admin", query_string={"userUid": "bob"}), 200, {"markedRead": [uid]})
    assert participants(api, uid)["bob"] is True
    plain(api.post(f"{MC}/unread", user="admin", json=[uid], query_string={"user": "bob"}), 200,
          {"markedUnread": [uid]})
    plain(api.post(f"{MC}/followup", user="admin", json=[uid], query_string={"user": "bob"}), 200,
          {"markedFollowup": [uid]})
    assert get(api, "bob", uid)["followUp"] is True
    # Naming oneself is no acting on behalf.
    plain(api.post(f"{MC}/{uid}/read", user="bob", query_string={"userUid": "bob"}), 200, {"markedRead": [uid]})
    # Unknown target users: 404 before anything else.
    for caller in ("alice", "admin", "dave"):
        plain(api.post(f"{MC}/{uid}/read", user=caller, query_string={"userUid": "ghost"}), 404,
              {"message": "No user with uid: ghost"})
        plain(api.post(f"{MC}/read", user=caller, json=["xyz"], query_string={"user": "ghost"}), 404,
              {"message": "No user with uid: ghost"})
        plain(api.post(f"{MC}/unfollowup", user=caller, json=[uid], query_string={"user": "ghost"}), 404,
              {"message": "No user with uid: ghost"})


def test_change_feedback_message_when_in_the_recipient_group(api):
    """DHIS2 testChangeFeedbackMessage: a feedback-group member may mark a ticket they are no participant of."""
    uid = feedback(api, "admin", subject="Subject")
    support_group("ringo")
    response = api.post(f"{MC}/read", user="ringo", json=[uid], query_string={"user": "ringo"})
    plain(response, 200, {"markedRead": []})                       # ringo is no participant: nothing changed
    assert set(participants(api, uid)) == {"admin", "carol"}


def test_change_feedback_message_without_permission(api):
    """DHIS2 testChangeFeedbackMessageWithoutPermission."""
    uid = feedback(api, "admin", subject="Subject")
    ringo()
    response = api.post(f"{MC}/read", user="ringo", json=[uid], query_string={"user": "ringo"})
    assert response.status_code == 403


def test_change_read_status_without_permission(api):
    """DHIS2 testChangeReadStatusWithoutPermission."""
    uid = create(api, "admin", users=("admin",))
    ringo()
    assert_web_message(api.post(f"{MC}/read", user="ringo", json=[uid], query_string={"user": "ringo"}),
                       403, "Not authorized to change read property of this conversation.")


def test_batches_are_all_or_nothing_on_access(api):
    mine = create(api, "alice", subject="Mine", users=("bob",))
    not_mine = create(api, "carol", subject="Not mine", users=("dave",))
    assert_web_message(api.post(f"{MC}/read", user="bob", json=[mine, not_mine]), 403,
                       "Not authorized to change read property of this conversation.")
    assert_web_message(api.post(f"{MC}/followup", user="bob", json=[mine, not_mine]), 403,
                       "Not authorized to change followups in this conversation.")
    assert (get(api, "bob", mine)["read"], get(api, "bob", mine)["followUp"]) == (False, False)
    # and the other way round
    plain(api.post(f"{MC}/read", user="bob", json=[mine]), 200, {"markedRead": [mine]})
    plain(api.post(f"{MC}/followup", user="bob", json=[mine]), 200, {"markedFollowup": [mine]})
    assert_web_message(api.post(f"{MC}/unread", user="bob", json=[mine, not_mine]), 403,
                       "Not authorized to change read property of this conversation.")
    assert_web_message(api.post(f"{MC}/unfollowup", user="bob", json=[mine, not_mine]), 403,
                       "Not authorized to change unfollowups in this conversation.")
    assert (get(api, "bob", mine)["read"], get(api, "bob", mine)["followUp"]) == (True, True)


def test_batch_size_is_limited(api):
    uid = create(api, "alice")
    too_many = [uid] + [f"AbCdEfGh{i:03d}" for i in range(100)]
    for path in ("read", "unread", "followup", "unfollowup"):
        response = api.post(f"{MC}/{path}", user="bob", json=too_many)
        assert response.status_code == 400, path
    response = api.delete(MC, user="bob", query_string={"mc": ",".join(too_many)})
    assert response.status_code == 400
    assert set(participants(api, uid)) == {"alice", "bob"}
    for body in ({"ids": [uid]}, "x", [1, 2]):
        assert api.post(f"{MC}/read", user="bob", json=body).status_code == 400, body


# -- follow-up --------------------------------------------------------------------------------------------------


def test_followup_lists_every_loaded_conversation(api):
    a = create(api, "alice", subject="A")
    b = create(api, "alice", subject="B")
    plain(api.post(f"{MC}/followup", user="bob", json=[a]), 200, {"markedFollowup": [a]})
    plain(api.post(f"{MC}/followup", user="bob", json=[a, b, "xyz"]), 200, {"markedFollowup": [a, b]})
    plain(api.post(f"{MC}/followup", user="bob", json=[a]), 200, {"markedFollowup": [a]})   # unchanged, listed
    assert ids(api, "bob", filter="followUp:eq:true", order="lastMessage:asc") == [a, b]
    plain(api.post(f"{MC}/unfollowup", user="bob", json=[b]), 200, {"unmarkedFollowup": [b]})
    plain(api.post(f"{MC}/unfollowup", user="bob", json=[b]), 200, {"unmarkedFollowup": [b]})
    assert ids(api, "bob", filter="followUp:eq:true") == [a]
    assert get(api, "alice", a)["followUp"] is False               # per user
    plain(api.post(f"{MC}/followup", user="bob", json=["xyz", "AbCdEfGhIj1"]), 404, NO_UIDS)
    plain(api.post(f"{MC}/unfollowup", user="bob", json=["xyz"]), 404, NO_UIDS)
    # A superuser who is no participant: every loaded conversation is listed, nothing is created.
    plain(api.post(f"{MC}/followup", user="admin", json=[a]), 200, {"markedFollowup": [a]})
    assert set(participants(api, a)) == {"alice", "bob"}


def test_change_followup_without_permission(api):
    """DHIS2 testChangeFollowupWithoutPermission / testChangeUnFollowupWithoutPermission (`userUid` is no
    parameter of these endpoints: ignored, the target stays ringo)."""
    uid = create(api, "admin", users=("admin",))
    ringo()
    assert_web_message(api.post(f"{MC}/followup", user="ringo", json=[uid], query_string={"userUid": "ringo"}),
                       403, "Not authorized to change followups in this conversation.")
    assert_web_message(api.post(f"{MC}/unfollowup", user="ringo", json=[uid], query_string={"userUid": "ringo"}),
                       403, "Not authorized to change unfollowups in this conversation.")


# -- hard delete ------------------------------------------------------------------------------------------------


def test_delete_object(api):
    """DHIS2 testDeleteObject: admin hard-deletes → 200 ("OK", 200, "OK", null)."""
    uid = create(api, "admin", users=("admin",))
    assert_web_message(api.delete(f"{MC}/{uid}", user="admin"), 200, None)
    assert api.get(f"{MC}/{uid}", user="admin").status_code == 404


def test_hard_delete_removes_everything_for_everyone(api, stream, published):
    from boto3.dynamodb.conditions import Key

    from postbox.dal import table

    uid = create(api, "alice", users=("bob", "erin"))
    reply(api, "bob", uid, "Reply")
    stream.drain()
    add_directory({"users": [{"id": "importer", "username": "importer", "name": "Importer",
                              "authorities": ["F_METADATA_IMPORT"]}]})
    assert_web_message(api.delete(f"{MC}/{uid}", user="importer"), 403, "Not authorized to delete this conversation.")
    assert api.post(f"{MC}/{uid}/recipients", user="alice", json={"users": [{"id": "importer"}]}).status_code == 204
    assert_web_message(api.delete(f"{MC}/{uid}", user="importer"), 200, None)
    for user in ("alice", "bob", "erin", "importer"):
        assert ids(api, user) == [], user
        assert api.get("/api/v1/inbox", user=user).get_json()["items"] == [], user
    assert table.query_all(Key("PK").eq(f"CONV#{uid}"), consistent=True) == []
    assert_web_message(api.delete(f"{MC}/{uid}", user="admin"), 404, f"Message conversation does not exist: {uid}")
    stream.drain()
    assert [p["event"] for _, p in published("postbox/user/bob/inbox")][-1] == "deleted"


def test_hard_delete_needs_the_authority_first(api):
    uid = create(api, "alice", users=("bob",))
    denied = "Access is denied, requires one Authority from [F_METADATA_IMPORT]"
    for caller in ("alice", "bob", "dave", "carol"):
        assert_web_message(api.delete(f"{MC}/{uid}", user=caller), 403, denied)
        assert_web_message(api.delete(f"{MC}/xyz", user=caller), 403, denied)      # before the 404
    assert_web_message(api.delete(f"{MC}/xyz", user="admin"), 404, "Message conversation does not exist: xyz")
    assert ids(api, "bob") == [uid]


# -- removing users ---------------------------------------------------------------------------------------------


def test_remove_one_user(api):
    uid = create(api, "alice", users=("bob", "erin"))
    plain(api.delete(f"{MC}/{uid}/bob", user="bob"), 200, {"removed": [uid]})      # the conversation's uid
    assert ids(api, "bob") == []
    assert api.get("/api/v1/inbox", user="bob").get_json()["items"] == []
    assert ids(api, "erin") == [uid] and ids(api, "alice") == [uid]
    assert set(participants(api, uid)) == {"alice", "erin"}
    # A superuser removes anyone; a non-participant target: nothing removed.
    plain(api.delete(f"{MC}/{uid}/erin", user="admin"), 200, {"removed": [uid]})
    plain(api.delete(f"{MC}/{uid}/dave", user="admin"), 200, {"removed": []})
    # The conversation stays when its last participant leaves (DHIS2 keeps it too).
    plain(api.delete(f"{MC}/{uid}/alice", user="alice"), 200, {"removed": [uid]})
    assert get(api, "admin", uid)["userMessages"] == []


def test_remove_one_user_errors_in_dhis2s_order(api):
    uid = create(api, "alice", users=("bob",))
    plain(api.delete(f"{MC}/xyz/ghost", user="bob"), 404, {"message": "No user with uid: ghost"})
    plain(api.delete(f"{MC}/{uid}/ghost", user="bob"), 404, {"message": "No user with uid: ghost"})
    plain(api.delete(f"{MC}/xyz/bob", user="bob"), 404, {"message": "No messageConversation with uid: xyz"})
    assert_web_message(api.delete(f"{MC}/{uid}/bob", user="dave"), 403, REMOVE_FORBIDDEN)
    # Removing someone else: superusers only (DHIS2 HEAD lets any participant).
    assert_web_message(api.delete(f"{MC}/{uid}/bob", user="alice"), 403, REMOVE_FORBIDDEN)
    assert set(participants(api, uid)) == {"alice", "bob"}


def test_remove_user_without_permission(api):
    """DHIS2 testRemoveUserWithoutPermission and testRemoveUsersBatchWithoutPermission."""
    uid = create(api, "admin", users=("admin",))
    ringo()
    assert_web_message(api.delete(f"{MC}/{uid}/admin", user="ringo"), 403, REMOVE_FORBIDDEN)
    assert_web_message(api.delete(MC, user="ringo", query_string={"mc": uid, "user": "admin"}), 403,
                       REMOVE_FORBIDDEN)
    assert participants(api, uid) == {"admin": True}


def test_batch_remove(api):
    a = create(api, "alice", subject="A", users=("bob",))
    b = create(api, "alice", subject="B", users=("bob",))
    c = create(api, "alice", subject="C", users=("bob",))
    # Repeated mc, unknown ids skipped.
    response = api.delete(MC, user="bob", query_string=[("mc", a), ("mc", "AbCdEfGhIj1"), ("mc", "xyz")])
    plain(response, 200, {"removed": [a]})
    assert ids(api, "bob") == [c, b]
    assert a in ids(api, "alice")                                   # the others still see it
    # A comma-separated list.
    plain(api.delete(MC, user="bob", query_string={"mc": f"{b},{c}"}), 200, {"removed": [b, c]})
    assert ids(api, "bob") == []
    # Nothing known: 404 (with a period, unlike follow-up's text).
    plain(api.delete(MC, user="bob", query_string={"mc": "AbCdEfGhIj1"}), 404, NO_UIDS_REMOVE)
    plain(api.delete(MC, user="alice", query_string={"mc": a, "user": "ghost"}), 404,
          {"message": "User does not exist: ghost"})
    assert api.delete(MC, user="bob").status_code == 400              # mc is required


def test_batch_remove_partial_failure_semantics(api):
    a = create(api, "alice", subject="A", users=("bob", "erin"))
    b = create(api, "alice", subject="B", users=("erin",))
    strangers = create(api, "carol", subject="C", users=("dave",))
    # All-or-nothing on access: one conversation bob may not touch fails the batch and removes nothing.
    assert_web_message(api.delete(MC, user="bob", query_string={"mc": [a, strangers]}), 403, REMOVE_FORBIDDEN)
    assert ids(api, "bob") == [a]
    # A superuser removing erin: a conversation she is not in is skipped.
    plain(api.delete(MC, user="admin", query_string={"mc": [a, b, strangers], "user": "erin"}), 200,
          {"removed": [a, b]})
    assert ids(api, "erin") == []
    assert set(participants(api, strangers)) == {"carol", "dave"}
    # On behalf of someone else, a participant may not.
    assert_web_message(api.delete(MC, user="alice", query_string={"mc": a, "user": "bob"}), 403, REMOVE_FORBIDDEN)
    assert ids(api, "bob") == [a]


@pytest.mark.parametrize("prefix", ["/api/messageConversations", "/api/36/messageConversations"])
def test_state_endpoints_answer_under_both_paths(api, prefix):
    uid = create(api, "alice")
    plain(api.post(f"{prefix}/{uid}/read", user="bob"), 200, {"markedRead": [uid]})
    plain(api.post(f"{prefix}/unread", user="bob", json=[uid]), 200, {"markedUnread": [uid]})
    plain(api.post(f"{prefix}/followup", user="bob", json=[uid]), 200, {"markedFollowup": [uid]})
    plain(api.post(f"{prefix}/{uid}/priority", user="bob", query_string={"messageConversationPriority": "LOW"}),
          200, {"LOW": [uid]})
    plain(api.delete(f"{prefix}/{uid}/bob", user="bob"), 200, {"removed": [uid]})


def test_unknown_target_users_are_404_on_unread_and_followup_too(api):
    uid = create(api, "alice", users=("bob",))
    before = (participants(api, uid), get(api, "bob", uid)["followUp"])
    for path, params in ((f"{MC}/{uid}/unread", {"query_string": {"userUid": "ghost"}}),
                         (f"{MC}/unread", {"json": [uid], "query_string": {"user": "ghost"}}),
                         (f"{MC}/followup", {"json": [uid], "query_string": {"user": "ghost"}})):
        for caller in ("alice", "admin"):
            plain(api.post(path, user=caller, **params), 404, {"message": "No user with uid: ghost"})
    assert (participants(api, uid), get(api, "bob", uid)["followUp"]) == before


def test_batch_unread_and_unfollowup_skip_unknown_ids(api):
    a = create(api, "alice", subject="A", users=("bob",))
    plain(api.post(f"{MC}/read", user="bob", json=[a]), 200, {"markedRead": [a]})
    plain(api.post(f"{MC}/followup", user="bob", json=[a]), 200, {"markedFollowup": [a]})

    plain(api.post(f"{MC}/unread", user="bob", json=[a, "AbCdEfGhIj1", "xyz"]), 200, {"markedUnread": [a]})
    plain(api.post(f"{MC}/unfollowup", user="bob", json=[a, "xyz"]), 200, {"unmarkedFollowup": [a]})
    assert (get(api, "bob", a)["read"], get(api, "bob", a)["followUp"]) == (False, False)


def test_the_versioned_paths_answer_dhis2s_404s(api):
    plain(api.get("/api/33/messageConversations/AbCdEfGhIj1", user="alice"), 404,
          {"message": "No MessageConversation found with UID: AbCdEfGhIj1"})
    plain(api.post("/api/33/messageConversations/xyz/priority", user="alice",
                   query_string={"messageConversationPriority": "LOW"}), 404, NO_ID)


def test_a_body_over_1_mb_is_a_413_web_message_and_adds_nothing(api):
    uid = create(api, "alice", users=("bob",))
    assert_web_message(reply(api, "bob", uid, "x" * (1024 * 1024 + 1)), 413, "The request body is larger than 1 MB.")
    assert [m["text"] for m in get(api, "alice", uid, fields="messages[text]")["messages"]] == ["Text"]
