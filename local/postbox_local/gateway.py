"""The local API gateway: routes by template.yaml's API events to the real handlers, with Cognito-shaped
claims from locally signed tokens, and API Gateway's own responses for 401 and unknown routes."""

import base64
import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from postbox.auth import session_claims_ok, session_token
from postbox_local import template, tokens
from postbox_local.functions import FunctionRegistry

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
TEXT_TYPES = ("application/json", "application/x-www-form-urlencoded", "text/", "application/xml")

LocalHandler = Callable[[Request], Response]
log = logging.getLogger("postbox.local.gateway")


class Gateway:
    def __init__(self, functions: FunctionRegistry, local_routes: dict[tuple[str, str], LocalHandler],
                 static: Callable[[Request], Response | None] | None = None):
        self.functions = functions
        self.static = static  # the web inbox's files: asked only when no API route matches
        self.routes = template.routes()
        self.responses = template.gateway_responses()
        self.scopes = set(template.authorization_scopes())
        self.local_routes = local_routes

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Any:
        request = Request(environ)
        try:
            response = self.handle(request)
        except Exception:
            # What API Gateway answers when the integration fails.
            log.exception("%s %s failed", request.method, request.path)
            response = json_response({"message": "Internal server error"}, status=502)
        return response(environ, start_response)

    def _gateway_response(self, kind: str) -> Response:
        spec = self.responses[kind]
        return Response(spec.body, status=spec.status, headers=spec.headers, content_type="application/json")

    def handle(self, request: Request) -> Response:
        local = self.local_routes.get((request.method, request.path))
        if local is not None:
            return local(request)
        matched = [(route, route.regex.match(request.path)) for route in self.routes]
        matched = [(route, m) for route, m in matched if m]
        if not matched:
            page = self.static(request) if self.static else None
            return page if page is not None else self._gateway_response("MISSING_AUTHENTICATION_TOKEN")
        best = max(route.specificity for route, _ in matched)
        for_method = [(r, m) for r, m in matched if r.specificity == best and r.method == request.method]
        if not for_method:
            return self._gateway_response("MISSING_AUTHENTICATION_TOKEN")
        route, match = for_method[0]
        if request.content_length and request.content_length > MAX_BODY_BYTES:
            return self._gateway_response("REQUEST_TOO_LARGE")
        claims = None
        if route.authorized:
            claims = self._claims(request, session=route.authorizer == "SessionAuthorizer")
            if claims is None:
                return self._gateway_response("UNAUTHORIZED")
        event = self._event(request, route, match.groupdict(), claims)
        result = self.functions.get(route.function, route.code_dir).invoke(event)
        return self._response(result)

    def _claims(self, request: Request, *, session: bool = False) -> dict[str, str] | None:
        """The Cognito authorizer: a bearer token with a Postbox scope. The session authorizer
        (docs/dhis2.md#browser-sessions): the same, or the session cookie's token, which must be a person's
        issued to the web client, the rules the deployed authorizer applies (postbox.auth)."""
        from_cookie = False
        if session:
            token, from_cookie = session_token(dict(request.headers))
        else:
            header = request.headers.get("Authorization", "")
            token = header[7:].strip() if header.lower().startswith("bearer ") else header.strip()
        claims = tokens.verify(token) if token else None
        if claims is None or not (set(claims.get("scope", "").split()) & self.scopes):
            return None
        if session and not session_claims_ok(claims, from_cookie, {tokens.WEB_CLIENT_ID}):
            return None
        return claims

    @staticmethod
    def _event(request: Request, route: template.Route, path_params: dict[str, str],
               claims: dict[str, str] | None) -> dict[str, Any]:
        raw = request.get_data()
        content_type = request.headers.get("Content-Type", "")
        is_text = not raw or content_type.startswith(TEXT_TYPES) or not content_type
        body = None if not raw else raw.decode("utf-8", errors="replace") if is_text else base64.b64encode(raw).decode()
        multi_query = {k: request.args.getlist(k) for k in request.args}
        multi_headers: dict[str, list[str]] = {}
        for name, value in request.headers.items():
            multi_headers.setdefault(name, []).append(value)
        multi_headers.setdefault("X-Forwarded-Proto", ["http"])
        context: dict[str, Any] = {
            "resourcePath": route.path, "httpMethod": request.method, "path": request.path, "stage": "local",
            "requestId": str(uuid.uuid4()), "accountId": "123456789012", "apiId": "local",
            "protocol": "HTTP/1.1", "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": request.remote_addr or "127.0.0.1", "userAgent": request.user_agent.string},
        }
        if claims is not None:
            context["authorizer"] = {"claims": claims}
        return {
            "resource": route.path, "path": request.path, "httpMethod": request.method,
            "headers": {k: v[-1] for k, v in multi_headers.items()}, "multiValueHeaders": multi_headers,
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": path_params or None, "stageVariables": None,
            "requestContext": context, "body": body, "isBase64Encoded": bool(raw) and not is_text,
        }

    @staticmethod
    def _response(result: dict[str, Any]) -> Response:
        body = result.get("body") or ""
        data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
        response = Response(data, status=int(result.get("statusCode", 200)))
        response.headers.clear()
        for name, value in (result.get("headers") or {}).items():
            response.headers[name] = str(value)
        for name, values in (result.get("multiValueHeaders") or {}).items():
            response.headers.remove(name)
            for value in values:
                response.headers.add(name, str(value))
        return response


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")
