"""GET /api/v1/messaging?group_by=... (docs/ona.md; ported from Ona's test suite)."""

from datetime import UTC, datetime, timedelta

MESSAGING = "/api/v1/messaging"
SELF = {"target_type": "user", "target_id": "alice"}
FORM = {"target_type": "xform", "target_id": "34"}
APP = "acme/billing"


def put_message(at: datetime | str, *, verb: str = "message", user: str = APP,
                target: tuple[str, str] = ("user", "alice")) -> str:
    """Write a message with a chosen timestamp straight to the table; returns its timestamp."""
    from postbox.dal import messages, table
    from postbox.ids import new_ulid
    from postbox.timefmt import iso, parse_iso

    created = parse_iso(at) if isinstance(at, str) else at
    message = messages.NewMessage(
        id=new_ulid(int(created.timestamp() * 1000)), verb=verb, message="{}", user=user, sender_id=user,
        sender_kind="app" if "/" in user else "user", sender_name="", target_type=target[0], target_id=target[1],
        target_name="", created=created, timestamp=iso(created))
    table.put(messages.message_item(message))
    return message.timestamp


def post(api, caller: str, target: dict, verb: str = "message") -> str:
    """Create a message through the API; returns its timestamp."""
    who = {"app": caller} if "/" in caller else {"user": caller}
    response = api.post(MESSAGING, **who, json={**target, "message": "{}", "verb": verb})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["timestamp"]


def grouped(api, *group_by: str, caller: str = "alice", target: dict = SELF, **params):
    response = api.get(MESSAGING, user=caller, query_string={**target, **params, "group_by": list(group_by)})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def row(count: int, earliest: str, latest: str, **dimensions) -> dict:
    return {**dimensions, "count": count, "earliest_timestamp": earliest, "latest_timestamp": latest}


def test_group_by_user_and_verb_returns_counts(api):
    """Ona test 16: 2 export_created then 3 submission_created on the user's own target."""
    exports = [post(api, APP, SELF, "export_created") for _ in range(2)]
    submissions = [post(api, APP, SELF, "submission_created") for _ in range(3)]

    rows = grouped(api, "user", "verb")

    assert rows == [
        row(3, submissions[0], submissions[-1], user=APP, verb="submission_created"),
        row(2, exports[0], exports[-1], user=APP, verb="export_created"),
    ]
    assert [list(r) for r in rows] == [["user", "verb", "count", "earliest_timestamp", "latest_timestamp"]] * 2


def test_group_by_verb_orders_by_recent_activity(api):
    """Ona test 17: export_created two days ago, submission_created now."""
    old = put_message(datetime.now(UTC) - timedelta(days=2), verb="export_created")
    put_message(datetime.now(UTC) - timedelta(days=2, hours=1), verb="export_created")
    now = post(api, APP, SELF, "submission_created")

    rows = grouped(api, "verb")

    assert [r["verb"] for r in rows] == ["submission_created", "export_created"]
    assert rows[0] == row(1, now, now, verb="submission_created")
    assert rows[1]["latest_timestamp"] == old


def test_group_by_verb_latest_timestamp_is_newest(api):
    """Ona test 18: two export_created, a day ago and now: one row, count 2."""
    yesterday = put_message(datetime.now(UTC) - timedelta(days=1), verb="export_created")
    now = post(api, APP, SELF, "export_created")

    assert grouped(api, "verb") == [row(2, yesterday, now, verb="export_created")]


def test_application_senders_count_under_their_client_id(api):
    """In place of Ona test 19 (null user): Postbox keeps the sender's name, an app's client_id."""
    event = post(api, APP, SELF, "submission_created")
    message = post(api, "dave", SELF)

    assert grouped(api, "user") == [row(1, message, message, user="dave"), row(1, event, event, user=APP)]


def test_group_by_user_only(api):
    """Ona test 20: rows per sender, without a `verb` key."""
    alice = post(api, "alice", FORM)
    app = [post(api, APP, FORM, "submission_created"), post(api, APP, FORM, "export_created"),
           post(api, APP, FORM, "submission_created")]

    rows = grouped(api, "user", target=FORM, caller="bob")

    assert rows == [row(3, app[0], app[-1], user=APP), row(1, alice, alice, user="alice")]
    assert all("verb" not in r and "period_start" not in r for r in rows)


def test_group_by_verb_only(api):
    """Ona test 22: the same data grouped by verb, without a `user` key."""
    alice = post(api, "alice", FORM)
    app = [post(api, APP, FORM, "submission_created"), post(api, APP, FORM, "export_created"),
           post(api, APP, FORM, "submission_created")]

    rows = grouped(api, "verb", target=FORM, caller="erin")

    assert rows == [row(2, app[0], app[2], verb="submission_created"), row(1, app[1], app[1], verb="export_created"),
                    row(1, alice, alice, verb="message")]
    assert all("user" not in r for r in rows)


def test_group_by_validation(api):
    """Ona tests 21 and 25, and group_by is checked before the target parameters and permission."""
    unsupported = {"detail": "Unsupported group_by value 'actor'"}
    one_bucket = {"detail": "Only one time bucket may be combined per group_by request"}
    cases = [
        ({**SELF, "group_by": "actor"}, unsupported),
        ({**SELF, "group_by": ["verb", "actor"]}, unsupported),
        ({"group_by": "actor"}, unsupported),
        ({**FORM, "group_by": ["day", "hour"]}, one_bucket),
        ({**SELF, "group_by": ["user", "week", "month"]}, one_bucket),
        ({"group_by": ["year", "hour"]}, one_bucket),
        ({**SELF, "group_by": "Day"}, {"detail": "Unsupported group_by value 'Day'"}),
        ({**SELF, "group_by": ""}, {"detail": "Unsupported group_by value ''"}),
        ({"group_by": "verb"}, {"detail": "Parameter 'target_type' is missing."}),
        ({"target_type": "user", "group_by": "verb"}, {"detail": "Parameter 'target_id' is missing."}),
    ]
    for params, body in cases:
        for caller in ("alice", "dave"):  # dave may not list alice's messages: still 400 first
            response = api.get(MESSAGING, user=caller, query_string=params)
            assert (response.status_code, response.get_json()) == (400, body), (caller, params)


def test_group_by_day_returns_period_buckets(api):
    """Ona test 23."""
    first = put_message("2026-03-10T12:00:00Z")
    second = put_message("2026-03-10T15:00:00Z")
    third = put_message("2026-03-12T09:00:00Z")

    rows = grouped(api, "day")

    assert rows == [row(1, third, third, period_start="2026-03-12T00:00:00Z"),
                    row(2, first, second, period_start="2026-03-10T00:00:00Z")]
    assert list(rows[0]) == ["period_start", "count", "earliest_timestamp", "latest_timestamp"]
    assert rows[1]["latest_timestamp"] == "2026-03-10T15:00:00.000000Z"


def test_group_by_day_buckets_boundaries_in_utc(api):
    """Ona test 24: 01:00Z and 22:00Z are different days in New York, one day in UTC."""
    early = put_message("2026-03-15T01:00:00Z")
    late = put_message("2026-03-15T22:00:00Z")

    assert grouped(api, "day") == [row(2, early, late, period_start="2026-03-15T00:00:00Z")]


def test_group_by_day_user_and_verb_composes(api):
    """Ona test 26: the bucket comes first, then user and verb."""
    day1 = [put_message(f"2026-03-15T{h}:00:00Z", verb="submission_created") for h in ("10", "12")]
    day2 = put_message("2026-03-16T10:00:00Z", verb="submission_created")

    rows = grouped(api, "verb", "day", "user", "verb")

    assert rows == [
        row(1, day2, day2, period_start="2026-03-16T00:00:00Z", user=APP, verb="submission_created"),
        row(2, day1[0], day1[1], period_start="2026-03-15T00:00:00Z", user=APP, verb="submission_created"),
    ]
    assert list(rows[0]) == ["period_start", "user", "verb", "count", "earliest_timestamp", "latest_timestamp"]


def test_time_buckets(api):
    """hour, week (starting on Monday), month and year buckets, in UTC."""
    stamps = [put_message(at) for at in (
        "2025-12-31T23:59:59.999999Z", "2026-03-09T00:00:00Z", "2026-03-15T12:00:00Z",  # Mon, Sun of one week
        "2026-03-16T12:00:00Z", "2026-03-16T12:59:59.999999Z", "2026-03-31T23:59:59Z")]
    a, mon, sun, noon, before_one, end_of_march = stamps

    assert grouped(api, "hour") == [
        row(1, end_of_march, end_of_march, period_start="2026-03-31T23:00:00Z"),
        row(2, noon, before_one, period_start="2026-03-16T12:00:00Z"),
        row(1, sun, sun, period_start="2026-03-15T12:00:00Z"),
        row(1, mon, mon, period_start="2026-03-09T00:00:00Z"),
        row(1, a, a, period_start="2025-12-31T23:00:00Z"),
    ]
    assert grouped(api, "week") == [
        row(1, end_of_march, end_of_march, period_start="2026-03-30T00:00:00Z"),
        row(2, noon, before_one, period_start="2026-03-16T00:00:00Z"),
        row(2, mon, sun, period_start="2026-03-09T00:00:00Z"),
        row(1, a, a, period_start="2025-12-29T00:00:00Z"),
    ]
    assert grouped(api, "month") == [row(5, mon, end_of_march, period_start="2026-03-01T00:00:00Z"),
                                     row(1, a, a, period_start="2025-12-01T00:00:00Z")]
    assert grouped(api, "year") == [row(5, mon, end_of_march, period_start="2026-01-01T00:00:00Z"),
                                    row(1, a, a, period_start="2025-01-01T00:00:00Z")]


def test_rows_are_ordered_by_latest_activity_not_count(api):
    many = [put_message(f"2026-01-0{d}T08:00:00Z", verb="submission_created") for d in (1, 2, 3)]
    recent = put_message("2026-02-01T08:00:00Z", verb="form_updated")

    assert grouped(api, "verb") == [row(1, recent, recent, verb="form_updated"),
                                    row(3, many[0], many[-1], verb="submission_created")]


def test_group_by_applies_the_filters(api):
    put_message("2026-01-10T08:00:00Z", verb="submission_created")
    feb = put_message("2026-02-10T08:00:00Z", verb="submission_created")
    edit = put_message("2026-02-11T08:00:00Z", verb="submission_edited")
    mine = put_message("2026-02-12T08:00:00Z", user="alice")

    assert grouped(api, "verb", timestamp__month="2", user=APP) == [
        row(1, edit, edit, verb="submission_edited"), row(1, feb, feb, verb="submission_created")]
    assert grouped(api, "month", verb="submission_created", timestamp__gte="2026-02-01") == [
        row(1, feb, feb, period_start="2026-02-01T00:00:00Z")]
    assert grouped(api, "user", timestamp__day__gte="11") == [row(1, mine, mine, user="alice"),
                                                              row(1, edit, edit, user=APP)]
    assert grouped(api, "user", user="nobody") == []
    assert grouped(api, "day", verb="no_such_verb") == []


def test_group_by_needs_view_on_the_target(api):
    put_message("2026-01-10T08:00:00Z", target=("xform", "34"))

    for caller in ("dave", "alice"):  # dave has no role; alice may not read bob's messages
        target = FORM if caller == "dave" else {"target_type": "user", "target_id": "bob"}
        response = api.get(MESSAGING, user=caller, query_string={**target, "group_by": "verb"})
        assert (response.status_code, response.get_json()) == (
            403, {"detail": "You do not have permission to perform this action."}), caller
    assert len(grouped(api, "verb", target=FORM, caller="bob")) == 1
    assert grouped(api, "verb", target={"target_type": "xform", "target_id": "999"}, caller="admin") == []


def test_group_by_rows_are_paginated(api):
    stamps = [put_message(f"2026-03-1{d}T08:00:00Z") for d in (1, 2, 3)]
    base = "http://localhost/api/v1/messaging"

    response = api.get(MESSAGING, user="alice",
                       query_string={**SELF, "group_by": ["verb", "day"], "page_size": "1", "page": "2"})

    assert response.get_json() == [row(1, stamps[1], stamps[1], period_start="2026-03-12T00:00:00Z", verb="message")]
    query = "group_by=verb&group_by=day"
    assert response.headers["Link"] == (
        f'<{base}?{query}&page_size=1&target_id=alice&target_type=user>; rel="prev", '
        f'<{base}?{query}&page=3&page_size=1&target_id=alice&target_type=user>; rel="next", '
        f'<{base}?{query}&page=3&page_size=1&target_id=alice&target_type=user>; rel="last", '
        f'<{base}?{query}&page=1&page_size=1&target_id=alice&target_type=user>; rel="first"')
    response = api.get(MESSAGING, user="alice", query_string={**SELF, "group_by": "day", "page": "4",
                                                               "page_size": "1"})
    assert (response.status_code, response.get_json()) == (404, {"detail": "Invalid page."})
    assert "Link" not in api.get(MESSAGING, user="alice", query_string={**SELF, "group_by": "day"}).headers
