"""Shared fixtures.

Unit and integration tests run in-process on moto (`mock_aws`): the API is reached through the local
gateway's WSGI app, which routes by template.yaml to the real handlers exactly as `make run` does, and
stream records are pumped through the real stream handlers. e2e tests (tests/e2e) start the whole local
stack as a separate process and use real HTTP and MQTT.
"""

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_STATE = tempfile.mkdtemp(prefix="postbox-tests-")
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1", "TABLE_NAME": "postbox-local", "BUCKET_NAME": "postbox-local-attachments",
    "IDEMPOTENCY_TABLE_NAME": "postbox-local-idempotency",
    "CURSOR_SECRET": "test-cursor-secret", "POWERTOOLS_METRICS_DISABLED": "true",
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


@pytest.fixture
def aws() -> Iterator[dict[str, str]]:
    """moto with the template's table, bucket and on-failure queue."""
    from moto import mock_aws

    from postbox_local import resources

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
