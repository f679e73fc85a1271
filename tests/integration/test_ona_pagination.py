"""GET /api/v1/messaging pagination: Ona's page numbers and Link header, signed cursors, the page byte limit.

docs/ona.md; ported from Ona's test suite and its pagination examples.
"""

import json
import re

MESSAGING = "/api/v1/messaging"
BASE = "http://localhost/api/v1/messaging"
SELF = {"target_type": "user", "target_id": "alice"}
INVALID_PAGE = {"detail": "Invalid page."}
INVALID_CURSOR = {"detail": "Invalid cursor."}
PAGE_TOO_LARGE = {"detail": "Page too large; use a smaller page_size or cursor pagination."}
NEXT_LINK = re.compile(r'<http://localhost(/api/v1/messaging\?cursor=([A-Za-z0-9_.-]+)&[^>]*)>; rel="next"')


def links(page_size: object, *rels: tuple[str, int | None], query: str = "target_id=alice&target_type=user") -> str:
    """Ona's Link header, one `<url>; rel="..."` per (rel, page); a page of None has no `page` parameter (Ona's
    prev link to page 1)."""
    return ", ".join(f'<{BASE}?{f"page={page}&" if page else ""}page_size={page_size}&{query}>; rel="{rel}"'
                     for rel, page in rels)


def post_many(api, n: int, caller: str = "alice", target: dict = SELF, text: str = "Hello") -> list[dict]:
    """n messages, returned newest first (the list order)."""
    created = []
    for i in range(n):
        response = api.post(MESSAGING, user=caller, json={**target, "message": f"{text} {i}"})
        assert response.status_code == 201
        created.append(response.get_json())
    return [{k: m[k] for k in ("id", "verb", "message", "user", "timestamp")} for m in reversed(created)]


def get_list(api, caller: str = "alice", **params):
    return api.get(MESSAGING, user=caller, query_string={**SELF, **params})


def row_size(row: dict) -> int:
    return len(json.dumps(row).encode()) + 1


# -- page-number mode ----------------------------------------------------------------------------------


def test_retrieve_pagination(api):
    """Ona test 14: four messages; a plain list has all, page_size=2 has two and the exact Link header."""
    messages = post_many(api, 4)

    response = get_list(api)
    assert response.get_json() == messages
    assert "Link" not in response.headers

    response = get_list(api, page_size="2")
    assert response.status_code == 200
    assert response.get_json() == messages[:2]
    assert response.headers["Link"] == links(2, ("next", 2), ("last", 2))


def test_page_two_of_four(api):
    """The pagination unit test's page 2 of 4: prev (to page 1, without `page`), next, last, first."""
    messages = post_many(api, 4)

    response = get_list(api, page="2", page_size="1")

    assert response.get_json() == [messages[1]]
    assert response.headers["Link"] == links(1, ("prev", None), ("next", 3), ("last", 4), ("first", 1))


def test_every_page_and_page_last(api):
    messages = post_many(api, 3)

    first = get_list(api, page="1", page_size="1")
    assert first.get_json() == [messages[0]]
    assert first.headers["Link"] == links(1, ("next", 2), ("last", 3))
    for page in ("3", "last"):
        response = get_list(api, page=page, page_size="1")
        assert response.get_json() == [messages[2]], page
        assert response.headers["Link"] == links(1, ("prev", 2), ("first", 1))


def test_link_keeps_filters_sorted_and_follows_the_request_host(api):
    post_many(api, 2)

    response = api.get(MESSAGING, user="alice",
                       headers={"Host": "api.example.org", "X-Forwarded-Proto": "https"},
                       query_string={"verb": "message", "target_type": "user", "page_size": "1", "target_id": "alice",
                                     "timestamp__year__gte": "2000", "unknown": "kept"})

    assert len(response.get_json()) == 1
    url = ("https://api.example.org/api/v1/messaging?page=2&page_size=1&target_id=alice&target_type=user"
           "&timestamp__year__gte=2000&unknown=kept&verb=message")
    assert response.headers["Link"] == f'<{url}>; rel="next", <{url}>; rel="last"'


def test_page_numbers_count_only_matching_messages(api):
    form = {"target_type": "xform", "target_id": 34}
    carol = post_many(api, 2, caller="carol", target=form, text="carol")
    alice = post_many(api, 3, caller="alice", target=form, text="alice")
    carol = post_many(api, 1, caller="carol", target=form, text="carol again") + carol  # newest first
    params = {"target_type": "xform", "target_id": "34", "user": "alice", "page_size": "1"}

    pages = [api.get(MESSAGING, user="bob", query_string={**params, "page": page}) for page in ("1", "2", "last")]

    assert [p.get_json() for p in pages] == [[alice[0]], [alice[1]], [alice[2]]]
    assert pages[2].headers["Link"] == links(1, ("prev", 2), ("first", 1),
                                            query="target_id=34&target_type=xform&user=alice")
    response = api.get(MESSAGING, user="bob", query_string={**params, "page": "4"})
    assert (response.status_code, response.get_json()) == (404, INVALID_PAGE)
    response = api.get(MESSAGING, user="bob", query_string={**params, "user": "carol", "page": "2"})
    assert response.get_json() == [carol[1]]
    assert carol[1]["message"] == "carol 1"


def test_out_of_range_page_is_404(api):
    post_many(api, 2)

    for page in ("3", "0", "-1", "abc", "", "1.5"):
        response = get_list(api, page=page, page_size="1")
        assert (response.status_code, response.get_json()) == (404, INVALID_PAGE), page


def test_empty_list_has_one_empty_page(api):
    for page in ("1", "last"):
        response = get_list(api, page=page)
        assert (response.status_code, response.get_json()) == (200, []), page
        assert "Link" not in response.headers
    assert (get_list(api, page="2").status_code, get_list(api, page="2").get_json()) == (404, INVALID_PAGE)


def test_no_link_header_on_a_single_page(api):
    messages = post_many(api, 3)

    for params in ({}, {"page_size": "3"}, {"page_size": "10"}, {"page": "1", "page_size": "3"}, {"page": "last"}):
        response = get_list(api, **params)
        assert response.get_json() == messages, params
        assert "Link" not in response.headers, params


def test_page_size_defaults():
    from postbox.settings import LimitsSettings

    assert (LimitsSettings().PAGE_SIZE_DEFAULT, LimitsSettings().PAGE_SIZE_MAX) == (1000, 10000)


def test_bad_page_size_falls_back_to_the_default(api, settings):
    settings(PAGE_SIZE_DEFAULT=2)
    messages = post_many(api, 3)

    for bad in ("abc", "0", "-3", "", "2.5"):
        response = get_list(api, page_size=bad)
        assert response.get_json() == messages[:2], bad
        assert response.headers["Link"] == links(bad, ("next", 2), ("last", 2))
    assert get_list(api).get_json() == messages[:2]


def test_page_size_is_capped(api, settings):
    settings(PAGE_SIZE_MAX=2)
    messages = post_many(api, 3)

    response = get_list(api, page_size="3")

    assert response.get_json() == messages[:2]
    assert response.headers["Link"] == links(3, ("next", 2), ("last", 2))
    assert get_list(api, page_size="3", page="2").get_json() == messages[2:]


def test_page_over_the_byte_limit_is_400_in_page_mode(api, settings):
    messages = post_many(api, 4, text="x" * 200)
    settings(PAGE_BYTES_MAX=2 * row_size(messages[0]) + 10)  # two rows fit, three do not

    for params in ({}, {"page_size": "3"}, {"page": "1", "page_size": "4"}):
        response = get_list(api, **params)
        assert (response.status_code, response.get_json()) == (400, PAGE_TOO_LARGE), params
    assert get_list(api, page_size="2").get_json() == messages[:2]
    assert get_list(api, page_size="2", page="2").get_json() == messages[2:]
    response = get_list(api, page_size="3", page="last")
    assert (response.status_code, response.get_json()) == (200, messages[3:])
    response = get_list(api, page_size="3", page="1")
    assert (response.status_code, response.get_json()) == (400, PAGE_TOO_LARGE)


# -- cursor mode --------------------------------------------------------------------------------------


def walk(api, caller: str = "alice", **params) -> list[list[dict]]:
    """Follow rel="next" links from the first page (cursor=""); returns the pages."""
    pages = []
    response = api.get(MESSAGING, user=caller, query_string={**params, "cursor": ""})
    while True:
        assert response.status_code == 200, response.get_json()
        pages.append(response.get_json())
        link = response.headers.get("Link")
        if link is None:
            return pages
        match = NEXT_LINK.fullmatch(link)
        assert match, link
        assert len(pages) < 50
        response = api.get(match.group(1), user=caller)


def test_cursor_pages_yield_every_message_once_in_order(api):
    messages = post_many(api, 5)

    pages = walk(api, **SELF, page_size="2")

    assert pages == [messages[:2], messages[2:4], messages[4:]]


def test_cursor_link_format(api):
    post_many(api, 3)

    response = get_list(api, cursor="", page_size="2", verb="message")

    match = NEXT_LINK.fullmatch(response.headers["Link"])
    assert match
    assert match.group(1) == (f"/api/v1/messaging?cursor={match.group(2)}&page_size=2&target_id=alice"
                              "&target_type=user&verb=message")


def test_cursor_last_page_ending_exactly_has_no_link(api):
    messages = post_many(api, 4)

    assert walk(api, **SELF, page_size="2") == [messages[:2], messages[2:]]
    assert walk(api, **SELF) == [messages]  # the default page size


def test_cursor_walk_with_filters(api):
    post_many(api, 1, caller="carol", target={"target_type": "xform", "target_id": 34}, text="carol")
    alice = post_many(api, 3, caller="alice", target={"target_type": "xform", "target_id": 34}, text="alice")
    event = api.post(MESSAGING, app="acme/billing",
                     json={"target_type": "xform", "target_id": 34, "message": "{}", "verb": "form_updated"})
    assert event.status_code == 201

    pages = walk(api, "bob", target_type="xform", target_id="34", verb="message", user="alice", page_size="1")

    assert pages == [[m] for m in alice]


def test_cursor_page_ends_early_at_the_byte_limit(api, settings):
    messages = post_many(api, 5, text="x" * 200)
    settings(PAGE_BYTES_MAX=2 * row_size(messages[0]) + 10)

    assert walk(api, **SELF) == [messages[:2], messages[2:4], messages[4:]]
    assert walk(api, **SELF, page_size="1") == [[m] for m in messages]


def first_cursor(api, caller: str = "alice", **params) -> str:
    response = api.get(MESSAGING, user=caller, query_string={**params, "cursor": "", "page_size": "1"})
    match = NEXT_LINK.fullmatch(response.headers["Link"])
    assert match
    return match.group(2)


def test_forged_or_altered_cursor_is_400(api):
    post_many(api, 3)
    cursor = first_cursor(api, **SELF)
    payload, mac = cursor.split(".")
    altered = [
        ("B" if payload[0] != "B" else "C") + payload[1:] + "." + mac,
        payload + "." + ("A" if mac[0] != "A" else "B") + mac[1:],
        payload + "." + mac[:-2],
        payload + "." + mac + "." + mac,
        payload,
    ]
    for bad in ["abc", "abc.def", ".", "e30.AAAA", "%%%", cursor + "x", *altered]:
        response = get_list(api, cursor=bad, page_size="1")
        assert (response.status_code, response.get_json()) == (400, INVALID_CURSOR), bad
    assert len(get_list(api, cursor=cursor, page_size="1").get_json()) == 1


def test_cursor_of_another_caller_is_400(api):
    form = {"target_type": "xform", "target_id": "34"}
    post_many(api, 3, caller="carol", target=form)
    cursor = first_cursor(api, "alice", **form)

    response = api.get(MESSAGING, user="carol", query_string={**form, "cursor": cursor, "page_size": "1"})

    assert (response.status_code, response.get_json()) == (400, INVALID_CURSOR)
    response = api.get(MESSAGING, user="alice", query_string={**form, "cursor": cursor, "page_size": "1"})
    assert response.status_code == 200


def test_cursor_of_another_query_is_400(api):
    form = {"target_type": "xform", "target_id": "34"}
    post_many(api, 3, caller="alice", target=form)
    post_many(api, 3)
    cursor = first_cursor(api, "alice", **form, verb="message")

    for params in [{**form}, {**form, "verb": "form_updated"}, {**form, "verb": "message", "page_size": "2"},
                   {**form, "verb": "message", "user": "alice"},
                   {**form, "verb": "message", "timestamp__year__gte": "2000"}, {**SELF, "verb": "message"}]:
        query = {"page_size": "1", **params, "cursor": cursor}
        response = api.get(MESSAGING, user="alice", query_string=query)
        assert (response.status_code, response.get_json()) == (400, INVALID_CURSOR), params
