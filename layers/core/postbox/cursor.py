"""Opaque pagination cursors: a DynamoDB start key, signed and bound to one query and one caller.

A cursor replayed by another caller, for another query, or altered in any byte is refused, so a
client can never steer a query into a partition it may not read.
"""

import base64
import hashlib
import hmac
import json
from typing import Any

from postbox.errors import BadRequest
from postbox.settings import CursorSettings

INVALID_CURSOR = "Invalid cursor."


# A warm function asks Secrets Manager again after this long, so a rotated secret takes over within minutes.
SECRET_MAX_AGE_SECONDS = 300


def _secret() -> bytes:
    """The signing key, from Secrets Manager through Powertools Parameters (cached for SECRET_MAX_AGE_SECONDS)."""
    from aws_lambda_powertools.utilities.parameters import get_secret  # cold start: it imports boto3

    secret_id = CursorSettings.get().CURSOR_SECRET_ID
    if not secret_id:
        raise RuntimeError("CURSOR_SECRET_ID is not configured")
    return str(get_secret(secret_id, max_age=SECRET_MAX_AGE_SECONDS)).encode()


def _binding(scope: str, caller_id: str, query: dict[str, Any]) -> bytes:
    return json.dumps([scope, caller_id, query], sort_keys=True, separators=(",", ":")).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode(start_key: dict[str, Any], *, scope: str, caller_id: str, query: dict[str, Any]) -> str:
    payload = json.dumps(start_key, separators=(",", ":"), sort_keys=True).encode()
    mac = hmac.new(_secret(), _binding(scope, caller_id, query) + b"\0" + payload, hashlib.sha256).digest()[:18]
    return f"{_b64(payload)}.{_b64(mac)}"


def decode(cursor: str, *, scope: str, caller_id: str, query: dict[str, Any]) -> dict[str, Any]:
    try:
        payload_text, mac_text = cursor.split(".")
        payload, mac = _unb64(payload_text), _unb64(mac_text)
    except ValueError:
        raise BadRequest(INVALID_CURSOR) from None
    expected = hmac.new(_secret(), _binding(scope, caller_id, query) + b"\0" + payload, hashlib.sha256).digest()[:18]
    if not hmac.compare_digest(mac, expected):
        raise BadRequest(INVALID_CURSOR)
    start_key = json.loads(payload)
    if not isinstance(start_key, dict) or not all(isinstance(v, str) for v in start_key.values()):
        raise BadRequest(INVALID_CURSOR)
    return start_key
