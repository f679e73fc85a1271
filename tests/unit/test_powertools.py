"""What Postbox reads from Powertools beyond its documented API (postbox.http.powertools), pinned to the installed
aws-lambda-powertools: an upgrade that moves any of it fails here, not in a request. Also the DHIS2 route helper
built on the public API (postbox.http.dhis2.Dhis2Routes)."""

import base64
import json
from importlib import metadata
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel

from postbox.http import powertools
from postbox.http.dhis2 import Dhis2Routes, dhis2_resolver


class Note(BaseModel):
    text: str


def _event(method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None,
           *, base64_encoded: bool = False, path_parameters: dict[str, str] | None = None) -> dict[str, Any]:
    return {"httpMethod": method, "path": path, "resource": path, "headers": headers or {},
            "multiValueHeaders": {k: [v] for k, v in (headers or {}).items()}, "queryStringParameters": None,
            "multiValueQueryStringParameters": None, "pathParameters": path_parameters, "body": body,
            "isBase64Encoded": base64_encoded, "requestContext": {"stage": "test", "requestId": "r"}}


def test_the_pinned_version_is_the_installed_one():
    """The layer's requirements pin Powertools; these tests describe that version."""
    assert metadata.version("aws-lambda-powertools") == "3.37.0"


def test_registered_routes_lists_static_and_dynamic_routes_with_their_openapi_path():
    app = APIGatewayRestResolver()
    app.get("/things")(lambda: {})
    app.post("/things/<thing_id>", include_in_schema=False)(lambda thing_id: {})
    assert powertools.registered_routes(app) == {("GET", "/things"), ("POST", "/things/{thing_id}")}


def test_body_annotation_is_the_matched_routes_body_type_seen_from_a_middleware():
    seen: list[Any] = []

    def middleware(app, next_middleware):
        seen.append(powertools.body_annotation(app))
        return next_middleware(app)

    app = APIGatewayRestResolver(enable_validation=True)
    app.use([middleware])

    @app.post("/notes")
    def note(body: Annotated[Note, Body(embed=False)]):
        return {"ok": True}

    @app.post("/bare")
    def bare():
        return {"ok": True}

    @app.post("/many")
    def many(body: Annotated[list[str], Body(embed=False)]):
        return {"ok": True}

    for path, body in (("/notes", '{"text": "hi"}'), ("/bare", None), ("/many", '["a"]')):
        assert app.resolve(_event("POST", path, body, {"content-type": "application/json"}), None)["statusCode"] == 200
    assert seen[0] is Note
    assert seen[1] is None
    assert getattr(seen[2], "__origin__", None) is list


def test_a_one_element_json_array_still_passes_for_an_object_body():
    """Why postbox.http.resolver refuses JSON arrays for object bodies itself: Powertools unwraps `[{...}]`.
    When this fails, Powertools validates JSON bodies strictly and that middleware can go."""
    app = APIGatewayRestResolver(enable_validation=True)

    @app.post("/notes")
    def create(body: Annotated[Note, Body(embed=False)]):
        return {"text": body.text}

    response = app.resolve(_event("POST", "/notes", '[{"text": "hi"}]', {"content-type": "application/json"}), None)
    assert (response["statusCode"], json.loads(response["body"])) == (200, {"text": "hi"})


def test_a_malformed_multipart_body_raises_a_bare_value_error_from_request_parsing():
    raised: list[BaseException] = []
    app = APIGatewayRestResolver(enable_validation=True)

    @app.post("/files")
    def upload(body: Annotated[dict, Body(media_type="multipart/form-data")]):  # pragma: no cover - never runs
        return {}

    @app.exception_handler(ValueError)
    def _value_error(error: ValueError) -> Response:
        raised.append(error)
        return Response(400, "text/plain", "")

    @app.post("/boom")
    def boom():
        raise ValueError("a route's own bug")

    body = base64.b64encode(b"--x\r\n").decode()
    app.resolve(_event("POST", "/files", body, {"content-type": "multipart/form-data"}, base64_encoded=True), None)
    app.resolve(_event("POST", "/files", "not base64!", {"content-type": "multipart/form-data; boundary=x"},
                       base64_encoded=True), None)
    app.resolve(_event("POST", "/boom"), None)
    assert [isinstance(error, ValueError) for error in raised] == [True, True, True]
    assert [powertools.raised_by_request_parsing(error) for error in raised] == [True, True, False]


def test_exception_handler_finds_the_registered_handler_for_an_exception_type():
    app = APIGatewayRestResolver()

    @app.exception_handler(RequestValidationError)
    def _invalid(error):
        return "invalid"

    @app.exception_handler(Exception)
    def _any(error):
        return "any"

    assert powertools.exception_handler(app, RequestValidationError)(None) == "invalid"
    assert powertools.exception_handler(app, KeyError)(None) == "any"


def test_serialize_is_the_resolvers_json_encoding():
    app = APIGatewayRestResolver()
    assert json.loads(powertools.serialize(app, {"a": [1, "é"]})) == {"a": [1, "é"]}


def test_the_swagger_ui_build_ships_with_powertools():
    assets = powertools.swagger_ui_assets()
    assert (assets / "swagger-ui-bundle.min.js").is_file()
    assert (assets / "swagger-ui.min.css").is_file()


# -- DHIS2 routes: declared once, answered on /api/... and /api/<version>/... ---------------------------------


def _dhis2_app():
    app = dhis2_resolver()
    routes = Dhis2Routes(app)

    @routes.get("/api/things/<thing_id>", summary="A thing")
    def thing(thing_id: str):
        return {"id": thing_id}

    return app


def test_a_dhis2_route_is_registered_plain_and_versioned_and_only_the_plain_path_is_documented():
    app = _dhis2_app()
    assert powertools.registered_routes(app) == {("GET", "/api/things/{thing_id}"),
                                                  ("GET", "/api/{version}/things/{thing_id}")}
    assert list(app.get_openapi_schema().paths) == ["/api/things/{thing_id}"]


def test_a_dhis2_versioned_path_answers_for_a_two_digit_version_only():
    app = _dhis2_app()
    for path, version, status in (("/api/things/a1", None, 200), ("/api/41/things/a1", "41", 200),
                                  ("/api/v1/things/a1", "v1", 404), ("/api/411/things/a1", "411", 404)):
        # API Gateway passes the path parameters of the template's route, as here.
        parameters = {"thing_id": "a1", **({"version": version} if version else {})}
        response = app.resolve(_event("GET", path, path_parameters=parameters), None)
        assert response["statusCode"] == status, path
        assert json.loads(response["body"]) == ({"id": "a1"} if status == 200 else
                                                {"httpStatus": "Not Found", "httpStatusCode": 404, "status": "ERROR",
                                                 "message": "Not found"})
