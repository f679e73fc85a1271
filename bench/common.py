"""What every benchmark shares: the in-process moto environment and the local stack's pieces."""

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO_DIRECTORY = ROOT / "local" / "demo-directory.json"


def moto_environment() -> None:
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
        "TABLE_NAME": "postbox-local", "BUCKET_NAME": "postbox-local-attachments",
        "CURSOR_SECRET_ID": "postbox-local-cursor",
        "IDEMPOTENCY_TABLE_NAME": "postbox-local-idempotency", "CALLBACK_QUEUE_URL": "", "CHANNEL_QUEUE_URL": "",
        "POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "ERROR",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled", "POSTBOX_LOCAL_DIR": tempfile.mkdtemp(prefix="postbox-bench-"),
    })
    for name in ("AWS_ENDPOINT_URL", "IOT_DATA_ENDPOINT"):
        os.environ.pop(name, None)


@contextmanager
def in_process_stack():
    """moto + the template's resources + the demo directory, and the gateway and pump driving the handlers."""
    moto_environment()
    from moto import mock_aws
    from werkzeug.test import Client

    from postbox.dal import table
    from postbox.integrations import iot
    from postbox.logic.directory import parse_document, upsert
    from postbox.settings import reset as reset_settings
    from postbox_local import moto_index, resources
    from postbox_local.functions import FunctionRegistry
    from postbox_local.gateway import Gateway
    from postbox_local.pump import StreamPump

    reset_settings()
    for cached in (table.client, table._codecs, iot.client):  # clients of an earlier moto context
        cached.cache_clear()
    moto_index.install()
    with mock_aws():
        created = resources.create_all()
        upsert(parse_document(json.loads(DEMO_DIRECTORY.read_text())))
        functions = FunctionRegistry()
        yield (Client(Gateway(functions, {})),
               StreamPump(functions, created["stream_arn"], created["queue_url"]))


def auth(user: str | None = None, app: str | None = None) -> dict[str, str]:
    from postbox_local import tokens

    return {"Authorization": f"Bearer {tokens.user_token(user) if user else tokens.app_token(app)}"}


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]
