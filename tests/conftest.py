"""Shared fixtures.

Unit and integration tests run in-process on moto (`mock_aws`): the API is reached through the local
gateway's WSGI app, which routes by template.yaml to the real handlers exactly as `make run` does, and
stream records are pumped through the real stream handlers. e2e tests (tests/e2e) start the whole local
stack as a separate process and use real HTTP and MQTT.
"""

import copy
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

_STATE = tempfile.mkdtemp(prefix="postbox-tests-")
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1", "TABLE_NAME": "postbox-local", "BUCKET_NAME": "postbox-local-attachments",
    "IDEMPOTENCY_TABLE_NAME": "postbox-local-idempotency",
    "CURSOR_SECRET_ID": "postbox-local-cursor", "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING", "POSTBOX_LOCAL_DIR": _STATE,
    # botocore >= 1.40 sends stream calls to account-based hosts (<account>.streams-ddb...) that moto's
    # in-process mock does not recognise.
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    # The alert callback queue as in-process moto names it (local/postbox_local/state.py LOCAL_QUEUES).
    "CALLBACK_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/postbox-local-callbacks.fifo",
    # Email and SMS off (an empty queue URL), except in the channels' own tests.
    "CHANNEL_QUEUE_URL": "",
    # The IoT authorizer's pool and account (its own tests use a pool of their own); Lambda sets AWS_REGION.
    "COGNITO_ISSUER": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_tests", "AWS_ACCOUNT_ID": "123456789012",
    "AWS_REGION": "us-east-1",
})
for name in ("AWS_ENDPOINT_URL", "IOT_DATA_ENDPOINT", "AWS_PROFILE"):
    os.environ.pop(name, None)

ROOT = Path(__file__).resolve().parents[1]
DEMO_DIRECTORY = json.loads((ROOT / "local" / "demo-directory.json").read_text())


def _reset_caches() -> None:
    from postbox.dal import idempotency, table
    from postbox.integrations import iot, queues, s3, streams
    from postbox.settings import reset as reset_settings

    reset_settings()
    for cached in (table.client, table._codecs, iot.client, queues.client, streams.client, s3.client,
                   idempotency.persistence_layer):
        cached.cache_clear()
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()  # the cursor secret (each test's moto has its own)


@pytest.fixture
def settings(monkeypatch) -> Iterator[Callable[..., None]]:
    """Set Postbox settings through the environment for one test: `settings(MQTT_QOS="0")`. Settings (and the
    clients built from them) are read once per container, so their caches are cleared; all is restored after."""

    def apply(**env: object) -> None:
        for name, value in env.items():
            monkeypatch.setenv(name, str(value))
        _reset_caches()

    _reset_caches()
    yield apply
    monkeypatch.undo()
    _reset_caches()


@pytest.fixture
def dns(monkeypatch) -> dict[str, list[str]]:
    """Fixed DNS answers for callback URLs (add names to the returned dict); IP literals resolve to themselves,
    other names do not resolve."""
    from postbox.integrations import webhooks

    answers = {"hooks.acme.example": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]}

    def resolve(host: str, port: int, *, timeout: float) -> list[str]:
        if host in answers:
            return answers[host]
        if host.replace(".", "").isdigit() or ":" in host:
            return [host]
        raise webhooks.Unresolved(host)

    monkeypatch.setattr(webhooks, "resolve", resolve)
    return answers


@pytest.fixture
def aws() -> Iterator[dict[str, str]]:
    """moto with the template's table, bucket and on-failure queue."""
    from moto import mock_aws

    from postbox_local import moto_index, resources

    moto_index.install()
    _reset_caches()
    with mock_aws():
        yield resources.create_all()
    _reset_caches()


@pytest.fixture
def directory(aws) -> dict[str, Any]:
    """The demo directory (local/demo-directory.json) loaded."""
    from postbox.logic.directory import parse_document, upsert

    upsert(parse_document(DEMO_DIRECTORY))
    return DEMO_DIRECTORY


class Api:
    """HTTP through the local gateway (template routes, real handlers, locally signed tokens)."""

    def __init__(self) -> None:
        from werkzeug.test import Client

        from postbox_local.functions import FunctionRegistry
        from postbox_local.gateway import Gateway

        self.functions = FunctionRegistry()
        self.client = Client(Gateway(self.functions, {}))

    @staticmethod
    def headers(user: str | None = None, app: str | None = None, token: str | None = None) -> dict[str, str]:
        from postbox_local import tokens

        if user:
            token = tokens.user_token(user)
        elif app:
            token = tokens.app_token(app)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def request(self, method: str, path: str, *, user: str | None = None, app: str | None = None,
                token: str | None = None, headers: dict[str, str] | None = None, **kwargs: Any):
        all_headers = {**self.headers(user, app, token), **(headers or {})}
        return self.client.open(path, method=method, headers=all_headers, **kwargs)

    def get(self, path: str, **kwargs: Any):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any):
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any):
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def api(directory) -> Api:
    return Api()


class Stream:
    """Delivers the table's stream to the template's stream functions, as Lambda would."""

    def __init__(self, api: Api, aws: dict[str, str]):
        from postbox_local.pump import StreamPump

        self.pump = StreamPump(api.functions, aws["stream_arn"], aws["queue_url"])

    def drain(self) -> None:
        self.pump.drain()

    def consumer(self, name: str):
        """The pump's consumer of the stream function `name` (its template logical id)."""
        return next(c for c in self.pump.consumers if c.spec.function == name)

    def invocations(self, name: str, monkeypatch) -> list[tuple[dict, dict]]:
        """(event, response) of every invocation of the function `name` by the pump from now on; the event as
        the function received it."""
        function = self.consumer(name).function
        original = function.invoke
        calls: list[tuple[dict, dict]] = []

        def recording(event: dict) -> dict:
            received = copy.deepcopy(event)
            response = original(event)
            calls.append((received, response))
            return response

        monkeypatch.setattr(function, "invoke", recording)
        return calls


@pytest.fixture
def stream(api, aws) -> Stream:
    return Stream(api, aws)


@pytest.fixture
def published(aws):
    """MQTT messages the publisher sent (moto records iot-data publishes), as (topic, decoded JSON)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iotdata.models import iotdata_backends

    backend = iotdata_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]

    def read(topic: str | None = None) -> list[tuple[str, Any]]:
        return [(t, json.loads(p)) for t, p in backend.published_payloads if topic is None or t == topic]

    return read


# -- IAM proven from the code's own calls (postbox_local.iam, docs/testing.md#iam) ---------------------------------
# Every process of the run (xdist workers, local stacks they start) records its functions' AWS calls into one
# directory; once the run is over, each is checked against its function's role in template.yaml. A call the
# role would deny fails the run; grants no call used are listed, and fail a whole-suite run (`make test` sets
# POSTBOX_IAM_STRICT=1) unless tests/iam_kept.txt keeps them with a reason.
_IAM_VERDICT: list[str] = []


def pytest_configure(config) -> None:
    from postbox_local import iam

    if not os.environ.get(iam.ENV):
        os.environ[iam.ENV] = tempfile.mkdtemp(prefix="postbox-iam-")
    iam.install(os.environ[iam.ENV])


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus) -> None:
    from postbox_local import iam, iam_roles

    if hasattr(session.config, "workerinput") or not os.environ.get(iam.ENV):
        return
    calls = iam.recorded(os.environ[iam.ENV])
    if not calls:
        return
    if not iam_roles.translator_python().exists():
        _IAM_VERDICT[:] = ["not checked: aws-sam-translator comes with the SAM CLI (make sam-validate installs it)"]
        return
    verdict = iam_roles.check(calls)
    kept = iam_roles.load_kept()
    full = iam_roles.report(verdict, kept)
    path = Path(os.environ[iam.ENV]) / "report.txt"
    path.write_text(full)
    denied = [line for line in full.splitlines() if not line.startswith("unused")]
    unused = len(full.splitlines()) - len(denied)
    strict = os.environ.get(iam_roles.STRICT_ENV) == "1"
    unjustified = iam_roles.unjustified(verdict, kept) if strict else []
    _IAM_VERDICT[:] = ["\n".join(denied + unjustified) or "every recorded AWS call is allowed by its function's role"
                       + ("; every grant is used or kept with a reason" if strict else ""),
                       f"{unused} grants no call of this run used: {path}"]
    if verdict.denied or verdict.unknown or unjustified:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter) -> None:
    if _IAM_VERDICT:
        terminalreporter.section("IAM: recorded AWS calls against template.yaml's roles")
        for line in _IAM_VERDICT:
            terminalreporter.write_line(line)
