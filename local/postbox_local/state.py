"""Where the local stack keeps its secrets and broker sessions, and the addresses of its parts."""

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from postbox_local.template import ROOT


def state_dir() -> Path:
    path = Path(os.environ.get("POSTBOX_LOCAL_DIR", ROOT / ".local"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def persistent_secret(name: str) -> str:
    """A random secret created on first use and kept in the state directory (mode 600)."""
    path = state_dir() / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


@dataclass(frozen=True)
class Ports:
    api: int = 3000
    mqtt: int = 1883
    moto: int = 5000
    iot: int = 5001
    ws: int = 9001     # the broker's MQTT-over-WebSockets listener (the web inbox)

    @classmethod
    def from_env(cls) -> "Ports":
        return cls(api=int(os.environ.get("POSTBOX_API_PORT", 3000)),
                   mqtt=int(os.environ.get("POSTBOX_MQTT_PORT", 1883)),
                   moto=int(os.environ.get("POSTBOX_MOTO_PORT", 5000)),
                   iot=int(os.environ.get("POSTBOX_IOT_PORT", 5001)),
                   ws=int(os.environ.get("POSTBOX_WS_PORT", 9001)))


TABLE_NAME = "postbox-local"
IDEMPOTENCY_TABLE_NAME = "postbox-local-idempotency"
BUCKET_NAME = "postbox-local-attachments"
FAILURE_QUEUE = "postbox-local-stream-failures"
# Template queues by logical id -> their local names (alert callback jobs, email and SMS jobs; their failure queues).
LOCAL_QUEUES = {"CallbackFailureQueue": "postbox-local-callback-failures.fifo",
                "CallbackQueue": "postbox-local-callbacks.fifo",
                "ChannelFailureQueue": "postbox-local-channel-failures",
                "ChannelQueue": "postbox-local-channels"}
# The From address of notification emails; the local stack verifies it in moto's SES (GET /local/outbox).
EMAIL_SENDER = "Postbox <postbox@example.org>"
# The cursor-signing secret in moto's Secrets Manager (resources.create_cursor_secret; the template's CursorSecret).
CURSOR_SECRET_NAME = "postbox-local-cursor"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"


def aws_environment(ports: Ports) -> dict[str, str]:
    """What the functions and the CLI see: every AWS call goes to moto, IoT publishes to the local endpoint."""
    return {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{ports.moto}",
        "TABLE_NAME": TABLE_NAME, "BUCKET_NAME": BUCKET_NAME, "IDEMPOTENCY_TABLE_NAME": IDEMPOTENCY_TABLE_NAME,
        "IOT_DATA_ENDPOINT": f"http://127.0.0.1:{ports.iot}",
        "CURSOR_SECRET_ID": CURSOR_SECRET_NAME,
        "CALLBACK_QUEUE_URL": f"http://127.0.0.1:{ports.moto}/{ACCOUNT_ID}/{LOCAL_QUEUES['CallbackQueue']}",
        "CHANNEL_QUEUE_URL": f"http://127.0.0.1:{ports.moto}/{ACCOUNT_ID}/{LOCAL_QUEUES['ChannelQueue']}",
        "EMAIL_SENDER": EMAIL_SENDER, "WEB_URL": f"http://127.0.0.1:{ports.api}/",
    }
