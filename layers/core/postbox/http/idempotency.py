"""`Idempotency-Key` on the create endpoints: a retried create returns the first response, not a second copy.

A create that carries `Idempotency-Key: <key>` runs once per (caller, route, key), with Powertools idempotency
on the IdempotencyTable: its 2xx response — status, headers (Location) and body — is kept for
IDEMPOTENCY_EXPIRES_SECONDS (a day), and a retry gets it back as it was, plus `Idempotent-Replayed: true`.
As the IETF draft (draft-ietf-httpapi-idempotency-key-header) advises: the same key with another request (body,
query, path or media type) → 422, and while the first request with the key is still running → 409. A response
that is not 2xx is not kept: the key stays free, so a corrected retry may use it. Keys of different callers never
meet. Without the header nothing here runs: the idempotency utility (which imports boto3) is imported only for a
request that carries one, so cold starts and the request budget stay as they are.
"""

import base64
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header
from pydantic.json_schema import SkipJsonSchema

from postbox.errors import BadRequest, Conflict, PostboxError
from postbox.http.powertools import serialize
from postbox.http.resolver import current_caller
from postbox.observability import logger
from postbox.settings import IdempotencySettings

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_MAX_CHARS = 255
KEY_CHARS = frozenset(map(chr, range(0x20, 0x7F)))  # printable ASCII
KEY_PREFIX = "postbox"  # records are `postbox#<md5 of caller, route and key>`

KEY_INVALID = f"{HEADER} must be 1 to {KEY_MAX_CHARS} printable ASCII characters."
KEY_REUSED = (f"This {HEADER} was already used with a different request; send the same request to retry it, "
              f"or use a new key for a new request.")
KEY_IN_PROGRESS = f"A request with this {HEADER} is still in progress; retry it in a moment."
STORE_UNAVAILABLE = f"The {HEADER} store is unavailable; retry the request."

# Declared on each create route, so the OpenAPI document lists the header; the middleware reads it itself.
# Optional (`= None` on the routes), but documented as a string: a key is never null.
IdempotencyKey = Annotated[str | SkipJsonSchema[None], Header(
    alias=HEADER,
    description=("Makes a retried create safe: a request with the same key returns the first response (same status, "
                 "body and Location; `Idempotent-Replayed: true`) for a day, without a second copy. Keys are "
                 "per caller. The same key with a different request → 422; while the first is still running → 409."),
    json_schema_extra={"minLength": 1, "maxLength": KEY_MAX_CHARS, "pattern": "^[\\x20-\\x7e]+$"},
)]


class KeyReused(PostboxError):
    status = 422


class KeyInProgress(Conflict):
    pass


class StoreUnavailable(PostboxError):
    status = 503


class _NotKept(Exception):
    """A response that is not 2xx: Powertools deletes the in-progress record when the function raises."""

    def __init__(self, response: Response):
        super().__init__(response.status_code)
        self.response = response


def idempotent_create(app: Any, next_middleware: Any) -> Response:
    """Route middleware of the create endpoints (runs after request validation: invalid input keeps no key)."""
    key = app.current_event.headers.get(HEADER)
    if key is None:
        return next_middleware(app)
    if not 1 <= len(key) <= KEY_MAX_CHARS or not set(key) <= KEY_CHARS:
        raise BadRequest(KEY_INVALID)
    return _once(app, next_middleware, key)


def _once(app: Any, next_middleware: Any, key: str) -> Response:
    # cold start: the idempotency utility imports boto3, so only a request with the header loads it (see above)
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    from postbox.dal.idempotency import persistence_layer  # cold start: as above

    caller = current_caller(app)
    event = app.current_event
    config = IdempotencyConfig(event_key_jmespath="scope", payload_validation_jmespath="request",
                               raise_on_no_idempotency_key=True,
                               expires_after_seconds=IdempotencySettings.get().IDEMPOTENCY_EXPIRES_SECONDS)
    if app.lambda_context is not None:
        config.register_lambda_context(app.lambda_context)  # an in-progress record ends with the invocation

    ran: list[bool] = []

    @idempotent_function(data_keyword_argument="request", config=config, persistence_store=persistence_layer(),
                         key_prefix=KEY_PREFIX)
    def create(request: dict[str, Any]) -> dict[str, Any]:
        ran.append(True)
        response = next_middleware(app)
        if not 200 <= response.status_code < 300:
            raise _NotKept(response)
        return _stored(app, response)

    media_type = event.headers.get("content-type", "").split(";")[0].strip().lower()
    request = {
        "scope": {"caller": f"{caller.kind}:{caller.id}", "route": f"{event.http_method} {event.resource}",
                  "key": key},
        "request": {"path": event.path, "query": event.multi_value_query_string_parameters or {},
                    "media_type": media_type, "body": event.body or ""},
    }
    try:
        stored = create(request=request)
    except _NotKept as not_kept:
        return not_kept.response
    except IdempotencyValidationError:
        raise KeyReused(KEY_REUSED) from None
    except IdempotencyAlreadyInProgressError:
        raise KeyInProgress(KEY_IN_PROGRESS) from None
    except IdempotencyPersistenceLayerError:
        logger.exception("idempotency store failed")
        raise StoreUnavailable(STORE_UNAVAILABLE) from None
    return _response(stored, replayed=not ran)


def _stored(app: Any, response: Response) -> dict[str, Any]:
    """The response as JSON for the idempotency record: the body exactly as it will be sent."""
    body = response.body
    text: str | None
    if isinstance(body, bytes):
        text, binary = base64.b64encode(body).decode(), True
    else:
        text = body if isinstance(body, str) or body is None else serialize(app, body)
        binary = False
    return {"status": response.status_code, "headers": dict(response.headers), "body": text or "", "base64": binary}


def _response(stored: dict[str, Any], *, replayed: bool) -> Response:
    body: str | bytes = base64.b64decode(stored["body"]) if stored.get("base64") else stored["body"]
    headers = {**stored["headers"], **({REPLAYED_HEADER: "true"} if replayed else {})}
    return Response(stored["status"], None, body, headers=headers)
