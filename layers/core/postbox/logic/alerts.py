"""Aalam alerts (docs/aalam.md), the request side: send, list, read and edit, delete, preferences, and the app's
callback secret. The stream side is postbox.logic.alert_stream.

The request resolves the receivers it can within a bounded amount of work (so the response can count them, list
the unknown ones and refuse an alert that reaches nobody) and writes the alert with its receiver chunk, or with
expansion jobs for a large audience, in one transaction; the fan-out expands the jobs into chunks and writes the
per-user copies from the chunks (docs/aalam.md#large-alerts). A user's copy is an inbox entry of kind alert: the
native inbox and the Aalam list share its read state.
"""

import json
from datetime import timedelta
from typing import Any

from postbox.auth import Caller
from postbox.dal import alerts as store
from postbox.dal import feed
from postbox.dal import inbox as inbox_store
from postbox.errors import NOT_FOUND, NotFound
from postbox.ids import is_directory_id, is_ulid, new_ulid
from postbox.logic import callbacks, permissions
from postbox.logic.alert_content import (
    alert_content,
    frontend_url_of,
    invalid,
    parse_time,
    render_alert,
    render_template,
)
from postbox.logic.alert_receivers import TooManySources, plan_receivers
from postbox.logic.inbox import inbox_owner
from postbox.models.aalam import (
    CONTENT_MAX_CHARS,
    FROM_MAX_CHARS,
    PRIVATE_DATA_MAX_CHARS,
    AlertEditedOut,
    AlertReadOut,
    AppSecretOut,
    PreferenceOut,
    SendAlertIn,
    SentAlertOut,
)
from postbox.timefmt import iso, utcnow

TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")
COUNT_DEFAULT = 100
COUNT_MAX = 1000


def _flag(field: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in TRUE:
        return True
    if lowered in FALSE:
        return False
    raise invalid(field, "must be true or false")


def send_alert(caller: Caller, request: SendAlertIn) -> SentAlertOut:
    """PUT /aalam/base/message."""
    message = request.message
    actor = permissions.require_app(caller)
    if not permissions.can_send_as(actor, message.app):
        raise invalid("message.app", f"must be the calling application, {actor.fields.get('app_id')}")
    app = actor.fields
    content, text, template = alert_content(app, message)
    if message.msg_group is not None and message.msg_group not in (app.get("msg_groups") or []):
        raise invalid("message.msg_group", f"{message.msg_group!r} is not a message group of {app['app_id']}")
    frontend_url = frontend_url_of(message.frontend_url)
    if message.backend_url is not None:
        try:
            callbacks.check_url(message.backend_url)
        except callbacks.UrlRefused as refused:
            raise invalid("message.backend_url", str(refused)) from None
    try:
        receivers = plan_receivers(message.receiver, app["app_id"], message.msg_group)
    except TooManySources as error:
        raise invalid("message.receiver", str(error)) from None
    if not receivers.users and not receivers.jobs:
        raise invalid("message.receiver", "reaches no user (unknown receivers, or all unfollowed)",
                      unknown=receivers.unknown)
    if receivers.count > store.MAX_RECEIVERS:
        raise invalid("message.receiver", f"reaches {receivers.count} users; at most {store.MAX_RECEIVERS}")

    created = utcnow()
    alert = store.NewAlert(
        id=new_ulid(int(created.timestamp() * 1000)), app_id=app["app_id"], client_id=caller.id,
        sender=message.from_, content=json.dumps(content, ensure_ascii=False), text=text, index=message.index,
        template=template, msg_group=message.msg_group, frontend_url=frontend_url, backend_url=message.backend_url,
        private_data=message.private_data, created_at=iso(created))
    # One transaction: the alert (unless notify-only) with its receiver chunk, or with its expansion jobs.
    item = store.alert_item(alert, receivers.count)
    transient: dict[str, Any] = {} if message.persist else {
        "transient": render_alert(item, isread=False), "created_at": alert.created_at,
        "expires_at": int((created + timedelta(seconds=store.TRANSIENT_TTL_SECONDS)).timestamp())}
    store.put_new([*([item] if message.persist else []),
                   *store.receiver_items(alert.id, receivers.users, **transient),
                   *store.job_items(alert.id, receivers.jobs, app_id=alert.app_id, msg_group=alert.msg_group,
                                    **transient)])
    return SentAlertOut(id=alert.id, receivers=receivers.count, unknown=receivers.unknown)


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


def _required(name: str, value: str | None) -> str:
    if value is None or not value.strip():
        raise invalid(name, "required")
    return value


def set_preference(caller: Caller, *, provider_code: str | None, app_code: str | None, msg_group: str | None,
                   unfollow: str | None) -> PreferenceOut:
    """POST /aalam/base/messages/preference: follow or unfollow an app's message group (without msg_group: its
    ungrouped alerts)."""
    user_id = inbox_owner(caller)
    provider_code = _required("provider_code", provider_code)
    app_code = _required("app_code", app_code)
    wants_unfollow = _flag("unfollow", _required("unfollow", unfollow))
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
    app = permissions.require_app(caller).fields
    return AppSecretOut(app=app["app_id"], client_id=app["client_id"], secret=app["secret"])
