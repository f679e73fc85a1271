"""Per-face rendering of request validation errors.

The Ona face answers as Django REST framework does (field -> list of messages); the native faces
(inbox, directory, attachments) answer `{"detail": ..., "errors": [...]}`.
"""

import json
from typing import Any

from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from postbox.http.resolver import make_resolver
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
        if not location or kind == "model_attributes_type":
            return {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {_body_type(event)}."]}
        name = str(location[0])
        text = DRF_MESSAGES.get(kind, problem.get("msg", "Invalid value."))
        text = text.format(type=type(problem.get("input")).__name__)
        if text not in fields.setdefault(name, []):
            fields[name].append(text)
    return fields


def _native_body(error: RequestValidationError, event: Any) -> dict[str, Any]:
    problems = describe_errors(error.errors(), skip=("body",))
    return {"detail": f"Invalid request: {problems[0]}" if problems else "Invalid request.", "errors": problems}


def ona_resolver():
    return make_resolver(_drf_body)


def native_resolver():
    return make_resolver(_native_body)
