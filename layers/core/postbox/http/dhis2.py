"""The DHIS2 face's HTTP conventions: WebMessage errors, JSON or dxf2 XML by Accept, `fields` selection,
Location headers that keep the API version, versioned paths, and XML request bodies (parsed safely)."""

import base64
import json
import re
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode
from xml.etree.ElementTree import Element, SubElement, tostring

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from postbox.auth import Unauthenticated
from postbox.errors import BadRequest, NotFound, PostboxError
from postbox.http.links import request_url_base
from postbox.http.resolver import make_resolver
from postbox.models.dhis2 import web_message
from postbox.observability import logger
from postbox.validation import describe_errors

Handler = TypeVar("Handler", bound=Callable[..., Any])
DXF_NAMESPACE = "http://dhis2.org/schema/dxf/2.0"
VERSION = re.compile(r"\d{2}")
SINGULAR = {"messages": "message", "userMessages": "userMessage", "attachments": "attachment",
            "messageConversations": "messageConversation", "users": "user", "userGroups": "userGroup",
            "organisationUnits": "organisationUnit"}


# -- representation -------------------------------------------------------------------------------------------


def wants_xml(event: Any) -> bool:
    accept = (event.headers or {}).get("accept") or (event.headers or {}).get("Accept") or ""
    return "application/xml" in accept and "application/json" not in accept.split("application/xml")[0]


def _xml_value(parent: Element, name: str, value: Any) -> None:
    if isinstance(value, dict):
        child = SubElement(parent, name)
        for key, inner in value.items():
            _xml_value(child, key, inner)
    elif isinstance(value, list):
        container = SubElement(parent, name)
        for item in value:
            _xml_value(container, SINGULAR.get(name, "id" if not isinstance(item, dict) else name.rstrip("s")), item)
    elif value is not None:
        SubElement(parent, name).text = str(value).lower() if isinstance(value, bool) else str(value)


def to_xml(root: str, body: dict[str, Any], *, attributes: dict[str, str] | None = None) -> bytes:
    element = Element(root, {"xmlns": DXF_NAMESPACE, **(attributes or {})})
    for key, value in body.items():
        _xml_value(element, key, value)
    return b'<?xml version="1.0" encoding="UTF-8"?>' + tostring(element, encoding="unicode").encode()


def list_xml(collection: str, items: list[dict[str, Any]], pager: dict[str, Any] | None, link: str) -> bytes:
    """dxf2 list: `<messageConversations link=...><messageConversation name= id= link=/>...`."""
    element = Element(collection, {"xmlns": DXF_NAMESPACE, "link": link})
    if pager:
        SubElement(element, "pager", {k: str(v) for k, v in pager.items()})
    for item in items:
        attributes = {"name": str(item.get("displayName", item.get("name", ""))), "id": str(item.get("id", "")),
                      "link": f"{link}/{item.get('id', '')}"}
        child = SubElement(element, SINGULAR[collection], {k: v for k, v in attributes.items() if v})
        for key, value in item.items():
            if key not in ("id", "name", "displayName"):
                _xml_value(child, key, value)
    return b'<?xml version="1.0" encoding="UTF-8"?>' + tostring(element, encoding="unicode").encode()


def respond(app: APIGatewayRestResolver, status: int, body: dict[str, Any] | None, *, root: str = "webMessage",
            headers: dict[str, str] | None = None) -> Response:
    if body is None:
        return Response(status, None, "", headers=headers)
    if wants_xml(app.current_event):
        return Response(status, "application/xml", to_xml(root, body), headers=headers)
    return Response(status, "application/json", json.dumps(body, ensure_ascii=False), headers=headers)


def message_response(app: APIGatewayRestResolver, status: int, message: str | None, *,
                     location: str | None = None) -> Response:
    return respond(app, status, web_message(status, message), headers={"Location": location} if location else None)


# -- fields ------------------------------------------------------------------------------------------------

FIELDS_DEPTH_MAX = 8


def parse_fields(text: str) -> dict[str, Any]:
    """`id,name,messages[text,sender[id]]` → {"id": {}, "name": {}, "messages": {"text": {}, "sender": {"id": {}}}}."""
    selection: dict[str, Any] = {}
    depth, start = 0, 0
    items: list[str] = []
    for index, char in enumerate(text):
        if char == "[":
            depth += 1
            if depth > FIELDS_DEPTH_MAX:
                raise BadRequest(f"Invalid fields: nested deeper than {FIELDS_DEPTH_MAX} levels")
        elif char == "]":
            depth -= 1
            if depth < 0:
                raise BadRequest(f"Invalid fields: unbalanced brackets in {text}")
        elif char == "," and depth == 0:
            items.append(text[start:index])
            start = index + 1
    if depth:
        raise BadRequest(f"Invalid fields: unbalanced brackets in {text}")
    items.append(text[start:])
    for item in (part.strip() for part in items):
        if not item:
            continue
        if "[" in item and item.endswith("]"):
            name, inner = item[: item.index("[")], item[item.index("[") + 1 : -1]
            selection[name.strip()] = parse_fields(inner)
        else:
            token = item.lstrip(":")
            selection["*" if token in ("*", "all") else token] = {}
    return selection


def select(value: Any, selection: dict[str, Any]) -> Any:
    if not selection:
        return value
    if isinstance(value, list):
        return [select(item, selection) for item in value]
    if not isinstance(value, dict):
        return value
    keys = list(value) if "*" in selection else [name for name in selection if name in value]
    return {name: select(value[name], selection.get(name, {})) for name in keys}


# -- locations and versions -----------------------------------------------------------------------------------


def collection_url(app: APIGatewayRestResolver) -> str:
    """The absolute URL of /api[/{version}]/messageConversations as the client called it."""
    url = request_url_base(app.current_event)
    marker = "/messageConversations"
    if marker in url:
        return url[: url.index(marker) + len(marker)]
    return url.rsplit("/api/", 1)[0] + "/api/messageConversations"


def page_url(app: APIGatewayRestResolver, base: str, page: int) -> str:
    """The pager's nextPage/prevPage: the request's own query (fields, filter, pageSize...) with another page."""
    params = [(name, value) for name, values in (app.current_event.multi_value_query_string_parameters or {}).items()
              if name != "page" for value in values]
    return f"{base}?{urlencode([('page', page), *params])}"


def resource_url(app: APIGatewayRestResolver) -> str:
    """The absolute URL of the resource as the client called it, without a trailing slash."""
    return request_url_base(app.current_event).rstrip("/")


def context_path(app: APIGatewayRestResolver) -> str:
    """DHIS2's contextPath: the absolute URL that `/api/...` hangs from (scheme://host[:port][/stage])."""
    url = request_url_base(app.current_event)
    return url[: url.index("/api/")] if "/api/" in url else url.rstrip("/")


def location(app: APIGatewayRestResolver, conversation_id: str) -> str:
    return f"{collection_url(app)}/{conversation_id}"


# -- routes -------------------------------------------------------------------------------------------------------


def rules(path: str) -> list[tuple[str, bool]]:
    """The paths one DHIS2 route answers on, each with whether the OpenAPI document lists it: `/api/...` and
    DHIS2's versioned `/api/<version>/...` (e.g. /api/41/messageConversations; docs/dhis2.md)."""
    if not path.startswith("/api/"):
        raise ValueError(f"A DHIS2 route starts with /api/: {path}")
    return [(path, True), ("/api/<version>/" + path.removeprefix("/api/"), False)]


class Dhis2Routes:
    """Declares each DHIS2 route once, on every path of `rules`: `@routes.get("/api/me/dashboard", summary=...)`
    takes the options of Powertools' `app.get` and registers the same handler for each path."""

    def __init__(self, app: APIGatewayRestResolver):
        self.app = app

    def route(self, path: str, method: str, **options: Any) -> Callable[[Handler], Handler]:
        documented = options.pop("include_in_schema", True)

        def register(handler: Handler) -> Handler:
            for rule, in_schema in rules(path):
                self.app.route(rule, method, include_in_schema=documented and in_schema, **options)(handler)
            return handler

        return register

    def get(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route(path, "GET", **options)

    def post(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route(path, "POST", **options)

    def put(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route(path, "PUT", **options)

    def patch(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route(path, "PATCH", **options)

    def delete(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route(path, "DELETE", **options)


def _known_version(app: APIGatewayRestResolver, next_middleware: Callable) -> Any:
    """`/api/<version>/...` answers only for a two-digit version, as DHIS2 does; anything else is not found."""
    version = (app.current_event.path_parameters or {}).get("version")
    if version is not None and not VERSION.fullmatch(version):
        raise NotFound(web_message(404, "Not found"))
    return next_middleware(app)


# -- resolver -----------------------------------------------------------------------------------------------------


def _validation_body(error: RequestValidationError, event: Any) -> dict[str, Any]:
    problems = describe_errors(error.errors(), skip=("body", "query", "path"))
    return web_message(400, problems[0] if problems else "Invalid request")


def dhis2_resolver() -> APIGatewayRestResolver:
    """The DHIS2 face's resolver: DHIS2's error bodies, a trailing slash accepted, and the API version of a
    versioned path checked."""
    app = make_resolver(_validation_body, trailing_slash=True)
    app.use([_known_version])

    def error(status: int, body: dict[str, Any]) -> Response:
        return respond(app, status, body, root="webMessage" if "httpStatus" in body else "message")

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response:
        return error(400, _validation_body(exc, app.current_event))

    @app.exception_handler(PostboxError)
    def _domain(exc: PostboxError) -> Response:
        body = exc.detail if isinstance(exc.detail, dict) else web_message(exc.status, exc.detail)
        return error(exc.status, body)

    @app.exception_handler(Unauthenticated)
    def _unauthenticated(exc: Unauthenticated) -> Response:
        return error(401, web_message(401, "Authentication credentials were not provided."))

    @app.not_found
    def _no_route(exc: Exception) -> Response:
        return error(404, web_message(404, "Not found"))

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        logger.exception("unhandled error")
        return error(500, web_message(500, "A server error occurred."))

    return app


# -- XML request bodies ----------------------------------------------------------------------------------------

REFERENCE_LISTS = ("users", "userGroups", "organisationUnits", "attachments")


def xml_message_to_json(body: str) -> dict[str, Any]:
    """The seed's `<message><subject/><text/><users><user id=""/></users>...</message>`, parsed with
    defusedxml (no entities, no external references). Raises ValueError with a readable reason."""
    try:
        root = ElementTree.fromstring(body)
    except (ElementTree.ParseError, DefusedXmlException) as error:
        raise ValueError(f"The XML body is not valid: {error}") from None
    if _local(root.tag) != "message":
        raise ValueError("The XML body must be a <message> element.")
    document: dict[str, Any] = {}
    for child in root:
        name = _local(child.tag)
        if name in ("subject", "text"):
            document[name] = child.text or ""
        elif name in REFERENCE_LISTS:
            document[name] = [{"id": item.get("id", "")} for item in child]
    return document


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def accepts_xml_message(handler):
    """Lambda entry wrapper for create: a dxf2 XML `<message>` body becomes the JSON body the route validates."""
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        headers = event.get("headers") or {}
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "") or ""
        if content_type.split(";")[0].strip() in ("application/xml", "text/xml") and event.get("body"):
            raw = event["body"]
            text = base64.b64decode(raw).decode("utf-8", "replace") if event.get("isBase64Encoded") else raw
            try:
                document = xml_message_to_json(text)
            except ValueError as error:
                return {"statusCode": 400, "headers": {"Content-Type": "application/json"},
                        "body": json.dumps(web_message(400, str(error))), "isBase64Encoded": False}
            headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
            multi = {k: v for k, v in (event.get("multiValueHeaders") or {}).items() if k.lower() != "content-type"}
            event = {**event, "body": json.dumps(document), "isBase64Encoded": False,
                     "headers": {**headers, "Content-Type": "application/json"},
                     "multiValueHeaders": {**multi, "Content-Type": ["application/json"]}}
        return handler(event, context)

    return lambda_handler
