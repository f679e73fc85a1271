"""The OpenAPI document of the whole API, generated from the handlers' Powertools routes (every function
of template.yaml), with the Cognito bearer scheme. `python -m postbox_local.openapi` writes docs/openapi.json."""

import json
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server

from postbox import settings
from postbox_local import template

OUTPUT = template.ROOT / "docs" / "openapi.json"


@contextmanager
def _handlers_loadable() -> Iterator[None]:
    """Handlers check their settings when loaded: variables that are not set get example values while the
    handlers load, and are taken away again afterwards (with what the settings read from them)."""
    added = {name: value for name, value in template.example_environment().items() if name not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)
        settings.reset()


def build() -> dict:
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # before the handlers are loaded
    merge = OpenAPIMerge(
        title="Postbox API", version="1.0.0",
        description=("Ona messaging (/api/v1/messaging), Aalam alerts (/aalam/base/...), the native inbox "
                     "(/api/v1/inbox) and the directory admin API. Every route except /health needs a Cognito "
                     "access token with scope postbox/user or "
                     "postbox/app; without one API Gateway answers 401 {\"detail\": \"Authentication credentials "
                     "were not provided.\"}."),
        servers=[Server(url="http://127.0.0.1:3000", description="make run")],
        security_schemes={"cognito": HTTPBearer(bearerFormat="JWT")},
        security=[{"cognito": []}],
        on_conflict="error",
    )
    for code_dir in sorted({route.code_dir for route in template.routes()}):
        merge.add_file(code_dir / "app.py", resolver_name="app")
    with warnings.catch_warnings(), _handlers_loadable():
        warnings.simplefilter("ignore")
        return responses_as_answered(json.loads(merge.get_openapi_json_schema()))


# -- what the API answers besides each route's own result -----------------------------------------------------
#
# Powertools documents a route's custom responses without content with the route's *result* schema, adds a 422
# "Validation Error" that no face answers (each face turns validation errors into its own 400), and a 500
# "ResponseValidationError". The errors are rendered by each face's exception handlers (postbox.http.faces,
# postbox.http.dhis2) and by API Gateway (401, 429), so they are documented here, once, as they are answered.

STRING = {"type": "string"}
ERROR_SCHEMAS = {
    "OnaError": {
        "title": "OnaError", "type": "object", "minProperties": 1,
        "description": ("Django REST framework's shapes, as Ona answers: {\"detail\": text}, or field errors "
                        "{field: [texts]} (an unknown target: {\"target_id\": \"target_id not found\"})."),
        "additionalProperties": {"anyOf": [STRING, {"type": "array", "items": STRING}]},
    },
    "Error": {
        "title": "Error", "type": "object", "required": ["detail"],
        "description": "{\"detail\": text}; validation errors add \"errors\", one text per problem.",
        "properties": {"detail": STRING, "errors": {"type": "array", "items": STRING}},
    },
    "AalamError": {
        "title": "AalamError", "type": "object", "required": ["detail"],
        "description": "{\"detail\": text}; a wrong field is named in \"field\" (its path, e.g. message.app).",
        "properties": {"detail": STRING, "field": STRING},
    },
    "Dhis2WebMessage": {
        "title": "Dhis2WebMessage", "type": "object", "required": ["httpStatus", "httpStatusCode", "status"],
        "description": "DHIS2's WebMessage (XML with Accept: application/xml).",
        "properties": {"httpStatus": STRING, "httpStatusCode": {"type": "integer"},
                       "status": {"enum": ["OK", "WARNING", "ERROR"]},
                       "errorCode": STRING, "message": {"anyOf": [STRING, {"type": "null"}]},
                       "response": {"anyOf": [{"type": "object"}, {"type": "null"}]}},
    },
    "Dhis2Error": {
        "title": "Dhis2Error",
        "description": ("A WebMessage, or DHIS2's plain {\"message\": text} where DHIS2 answers so (a conversation "
                        "that does not exist, a user to assign that does not exist)."),
        "anyOf": [{"$ref": "#/components/schemas/Dhis2WebMessage"},
                  {"type": "object", "required": ["message"], "properties": {"message": STRING}}],
    },
    "GatewayError": {
        "title": "GatewayError", "type": "object", "required": ["detail"], "properties": {"detail": STRING},
        "description": "API Gateway's own answers (template.yaml GatewayResponses), before any function runs.",
    },
}
# Which face answers a path (its error shape); the native faces (inbox, directory, attachments, ...) otherwise.
FACE_ERRORS = (("/aalam/", "AalamError"), ("/api/v1/messaging", "OnaError"), ("/api/v1/stats/", "OnaError"),
               ("/api/messageConversations", "Dhis2Error"), ("/api/fileResources", "Dhis2Error"),
               ("/api/me", "Dhis2Error"), ("/api/userSettings", "Dhis2Error"), ("/api/system/", "Dhis2Error"),
               ("/api/configuration", "Dhis2Error"), ("/api/userLookup", "Dhis2Error"), ("/api/users", "Dhis2Error"),
               ("/api/userGroups", "Dhis2Error"), ("/api/organisationUnits", "Dhis2Error"))
POWERTOOLS_ERRORS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")
PUBLIC_PATHS = ("/health",)


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _face_error(path: str) -> str:
    return next((name for prefix, name in FACE_ERRORS if path.startswith(prefix)), "Error")


def responses_as_answered(document: dict) -> dict:
    """Error responses in each face's shape (and API Gateway's 401 and 429), no 422 that is never answered, a
    success response where a route listed only errors, and /health public."""
    for path, operations in document["paths"].items():
        error = _ref(_face_error(path))
        for method, operation in operations.items():
            responses = operation["responses"]
            if responses.get("422", {}).get("description") == "Validation Error":
                del responses["422"]  # validation errors are each face's 400
            if not any(code[0] in "23" for code in responses):
                # Powertools put the route's result schema on the errors it listed: it is the 200's.
                result = next((r["content"] for code, r in responses.items() if code[0] == "4" and "content" in r),
                              {"application/json": {}})
                responses["200"] = {"description": "OK", "content": result}
            for code, response in responses.items():
                if code[0] in "45":
                    response["content"] = _json(error)
            responses["500"] = {"description": "A server error (never for client input)", "content": _json(error)}
            if operation.get("parameters") or operation.get("requestBody"):
                responses.setdefault("400", {"description": "Invalid request", "content": _json(error)})
            if method in ("post", "put", "patch"):
                responses.setdefault("413", {"description": "A request body over 1 MB (file uploads excepted)",
                                             "content": _json(error)})
            if path in PUBLIC_PATHS:
                operation["security"] = []
                continue
            responses["401"] = {
                "description": "No or bad access token (API Gateway)", "content": _json(_ref("GatewayError")),
                "headers": {"WWW-Authenticate": {"schema": STRING}}}
            responses["429"] = {
                "description": "Throttled (API Gateway: the stage's rate and burst limits)",
                "content": _json(_ref("GatewayError")),
                "headers": {"Retry-After": {"description": "Seconds to wait", "schema": STRING}}}
            operation["responses"] = dict(sorted(responses.items()))
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(ERROR_SCHEMAS)
    text = json.dumps(document["paths"])
    for name in POWERTOOLS_ERRORS:
        if _ref(name)["$ref"] not in text:
            schemas.pop(name, None)
    return document


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"


def main() -> int:
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(render())
    print(f"wrote {OUTPUT.relative_to(template.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
