"""GET /api/v1/stats/messaging: counts per period and verb (docs/ona.md; ported from Ona's test suite)."""

import pytest

STATS = "/api/v1/stats/messaging"
FORM = {"target_type": "xform", "target_id": "34"}
NO_PERMISSION = {"detail": "You do not have permission to perform this action."}
INACTIVE = {"detail": "This user account is inactive."}


def put_message(at: str, verb: str = "message", *, user: str = "acme/billing",
                target: tuple[str, str] = ("xform", "34")) -> None:
    """Write a message with a chosen timestamp straight to the table."""
    from postbox.dal import messages, table
    from postbox.ids import new_ulid
    from postbox.timefmt import iso, parse_iso

    created = parse_iso(at)
    table.put(messages.message_item(messages.NewMessage(
        id=new_ulid(int(created.timestamp() * 1000)), verb=verb, message="{}", user=user, sender_id=user,
        sender_kind="app" if "/" in user else "user", sender_name="", target_type=target[0], target_id=target[1],
        target_name="", created=created, timestamp=iso(created))))


def stats(api, caller: str = "bob", target: dict = FORM, **params):
    response = api.get(STATS, user=caller, query_string={**target, **params})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def seed() -> None:
    put_message("2025-12-31T23:30:00Z", "message", user="carol")
    put_message("2026-01-05T10:00:00Z", "submission_created")
    put_message("2026-01-05T23:59:59Z", "submission_created")
    put_message("2026-01-05T11:00:00Z", "form_updated")
    put_message("2026-02-01T00:00:00Z", "submission_created")
    put_message("2026-02-01T08:00:00Z", "submission_edited")


def test_group_by_day_month_and_year(api):
    seed()

    assert stats(api, group_by="day") == [
        {"group": "2026-02-01", "submission_created": 1, "submission_edited": 1},
        {"group": "2026-01-05", "form_updated": 1, "submission_created": 2},
        {"group": "2025-12-31", "message": 1},
    ]
    # Newest first by date, not by text: "12-2025" is older than "01-2026".
    assert stats(api, group_by="month") == [
        {"group": "02-2026", "submission_created": 1, "submission_edited": 1},
        {"group": "01-2026", "form_updated": 1, "submission_created": 2},
        {"group": "12-2025", "message": 1},
    ]
    rows = stats(api, group_by="year")
    assert rows == [
        {"group": "2026", "form_updated": 1, "submission_created": 3, "submission_edited": 1},
        {"group": "2025", "message": 1},
    ]
    assert all(next(iter(r)) == "group" for r in rows)


def test_messages_created_through_the_api_are_counted(api):
    days = set()
    for verb in ("submission_created", "submission_created", "form_updated"):
        response = api.post("/api/v1/messaging", app="acme/billing",
                            json={**FORM, "message": "{}", "verb": verb})
        assert response.status_code == 201
        days.add(response.get_json()["timestamp"][:10])
    if len(days) > 1:
        pytest.skip("the messages straddle midnight UTC")
    [day] = days

    assert stats(api, group_by="day") == [{"group": day, "form_updated": 1, "submission_created": 2}]
    assert stats(api, group_by="year") == [{"group": day[:4], "form_updated": 1, "submission_created": 2}]


def test_filters_apply(api):
    seed()

    assert stats(api, group_by="month", verb="submission_created") == [
        {"group": "02-2026", "submission_created": 1}, {"group": "01-2026", "submission_created": 2}]
    assert stats(api, group_by="day", timestamp__year="2025") == [{"group": "2025-12-31", "message": 1}]
    assert stats(api, group_by="day", timestamp__gte="2026-01-05T11:00:00Z", timestamp__lt="2026-02-01T08:00:00Z") == [
        {"group": "2026-02-01", "submission_created": 1},
        {"group": "2026-01-05", "form_updated": 1, "submission_created": 1},
    ]
    assert stats(api, group_by="year", timestamp__hour__gte="23") == [
        {"group": "2026", "submission_created": 1}, {"group": "2025", "message": 1}]
    assert stats(api, group_by="year", user="carol") == [{"group": "2025", "message": 1}]
    assert stats(api, group_by="day", verb="no_such_verb") == []


def test_days_are_utc_days(api):
    put_message("2026-03-15T01:00:00Z")
    put_message("2026-03-15T22:00:00Z")

    assert stats(api, group_by="day") == [{"group": "2026-03-15", "message": 2}]


def test_empty_target_has_no_rows(api):
    assert stats(api, group_by="day") == []


def test_group_by_missing_or_invalid(api):
    seed()
    for params, detail in [
        ({}, "Parameter 'group_by' is missing."),
        ({"group_by": "week"}, "Parameter 'group_by' is not valid."),
        ({"group_by": "hour"}, "Parameter 'group_by' is not valid."),
        ({"group_by": "Day"}, "Parameter 'group_by' is not valid."),
        ({"group_by": ""}, "Parameter 'group_by' is not valid."),
    ]:
        response = api.get(STATS, user="bob", query_string={**FORM, **params})
        assert (response.status_code, response.get_json()) == (400, {"detail": detail}), params


def test_target_parameters_are_checked_first(api):
    """As in Ona, the target filters run before the group_by check."""
    for params, detail in [
        ({}, "Parameter 'target_type' is missing."),
        ({"group_by": "day"}, "Parameter 'target_type' is missing."),
        ({"target_id": "34", "group_by": "week"}, "Parameter 'target_type' is missing."),
        ({"target_type": "xyz", "target_id": "34"}, "Unknown target_type xyz"),
        ({"target_type": "xform", "group_by": "day"}, "Parameter 'target_id' is missing."),
    ]:
        response = api.get(STATS, user="bob", query_string=params)
        assert (response.status_code, response.get_json()) == (400, {"detail": detail}), params


def test_invalid_timestamp_filter_is_400(api):
    response = api.get(STATS, user="bob", query_string={**FORM, "group_by": "day", "timestamp__gte": "soon"})

    assert (response.status_code, response.get_json()) == (400, {"timestamp__gte": ["Enter a valid date/time."]})


def test_permission_as_for_the_list(api):
    seed()
    put_message("2026-01-01T00:00:00Z", target=("user", "bob"), user="alice")

    for caller in ("alice", "bob", "carol", "erin", "admin"):
        assert len(stats(api, caller, group_by="year")) == 2, caller
    assert stats(api, "bob", {"target_type": "user", "target_id": "bob"}, group_by="year") == [
        {"group": "2026", "message": 1}]
    assert stats(api, "admin", {"target_type": "user", "target_id": "bob"}, group_by="year") == [
        {"group": "2026", "message": 1}]
    for caller, target in [("dave", FORM), ("frank", FORM), ("alice", {"target_type": "user", "target_id": "bob"}),
                           ("dave", {"target_type": "xform", "target_id": "999"})]:
        response = api.get(STATS, user=caller, query_string={**target, "group_by": "day"})
        refusal = INACTIVE if caller == "frank" else NO_PERMISSION   # an inactive user is locked out first
        assert (response.status_code, response.get_json()) == (403, refusal), (caller, target)
    assert stats(api, "admin", {"target_type": "xform", "target_id": "999"}, group_by="day") == []

