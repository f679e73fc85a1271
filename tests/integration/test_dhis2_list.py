"""DHIS2 face: listing conversations (docs/dhis2.md; ported from DHIS2's controller tests).

Only the caller's conversations, DHIS2's pager, page/pageSize, fields, filter, order, queryString and
queryOperator, internal notes hidden from non-managers, and the dxf2 XML list.
"""

from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

from support.dhis2 import MC, XML, assert_web_message, create, feedback, ids, listing, reply

DXF = "{http://dhis2.org/schema/dxf/2.0}"


def test_only_the_callers_conversations_with_default_fields_and_pager(api):
    mine = create(api, "alice", subject="Mine", users=("bob",))
    theirs = create(api, "carol", subject="Theirs", users=("dave",))
    body = listing(api, "alice")
    assert body == {"pager": {"page": 1, "pageCount": 1, "total": 1, "pageSize": 50},
                    "messageConversations": [{"id": mine, "displayName": "Mine"}]}
    assert ids(api, "bob") == [mine]
    assert ids(api, "dave") == [theirs]
    assert listing(api, "erin") == {"pager": {"page": 1, "pageCount": 1, "total": 0, "pageSize": 50},
                                    "messageConversations": []}
    # A superuser's list is theirs too; they open others' conversations by id.
    assert ids(api, "admin") == []


def test_pages_and_page_sizes(api):
    made = [create(api, "alice", subject=f"S{i}") for i in range(5)]
    newest_first = list(reversed(made))
    first = listing(api, "bob", pageSize=2, fields="id")
    assert [c["id"] for c in first["messageConversations"]] == newest_first[:2]
    pager = first["pager"]
    assert {k: pager[k] for k in ("page", "pageCount", "total", "pageSize")} == \
        {"page": 1, "pageCount": 3, "total": 5, "pageSize": 2}
    assert "prevPage" not in pager
    next_page = urlsplit(pager["nextPage"])
    assert next_page.path == MC
    assert parse_qs(next_page.query) == {"page": ["2"], "pageSize": ["2"], "fields": ["id"]}
    second = listing(api, "bob", page=2, pageSize=2)
    assert [c["id"] for c in second["messageConversations"]] == newest_first[2:4]
    assert parse_qs(urlsplit(second["pager"]["prevPage"]).query)["page"] == ["1"]
    assert parse_qs(urlsplit(second["pager"]["nextPage"]).query)["page"] == ["3"]
    third = listing(api, "bob", page=3, pageSize=2)
    assert [c["id"] for c in third["messageConversations"]] == newest_first[4:]
    assert "nextPage" not in third["pager"]
    # Past the last page: nothing (not the first page again).
    beyond = listing(api, "bob", page=4, pageSize=2)
    assert beyond["messageConversations"] == [] and beyond["pager"]["total"] == 5
    # paging=false: every conversation, no pager.
    everything = listing(api, "bob", paging="false", fields="id")
    assert "pager" not in everything and [c["id"] for c in everything["messageConversations"]] == newest_first
    # The versioned path's pager links keep the version.
    versioned = api.get("/api/33/messageConversations", user="bob", query_string={"pageSize": 2}).get_json()
    assert urlsplit(versioned["pager"]["nextPage"]).path == "/api/33/messageConversations"
    for bad in ({"page": 0}, {"pageSize": 0}, {"page": "x"}, {"pageSize": 100000}):
        assert api.get(MC, user="bob", query_string=bad).status_code == 400, bad


def test_fields_top_level_star_and_one_nesting_level(api):
    uid = create(api, "alice", subject="Fields", text="First", users=("bob",))
    reply(api, "bob", uid, "Second")
    [row] = listing(api, "bob", fields="id,subject,read,followUp,messageType,lastSender[id,name]")[
        "messageConversations"]
    # (DHIS2 leaves the replier's own read flag as it was: bob never opened it.)
    assert row == {"id": uid, "subject": "Fields", "read": False, "followUp": False, "messageType": "PRIVATE",
                   "lastSender": {"id": "bob", "name": "Bob Baraka"}}
    [row] = listing(api, "bob", fields="messages[text,sender[id]]")["messageConversations"]
    assert row == {"messages": [{"text": "First", "sender": {"id": "alice"}},
                                {"text": "Second", "sender": {"id": "bob"}}]}
    [row] = listing(api, "bob", fields="*")["messageConversations"]
    for name in ("id", "name", "displayName", "subject", "messageType", "status", "priority", "lastMessage",
                 "messageCount", "read", "followUp", "created", "lastUpdated", "lastSender", "assignee",
                 "createdBy", "messages"):
        assert name in row, name
    assert row["messageCount"] == 2
    first = row["messages"][0]
    assert {"id", "text", "sender", "internal", "created", "lastUpdated", "attachments"} <= set(first)
    assert first["sender"] == {"id": "alice", "name": "Alice Achieng", "displayName": "Alice Achieng"}
    assert first["attachments"] == []
    # Unknown field names are left out, as DHIS2 does.
    [row] = listing(api, "bob", fields="id,nope")["messageConversations"]
    assert row == {"id": uid}


def test_filters_on_type_status_priority_read_follow_up_and_assignee(api):
    private = create(api, "alice", subject="Private", users=("carol",))
    ticket = feedback(api, "alice", subject="Ticket")          # to support: carol
    validation = create(api, "acme/billing", as_app=True, subject="Validation", users=("carol",),
                        messageType="VALIDATION_RESULT", priority="HIGH")
    system = create(api, "acme/billing", as_app=True, subject="System", users=("carol",))
    assert api.post(f"{MC}/{ticket}/status", user="carol", query_string={"messageConversationStatus": "PENDING"}
                    ).status_code == 200
    assert api.post(f"{MC}/{private}/priority", user="carol",
                    query_string={"messageConversationPriority": "LOW"}).status_code == 200
    assert api.post(f"{MC}/read", user="carol", json=[private, system]).status_code == 200
    assert api.post(f"{MC}/followup", user="carol", json=[ticket]).status_code == 200
    assert api.post(f"{MC}/{validation}/assign", user="carol", query_string={"userId": "bob"}).status_code == 200
    assert api.post(f"{MC}/{ticket}/assign", user="carol", query_string={"userId": "carol"}).status_code == 200

    def found(*filters: str) -> set[str]:
        return set(ids(api, "carol", filter=list(filters)))

    everything = {private, ticket, validation, system}
    assert found() == everything
    assert found("messageType:eq:TICKET") == {ticket}
    assert found("messageType:ne:TICKET") == {private, validation, system}
    assert found("messageType:in:[SYSTEM,VALIDATION_RESULT]") == {validation, system}
    assert found("messageType:like:VALID") == {validation}
    assert found("messageType:ilike:valid") == {validation}
    assert found("status:eq:PENDING") == {ticket}
    assert found("status:eq:OPEN") == {validation}
    assert found("status:eq:NONE") == {private, system}
    assert found("status:in:[OPEN,PENDING]") == {ticket, validation}
    assert found("priority:eq:HIGH") == {validation}
    assert found("priority:eq:LOW") == {private}
    assert found("priority:ne:NONE") == {validation, private}
    assert found("read:eq:false") == {ticket, validation}
    assert found("read:eq:true") == {private, system}
    assert found("read:ne:true") == {ticket, validation}
    assert found("followUp:eq:true") == {ticket}
    assert found("followUp:eq:false") == {private, validation, system}
    assert found("assignee.id:eq:bob") == {validation}
    assert found("assignee.id:eq:carol") == {ticket}
    assert found("assignee.id:in:[bob,carol]") == {validation, ticket}
    assert found("assignee.id:ne:bob") == {ticket, private, system}
    # Several filters: all must hold (DHIS2's default rootJunction AND); the app's unread count per type.
    assert found("read:eq:false", "messageType:eq:TICKET") == {ticket}
    assert listing(api, "carol", filter=["read:eq:false", "messageType:eq:PRIVATE"])["pager"]["total"] == 0
    # After an unassign, assignee filters follow.
    assert api.delete(f"{MC}/{validation}/assign", user="carol").status_code == 200
    assert found("assignee.id:eq:bob") == set()
    assert found("assignee.id:ne:bob") == everything


def test_bad_filters_are_refused(api):
    create(api, "alice")
    for bad in ("messageType", "messageType:eq", "subjectx:eq:x", "read:eq:maybe", "status:between:A",
                "messageType:in:[]", "read:like:true"):
        response = api.get(MC, user="bob", query_string={"filter": bad})
        assert response.status_code == 409, (bad, response.get_json())
        body = response.get_json()
        assert (body["httpStatus"], body["status"]) == ("Conflict", "ERROR") and body["message"], bad


def test_order_by_last_message(api):
    first = create(api, "alice", subject="First")
    second = create(api, "alice", subject="Second")
    third = create(api, "alice", subject="Third")
    assert ids(api, "bob") == [third, second, first]                       # default lastMessage:desc
    assert ids(api, "bob", order="lastMessage:desc") == [third, second, first]
    assert ids(api, "bob", order="lastMessage:asc") == [first, second, third]
    reply(api, "alice", first, "Bump")
    assert ids(api, "bob") == [first, third, second]
    assert ids(api, "bob", order="lastMessage:asc") == [second, third, first]
    assert ids(api, "bob", order="lastMessage:asc", pageSize=1, page=2) == [third]


def test_query_string_searches_subject_text_and_sender_names(api):
    stock = create(api, "alice", subject="Stock levels", text="Count the vaccines", users=("bob",))
    malaria = create(api, "carol", subject="Malaria report", text="Weekly numbers", users=("bob",))
    reply(api, "bob", malaria, "Cold chain is broken")

    def search(text: str, operator: str | None = None, user: str = "bob") -> set[str]:
        query = {"queryString": text, **({"queryOperator": operator} if operator else {})}
        return set(ids(api, user, **query))

    assert search("stock") == {stock}                     # subject, any case
    assert search("VACCINES") == {stock}                  # message text
    assert search("cold chain") == {malaria}              # a reply's text; token: every word
    assert search("chain cold") == {malaria}
    assert search("chebet") == {malaria}                  # the sender's name (Carol Chebet)
    assert search("achieng") == {stock}
    assert search("baraka") == {malaria}                  # bob's reply
    assert search("stock malaria") == set()               # token: all words must match
    assert search("levels", "ilike") == {stock}
    assert search("el levels", "like") == set()
    assert search("e") == {stock, malaria}
    assert search("nothing-like-this") == set()
    # Combined with filters and paging: the pager counts the matches.
    assert api.post(f"{MC}/read", user="bob", json=[malaria]).status_code == 200
    body = listing(api, "bob", queryString="e", filter="read:eq:false", pageSize=1)
    assert body["pager"]["total"] == 1
    response = api.get(MC, user="bob", query_string={"queryString": "stock", "queryOperator": "between"})
    assert response.status_code == 409


def test_search_never_reaches_other_users_conversations(api):
    secret = create(api, "carol", subject="Salary review", text="Confidential", users=("dave",))
    create(api, "alice", subject="Lunch", users=("bob",))
    for query in ({"queryString": "salary"}, {"queryString": "confidential"}, {"query": "Salary"},
                  {"query": secret}, {"queryString": "salary", "queryOperator": "ilike"},
                  {"filter": f"id:eq:{secret}"}):
        response = api.get(MC, user="bob", query_string=query)
        body = response.get_json()
        assert secret not in str(body), (query, body)
    # Even for a superuser, a list is their own conversations.
    assert secret not in ids(api, "admin", query=secret)
    assert ids(api, "dave", queryString="salary") == [secret]


def test_query_finds_the_callers_own_conversations_by_id_or_name(api):
    lunch = create(api, "alice", subject="Lunch on Friday", users=("bob",))
    create(api, "alice", subject="Stock", users=("bob",))
    assert ids(api, "bob", query=lunch) == [lunch]
    assert ids(api, "bob", query="friday") == [lunch]


def test_internal_notes_are_hidden_from_non_managers_in_list_and_search(api):
    uid = feedback(api, "bob", subject="Printer", text="The printer is jammed")   # bob → support (carol)
    assert api.post(f"{MC}/{uid}/recipients", user="carol", json={"users": [{"id": "alice"}, {"id": "erin"}]}
                    ).status_code == 204
    assert reply(api, "carol", uid, "Escalate to Kwame quietly", internal=True).status_code == 201
    for user, sees in (("bob", False), ("erin", False), ("carol", True), ("alice", True)):
        [row] = listing(api, user, fields="messages[text,internal],messageCount")["messageConversations"]
        texts = [m["text"] for m in row["messages"]]
        assert ("Escalate to Kwame quietly" in texts) is sees, (user, texts)
        assert row["messageCount"] == (2 if sees else 1)     # the messages the caller may see
        assert all(m["internal"] is False for m in row["messages"]) is not sees
        [row] = listing(api, user, fields="*")["messageConversations"]
        assert ("Kwame" in str(row)) is sees, user
        assert (ids(api, user, queryString="kwame") == [uid]) is sees, user
        assert (ids(api, user, queryString="escalate", queryOperator="ilike") == [uid]) is sees, user


def test_xml_list(api):
    first = create(api, "alice", subject="First & foremost", users=("bob",))
    second = create(api, "alice", subject="Second", users=("bob",))
    response = api.get(MC, user="bob", headers=XML)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/xml")
    root = ElementTree.fromstring(response.get_data())
    assert root.tag == f"{DXF}messageConversations"
    assert root.get("link", "").endswith(MC)
    rows = root.findall(f"{DXF}messageConversation")
    assert [(row.get("id"), row.get("name")) for row in rows] == [(second, "Second"), (first, "First & foremost")]
    assert all(row.get("link", "").endswith(f"{MC}/{row.get('id')}") for row in rows)
    pager = root.find(f"{DXF}pager")
    assert pager is not None and pager.get("total") == "2"
    # Other fields become child elements; a versioned path's links keep the version.
    response = api.get("/api/33/messageConversations", user="bob", headers=XML,
                       query_string={"fields": "id,displayName,read"})
    root = ElementTree.fromstring(response.get_data())
    assert "/api/33/messageConversations" in root.get("link", "")
    assert [row.findtext(f"{DXF}read") for row in root.findall(f"{DXF}messageConversation")] == ["false", "false"]


def test_xml_get_and_plain_objects(api):
    uid = create(api, "alice", subject="Xml", text="Body <b>", users=("bob",))
    response = api.get(f"{MC}/{uid}", user="bob", headers=XML)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/xml")
    root = ElementTree.fromstring(response.get_data())
    assert root.tag == f"{DXF}messageConversation"
    assert root.findtext(f"{DXF}subject") == "Xml"
    assert [m.findtext(f"{DXF}text") for m in root.iter(f"{DXF}message")] == ["Body <b>"]
    response = api.post(f"{MC}/read", user="bob", json=[uid], headers=XML)
    root = ElementTree.fromstring(response.get_data())
    assert root.tag.startswith(DXF)
    assert [element.text for element in root.iter() if element.text] == [uid]
    response = api.get(f"{MC}/{uid}", user="dave", headers=XML)
    assert response.status_code == 403
    root = ElementTree.fromstring(response.get_data())
    assert root.findtext(f"{DXF}message") == "Not authorized to access this conversation."
    dashboard = ElementTree.fromstring(api.get("/api/me/dashboard", user="bob", headers=XML).get_data())
    assert dashboard.findtext(f"{DXF}unreadMessageConversations") == "0"


def test_applications_have_no_list(api):
    assert_web_message(api.get(MC, app="acme/billing"), 403, "Applications have no conversations.")


def test_unbalanced_fields_and_unknown_orders(api):
    uid = create(api, "alice")
    for fields in ("messages[text", "messages]text[", "id]"):
        response = api.get(MC, user="bob", query_string={"fields": fields})
        assert response.status_code == 400, fields
        assert response.get_json()["message"].startswith("Invalid fields"), fields
    # An order DHIS2 clients do not send falls back to the default (lastMessage:desc).
    assert ids(api, "bob", order="lastMessage:sideways") == [uid]


def test_list_request_budget(api):
    from postbox_local.metering import dynamodb_requests

    for i in range(30):
        create(api, "alice", subject=f"S{i}")
    with dynamodb_requests() as calls:
        body = listing(api, "bob", pageSize=10, page=2, fields="id,subject,read")
    assert len(body["messageConversations"]) == 10
    assert "Scan" not in calls and sum(calls.values()) <= 6, calls
    with dynamodb_requests() as calls:
        listing(api, "bob", pageSize=10, fields="*")
    assert "Scan" not in calls, calls


def test_message_conversation_store(api):
    """DHIS2 MessageConversationStoreTest: alice sends "Subject1" to carol (carol reads it; alice then replies three
    times), "Subject2" to carol and "Subject3" to carol and bob."""
    first = create(api, "alice", subject="Subject1", users=("carol",))
    assert api.post(f"{MC}/{first}/read", user="carol").status_code == 200
    for text in ("One", "Two", "Three"):
        reply(api, "alice", first, text)
    second = create(api, "alice", subject="Subject2", users=("carol",))
    third = create(api, "alice", subject="Subject3", users=("carol", "bob"))
    assert listing(api, "carol")["pager"]["total"] == 3
    assert ids(api, "bob") == [third]
    assert listing(api, "carol", fields="id,messageCount", filter="messageType:eq:PRIVATE",
                   order="lastMessage:asc")["messageConversations"] == [
        {"id": first, "messageCount": 4}, {"id": second, "messageCount": 1}, {"id": third, "messageCount": 1}]
