"""Aalam alerts (docs/aalam.md): send, list, read and edit, delete, preferences, the app's callback secret; and
their stream side (receiver chunks become inbox entries, edits reach the entries, notify-only alerts are
published and removed).

The request expands the receivers (so the response can count them, list the unknown ones and refuse an alert
that reaches nobody) and writes the alert and its receiver chunks in one transaction; the fan-out writes the
per-user copies from the chunks. A user's copy is an inbox entry of kind alert: the native inbox and the Aalam
list share its read state.
"""

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from postbox.auth import Caller
from postbox.dal import alerts as store
from postbox.dal import directory, feed, keys
from postbox.dal import inbox as inbox_store
from postbox.dal.table import Item
from postbox.errors import NOT_FOUND, BadRequest, NotFound
from postbox.ids import is_directory_id, is_ulid, new_ulid
from postbox.logic import callbacks, permissions
from postbox.logic.changes import Change
from postbox.logic.inbox import inbox_owner
from postbox.models.aalam import (
    CONTENT_MAX_CHARS,
    FROM_MAX_CHARS,
    PRIVATE_DATA_MAX_CHARS,
    AlertEditedOut,
    AlertMessageIn,
    AlertOut,
    AlertReadOut,
    AppSecretOut,
    PreferenceOut,
    ReceiverIn,
    SendAlertIn,
    SentAlertOut,
)
from postbox.settings import get_settings
from postbox.timefmt import iso, parse_iso, utcnow

PHONE_RE = re.compile(r"\+?[0-9]{3,20}")
AUTHORITY_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
PLACEHOLDER_RE = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")
COUNT_DEFAULT = 100
COUNT_MAX = 1000


def invalid(field: str, problem: str, **extra: Any) -> BadRequest:
    """Aalam's 400: a message naming the wrong field, and the field's path."""
    return BadRequest({"detail": f"{field}: {problem}", "field": field, **extra})


def _flag(field: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in TRUE:
        return True
    if lowered in FALSE:
        return False
    raise invalid(field, "must be true or false")


# -- content -------------------------------------------------------------------------------------------------


def render_template(template: str, values: Any, field: str) -> str:
    """`{key}` placeholders filled from `values`; `{{` and `}}` are literal braces. Only plain substitution:
    no attribute or index access (str.format would let a template reach into Python objects)."""
    wanted = [m.group(1) for m in PLACEHOLDER_RE.finditer(template) if m.group(1) is not None]
    if values is None and not wanted:
        return template
    if not isinstance(values, dict):
        raise invalid(field, "must be a JSON object of the template's keys when index is given")
    missing = [key for key in dict.fromkeys(wanted) if key not in values]
    if missing:
        raise invalid(f"{field}.{missing[0]}", "missing key " + ", ".join(repr(k) for k in missing)
                      + " of the template", missing=missing)

    def substitute(match: re.Match) -> str:
        if match.group(1) is None:
            return match.group(0)[0]
        value = values[match.group(1)]
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str | int | float):
            return str(value)
        raise invalid(f"{field}.{match.group(1)}", "must be a string, a number or a boolean")

    return PLACEHOLDER_RE.sub(substitute, template)


def _content(app: Item, message: AlertMessageIn) -> tuple[Any, str, str | None]:
    """(content as Aalam returns it, the text an inbox shows, the template used)."""
    if message.index is not None:
        template = (app.get("message_map") or {}).get(message.index)
        if template is None:
            raise invalid("message.index", f"{message.index!r} is not in the message map of {app['app_id']}")
        text = render_template(template, message.content, "message.content")
        content: Any = text
    else:
        if message.content is None:
            raise invalid("message.content", "required when index is not given")
        content, template = message.content, None
        text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
        if not text.strip():
            raise invalid("message.content", "may not be blank")
    if len(text) > CONTENT_MAX_CHARS or len(json.dumps(content, ensure_ascii=False)) > 2 * CONTENT_MAX_CHARS:
        raise invalid("message.content", f"must be at most {CONTENT_MAX_CHARS} characters")
    return content, text, template


def _frontend_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise invalid("message.frontend_url", "must be an absolute http or https URL")
    return value


def with_params(url: str, params: dict[str, str]) -> str:
    """The URL with these query parameters set (replacing any of the same name)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    return urlunsplit(parts._replace(query=urlencode([*query, *params.items()])))


# -- times in Aalam's date format ---------------------------------------------------------------------------


def format_time(timestamp: str) -> str:
    date_format = get_settings().AALAM_DATE_FORMAT
    return timestamp if date_format == "iso8601" else parse_iso(timestamp).strftime(date_format)


def parse_time(field: str, value: str) -> datetime:
    date_format = get_settings().AALAM_DATE_FORMAT
    try:
        if date_format == "iso8601":
            return parse_iso(value)
        return datetime.strptime(value.strip(), date_format).replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        expected = "ISO-8601" if date_format == "iso8601" else date_format
        raise invalid(field, f"is not a time in the format {expected}") from None


# -- receivers ---------------------------------------------------------------------------------------------


def expand_receivers(receivers: list[ReceiverIn], app_id: str, msg_group: str | None) -> tuple[list[str], list[str]]:
    """(receiving user ids, de-duplicated, in order; values that reached nobody). Users are active directory users
    who did not unfollow the app's message group ("" = its ungrouped alerts)."""
    emails: dict[str, str] = {}      # lookup id -> value as given
    phones: dict[str, str] = {}
    group_values: list[str] = []
    authorities: list[str] = []
    unknown: list[str] = []
    for receiver in receivers:
        for value in receiver.value:
            if receiver.type == "users":
                if "@" in value:
                    emails.setdefault(value.strip().lower(), value)
                elif PHONE_RE.fullmatch(value.strip()):
                    phones.setdefault(value.strip(), value)
                else:
                    unknown.append(value)
            elif receiver.type == "groups":
                group_values.append(value)
            elif AUTHORITY_RE.fullmatch(value):
                authorities.append(value)
            else:
                unknown.append(value)

    group_ids = [g for g in dict.fromkeys(group_values) if is_directory_id(g)]
    found = store.get_many(store.lookup_keys(emails, phones, group_ids)) if emails or phones or group_ids else {}

    def stored(kind: str, entry_id: str) -> Item | None:
        key = keys.directory_key(kind, entry_id)
        return found.get((key["PK"], key["SK"]))

    # (type, value) -> the user ids it reaches (before the active and unfollow filters)
    reached: dict[tuple[str, str], list[str]] = {}
    for kind, values in ((directory.EMAIL, emails), (directory.PHONE, phones)):
        for lookup, value in values.items():
            entry = stored(kind, lookup)
            reached[("users", value)] = [entry["user_id"]] if entry else []
    groups = _resolve_groups(group_values, {g for g in group_ids if stored(directory.GROUP, g)})
    for value, ids in groups.items():
        reached[("groups", value)] = [uid for group_id in ids
                                      for uid in directory.member_ids(directory.GROUP, group_id)]
    for authority in dict.fromkeys(authorities):
        reached[("permissions", authority)] = permissions.authority_receivers(authority)

    candidates = list(dict.fromkeys(uid for ids in reached.values() for uid in ids))
    users = store.get_users(candidates)
    active = {uid for uid, user in users.items() if user.get("active", True)}
    # Unknown: a user or authority that reaches no active user; a group that does not exist (an existing group
    # whose members are all inactive is known, just empty).
    unknown += [value for (kind, value), ids in reached.items()
                if kind != "groups" and not any(uid in active for uid in ids)]
    unknown += [value for value, ids in groups.items() if not ids]
    unfollowed = store.unfollowers(app_id, msg_group or "") if active else set()
    return [uid for uid in candidates if uid in active and uid not in unfollowed], list(dict.fromkeys(unknown))


def _resolve_groups(values: list[str], known_ids: set[str]) -> dict[str, list[str]]:
    """Each group value -> the group ids it names: a group id, else every group with that name."""
    result = {value: [value] if value in known_ids else [] for value in dict.fromkeys(values)}
    by_name = [value for value, ids in result.items() if not ids]
    if by_name:
        named: dict[str, list[str]] = {}
        for group in directory.entries_of_kind(directory.GROUP):
            named.setdefault(group.get("name", ""), []).append(group["id"])
        for value in by_name:
            result[value] = named.get(value, [])
    return result


# -- the API -------------------------------------------------------------------------------------------------


def send_alert(caller: Caller, request: SendAlertIn) -> SentAlertOut:
    """PUT /aalam/base/message."""
    message = request.message
    actor = permissions.require_app(caller)
    if not permissions.can_send_as(actor, message.app):
        raise invalid("message.app", f"must be the calling application, {actor.entry.get('app_id')}")
    app = actor.entry
    content, text, template = _content(app, message)
    if message.msg_group is not None and message.msg_group not in (app.get("msg_groups") or []):
        raise invalid("message.msg_group", f"{message.msg_group!r} is not a message group of {app['app_id']}")
    frontend_url = _frontend_url(message.frontend_url)
    if message.backend_url is not None:
        try:
            callbacks.check_url(message.backend_url)
        except callbacks.UrlRefused as refused:
            raise invalid("message.backend_url", str(refused)) from None
    receivers, unknown = expand_receivers(message.receiver, app["app_id"], message.msg_group)
    if not receivers:
        raise invalid("message.receiver", "reaches no user (unknown receivers, or all unfollowed)", unknown=unknown)
    if len(receivers) > store.MAX_RECEIVERS:
        raise invalid("message.receiver", f"reaches {len(receivers)} users; at most {store.MAX_RECEIVERS}")

    created = utcnow()
    alert = store.NewAlert(
        id=new_ulid(int(created.timestamp() * 1000)), app_id=app["app_id"], client_id=caller.id,
        sender=message.from_, content=json.dumps(content, ensure_ascii=False), text=text, index=message.index,
        template=template, msg_group=message.msg_group, frontend_url=frontend_url, backend_url=message.backend_url,
        private_data=message.private_data, created_at=iso(created))
    if message.persist:
        store.put_new([store.alert_item(alert, len(receivers)), *store.receiver_items(alert.id, receivers)])
    else:
        notice = render_alert(store.alert_item(alert, len(receivers)), isread=False)
        expires = int((created + timedelta(seconds=store.TRANSIENT_TTL_SECONDS)).timestamp())
        store.put_new(store.receiver_items(alert.id, receivers, transient=notice, created_at=alert.created_at,
                                           expires_at=expires))
    return SentAlertOut(id=alert.id, receivers=len(receivers), unknown=unknown)


def render_alert(alert: Item, *, isread: bool) -> dict[str, Any]:
    """An alert in Aalam's shape; frontend_url carries message_id and private_data."""
    frontend_url = alert.get("frontend_url")
    if frontend_url:
        params = {"message_id": alert["id"]}
        if alert.get("private_data") is not None:
            params["private_data"] = alert["private_data"]
        frontend_url = with_params(frontend_url, params)
    return AlertOut.model_validate({
        "id": alert["id"], "from": alert["from"], "frontend_url": frontend_url,
        "content": json.loads(alert["content"]), "private_data": alert.get("private_data"), "isread": isread,
        "time": format_time(alert["created_at"])}).model_dump(by_alias=True)


def list_alerts(caller: Caller, *, date_floor: str | None, count: int) -> list[dict[str, Any]]:
    """GET /aalam/base/messages: the caller's alerts posted after date_floor, newest first. One Query on the
    alert feed, one BatchGetItem per 100 alerts."""
    user_id = inbox_owner(caller)
    lower = None
    if date_floor is not None and date_floor.strip():
        floor = parse_time("date_floor", date_floor)
        try:
            lower = iso(floor + timedelta(microseconds=1))  # posted after the floor
        except OverflowError:
            return []
    entries = feed.fetch(store.alert_feed_query(user_id, lower=lower), limit=count).items
    alerts = store.get_alerts([entry["source_id"] for entry in entries])
    return [render_alert(alerts[entry["source_id"]], isread=bool(entry.get("read")))
            for entry in entries if entry["source_id"] in alerts]


def act_on_alert(caller: Caller, alert_id: str, *, read: str | None, private_data: str | None,
                 sender: str | None, content: str | None) -> AlertReadOut | AlertEditedOut:
    """POST /aalam/base/message/{id}: a user sets read; the sending app edits its alert for every receiver."""
    app_fields = {"private_data": private_data, "from": sender, "content": content}
    if caller.is_app:
        if read is not None:
            raise invalid("read", "applies to users; an application may change private_data, from or content")
        if all(value is None for value in app_fields.values()):
            raise invalid("content", "give at least one of private_data, from or content")
        return _edit_alert(caller, alert_id, private_data, sender, content)
    for name, value in app_fields.items():
        if value is not None:
            raise invalid(name, "applies to the sending application; a user may only set read")
    if read is None:
        raise invalid("read", "required (true or false)")
    isread = _flag("read", read)
    user_id = inbox_owner(caller)
    result = (inbox_store.transition(user_id, alert_id, "read" if isread else "unread", iso(utcnow()),
                                     kind=store.ENTRY_KIND) if is_ulid(alert_id) else None)
    if result is None or not result.exists:
        raise NotFound(NOT_FOUND)
    return AlertReadOut(id=alert_id, isread=isread)


def _edit_alert(caller: Caller, alert_id: str, private_data: str | None, sender: str | None,
                content: str | None) -> AlertEditedOut:
    actor = permissions.require_app(caller)
    changes: dict[str, Any] = {}
    if sender is not None:
        if not sender.strip() or len(sender.strip()) > FROM_MAX_CHARS:
            raise invalid("from", f"must be 1 to {FROM_MAX_CHARS} characters")
        changes["from"] = sender.strip()
    if private_data is not None:
        if len(private_data) > PRIVATE_DATA_MAX_CHARS:
            raise invalid("private_data", f"must be at most {PRIVATE_DATA_MAX_CHARS} characters")
        changes["private_data"] = private_data
    alert = store.get_alert(alert_id) if is_ulid(alert_id) else None
    if alert is None or not permissions.can_edit_alert(actor, alert):
        raise NotFound(NOT_FOUND)
    if content is not None:
        if alert.get("template") is not None:
            try:
                values = json.loads(content)
            except ValueError:
                raise invalid("content", "must be a JSON object of the template's keys (the alert has an index)") \
                    from None
            text = render_template(alert["template"], values, "content")
            changes["content"] = json.dumps(text, ensure_ascii=False)
        else:
            if not content.strip():
                raise invalid("content", "may not be blank")
            text = content
            changes["content"] = json.dumps(content, ensure_ascii=False)
        if len(text) > CONTENT_MAX_CHARS:
            raise invalid("content", f"must be at most {CONTENT_MAX_CHARS} characters")
        changes["text"] = text
    changes["edited_at"] = iso(utcnow())
    updated = store.update_alert(alert_id, alert["app_id"], changes)
    if updated is None:
        raise NotFound(NOT_FOUND)
    return AlertEditedOut.model_validate({"id": alert_id, "from": updated["from"],
                                          "content": json.loads(updated["content"]),
                                          "private_data": updated.get("private_data")})


def delete_alert(caller: Caller, alert_id: str) -> None:
    """DELETE /aalam/base/message/{id}: the caller's own copy (one conditional DeleteItem)."""
    user_id = inbox_owner(caller)
    if not is_ulid(alert_id) or not inbox_store.delete_entry(user_id, alert_id, kind=store.ENTRY_KIND):
        raise NotFound(NOT_FOUND)


def set_preference(caller: Caller, *, provider_code: str | None, app_code: str | None, msg_group: str | None,
                   unfollow: str | None) -> PreferenceOut:
    """POST /aalam/base/messages/preference: follow or unfollow an app's message group (without msg_group: its
    ungrouped alerts)."""
    user_id = inbox_owner(caller)
    for name, value in (("provider_code", provider_code), ("app_code", app_code), ("unfollow", unfollow)):
        if value is None or not value.strip():
            raise invalid(name, "required")
    wants_unfollow = _flag("unfollow", unfollow)
    group = msg_group or ""
    app = None
    if is_directory_id(provider_code) and is_directory_id(app_code):
        key = store.app_key(f"{provider_code}/{app_code}")
        app = store.get_many([key]).get((key["PK"], key["SK"]))
    if app is None:
        raise NotFound({"detail": f"App {provider_code}/{app_code} not found."})
    if group and group not in (app.get("msg_groups") or []):
        raise NotFound({"detail": f"Message group {group} of app {provider_code}/{app_code} not found."})
    if wants_unfollow:
        store.put_unfollow(user_id, provider_code, app_code, group)
    else:
        store.delete_unfollow(user_id, provider_code, app_code, group)
    return PreferenceOut(provider_code=provider_code, app_code=app_code, msg_group=msg_group or None,
                         unfollow=wants_unfollow)


def app_secret(caller: Caller) -> AppSecretOut:
    """The calling application's callback signing secret (its own only)."""
    app = permissions.require_app(caller).entry
    return AppSecretOut(app=app["app_id"], client_id=app["client_id"], secret=app["secret"])


# -- the stream side -----------------------------------------------------------------------------------------


def fan_out_alert(change: Change) -> None:
    """Fan-out: a receiver chunk becomes inbox entries; an edit of the alert reaches the entries."""
    kind = change.item_type()
    if kind == store.RECEIVERS_TYPE and change.event == "INSERT" and change.new and not change.new.get("transient"):
        deliver_receivers(change.new)
    elif kind == store.ALERT_TYPE and change.event == "MODIFY" and change.new and change.old and (
            (change.old.get("from"), change.old.get("text")) != (change.new.get("from"), change.new.get("text"))):
        propagate_edit(change.new)


def deliver_receivers(chunk: Item) -> int:
    """Write the missing entries of one chunk (idempotent: existing entries keep their state)."""
    from postbox.logic.fanout import preview, write_missing

    alert = store.get_alert(chunk["alert_id"], consistent=True)
    if alert is None:
        return 0
    text, truncated = preview(alert["text"])
    return write_missing([store.entry(user_id, alert, text, truncated) for user_id in chunk["users"]])


def propagate_edit(alert: Item) -> int:
    from postbox.logic.fanout import preview

    text, truncated = preview(alert["text"])
    return store.update_entries(alert["id"], store.receiver_ids(alert["id"]), alert["from"], text, truncated)


def publish_transient(chunk: Item) -> str | None:
    """Publisher: a notify-only alert goes to each receiver's inbox topic, then its chunk is deleted. Payload:
    the inbox event shape (`entry` as an inbox item would be) plus the alert in Aalam's shape."""
    from postbox.integrations import iot
    from postbox.logic.fanout import preview
    from postbox.logic.inbox import render_entry, unread_count
    from postbox.topics import encode_payload, inbox_topic

    notice = json.loads(chunk["notice"])
    text, truncated = preview(notice["content"] if isinstance(notice["content"], str)
                              else json.dumps(notice["content"], ensure_ascii=False))
    topic = None
    for user_id in chunk["users"]:
        entry = {"id": notice["id"], "kind": store.ENTRY_KIND, "source_id": notice["id"], "from": notice["from"],
                 "text": text, "truncated": truncated, "created_at": chunk["created_at"],
                 "read": False, "read_at": None, "archived": False}
        body = {"event": "created", "entry": render_entry(entry), "alert": notice, "transient": True,
                "unread": unread_count(user_id)}
        topic = inbox_topic(user_id)
        iot.publish(topic, encode_payload(body, ("entry", "text")))
    store.delete_receivers(chunk)
    return topic

