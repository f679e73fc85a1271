"""Identifiers: directory ids, and time-ordered message ids (ULIDs)."""

import os
import re
import secrets
import time

# Directory ids double as MQTT topic levels, so they exclude / + # $ and whitespace.
ID_PATTERN = r"[A-Za-z0-9_.@-]{1,64}"
_ID_RE = re.compile(ID_PATTERN)

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ULID_PATTERN = r"[0-9A-HJKMNP-TV-Z]{26}"
_ULID_RE = re.compile(ULID_PATTERN)


def is_directory_id(value: str) -> bool:
    return bool(_ID_RE.fullmatch(value))


def is_ulid(value: str) -> bool:
    return bool(_ULID_RE.fullmatch(value))


def new_ulid(now_ms: int | None = None) -> str:
    """48-bit millisecond time + 80 random bits, Crockford base32 (the ULID spec).

    Written here because the python-ulid package costs ~50 ms of cold start (importlib.metadata).
    """
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


# DHIS2 identifiers (conversations, messages, file resources): a letter, then ten letters or digits.
UID_PATTERN = r"[A-Za-z][A-Za-z0-9]{10}"
_UID_RE = re.compile(UID_PATTERN)
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ALPHANUMERIC = _LETTERS + "0123456789"


def is_uid(value: str) -> bool:
    return bool(_UID_RE.fullmatch(value))


def new_uid() -> str:
    """A DHIS2-style uid (as CodeGenerator makes them), from the OS's random source."""
    return secrets.choice(_LETTERS) + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(10))
