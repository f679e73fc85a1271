"""Everything Postbox needs from Powertools beyond its documented API, in one place.

Each function here reads something Powertools keeps for itself (a private attribute, a context key, a source file
name or a package layout). tests/unit/test_powertools.py pins each one to the installed aws-lambda-powertools, so
an upgrade that changes any of them fails a test instead of a request.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

# Where Powertools parses a request body (JSON, form or multipart) before validating it: (file, function).
REQUEST_PARSING = ("openapi_validation.py", "_get_body")


def registered_routes(app: APIGatewayRestResolver) -> set[tuple[str, str]]:
    """(method, OpenAPI path) of every route the resolver serves, in or out of the OpenAPI schema."""
    return {(route.method, route.openapi_path) for route in app._static_routes + app._dynamic_routes}


def body_annotation(app: APIGatewayRestResolver) -> Any | None:
    """The type the matched route declares for its request body (None: no body parameter), read in a middleware."""
    route = app.context.get("_route")
    params = getattr(getattr(route, "dependant", None), "body_params", None) or []
    return params[0].field_info.annotation if params else None


def raised_by_request_parsing(error: BaseException) -> bool:
    """Whether the error came out of Powertools' request body parsing (a malformed multipart body raises a bare
    ValueError there) rather than from a route's own code (which also runs inside the validation middleware)."""
    file_name, function = REQUEST_PARSING
    trace = error.__traceback__
    while trace is not None:
        code = trace.tb_frame.f_code
        if code.co_name == function and code.co_filename.endswith(file_name):
            return True
        trace = trace.tb_next
    return False


def exception_handler(app: APIGatewayRestResolver, error_type: type[Exception]) -> Callable[[Any], Any]:
    """The handler the resolver has for an exception type, so one handler can hand an error on to another."""
    handler = app.exception_handler_manager.lookup_exception_handler(error_type)
    assert handler is not None, error_type
    return handler


def serialize(app: APIGatewayRestResolver, body: Any) -> str:
    """A route's non-string result as the resolver serializes it into the response body."""
    return app._serializer(body)


def swagger_ui_assets() -> Path:
    """The directory of the Swagger UI build Powertools ships (the local stack's /docs page serves it)."""
    from aws_lambda_powertools.event_handler.openapi import swagger_ui  # local stack only: never on a cold start

    return Path(swagger_ui.__file__).parent
