"""GET /api/v1/messaging timestamp filters, in UTC (docs/ona.md; ported from Ona's test suite)."""

import time
from datetime import UTC, datetime

MESSAGING = "/api/v1/messaging"
SELF = {"target_type": "user", "target_id": "alice"}
ITEM_FIELDS = ("id", "verb", "message", "user", "timestamp")


def put_message(at: str, text: str = "x", *, target: tuple[str, str] = ("user", "alice"), user: str = "alice",
                verb: str = "message") -> dict:
    """Write a message with a chosen timestamp straight to the table; returns it as the list shows it."""
    from postbox.dal import messages, table
    from postbox.ids import new_ulid
    from postbox.timefmt import iso, parse_iso

    created = parse_iso(at)
    message = messages.NewMessage(
        id=new_ulid(int(created.timestamp() * 1000)), verb=verb, message=text, user=user, sender_id=user,
        sender_kind="app" if "/" in user else "user", sender_name="", target_type=target[0], target_id=target[1],
        target_name="", created=created, timestamp=iso(created))
    table.put(messages.message_item(message))
    return {"id": message.id, "verb": verb, "message": text, "user": user, "timestamp": message.timestamp}


def listed(api, caller: str = "alice", target: dict = SELF, **filters) -> list[dict]:
    response = api.get(MESSAGING, user=caller, query_string={**target, **filters})
    assert response.status_code == 200, (filters, response.get_json())
    return response.get_json()


def test_messaging_timestamp_filter(api):
    """Ona test 15: m1 and m2 created through the API within one minute."""
    if datetime.now(UTC).second >= 58:  # both messages must fall in the same minute, as in Ona's test
        time.sleep(60 - datetime.now(UTC).second)
    created = []
    for text in ("m1", "m2"):
        response = api.post(MESSAGING, user="alice", json={**SELF, "message": text})
        assert response.status_code == 201
        created.append(response.get_json())
    m1, m2 = ({k: m[k] for k in ITEM_FIELDS} for m in created)
    t1, t2 = m1["timestamp"], m2["timestamp"]
    assert t1 < t2

    assert listed(api, timestamp=t1) == [m1]
    assert listed(api, timestamp__gt=t1) == [m2]
    assert listed(api, timestamp__gte=t1) == [m2, m1]
    assert listed(api, timestamp__lt=t2) == [m1]
    assert listed(api, timestamp__lte=t2) == [m2, m1]

    moment = datetime.fromisoformat(t1.replace("Z", "+00:00"))
    for part in ("day", "month", "year", "hour"):
        value = str(getattr(moment, part))
        assert len(listed(api, **{f"timestamp__{part}": value})) == 2, part
        assert len(listed(api, **{f"timestamp__{part}__gt": value})) == 0, part
        assert len(listed(api, **{f"timestamp__{part}__gte": value})) == 2, part
        assert len(listed(api, **{f"timestamp__{part}__lt": value})) == 0, part
        assert len(listed(api, **{f"timestamp__{part}__lte": value})) == 2, part
    minute = str(moment.minute)
    assert len(listed(api, timestamp__minute=minute)) == 2
    assert len(listed(api, timestamp__minute__gt=minute)) == 0
    assert len(listed(api, timestamp__minute__lt=minute)) == 0
    assert len(listed(api, timestamp__minute__gte=minute)) == 2
    assert len(listed(api, timestamp__minute__lte=minute)) == 2


def test_timestamp_ranges_and_offsets(api):
    early = put_message("2026-03-10T12:00:00Z", "early")
    middle = put_message("2026-03-10T15:30:00.250000Z", "middle")
    late = put_message("2026-03-12T09:00:00Z", "late")

    assert listed(api) == [late, middle, early]
    assert listed(api, timestamp="2026-03-10T15:30:00.25Z") == [middle]
    assert listed(api, timestamp="2026-03-10T15:30:00Z") == []
    assert listed(api, timestamp__gte="2026-03-10T12:00:00Z", timestamp__lt="2026-03-12T09:00:00Z") == [middle, early]
    assert listed(api, timestamp__gt="2026-03-10T12:00:00Z", timestamp__lte="2026-03-12T09:00:00Z") == [late, middle]
    # A naive value is UTC; an offset is converted.
    assert listed(api, timestamp__gte="2026-03-10T15:30:00.25") == [late, middle]
    assert listed(api, timestamp__lt="2026-03-10T17:30:00.25+02:00") == [early]
    assert listed(api, timestamp="2026-03-12T04:00:00-05:00") == [late]
    # A date alone is its midnight.
    assert listed(api, timestamp__gte="2026-03-11") == [late]
    assert listed(api, timestamp__gte="2026-03-12T09:00:00Z", timestamp__lt="2026-03-10T00:00:00Z") == []


def test_date_parts_compare_in_utc_across_years(api):
    """Django's semantics: a month, day, hour or minute matches in every year."""
    a = put_message("2024-03-05T23:30:00Z", "a")
    b = put_message("2025-03-20T01:05:00Z", "b")
    c = put_message("2025-07-01T12:45:00Z", "c")

    assert listed(api, timestamp__year="2025") == [c, b]
    assert listed(api, timestamp__year__lt="2025") == [a]
    assert listed(api, timestamp__year__gt="2024") == [c, b]
    assert listed(api, timestamp__year__lte="2024") == [a]
    assert listed(api, timestamp__month="3") == [b, a]
    assert listed(api, timestamp__month__gte="4") == [c]
    assert listed(api, timestamp__year="2025", timestamp__month="3") == [b]
    assert listed(api, timestamp__day__lt="10") == [c, a]
    assert listed(api, timestamp__day="5") == [a]          # 23:30 UTC, whatever a local calendar says
    assert listed(api, timestamp__hour__gte="12") == [c, a]
    assert listed(api, timestamp__hour="1") == [b]
    assert listed(api, timestamp__minute__gt="30") == [c]
    assert listed(api, timestamp__minute="5") == [b]
    assert listed(api, timestamp__month="13") == []
    assert listed(api, timestamp__year="0") == []
    assert listed(api, timestamp__minute="9" * 60) == []
    assert listed(api, timestamp__minute__lt="9" * 60) == [c, b, a]
    assert listed(api, timestamp__year__lt="9" * 60) == [c, b, a]


def test_filters_combine_with_verb_and_user(api):
    form = {"target_type": "xform", "target_id": "34"}
    put_message("2026-01-01T10:00:00Z", "old", target=("xform", "34"), user="carol")
    new = put_message("2026-02-01T10:00:00Z", "new", target=("xform", "34"), user="carol")
    event = put_message("2026-02-02T10:00:00Z", "{}", target=("xform", "34"), user="acme/billing",
                        verb="form_updated")

    assert listed(api, "bob", form, timestamp__month="2") == [event, new]
    assert listed(api, "bob", form, timestamp__month="2", verb="message") == [new]
    assert listed(api, "bob", form, timestamp__gte="2026-01-15", user="acme/billing") == [event]
    assert listed(api, "bob", form, timestamp__lt="2026-01-15", user="acme/billing") == []


def test_unknown_lookups_are_ignored(api):
    """Ona issue #2658: `timestamp_lte` with one underscore does nothing."""
    a = put_message("2026-03-10T12:00:00Z", "a")
    b = put_message("2026-03-11T12:00:00Z", "b")

    for name in ("timestamp_lte", "timestamp__week", "timestamp__date", "timestamp__day__ne", "timestamp__lt__gt",
                 "timestamp__year__gt__lt", "timestamps"):
        assert listed(api, **{name: "2026-03-10T12:00:00Z"}) == [b, a], name


def test_invalid_values_are_400_with_a_field_error(api):
    put_message("2026-03-10T12:00:00Z", "a")
    cases = {
        "timestamp": "yesterday", "timestamp__gt": "2026-13-01T00:00:00Z", "timestamp__lte": "",
        "timestamp__gte": "2026-03-10T25:00:00Z", "timestamp__lt": "9999-12-31T23:59:59.999999Z",
    }
    for name, value in cases.items():
        response = api.get(MESSAGING, user="alice", query_string={**SELF, name: value})
        assert (response.status_code, response.get_json()) == (400, {name: ["Enter a valid date/time."]}), name
    response = api.get(MESSAGING, user="alice", query_string={**SELF, "timestamp": "0001-01-01T00:30:00+01:00"})
    assert (response.status_code, response.get_json()) == (400, {"timestamp": ["Enter a valid date/time."]})
    for name in ("timestamp__year", "timestamp__month__gt", "timestamp__day", "timestamp__hour__lte",
                 "timestamp__minute__gte"):
        for value in ("abc", "", "1e3"):
            response = api.get(MESSAGING, user="alice", query_string={**SELF, name: value})
            assert (response.status_code, response.get_json()) == (400, {name: ["Enter a number."]}), (name, value)


def test_invalid_filter_is_400_before_the_permission_check(api):
    response = api.get(MESSAGING, user="dave",
                       query_string={"target_type": "xform", "target_id": "34", "timestamp__gt": "soon"})

    assert (response.status_code, response.get_json()) == (400, {"timestamp__gt": ["Enter a valid date/time."]})


def test_bounds_before_year_1000_match_nothing(api):
    put_message("2026-03-10T12:00:00Z", "a")

    assert listed(api, timestamp__lt="0999-06-01T00:00:00Z") == []
    assert listed(api, timestamp__year__lte="999") == []
