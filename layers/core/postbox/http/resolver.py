"""The Powertools resolver every API function builds, with its face's error shapes and Lambda entry point."""

import json
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from postbox.auth import Caller, Unauthenticated, caller_from_claims
from postbox.dal import gate, table
from postbox.errors import NOT_FOUND, NotFound, PayloadTooLarge, PostboxError
from postbox.http.powertools import body_annotation, exception_handler, raised_by_request_parsing
from postbox.logic.permissions import lock_out_inactive
from postbox.observability import logger, metrics

UNAUTHENTICATED = {"detail": "Authentication credentials were not provided."}
SERVER_ERROR = {"detail": "A server error occurred."}


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, "application/json", json.dumps(body, ensure_ascii=False), headers=headers)


# docs/architecture.md#limits; file uploads (multipart) are bounded by API Gateway and Lambda.
REQUEST_BODY_MAX_BYTES = 1024 * 1024
BODY_TOO_LARGE = "The request body is larger than 1 MB."


def _refuse_oversize_bodies(app: APIGatewayRestResolver, next_middleware: Callable) -> Any:
    """Bodies over 1 MB are refused before anything reads them, except multipart uploads (docs/attachments.md)."""
    event = app.current_event
    body = event.body or ""
    # A character is at most 4 bytes in UTF-8: a shorter body is within the limit without encoding it.
    if len(body) > REQUEST_BODY_MAX_BYTES // 4 and \
            not (event.headers or {}).get("content-type", "").lower().startswith("multipart/"):
        size = len(body) * 3 // 4 if event.is_base64_encoded else len(body.encode())
        if size > REQUEST_BODY_MAX_BYTES:
            raise PayloadTooLarge(BODY_TOO_LARGE)
    return next_middleware(app)


# docs/architecture.md#limits: JSON bodies nest at most 32 levels (DynamoDB's own limit for a stored document); a
# deeper body is refused before a route sees it. One that is deep enough to exhaust the parser's recursion is
# refused where the RecursionError surfaces (make_resolver), in the same words.
JSON_DEPTH_MAX = 32
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_NESTING = re.compile(r"[\[\]{}]")
TOO_DEEP = f"JSON nested deeper than {JSON_DEPTH_MAX} levels"
# API Gateway hands a text body that is not UTF-8 to Lambda with U+FFFD for each bad byte (and so does the local
# gateway): a body holding U+FFFD is refused, since it cannot be told apart from a corrupted one. JSON clients that
# mean the character write it as \ufffd.
NOT_UTF8 = "the body is not valid UTF-8"


def json_depth(text: str) -> int:
    """How deep a JSON text nests its arrays and objects (brackets inside strings do not count)."""
    depth = deepest = 0
    for bracket in _JSON_NESTING.findall(_JSON_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _body_problem(message: str) -> RequestValidationError:
    return RequestValidationError([{"type": "json_invalid", "loc": ("body",), "msg": f"JSON parse error - {message}",
                                    "input": {}, "ctx": {"error": message}}])


def _refuse_unreadable_bodies(app: APIGatewayRestResolver, next_middleware: Callable) -> Any:
    """Text bodies that are not UTF-8, and JSON bodies nested too deep, are 400 in the face's shape."""
    event = app.current_event
    body = event.body or ""
    if body and not event.is_base64_encoded:
        if "\ufffd" in body:
            raise _body_problem(NOT_UTF8)
        content_type = ((event.headers or {}).get("content-type") or "").lower()
        if (not content_type or "json" in content_type) and json_depth(body) > JSON_DEPTH_MAX:
            raise _body_problem(TOO_DEEP)
    return next_middleware(app)


def _refuse_json_arrays_for_objects(app: APIGatewayRestResolver, next_middleware: Callable) -> Any:
    """Powertools unwraps a one-element list for a non-list body (meant for form fields, applied to JSON too),
    so `[{...}]` would pass as `{...}`. A JSON array where the route expects an object is refused here."""
    annotation = body_annotation(app)
    event = app.current_event
    content_type = (event.headers or {}).get("content-type", "") or ""
    json_body = not content_type or content_type.startswith("application/json")
    if annotation is not None and json_body and (event.body or "").lstrip().startswith("[") and \
            getattr(annotation, "__origin__", annotation) not in (list, tuple, set):
        raise RequestValidationError([{"type": "model_attributes_type", "loc": ("body",),
                                       "msg": "Input should be an object", "input": []}])
    return next_middleware(app)


def _one_caller_check(app: APIGatewayRestResolver, next_middleware: Callable) -> Any:
    """Inactive users are locked out of every route (docs/architecture.md#permissions): the caller is resolved
    once, here, and the route runs behind the request's gate, which is passed before the route's first write and,
    at the latest, before its answer leaves, whatever that answer is."""
    try:
        caller = current_caller(app)
    except Unauthenticated:
        return next_middleware(app)
    lock_out_inactive(caller)
    try:
        try:
            response = next_middleware(app)
        except Exception:
            table.pass_gate()
            raise
        table.pass_gate()
        return response
    finally:
        gate.clear_gate()


def _refuse_trailing_slashes(app: APIGatewayRestResolver, next_middleware: Callable) -> Any:
    """API Gateway and Powertools both let `/x/` reach the route `/x`; only the DHIS2 face, whose server accepts
    a trailing slash, answers it (docs/dhis2.md). The other faces' APIs have none: 404."""
    path = app.current_event.path or ""
    if len(path) > 1 and path.endswith("/"):
        raise NotFound(NOT_FOUND)
    return next_middleware(app)


def make_resolver(validation_body: Callable[[RequestValidationError, Any], dict[str, Any]], *,
                  trailing_slash: bool = False) -> APIGatewayRestResolver:
    """A REST resolver with validation; `validation_body(error, event)` renders validation errors for this face;
    `trailing_slash` lets `/x/` reach the route `/x`."""
    app = APIGatewayRestResolver(enable_validation=True, response_validation_error_http_code=500)
    app.use([_refuse_unreadable_bodies, *(() if trailing_slash else (_refuse_trailing_slashes,)), _one_caller_check,
             _refuse_oversize_bodies, _refuse_json_arrays_for_objects])

    @app.exception_handler(RequestValidationError)
    def _invalid(error: RequestValidationError) -> Response:
        return json_response(400, validation_body(error, app.current_event))

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported(error: Exception) -> Response:
        content_type = app.current_event.headers.get("content-type", "")
        return json_response(400, {"detail": f'Unsupported media type "{content_type}" in request.'})

    @app.exception_handler(PostboxError)
    def _domain(error: PostboxError) -> Response:
        body = error.detail if isinstance(error.detail, dict) else {"detail": error.detail}
        return json_response(error.status, body)

    @app.exception_handler(Unauthenticated)
    def _unauthenticated(error: Unauthenticated) -> Response:
        return json_response(401, UNAUTHENTICATED)

    @app.not_found
    def _no_route(error: Exception) -> Response:
        return json_response(404, {"detail": NOT_FOUND})

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        logger.exception("unhandled error")
        return json_response(500, SERVER_ERROR)

    @app.exception_handler(RecursionError)
    def _too_deep(error: RecursionError) -> Response:
        """A body nested deep enough to exhaust the parser (before the depth check could see it) is a client's."""
        invalid = app.exception_handler_manager.lookup_exception_handler(RequestValidationError)
        assert invalid is not None  # registered above (a face may replace it, hence the lookup)
        return invalid(_body_problem(TOO_DEEP))

    @app.exception_handler(ValueError)
    def _unparsable_body(error: ValueError) -> Response:
        """Powertools parses a multipart/form-data body before validating it and lets a ValueError through (no
        boundary in the Content-Type, a malformed part): that is the client's bad input, a 400 in the face's shape.
        Any other ValueError is a server error, answered as one."""
        if not raised_by_request_parsing(error):
            return exception_handler(app, Exception)(error)
        problem = RequestValidationError([{"type": "multipart_invalid", "loc": ("body",), "input": {},
                                           "msg": f"Invalid multipart/form-data body: {error}"}])
        return exception_handler(app, RequestValidationError)(problem)

    return app


def current_caller(app: APIGatewayRestResolver) -> Caller:
    """The caller from the authorizer's claims; nothing else in the request is trusted."""
    authorizer = (app.current_event.raw_event.get("requestContext") or {}).get("authorizer") or {}
    claims = authorizer.get("claims")
    if claims is None and "token_use" in authorizer:
        # A Lambda REQUEST authorizer (the session authorizer, docs/dhis2.md#browser-sessions) passes the token's
        # claims as its flat context.
        claims = authorizer
    return caller_from_claims(claims)


def api_entry(app: APIGatewayRestResolver) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler for an API function: structured logs with the request id, one metric per call."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        response = app.resolve(event, context)
        metrics.add_metric(name=f"Status{response['statusCode'] // 100}xx", unit=MetricUnit.Count, value=1)
        return response

    return lambda_handler
