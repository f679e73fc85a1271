"""Per-face rendering of request validation errors.

The Ona face answers as Django REST framework does (field -> list of messages); the native faces
(inbox, directory, attachments) answer `{"detail": ..., "errors": [...]}`; the Aalam face names the first
wrong field: `{"detail": "message.app: ...", "field": "message.app"}`.
"""

import json
from typing import Any

from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from postbox.http.resolver import json_response, make_resolver
from postbox.validation import describe_errors

DRF_MESSAGES = {
    "missing": "This field is required.",
    "string_type": "Not a valid string.",
    "int_parsing": "A valid integer is required.",
    "list_type": 'Expected a list of items but got type "{type}".',
}


JSON_TYPE_NAMES = {list: "list", str: "str", int: "int", float: "float", bool: "bool", type(None): "NoneType"}


def _body_type(event: Any) -> str:
    try:
        return JSON_TYPE_NAMES.get(type(json.loads(event.body or "null")), "object")
    except ValueError:
        return "str"


def _drf_body(error: RequestValidationError, event: Any) -> dict[str, Any]:
    fields: dict[str, list[str]] = {}
    for problem in error.errors():
        location = [part for part in problem.get("loc", ()) if part != "body"]
        kind = problem.get("type", "")
        if kind == "json_invalid":
            return {"detail": f"JSON parse error - {problem.get('ctx', {}).get('error', 'invalid JSON')}"}
        if kind == "multipart_invalid":
            return {"detail": f"Multipart form parse error - {problem.get('msg', 'invalid body')}"}
        if not location or kind == "model_attributes_type":
            return {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {_body_type(event)}."]}
        name = str(location[0])
        # Only DRF's own templates are formatted: pydantic's message may quote the input, braces and all.
        template = DRF_MESSAGES.get(kind)
        text = problem.get("msg", "Invalid value.")
        if template:
            text = template.format(type=type(problem.get("input")).__name__)
        if text not in fields.setdefault(name, []):
            fields[name].append(text)
    return fields


def _native_body(error: RequestValidationError, event: Any) -> dict[str, Any]:
    problems = describe_errors(error.errors(), skip=("body",))
    return {"detail": f"Invalid request: {problems[0]}" if problems else "Invalid request.", "errors": problems}


def _aalam_body(error: RequestValidationError, event: Any) -> dict[str, Any]:
    """Aalam answers a wrong field with 400: the first problem, naming the field (`field` is its path)."""
    problems = list(error.errors())
    if not problems:
        return {"detail": "Invalid request.", "field": "body"}
    first = problems[0]
    loc = [part for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    if first.get("type") == "json_invalid":
        return {"detail": describe_errors([first])[0], "field": "body"}
    if first.get("type") == "missing" and not loc:
        loc = ["message"]  # no body at all
    field = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".") or "body"
    detail = describe_errors([{**first, "loc": tuple(loc)}])[0]
    return {"detail": detail, "field": field}


def _json_object_body(app: Any, next_middleware: Any) -> Any:
    """A JSON body must be an object. (Powertools validates a list body by its first element when the model is
    not a sequence; Aalam's only body is an object.)"""
    raw = app.current_event.body
    if raw:
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = {}  # validation has answered already where a body is expected
        if not isinstance(parsed, dict):
            return json_response(400, {"detail": "body: must be a JSON object", "field": "body"})
    return next_middleware(app)


def aalam_resolver():
    app = make_resolver(_aalam_body)
    app.use(middlewares=[_json_object_body])
    return app


def ona_resolver():
    return make_resolver(_drf_body)


def native_resolver():
    return make_resolver(_native_body)
