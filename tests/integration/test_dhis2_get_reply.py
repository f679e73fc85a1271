"""DHIS2 face: getting one conversation and replying (docs/dhis2.md; ported from DHIS2's controller tests
§4.1 #4 #5 #10 #20–#23, §4.3), with the MQTT events and inbox entries the stream makes of them."""

from support.dhis2 import (
    CREATED,
    MC,
    TEXT,
    assert_web_message,
    create,
    feedback,
    get,
    ids,
    listing,
    participants,
    reply,
)
from support.directory import add_directory, ringo

NOT_FOUND_GET = "No MessageConversation found with UID: {}"


# -- get ----------------------------------------------------------------------------------------------------


def test_get_one_with_per_user_state_and_messages_oldest_first(api):
    uid = create(api, "alice", subject="Stock", text="First", users=("bob", "erin"))
    reply(api, "bob", uid, "Second")
    reply(api, "erin", uid, "Third")
    assert api.post(f"{MC}/followup", user="bob", json=[uid]).status_code == 200
    for user, read, follow_up in (("alice", False, False), ("bob", False, True), ("erin", False, False)):
        conversation = get(api, user, uid)
        assert [m["text"] for m in conversation["messages"]] == ["First", "Second", "Third"], user
        assert [m["sender"]["id"] for m in conversation["messages"]] == ["alice", "bob", "erin"]
        assert (conversation["read"], conversation["followUp"]) == (read, follow_up), user
    assert get(api, "bob", uid)["lastSender"]["id"] == "erin"
    assert get(api, "bob", uid)["messageCount"] == 3


def test_mark_read_only_when_asked_with_the_literal_true(api):
    uid = create(api, "alice", users=("bob",))
    assert get(api, "bob", uid)["read"] is False
    assert get(api, "bob", uid, markRead="false")["read"] is False
    assert get(api, "bob", uid, markRead="TRUE")["read"] is False     # DHIS2 2.42 matches "true" exactly
    assert listing(api, "bob", fields="read")["messageConversations"] == [{"read": False}]
    assert get(api, "bob", uid, markRead="true")["read"] is True
    assert listing(api, "bob", fields="read")["messageConversations"] == [{"read": True}]
    assert api.get("/api/me/dashboard", user="bob").get_json()["unreadMessageConversations"] == 0
    # A superuser who is no participant reads it without gaining a participant row.
    assert get(api, "admin", uid, markRead="true")["read"] is False
    assert set(participants(api, uid)) == {"alice", "bob"}


def test_get_not_found_and_forbidden_in_dhis2s_order(api):
    uid = create(api, "alice", users=("bob",))
    for caller in ("dave", "alice", "admin"):
        for missing in ("xyz", "AbCdEfGhIj1", "x" * 300):
            response = api.get(f"{MC}/{missing}", user=caller)
            assert response.status_code == 404, (caller, missing)
            assert response.get_json() == {"message": NOT_FOUND_GET.format(missing)}
    for stranger in ("dave", "erin", "carol"):      # carol manages tickets, but this is no ticket
        assert_web_message(api.get(f"{MC}/{uid}", user=stranger), 403, "Not authorized to access this conversation.")
    assert get(api, "admin", uid)["id"] == uid      # superuser


def test_get_with_message_fields(api):
    """DHIS2 testGetConversationWithMessageFields."""
    uid = create(api, "admin", subject="Test Subject", text="Hello World", users=("admin",))
    body = get(api, "admin", uid, fields="messages[text,sender,internal,lastUpdated]")
    assert body["messages"]
    first = body["messages"][0]
    assert first["text"] == "Hello World"
    assert first["lastUpdated"]
    assert first["internal"] is False
    assert first["sender"]["id"] == "admin"
    assert set(body) == {"messages"} and set(first) == {"text", "sender", "internal", "lastUpdated"}


def test_reply_message_sender_mapping(api):
    """DHIS2 testReplyMessageSenderMapping."""
    uid = create(api, "admin", text="Original", users=("admin",))
    assert_web_message(reply(api, "admin", uid, "Reply message"), 201, CREATED)
    messages = get(api, "admin", uid, fields="messages[text,sender[id]]")["messages"]
    assert len(messages) == 2
    assert all(m["sender"]["id"] == "admin" for m in messages)
    assert messages == [{"text": "Original", "sender": {"id": "admin"}},
                        {"text": "Reply message", "sender": {"id": "admin"}}]


def test_multiple_replies_message_mapping(api):
    """DHIS2 testMultipleRepliesMessageMapping."""
    uid = create(api, "admin", text="First", users=("admin",))
    reply(api, "admin", uid, "Second")
    reply(api, "admin", uid, "Third")
    messages = get(api, "admin", uid, fields="messages[text,sender,lastUpdated]")["messages"]
    assert len(messages) == 3
    assert [m["text"] for m in messages] == ["First", "Second", "Third"]
    assert all(m["lastUpdated"] and m["sender"] for m in messages)


# -- reply --------------------------------------------------------------------------------------------------


def test_post_message_conversation_reply(api):
    """DHIS2 testPostMessageConversationReply: 201 and a Location naming the same conversation."""
    uid = create(api, "admin", users=("admin",))
    response = reply(api, "admin", uid, "The message")
    assert_web_message(response, 201, CREATED)
    assert response.headers["Location"].endswith(f"{MC}/{uid}")


def test_post_message_conversation_reply_no_such_object(api):
    """DHIS2 testPostMessageConversationReply_NoSuchObject."""
    for missing in ("xyz", "AbCdEfGhIj1"):
        assert_web_message(reply(api, "admin", missing, "The message"), 404,
                           f"Message conversation does not exist: {missing}")
        assert_web_message(reply(api, "dave", missing, "The message", internal=True), 404,
                           f"Message conversation does not exist: {missing}")


def test_post_to_conversation_without_permission(api):
    """DHIS2 testPostToConversationWithoutPermission: ringo replies {'text':'text'} to admin's conversation."""
    uid = create(api, "admin", users=("admin",))
    ringo()
    response = api.post(f"{MC}/{uid}", user="ringo", json={"text": "text"})
    assert_web_message(response, 403, "Not authorized to send messages to this conversation.")
    assert len(get(api, "admin", uid)["messages"]) == 1


def test_reply_checks_come_in_dhis2s_order(api):
    uid = create(api, "alice", users=("bob",))
    ringo()
    # internal without managing tickets comes before "no access"
    assert_web_message(reply(api, "ringo", uid, "x", internal=True), 403, "Not authorized to send internal messages")
    assert_web_message(reply(api, "bob", uid, "x", internal=True), 403, "Not authorized to send internal messages")
    # carol manages tickets (feedback group), but this is no ticket and she is no participant
    assert_web_message(reply(api, "carol", uid, "x", internal=True), 403,
                       "Not authorized to send messages to this conversation.")
    assert_web_message(reply(api, "carol", uid, "x"), 403, "Not authorized to send messages to this conversation.")
    # then the body
    for empty in ("", "   "):
        response = reply(api, "bob", uid, empty)
        assert response.status_code == 400, repr(empty)
    assert reply(api, "bob", uid, "x" * 10001).status_code == 400
    assert reply(api, "bob", uid, "x" * 10000).status_code == 201
    assert get(api, "alice", uid)["messageCount"] == 2


def test_the_raw_body_is_the_text_verbatim(api):
    uid = create(api, "alice", users=("bob",))
    for body in ('{"text": "json stays literal"}', "Line one\nLine two\ttabbed  ", "Ünïcödé ✓ <b>&amp;</b>"):
        assert api.post(f"{MC}/{uid}", user="bob", data=body.encode(), headers=TEXT).status_code == 201
    texts = [m["text"] for m in get(api, "alice", uid)["messages"]][1:]
    assert texts == ['{"text": "json stays literal"}', "Line one\nLine two\ttabbed  ", "Ünïcödé ✓ <b>&amp;</b>"]


def test_a_reply_unreads_the_others_and_moves_the_conversation(api):
    uid = create(api, "alice", users=("bob", "erin"))
    other = create(api, "alice", subject="Other", users=("bob",))
    assert api.post(f"{MC}/read", user="bob", json=[uid]).status_code == 200
    assert api.post(f"{MC}/read", user="erin", json=[uid]).status_code == 200
    before = get(api, "alice", uid)
    assert participants(api, uid) == {"alice": True, "bob": True, "erin": True}
    assert ids(api, "bob") == [other, uid]
    assert_web_message(reply(api, "bob", uid, "An answer"), 201, CREATED)
    assert participants(api, uid) == {"alice": False, "bob": True, "erin": False}
    after = get(api, "alice", uid)
    assert after["messageCount"] == 2 and after["lastSender"]["id"] == "bob"
    assert after["lastMessage"] > before["lastMessage"]
    assert ids(api, "bob") == [uid, other]              # newest activity first
    # A superuser who is not a participant may reply, and does not become one.
    assert reply(api, "admin", uid, "From the admin").status_code == 201
    assert participants(api, uid) == {"alice": False, "bob": False, "erin": False}


def test_internal_message_flag(api):
    """DHIS2 testInternalMessageFlag: a feedback-group member writes an internal reply to admin's feedback;
    admin sees it flagged internal."""
    uid = feedback(api, "admin", text="Feedback message")
    add_directory({"groups": [{"id": "group-a", "name": "A"}],
                   "users": [{"id": "ringo", "username": "ringo", "name": "Ringo Starr", "groups": ["group-a"]}],
                   "settings": {"feedback_recipients_group": "group-a"}})
    assert_web_message(reply(api, "ringo", uid, "Internal reply", internal=True), 201, CREATED)
    messages = get(api, "admin", uid, fields="messages[text,internal]")["messages"]
    assert {"text": "Internal reply", "internal": True} in messages
    # ringo acted on the ticket as a feedback manager without being a participant: DHIS2 lets them act but not
    # read (reference §3.2).
    assert_web_message(api.get(f"{MC}/{uid}", user="ringo"), 403, "Not authorized to access this conversation.")


def test_internal_notes_are_hidden_from_non_managers(api):
    uid = feedback(api, "bob", subject="Printer", text="It is jammed")      # to support: carol
    assert api.post(f"{MC}/{uid}/recipients", user="carol",
                    json={"users": [{"id": "alice"}, {"id": "erin"}]}).status_code == 204
    assert api.post(f"{MC}/read", user="alice", json=[uid]).status_code == 200
    assert api.post(f"{MC}/read", user="erin", json=[uid]).status_code == 200
    assert api.post(f"{MC}/read", user="carol", json=[uid]).status_code == 200
    assert_web_message(reply(api, "carol", uid, "Blame the vendor", internal=True), 201, CREATED)
    # Managers: F_MANAGE_TICKETS (alice), ALL (admin), the feedback group (carol). Others: bob, erin.
    for user, sees in (("alice", True), ("admin", True), ("carol", True), ("bob", False), ("erin", False)):
        messages = get(api, user, uid)["messages"]
        assert ("Blame the vendor" in [m["text"] for m in messages]) is sees, user
    # Only managers become unread; the message count ignores internal notes; the last sender is public.
    assert participants(api, uid) == {"bob": True, "carol": True, "alice": False, "erin": True}
    conversation = get(api, "bob", uid)
    assert conversation["messageCount"] == 1
    assert "Blame" not in str(conversation)
    # A public reply after it: everyone unread, count 2.
    assert reply(api, "carol", uid, "Fixed it").status_code == 201
    assert participants(api, uid) == {"bob": False, "carol": True, "alice": False, "erin": False}
    assert get(api, "erin", uid)["messageCount"] == 2
    assert [m["text"] for m in get(api, "erin", uid)["messages"]] == ["It is jammed", "Fixed it"]


def test_the_summary_a_participant_sees_counts_only_the_messages_they_may_see(api):
    """lastSender, lastMessage, lastUpdated and messageCount, in get and list (fields=* and the default), and the
    inbox entry: a non-manager's are the public message's, a ticket manager's the internal note's."""
    uid = feedback(api, "bob", subject="Printer", text="It is jammed")      # bob, carol (feedback group)
    assert api.post(f"{MC}/{uid}/recipients", user="carol", json={"users": [{"id": "erin"}]}).status_code == 204
    public = get(api, "bob", uid, fields="lastUpdated,messages[created]")
    [first] = public["messages"]
    assert_web_message(reply(api, "carol", uid, "Blame the vendor", internal=True), 201, CREATED)
    note = next(m for m in get(api, "carol", uid)["messages"] if m["internal"])
    assert note["created"] > first["created"]
    for user, sees in (("bob", False), ("erin", False), ("carol", True), ("admin", True)):
        expected = ({"lastSender": "carol", "lastMessage": note["created"], "lastUpdated": note["created"],
                     "messageCount": 2} if sees else
                    {"lastSender": "bob", "lastMessage": first["created"], "lastUpdated": public["lastUpdated"],
                     "messageCount": 1})
        views = [get(api, user, uid), get(api, user, uid, fields="lastSender,lastMessage,lastUpdated,messageCount")]
        if user != "admin":     # a superuser reads the ticket without taking part: it is not in their list
            views += [listing(api, user, fields=fields)["messageConversations"][0]
                      for fields in ("*", "lastSender,lastMessage,lastUpdated,messageCount")]
        for view in views:
            assert {name: view[name] for name in expected if name in view} | (
                {"lastSender": view["lastSender"]["id"]} if "lastSender" in view else {}) == expected, (user, view)
        assert ("Blame" in str(views)) is sees, user
    # The inbox entry of a non-manager stays on the public message; a public reply moves every summary on.
    entries = {user: api.get("/api/v1/inbox", user=user).get_json()["items"][0] for user in ("bob", "erin", "carol")}
    assert (entries["erin"]["text"], entries["erin"]["from"]) == ("It is jammed", "Bob Baraka")
    assert entries["erin"]["created_at"] == entries["bob"]["created_at"] != entries["carol"]["created_at"]
    assert entries["carol"]["text"] == "Blame the vendor"
    assert reply(api, "carol", uid, "Fixed it").status_code == 201
    for user, count in (("bob", 2), ("carol", 3)):
        conversation = get(api, user, uid, fields="lastSender,messageCount")
        assert (conversation["lastSender"]["id"], conversation["messageCount"]) == ("carol", count), user


def test_ticket_managers_act_on_tickets_they_do_not_take_part_in(api):
    uid = feedback(api, "bob", subject="Ticket")                # participants: bob, carol
    # alice holds F_MANAGE_TICKETS (docs/dhis2.md: a ticket manager) but is no participant.
    assert_web_message(reply(api, "alice", uid, "Looking into it"), 201, CREATED)
    assert_web_message(reply(api, "alice", uid, "Note to self", internal=True), 201, CREATED)
    assert set(participants(api, uid)) == {"bob", "carol"}
    assert_web_message(api.get(f"{MC}/{uid}", user="alice"), 403, "Not authorized to access this conversation.")
    # On a private conversation, managing tickets gives nothing.
    private = create(api, "bob", users=("erin",))
    assert_web_message(reply(api, "alice", private, "x"), 403, "Not authorized to send messages to this conversation.")


# -- realtime and the inbox ----------------------------------------------------------------------------------


def test_new_conversations_and_replies_are_published_to_each_participants_inbox(api, stream, published):
    uid = create(api, "alice", subject="Stock", text="Count it", users=("bob", "erin"))
    stream.drain()
    for user in ("alice", "bob", "erin"):
        events = [payload for _, payload in published(f"postbox/user/{user}/inbox")]
        assert [e["event"] for e in events] == ["created"], user
        entry = events[0]["entry"]
        assert (entry["id"], entry["kind"], entry["source_id"]) == (uid, "conversation", uid)
        assert entry["text"] == "Count it" and entry["from"] == "Alice Achieng"
        assert entry["read"] is (user == "alice")
    assert published("postbox/user/bob/inbox")[0][1]["unread"] == 1
    assert published("postbox/user/dave/inbox") == []

    assert api.post(f"{MC}/read", user="bob", json=[uid]).status_code == 200
    reply(api, "erin", uid, "Counted: 12")
    stream.drain()
    bob = [payload for _, payload in published("postbox/user/bob/inbox")]
    assert [e["event"] for e in bob] == ["created", "read", "unread"]
    assert bob[-1]["entry"]["text"] == "Counted: 12" and bob[-1]["entry"]["from"] == "Erin Eko"
    alice = [payload for _, payload in published("postbox/user/alice/inbox")]
    assert [e["event"] for e in alice] == ["created", "unread"]
    erin = [payload for _, payload in published("postbox/user/erin/inbox")]
    assert erin[-1]["entry"]["text"] == "Counted: 12"        # the sender's own entry follows the conversation


def test_internal_notes_never_reach_non_managers_over_mqtt_or_the_inbox(api, stream, published):
    uid = feedback(api, "bob", subject="Printer", text="It is jammed")      # bob, carol
    assert api.post(f"{MC}/{uid}/recipients", user="carol", json={"users": [{"id": "alice"}, {"id": "erin"}]}
                    ).status_code == 204
    stream.drain()
    reply(api, "carol", uid, "Secret vendor contract", internal=True)
    stream.drain()
    everything = published()
    for user in ("bob", "erin"):
        payloads = [payload for topic, payload in everything if topic == f"postbox/user/{user}/inbox"]
        assert payloads, user
        assert "Secret" not in str(payloads), user
        [entry] = api.get("/api/v1/inbox", user=user).get_json()["items"]
        assert entry["text"] == "It is jammed", user
    alice = [payload for _, payload in published("postbox/user/alice/inbox")]
    assert alice[-1]["entry"]["text"] == "Secret vendor contract"
    [entry] = api.get("/api/v1/inbox", user="alice").get_json()["items"]
    assert entry["text"] == "Secret vendor contract" and entry["read"] is False


def test_a_conversation_is_an_inbox_entry_with_the_same_read_state(api, stream):
    uid = create(api, "alice", subject="Stock", text="Count it", users=("bob",))
    # No stream needed: the participant row is the inbox entry.
    [entry] = api.get("/api/v1/inbox", user="bob").get_json()["items"]
    assert (entry["id"], entry["kind"], entry["read"], entry["from"]) == (uid, "conversation", False, "Alice Achieng")
    assert api.get("/api/v1/inbox", user="bob", query_string={"kind": "conversation"}).get_json()["items"]
    assert api.get("/api/v1/inbox/counts", user="bob").get_json() == {"unread": 1, "total": 1}
    # Read through the inbox → read in DHIS2.
    assert api.post("/api/v1/inbox/read", user="bob", json={"ids": [uid]}).get_json() == {"markedRead": [uid]}
    assert get(api, "bob", uid)["read"] is True
    assert listing(api, "bob", filter="read:eq:true", fields="id")["messageConversations"] == [{"id": uid}]
    assert api.get("/api/me/dashboard", user="bob").get_json()["unreadMessageConversations"] == 0
    # Unread through DHIS2 → unread in the inbox.
    assert api.post(f"{MC}/{uid}/unread", user="bob").get_json() == {"markedUnread": [uid]}
    [entry] = api.get("/api/v1/inbox", user="bob").get_json()["items"]
    assert entry["read"] is False
    assert api.get("/api/v1/inbox/counts", user="bob").get_json() == {"unread": 1, "total": 1}
    # A reply updates the entry's text at once.
    reply(api, "alice", uid, "Any news?")
    [entry] = api.get("/api/v1/inbox", user="bob").get_json()["items"]
    assert entry["text"] == "Any news?"
    # Other users' inbox ids are not theirs to mark.
    assert api.post("/api/v1/inbox/read", user="dave", json={"ids": [uid]}).get_json() == {"markedRead": []}
    assert participants(api, uid)["bob"] is False
    # Deleting the inbox entry is leaving the conversation (DHIS2's remove-user).
    assert api.delete(f"/api/v1/inbox/{uid}", user="bob").status_code == 204
    assert ids(api, "bob") == [] and set(participants(api, uid)) == {"alice"}
    assert api.delete(f"/api/v1/inbox/{uid}", user="dave").status_code == 404


def test_request_budget_get_and_reply(api):
    from postbox_local.metering import dynamodb_requests

    uid = create(api, "alice", users=("bob", "erin"))
    with dynamodb_requests() as calls:
        get(api, "bob", uid)
    assert "Scan" not in calls and sum(calls.values()) <= 3, calls
    # Only what `fields` shows is read: the header and the caller's row in one BatchGetItem.
    with dynamodb_requests() as calls:
        assert get(api, "bob", uid, fields="id,subject,read") == {"id": uid, "subject": "Subject", "read": False}
    assert dict(calls) == {"BatchGetItem": 1}, calls
    with dynamodb_requests() as calls:
        assert [m["text"] for m in get(api, "bob", uid, fields="messages[text]")["messages"]] == ["Text"]
    assert dict(calls) == {"BatchGetItem": 1, "Query": 1}, calls
    with dynamodb_requests() as calls:
        assert reply(api, "bob", uid, "Hi").status_code == 201
    assert "Scan" not in calls and sum(calls.values()) <= 6, calls
    # On a ticket with an internal note, which summary the caller sees costs nothing more (the feedback group rides
    # along the same BatchGetItem), nor does a list with it.
    ticket = feedback(api, "bob", subject="Printer")
    reply(api, "carol", ticket, "Note", internal=True)
    with dynamodb_requests() as calls:
        assert get(api, "bob", ticket, fields="messageCount") == {"messageCount": 1}
    assert dict(calls) == {"BatchGetItem": 1}, calls
    with dynamodb_requests() as calls:
        assert get(api, "carol", ticket, fields="messageCount") == {"messageCount": 2}
    assert dict(calls) == {"BatchGetItem": 1}, calls


def test_the_messaging_apps_own_calls(api):
    """The field selections DHIS2's messaging app sends (docs/dhis2.md)."""
    uid = create(api, "alice", subject="Stock", text="Count it", users=("bob",))
    reply(api, "bob", uid, "Done")
    listed = listing(api, "bob", pageSize=35, page=1, order="lastMessage:desc", filter="messageType:eq:PRIVATE",
                     fields="id,displayName,subject,messageType,lastSender[id,displayName],assignee[id,displayName],"
                            "status,priority,lastUpdated,read,lastMessage,followUp")
    [row] = listed["messageConversations"]
    assert row["lastSender"] == {"id": "bob", "displayName": "Bob Baraka"}
    assert row["assignee"] is None
    assert set(row) == {"id", "displayName", "subject", "messageType", "lastSender", "assignee", "status",
                        "priority", "lastUpdated", "read", "lastMessage", "followUp"}
    detail = get(api, "bob", uid, fields="*,assignee[id,displayName],messages[*,sender[id,displayName],"
                                         "attachments[id,name,contentLength]],userMessages[user[id,displayName]]")
    assert detail["subject"] == "Stock" and detail["messageType"] == "PRIVATE"
    assert [m["sender"] for m in detail["messages"]] == [{"id": "alice", "displayName": "Alice Achieng"},
                                                         {"id": "bob", "displayName": "Bob Baraka"}]
    assert {"id", "text", "created", "internal", "attachments"} <= set(detail["messages"][0])
    assert sorted(detail["userMessages"], key=lambda r: r["user"]["id"]) == [
        {"user": {"id": "alice", "displayName": "Alice Achieng"}}, {"user": {"id": "bob", "displayName": "Bob Baraka"}}]
