"""Pagination cursors (docs/ona.md): opaque, signed, bound to the query, the caller and the scope."""

import base64
import json

import pytest

from postbox import cursor
from postbox.errors import BadRequest
from postbox.settings import CursorSettings

START_KEY = {"PK": "MSG#01J0000000000000000000000A", "SK": "MSG", "GSI1PK": "TGT#xform#34",
             "GSI1SK": "2024-05-01T10:00:00.000000Z#01J0000000000000000000000A"}
QUERY = {"target_type": "xform", "target_id": "34", "verb": None, "page_size": "10"}
BOUND = {"scope": "messaging", "caller_id": "bob", "query": QUERY}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture(autouse=True)
def secrets(aws):
    """moto's Secrets Manager holds the signing secret, as the local stack's does."""


def refused(text: str, **bound) -> None:
    with pytest.raises(BadRequest) as raised:
        cursor.decode(text, **{**BOUND, **bound})
    assert raised.value.detail == "Invalid cursor."
    assert raised.value.status == 400


def test_round_trip():
    text = cursor.encode(START_KEY, **BOUND)
    assert cursor.decode(text, **BOUND) == START_KEY


def test_a_cursor_is_url_safe_and_does_not_depend_on_key_order():
    text = cursor.encode(START_KEY, **BOUND)
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert cursor.encode(dict(reversed(list(START_KEY.items()))), **BOUND) == text
    assert cursor.decode(text, **{**BOUND, "query": dict(reversed(list(QUERY.items())))}) == START_KEY


def test_an_altered_payload_is_refused():
    payload, mac = cursor.encode(START_KEY, **BOUND).split(".")
    forged = json.dumps({**START_KEY, "GSI1PK": "TGT#xform#35"}, separators=(",", ":"), sort_keys=True)
    refused(f"{b64(forged.encode())}.{mac}")
    # one flipped byte of the original payload
    raw = bytearray(unb64(payload))
    raw[5] ^= 1
    refused(f"{b64(bytes(raw))}.{mac}")


def test_an_altered_signature_is_refused():
    payload, mac = cursor.encode(START_KEY, **BOUND).split(".")
    raw = bytearray(unb64(mac))
    raw[-1] ^= 1
    refused(f"{payload}.{b64(bytes(raw))}")
    refused(f"{payload}.{b64(unb64(mac)[:-1])}")
    refused(f"{payload}.")


@pytest.mark.parametrize(("name", "value"), [
    ("caller_id", "dave"),
    ("scope", "inbox"),
    ("query", {**QUERY, "target_id": "35"}),
    ("query", {**QUERY, "page_size": "11"}),
    ("query", {**QUERY, "verb": "message"}),
    ("query", {}),
])
def test_a_cursor_is_bound_to_its_caller_query_and_scope(name, value):
    text = cursor.encode(START_KEY, **BOUND)
    refused(text, **{name: value})


def test_a_cursor_signed_with_another_secret_is_refused():
    """After a rotation (once the cached value has aged out), cursors signed with the old secret are refused."""
    import boto3
    from aws_lambda_powertools.utilities import parameters

    text = cursor.encode(START_KEY, **BOUND)
    boto3.client("secretsmanager").put_secret_value(SecretId=CursorSettings.get().CURSOR_SECRET_ID,
                                                    SecretString="another-secret")
    parameters.clear_caches()
    refused(text)


def test_the_secret_is_read_once_then_cached():
    """A warm function does not ask Secrets Manager per request: with the secret gone, cursors still work."""
    import boto3

    cursor.encode(START_KEY, **BOUND)
    boto3.client("secretsmanager").delete_secret(SecretId=CursorSettings.get().CURSOR_SECRET_ID,
                                                 ForceDeleteWithoutRecovery=True)
    for _ in range(3):
        assert cursor.decode(cursor.encode(START_KEY, **BOUND), **BOUND) == START_KEY


@pytest.mark.parametrize("garbage", ["", ".", "garbage", "a.b.c", "!!!.???", "é.ü", "eyJ9.", "a" * 1000,
                                     "AAAA.AAAA", "%00.%00"])
def test_garbage_is_refused(garbage):
    refused(garbage)


def test_a_signed_payload_that_is_not_a_start_key_is_refused():
    """Even with a valid signature (e.g. a future format), only a map of strings is a start key."""
    for payload in ([1, 2], {"PK": 3}, "text"):
        refused(cursor.encode(payload, **BOUND))  # type: ignore[arg-type]
