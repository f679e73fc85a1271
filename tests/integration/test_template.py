"""template.yaml is the route table: it and the Powertools routes must agree, and every function and
sample event under events/ must work as `sam local invoke` would use it."""

import importlib.util
import json
from pathlib import Path

import pytest

from postbox import settings
from postbox.http.powertools import registered_routes
from postbox_local import template

ROOT = Path(__file__).resolve().parents[2]
EVENTS = sorted((ROOT / "events").glob("*.json"))


def _module(code_dir: Path, name: str):
    spec = importlib.util.spec_from_file_location(f"template_check_{name}", code_dir / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _functions() -> dict[str, dict]:
    return {name: spec["Properties"] for name, spec in template.resources().items()
            if spec["Type"] == "AWS::Serverless::Function"}


def test_template_api_events_and_powertools_routes_are_the_same_set():
    in_template = {(route.method, route.path) for route in template.routes()}
    in_handlers = set()
    for name, props in _functions().items():
        app = getattr(_module(ROOT / props["CodeUri"], name), "app", None)
        if app is None:
            continue
        in_handlers |= registered_routes(app)
    assert in_template == in_handlers


def test_every_api_route_is_owned_by_the_function_that_declares_it():
    for route in template.routes():
        app = _module(route.code_dir, route.function).app
        assert (route.method, route.path) in registered_routes(app), \
            f"{route.function} does not serve {route.method} {route.path}"


def test_every_function_has_a_lambda_handler_and_a_sample_event():
    samples = {path.stem for path in EVENTS}
    for name, props in _functions().items():
        module = _module(ROOT / props["CodeUri"], name)
        assert callable(module.lambda_handler), name
        assert props.get("Handler", "app.lambda_handler") == "app.lambda_handler"
        assert name in samples, f"events/{name}.json is missing"


EXPECTED_STATUS = {
    "CreateMessageFunction": 201, "ListMessagesFunction": 200, "GetMessageFunction": 404,
    "DeleteMessageFunction": 404, "ReadMessageFunction": 404, "MessagingNotAllowedFunction": 405,
    "MessagingStatsFunction": 200, "ListInboxFunction": 200, "InboxCountsFunction": 200, "InboxStateFunction": 200,
    "DeleteInboxEntryFunction": 404, "DirectoryUpsertFunction": 403, "DirectoryListFunction": 403,
    "DirectoryDeleteFunction": 403, "HealthFunction": 200,
    "AalamSendFunction": 200, "AalamListFunction": 200, "AalamActionFunction": 404, "AalamDeleteFunction": 404,
    "AalamPreferenceFunction": 200, "AppCallbackSecretFunction": 200, "MeSettingsFunction": 200,
    "CreateAttachmentFunction": 201, "GetAttachmentFunction": 404, "ListMessageAttachmentsFunction": 404,
    "UploadFileResourceFunction": 202,
    "Dhis2CreateFunction": 201, "Dhis2ListFunction": 200, "Dhis2GetFunction": 404, "Dhis2ReplyFunction": 404,
    "Dhis2RecipientsFunction": 404, "Dhis2FeedbackFunction": 201, "Dhis2TicketFunction": 404, "Dhis2StateFunction": 404,
    "Dhis2DeleteFunction": 403, "Dhis2RemoveFunction": 404, "Dhis2DashboardFunction": 200, "Dhis2DownloadFunction": 404,
    "Dhis2MeFunction": 200, "Dhis2LookupFunction": 200, "SessionFunction": 204,
}


@pytest.fixture
def template_environment():
    """Restricts the settings' variables to a function's environment in template.yaml, so that a handler reading a
    setting it did not declare (and AWS would not give it) fails here."""
    patch = pytest.MonkeyPatch()

    def restrict(function: str) -> None:
        patch.undo()
        kept = set(template.function_environment(function)) | set(template.LAMBDA_ENVIRONMENT)
        for name in settings.variable_names() - kept:
            patch.delenv(name, raising=False)
        settings.reset()

    yield restrict
    patch.undo()
    settings.reset()


@pytest.mark.parametrize("event_file", [p for p in EVENTS if p.stem in EXPECTED_STATUS], ids=lambda p: p.stem)
def test_sample_api_events_run_through_their_functions(directory, event_file, template_environment):
    template_environment(event_file.stem)
    props = _functions()[event_file.stem]
    handler = _module(ROOT / props["CodeUri"], event_file.stem).lambda_handler
    from postbox_local.functions import LambdaContext

    response = handler(json.loads(event_file.read_text()), LambdaContext(event_file.stem))
    assert response["statusCode"] == EXPECTED_STATUS[event_file.stem], response["body"]


def test_sample_stream_events_fan_out_and_publish(directory, published, template_environment):
    from postbox.dal import inbox
    from postbox_local.functions import LambdaContext

    for name in ("FanoutFunction", "PublisherFunction"):
        template_environment(name)
        handler = _module(ROOT / _functions()[name]["CodeUri"], name).lambda_handler
        response = handler(json.loads((ROOT / "events" / f"{name}.json").read_text()), LambdaContext(name))
        assert response == {"batchItemFailures": []}
    assert inbox.get_entries([{"PK": "USER#bob", "SK": "IN#01JD5Q7Y3K2M4N6P8R0S2T4V6X"}])
    topics = [topic for topic, _ in published()]
    # publishes to different topics are in flight together (docs/realtime.md): order holds within a topic
    assert sorted(topics) == ["postbox/user/bob/inbox", "postbox/user/bob/inbox", "postbox/user/bob/messages/publish"]
    assert [payload["event"] for topic, payload in published("postbox/user/bob/inbox")] == ["created", "read"]


def test_checked_in_openapi_document_is_current():
    from postbox_local import openapi

    assert openapi.OUTPUT.read_text() == openapi.render(), "run `make openapi` and commit docs/openapi.json"
