"""Aalam alerts' content (docs/aalam.md): templates filled from the message map, URLs, times in Aalam's
date format, and an alert rendered in Aalam's shape."""

import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from postbox.dal.table import Item
from postbox.errors import BadRequest
from postbox.models.aalam import CONTENT_MAX_CHARS, AlertMessageIn, AlertOut
from postbox.settings import AalamSettings
from postbox.timefmt import parse_iso

PLACEHOLDER_RE = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


def invalid(field: str, problem: str, **extra: Any) -> BadRequest:
    """Aalam's 400: a message naming the wrong field, and the field's path."""
    return BadRequest({"detail": f"{field}: {problem}", "field": field, **extra})


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


def alert_content(app: Item, message: AlertMessageIn) -> tuple[Any, str, str | None]:
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


def frontend_url_of(value: str | None) -> str | None:
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


def format_time(timestamp: str) -> str:
    date_format = AalamSettings.get().AALAM_DATE_FORMAT
    return timestamp if date_format == "iso8601" else parse_iso(timestamp).strftime(date_format)


def parse_time(field: str, value: str) -> datetime:
    date_format = AalamSettings.get().AALAM_DATE_FORMAT
    try:
        if date_format == "iso8601":
            return parse_iso(value)
        return datetime.strptime(value.strip(), date_format).replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        expected = "ISO-8601" if date_format == "iso8601" else date_format
        raise invalid(field, f"is not a time in the format {expected}") from None


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
