"""The native inbox, /api/v1/inbox (docs/inbox.md), and POST /api/v1/messaging/{id}/read, through the gateway."""

import pytest
from support.ona import send, send_to_user

INBOX = "/api/v1/inbox"
ITEM_FIELDS = {"id", "kind", "source_id", "from", "from_name", "subject", "text", "truncated", "created_at", "read",
               "read_at", "archived"}
NO_INBOX = {"detail": "Applications have no inbox."}
INVALID_CURSOR = {"detail": "Invalid cursor."}
NOT_FOUND = {"detail": "Not found."}


def send_many(api, stream, n: int, sender: str = "alice", to: str = "bob") -> list[str]:
    """n messages to a user, delivered; their ids oldest first."""
    ids = [send_to_user(api, sender, to, f"message {i}")["id"] for i in range(n)]
    stream.drain()
    return ids


def inbox(api, user: str = "bob", **query) -> dict:
    response = api.get(INBOX, user=user, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def inbox_ids(api, user: str = "bob", **query) -> list[str]:
    return [item["id"] for item in inbox(api, user, **query)["items"]]


def walk(api, user: str = "bob", **query) -> list[list[str]]:
    """Every page of a listing, following next_cursor."""
    pages, cursor = [], None
    while True:
        params = dict(query, **({"cursor": cursor} if cursor else {}))
        page = inbox(api, user, **params)
        pages.append([item["id"] for item in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50, "next_cursor never ended"


def seed_entries(n: int, user: str = "bob") -> list[str]:
    """n inbox entries written directly (fast setup for long listings); ids oldest first."""
    from postbox.dal.inbox import NewEntry, entry_item, write_entries
    from postbox.ids import new_ulid

    base_ms = 1_800_000_000_000
    ids = [new_ulid(base_ms + i) for i in range(n)]
    write_entries([entry_item(NewEntry(user, "message", source_id, "alice", f"seeded {i}", False,
                                       f"2027-01-15T08:00:{i // 1000:02d}.{i % 1000:03d}000Z"))
                   for i, source_id in enumerate(ids)])
    return ids


def counts(api, user: str = "bob") -> dict:
    response = api.get(f"{INBOX}/counts", user=user)
    assert response.status_code == 200
    return response.get_json()


def change(api, action: str, ids: list[str], user: str = "bob"):
    return api.post(f"{INBOX}/{action}", user=user, json={"ids": ids})


def inbox_events(published, user: str = "bob") -> list[tuple[str, str, int]]:
    return [(p["event"], p["entry"]["id"], p["unread"]) for _, p in published(f"postbox/user/{user}/inbox")]


# -- listing -----------------------------------------------------------------------------------------


def test_inbox_lists_newest_first_with_exactly_the_item_fields(api, stream):
    first = send_to_user(api, "alice", "bob", "first")
    second = send_to_user(api, "carol", "bob", "second")
    stream.drain()

    page = inbox(api)
    assert set(page) == {"items", "next_cursor"}
    assert page["next_cursor"] is None
    assert [item["id"] for item in page["items"]] == [second["id"], first["id"]]
    for item in page["items"]:
        assert set(item) == ITEM_FIELDS
    assert page["items"][1] == {
        "id": first["id"], "kind": "message", "source_id": first["id"], "from": "alice",
        "from_name": "Alice Achieng", "subject": None, "text": "first", "truncated": False,
        "created_at": first["timestamp"], "read": False, "read_at": None, "archived": False,
    }
    assert page["items"][0]["from"] == "carol"
    assert inbox(api, "dave") == {"items": [], "next_cursor": None}


def test_long_message_is_previewed_in_the_inbox_and_whole_in_the_api(api, stream):
    text = "".join(chr(ord("a") + i % 26) for i in range(600))
    message = send_to_user(api, "alice", "bob", text)
    exact = send_to_user(api, "alice", "bob", "x" * 500)
    stream.drain()

    items = {item["id"]: item for item in inbox(api)["items"]}
    assert items[message["id"]]["text"] == text[:500]
    assert items[message["id"]]["truncated"] is True
    assert items[exact["id"]]["text"] == "x" * 500
    assert items[exact["id"]]["truncated"] is False
    whole = api.get(f"/api/v1/messaging/{message['id']}", user="bob")
    assert whole.status_code == 200
    assert whole.get_json()["message"] == text


def test_cursor_paging_walks_every_entry_once_newest_first(api):
    ids = seed_entries(45)

    pages = walk(api)
    assert [len(page) for page in pages] == [20, 20, 5]
    assert [i for page in pages for i in page] == ids[::-1]

    pages = walk(api, limit=15)  # an exact multiple: the last page must not be followed by an empty one
    assert [len(page) for page in pages] == [15, 15, 15]
    assert [i for page in pages for i in page] == ids[::-1]


def test_limit_is_bounded(api, stream):
    send_many(api, stream, 3)
    assert len(inbox(api, limit=1)["items"]) == 1
    assert len(inbox(api, limit=100)["items"]) == 3
    for bad in ("0", "101", "-1", "many"):
        response = api.get(INBOX, user="bob", query_string={"limit": bad})
        assert response.status_code == 400, bad
        assert "limit" in response.get_json()["detail"]


def test_limit_100_pages_through_more_than_a_hundred(api):
    ids = seed_entries(105)
    pages = walk(api, limit=100)
    assert [len(page) for page in pages] == [100, 5]
    assert [i for page in pages for i in page] == ids[::-1]


def test_forged_tampered_and_foreign_cursors_are_refused(api, stream):
    send_many(api, stream, 3, sender="carol", to="bob")
    send_many(api, stream, 3, sender="bob", to="alice")
    cursor = inbox(api, limit=1)["next_cursor"]
    assert cursor and inbox(api, limit=1, cursor=cursor)["items"]

    payload, mac = cursor.split(".")
    tampered = f"{payload}.{'A' if mac[0] != 'A' else 'B'}{mac[1:]}"
    other_key = f"{'f' if payload[0] != 'f' else 'e'}{payload[1:]}.{mac}"  # another start key, the same MAC
    for forged in ("abc", "a.b", "..", tampered, other_key, cursor + ".", cursor[:-1]):
        response = api.get(INBOX, user="bob", query_string={"limit": "1", "cursor": forged})
        assert (response.status_code, response.get_json()) == (400, INVALID_CURSOR), forged
    # another caller replaying it, or the same caller for another query
    foreign = api.get(INBOX, user="alice", query_string={"limit": "1", "cursor": cursor})
    assert (foreign.status_code, foreign.get_json()) == (400, INVALID_CURSOR)
    for other_query in ({"limit": "2"}, {"limit": "1", "archived": "true"}, {"limit": "1", "kind": "alert"}):
        response = api.get(INBOX, user="bob", query_string={**other_query, "cursor": cursor})
        assert (response.status_code, response.get_json()) == (400, INVALID_CURSOR), other_query
    unread_cursor = inbox(api, unread="true", limit=1)["next_cursor"]
    foreign = api.get(INBOX, user="alice", query_string={"unread": "true", "limit": "1", "cursor": unread_cursor})
    assert (foreign.status_code, foreign.get_json()) == (400, INVALID_CURSOR)


def test_unread_filter_pages_through_unread_entries_only(api, stream):
    ids = send_many(api, stream, 12)
    read = ids[1::3]  # 4 of them
    assert change(api, "read", read).status_code == 200

    unread = [i for i in ids if i not in read][::-1]
    assert inbox_ids(api, unread="true") == unread
    pages = walk(api, unread="true", limit=3)
    assert [i for page in pages for i in page] == unread
    assert all(len(page) <= 3 for page in pages)
    assert inbox_ids(api, unread="false") == ids[::-1]
    assert all(not item["read"] for item in inbox(api, unread="true")["items"])


def test_kind_filter(api, stream):
    ids = send_many(api, stream, 3)
    assert inbox_ids(api, kind="message") == ids[::-1]
    assert inbox_ids(api, kind="alert") == []
    assert inbox_ids(api, kind="conversation", unread="true") == []
    assert inbox_ids(api, kind="message", unread="true") == ids[::-1]
    response = api.get(INBOX, user="bob", query_string={"kind": "email"})
    assert response.status_code == 400


# -- counts and read state ------------------------------------------------------------------------------


def test_counts_follow_read_and_unread(api, stream):
    assert counts(api) == {"unread": 0, "total": 0}
    ids = send_many(api, stream, 4)
    assert counts(api) == {"unread": 4, "total": 4}

    response = change(api, "read", [ids[0], ids[1]])
    assert response.status_code == 200
    assert response.get_json() == {"markedRead": [ids[0], ids[1]]}
    assert counts(api) == {"unread": 2, "total": 4}
    entry = next(item for item in inbox(api)["items"] if item["id"] == ids[0])
    assert entry["read"] is True and entry["read_at"]

    response = change(api, "unread", [ids[0], ids[2]])
    assert response.get_json() == {"markedUnread": [ids[0]]}  # ids[2] was already unread
    assert counts(api) == {"unread": 3, "total": 4}
    entry = next(item for item in inbox(api)["items"] if item["id"] == ids[0])
    assert entry["read"] is False and entry["read_at"] is None
    assert counts(api, "alice") == {"unread": 0, "total": 0}


def test_read_returns_only_entries_that_changed_and_skips_unknown_ids(api, stream):
    ids = send_many(api, stream, 3)
    assert change(api, "read", [ids[0]]).get_json() == {"markedRead": [ids[0]]}

    response = change(api, "read", [ids[0], "01ARZ3NDEKTSV4RRFFQ69G5FAV", ids[1], "nope", ids[1]])
    assert response.status_code == 200
    assert response.get_json() == {"markedRead": [ids[1]]}
    assert change(api, "read", [ids[0], ids[1]]).get_json() == {"markedRead": []}
    assert change(api, "unread", ["nope"]).get_json() == {"markedUnread": []}
    assert counts(api) == {"unread": 1, "total": 3}


@pytest.mark.parametrize("action", ["read", "unread", "archive", "unarchive"])
def test_state_changes_validate_the_ids(api, stream, action):
    ids = send_many(api, stream, 1)
    bad_bodies = [
        {"ids": []},
        {"ids": [f"id{i}" for i in range(101)]},
        {"ids": ["a/b"]},
        {"ids": [ids[0], "postbox/user/bob"]},
        {"ids": ["#"]},
        {"ids": ["x" * 65]},
        {"ids": ids[0]},
        {"ids": [1]},
        {},
        {"ids": ids, "extra": 1},
    ]
    for body in bad_bodies:
        response = api.post(f"{INBOX}/{action}", user="bob", json=body)
        assert response.status_code == 400, body
        assert response.get_json()["detail"], body
    for raw in ("not json", "[]", "null"):
        response = api.post(f"{INBOX}/{action}", user="bob", data=raw, content_type="application/json")
        assert response.status_code == 400, raw
    assert counts(api) == {"unread": 1, "total": 1}
    assert inbox(api)["items"][0]["read"] is False and inbox(api)["items"][0]["archived"] is False


def test_a_hundred_ids_are_accepted(api, stream):
    ids = send_many(api, stream, 2)
    response = change(api, "read", [*ids, *(f"unknown{i}" for i in range(98))])
    assert response.status_code == 200
    assert response.get_json() == {"markedRead": ids}


def test_read_all(api, stream):
    ids = send_many(api, stream, 5)
    send_many(api, stream, 2, sender="bob", to="carol")
    change(api, "read", [ids[0]])

    response = api.post(f"{INBOX}/read-all", user="bob")
    assert response.status_code == 200
    assert sorted(response.get_json()["markedRead"]) == sorted(ids[1:])
    assert counts(api) == {"unread": 0, "total": 5}
    assert api.post(f"{INBOX}/read-all", user="bob").get_json() == {"markedRead": []}
    assert counts(api, "carol") == {"unread": 2, "total": 2}


# -- archive ----------------------------------------------------------------------------------------------


def test_archived_entries_leave_the_inbox_and_its_counts(api, stream):
    ids = send_many(api, stream, 3)
    change(api, "read", [ids[1]])

    response = change(api, "archive", [ids[0], ids[1], "unknown"])
    assert response.status_code == 200
    assert response.get_json() == {"archived": [ids[0], ids[1]]}
    assert change(api, "archive", [ids[0]]).get_json() == {"archived": []}

    assert inbox_ids(api) == [ids[2]]
    assert inbox_ids(api, unread="true") == [ids[2]]
    assert counts(api) == {"unread": 1, "total": 1}
    archived = inbox(api, archived="true")["items"]
    assert [item["id"] for item in archived] == [ids[1], ids[0]]
    assert all(item["archived"] for item in archived)
    assert inbox_ids(api, archived="true", unread="true") == [ids[0]]


def test_unarchive_restores_the_unread_state(api, stream):
    ids = send_many(api, stream, 3)
    change(api, "read", [ids[1]])
    change(api, "archive", ids)
    assert counts(api) == {"unread": 0, "total": 0}

    response = change(api, "unarchive", [ids[0], ids[1], "unknown"])
    assert response.get_json() == {"unarchived": [ids[0], ids[1]]}
    assert change(api, "unarchive", [ids[0]]).get_json() == {"unarchived": []}
    assert counts(api) == {"unread": 1, "total": 2}
    items = {item["id"]: item for item in inbox(api)["items"]}
    assert list(items) == [ids[1], ids[0]]
    assert (items[ids[0]]["read"], items[ids[1]]["read"]) == (False, True)
    assert not any(item["archived"] for item in items.values())
    assert inbox_ids(api, unread="true") == [ids[0]]
    assert inbox_ids(api, archived="true") == [ids[2]]


def test_read_state_changes_while_archived_take_effect_on_unarchive(api, stream):
    ids = send_many(api, stream, 2)
    change(api, "read", [ids[0]])
    change(api, "archive", ids)

    assert change(api, "unread", [ids[0]]).get_json() == {"markedUnread": [ids[0]]}
    assert change(api, "read", [ids[1]]).get_json() == {"markedRead": [ids[1]]}
    assert counts(api) == {"unread": 0, "total": 0}  # still archived: no effect on the inbox
    assert inbox_ids(api, unread="true") == []

    change(api, "unarchive", ids)
    assert counts(api) == {"unread": 1, "total": 2}
    assert inbox_ids(api, unread="true") == [ids[0]]


# -- delete -----------------------------------------------------------------------------------------------


def test_delete_removes_only_the_callers_copy(api, stream):
    message = send(api, "carol", "xform", "34", "to the form")
    stream.drain()
    assert message["id"] in inbox_ids(api, "bob") and message["id"] in inbox_ids(api, "alice")

    response = api.delete(f"{INBOX}/{message['id']}", user="bob")
    assert response.status_code == 204
    assert response.data == b""
    assert inbox_ids(api, "bob") == []
    assert counts(api, "bob") == {"unread": 0, "total": 0}
    assert inbox_ids(api, "alice") == [message["id"]]
    assert api.get(f"/api/v1/messaging/{message['id']}", user="bob").status_code == 200  # the message stays

    again = api.delete(f"{INBOX}/{message['id']}", user="bob")
    assert (again.status_code, again.get_json()) == (404, NOT_FOUND)
    for unknown in ("01ARZ3NDEKTSV4RRFFQ69G5FAV", "nope"):
        response = api.delete(f"{INBOX}/{unknown}", user="bob")
        assert (response.status_code, response.get_json()) == (404, NOT_FOUND)


def test_delete_of_an_archived_entry(api, stream):
    ids = send_many(api, stream, 1)
    change(api, "archive", ids)
    assert api.delete(f"{INBOX}/{ids[0]}", user="bob").status_code == 204
    assert inbox_ids(api, archived="true") == []


# -- POST /api/v1/messaging/{id}/read ------------------------------------------------------------------


def test_messaging_read_marks_the_callers_entry(api, stream):
    message = send(api, "carol", "xform", "34", "form news")
    stream.drain()

    response = api.post(f"/api/v1/messaging/{message['id']}/read", user="bob")
    assert (response.status_code, response.get_json()) == (200, {"markedRead": [message["id"]]})
    again = api.post(f"/api/v1/messaging/{message['id']}/read", user="bob")
    assert (again.status_code, again.get_json()) == (200, {"markedRead": []})
    assert counts(api, "bob") == {"unread": 0, "total": 1}
    assert counts(api, "alice") == {"unread": 1, "total": 1}  # other recipients keep their state

    # the sender has no entry; nor has anyone for an unknown or malformed id
    for user, message_id in (("carol", message["id"]), ("dave", message["id"]),
                             ("bob", "01ARZ3NDEKTSV4RRFFQ69G5FAV"), ("bob", "not-a-ulid")):
        response = api.post(f"/api/v1/messaging/{message_id}/read", user=user)
        assert (response.status_code, response.get_json()) == (404, NOT_FOUND), (user, message_id)


def test_a_user_never_sees_or_changes_another_users_entries(api, stream):
    to_alice = send_to_user(api, "bob", "alice", "for alice only")
    to_bob = send_to_user(api, "alice", "bob", "for bob")
    stream.drain()
    theirs = to_alice["id"]

    assert theirs not in inbox_ids(api, "bob")
    assert change(api, "read", [theirs], user="bob").get_json() == {"markedRead": []}
    assert change(api, "archive", [theirs], user="bob").get_json() == {"archived": []}
    assert api.post(f"/api/v1/messaging/{theirs}/read", user="bob").status_code == 404
    assert api.delete(f"{INBOX}/{theirs}", user="bob").status_code == 404
    assert api.post(f"{INBOX}/read-all", user="bob").get_json() == {"markedRead": [to_bob["id"]]}

    assert inbox(api, "alice")["items"][0]["id"] == theirs
    assert inbox(api, "alice")["items"][0]["read"] is False
    assert inbox(api, "alice")["items"][0]["archived"] is False
    assert counts(api, "alice") == {"unread": 1, "total": 1}


def test_applications_have_no_inbox(api, stream):
    message = send_to_user(api, "alice", "bob")
    stream.drain()
    requests = [
        ("GET", INBOX, None), ("GET", f"{INBOX}/counts", None),
        ("POST", f"{INBOX}/read", {"ids": [message["id"]]}), ("POST", f"{INBOX}/unread", {"ids": [message["id"]]}),
        ("POST", f"{INBOX}/archive", {"ids": [message["id"]]}),
        ("POST", f"{INBOX}/unarchive", {"ids": [message["id"]]}), ("POST", f"{INBOX}/read-all", None),
        ("DELETE", f"{INBOX}/{message['id']}", None), ("POST", f"/api/v1/messaging/{message['id']}/read", None),
    ]
    for method, path, body in requests:
        response = api.request(method, path, app="acme/billing", json=body)
        assert (response.status_code, response.get_json()) == (403, NO_INBOX), (method, path)
        anonymous = api.request(method, path, json=body)
        assert anonymous.status_code == 401, (method, path)
    assert counts(api) == {"unread": 1, "total": 1}


# -- realtime --------------------------------------------------------------------------------------------


def test_every_inbox_change_is_published_to_the_users_inbox_topic(api, stream, published):
    message_id = send_to_user(api, "alice", "bob", "watch me")["id"]
    other_id = send_to_user(api, "carol", "bob", "another")["id"]
    stream.drain()
    assert inbox_events(published) == [("created", message_id, 2), ("created", other_id, 2)]

    steps = [
        (lambda: change(api, "read", [message_id]), ("read", message_id, 1)),
        (lambda: change(api, "unread", [message_id]), ("unread", message_id, 2)),
        (lambda: change(api, "archive", [message_id]), ("archived", message_id, 1)),
        (lambda: change(api, "unarchive", [message_id]), ("unarchived", message_id, 2)),
        (lambda: api.post(f"/api/v1/messaging/{other_id}/read", user="bob"), ("read", other_id, 1)),
        (lambda: api.delete(f"{INBOX}/{message_id}", user="bob"), ("deleted", message_id, 0)),
    ]
    for act, expected in steps:
        before = len(published("postbox/user/bob/inbox"))
        assert act().status_code in (200, 204)
        stream.drain()
        assert inbox_events(published)[before:] == [expected]

    payloads = [p for _, p in published("postbox/user/bob/inbox")]
    for payload in payloads:
        assert set(payload) == {"event", "entry", "unread"}
        assert set(payload["entry"]) == ITEM_FIELDS
    read_event = payloads[2]
    assert read_event["entry"]["read"] is True and read_event["entry"]["read_at"]
    assert payloads[4]["entry"]["archived"] is True
    assert payloads[-1]["entry"]["text"] == "watch me"
    # nothing changed, nothing published; other users' topics stay quiet
    before = len(published())
    change(api, "read", [other_id])
    stream.drain()
    assert len(published()) == before
    assert published("postbox/user/alice/inbox") == []


def test_a_conversation_row_shows_its_subject_and_the_last_sender_who_is_not_me(api, stream):
    created = api.post("/api/messageConversations", user="carol",
                       json={"subject": "Stock-out", "text": "Out of kits", "users": [{"id": "bob"}]})
    assert created.status_code == 201, created.get_json()
    stream.drain()
    [row] = inbox(api, kind="conversation")["items"]
    assert (row["subject"], row["from"], row["text"]) == ("Stock-out", "Carol Chebet", "Out of kits")
    reply = api.request("POST", f"/api/messageConversations/{row['source_id']}", user="bob",
                        data="Kits arrive Friday", content_type="text/plain")
    assert reply.status_code == 201, reply.get_data(as_text=True)
    stream.drain()
    [mine] = inbox(api, kind="conversation")["items"]
    assert (mine["subject"], mine["from"], mine["text"]) == ("Stock-out", "Carol Chebet", "Kits arrive Friday")
    [hers] = inbox(api, "carol", kind="conversation")["items"]
    assert (hers["from"], hers["read"]) == ("Bob Baraka", False)
