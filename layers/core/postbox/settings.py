"""Configuration: environment variables parsed into one small model per concern, each read once per container.

A function declares the groups it needs in its handler module (`require(TableSettings, ...)`), so a missing or
invalid variable stops its cold start with an error that names the variable. Resource names (tables, bucket,
queues) have no defaults: a function never falls back to a resource it was not given. Tunables (page sizes,
limits, MQTT options) have documented defaults. tests/unit/test_settings.py checks that every function's
environment in template.yaml covers what it declares.
"""

import os
from datetime import datetime
from email.utils import parseaddr
from functools import cache
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

# docs/attachments.md: what attachments may be (ATTACHMENT_CONTENT_TYPES, comma-separated, replaces the whole list).
DEFAULT_ATTACHMENT_CONTENT_TYPES = (
    "text/plain", "text/csv", "application/json", "application/pdf", "image/png", "image/jpeg", "image/gif",
    "application/zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
)
MEDIA_TYPE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789!#$&^_.+-")


class SettingsError(RuntimeError):
    """A function's environment lacks a variable it needs, or has a value that is not valid."""


class EnvSettings(BaseModel):
    """A group of environment variables: its fields are the variable names."""

    model_config = ConfigDict(frozen=True)

    @classmethod
    def get(cls) -> Self:
        """The group, read from the environment on first use and kept for the container's life."""
        return _load(cls)  # type: ignore[return-value]


@cache
def _load(group: type[EnvSettings]) -> EnvSettings:
    values = {name: os.environ[name] for name in group.model_fields if name in os.environ}
    try:
        return group.model_validate(values)
    except ValidationError as error:
        problems = []
        for problem in error.errors():
            name = str(problem["loc"][0]) if problem["loc"] else group.__name__
            if problem["type"] == "missing":
                problems.append(f"{name} is not set")
            else:
                problems.append(f"{name}: {problem['msg'].removeprefix('Value error, ')}")
        raise SettingsError(f"{group.__name__}: " + "; ".join(problems)) from None


def require(*groups: type[EnvSettings]) -> None:
    """Read and validate these groups now (at a handler's import): a function that lacks a variable does not start."""
    for group in groups:
        group.get()


def creating_with_attachments() -> tuple[type[EnvSettings], ...]:
    """What a function that creates a message or conversation, with attachments and an Idempotency-Key, reads."""
    return (TableSettings, BucketSettings, IdempotencySettings, CursorSettings, LimitsSettings, AttachmentSettings)


def variable_names() -> set[str]:
    """Every environment variable Postbox reads, in any group."""
    return {name for group in EnvSettings.__subclasses__() for name in group.model_fields}


def reset() -> None:
    """Forget what was read (tests that change the environment)."""
    _load.cache_clear()


# -- resources ---------------------------------------------------------------------------------------------------


class TableSettings(EnvSettings):
    """The single DynamoDB table (template.yaml's Table)."""

    TABLE_NAME: str = Field(min_length=1)


class BucketSettings(EnvSettings):
    """The attachments bucket (template.yaml's AttachmentsBucket)."""

    BUCKET_NAME: str = Field(min_length=1)


class IdempotencySettings(EnvSettings):
    """`Idempotency-Key` on the create endpoints (Powertools idempotency): the table that remembers each key's
    response, and for how long a key is remembered (a retry after that creates again)."""

    IDEMPOTENCY_TABLE_NAME: str = Field(min_length=1)
    IDEMPOTENCY_EXPIRES_SECONDS: int = Field(default=86400, ge=60, le=7 * 86400)


class CallbackQueueSettings(EnvSettings):
    """Alert callbacks (backend_url): the publisher puts jobs on this FIFO queue. Required; an empty value turns
    callbacks off (the tests do so)."""

    CALLBACK_QUEUE_URL: str


class ChannelQueueSettings(EnvSettings):
    """Email and SMS (docs/channels.md): the publisher puts jobs on this queue. Required; an empty value turns the
    channels off (the tests do so, except the channels' own)."""

    CHANNEL_QUEUE_URL: str


# -- behaviour ---------------------------------------------------------------------------------------------------


class MqttSettings(EnvSettings):
    """Publishing to AWS IoT Core (docs/realtime.md)."""

    # Account-specific IoT data endpoint (https://xxxx-ats.iot.<region>.amazonaws.com); empty = botocore default.
    IOT_DATA_ENDPOINT: str = ""
    MQTT_QOS: Literal[0, 1] = 1
    MQTT_RETAIN: bool = False
    MQTT_TOPIC_BASE: str = "postbox"
    MQTT_FULL_PAYLOAD: bool = False
    # The stream publisher's publishes in flight at once per invocation (docs/realtime.md#publishing-concurrently).
    MQTT_PUBLISH_CONCURRENCY: int = Field(default=16, ge=1, le=64)

    @field_validator("MQTT_QOS", mode="before")
    @classmethod
    def _qos(cls, value: object) -> object:
        if str(value).strip() == "2":
            raise ValueError("AWS IoT Core has no QoS 2; MQTT_QOS must be 0 or 1")
        return int(value) if isinstance(value, str) and value.strip().isdigit() else value

    @field_validator("MQTT_TOPIC_BASE")
    @classmethod
    def _topic_base(cls, value: str) -> str:
        if not value or any(ch in value for ch in "+#\0") or value.startswith("$") or len(value) > 64:
            raise ValueError("MQTT_TOPIC_BASE must be 1-64 characters without + # or a leading $")
        if value.strip("/") == "" or "//" in value or value.endswith("/"):
            raise ValueError("MQTT_TOPIC_BASE must not have empty levels")
        return value


class CursorSettings(EnvSettings):
    """The Secrets Manager secret (ARN or name) that signs pagination cursors; only the functions that paginate
    have it, and read its value at run time (postbox.cursor), never through their environment. Optional here:
    postbox.cursor refuses to sign without it."""

    CURSOR_SECRET_ID: str = ""


class LimitsSettings(EnvSettings):
    """Page sizes (Ona's page-number mode), the byte budget of a page (Lambda's response limit is 6 MB; pages stop
    short of it) and the inbox preview's length."""

    PAGE_SIZE_DEFAULT: int = 1000
    PAGE_SIZE_MAX: int = 10000
    PAGE_BYTES_MAX: int = 5 * 1024 * 1024
    INBOX_PREVIEW_CHARS: int = 500


class AttachmentSettings(EnvSettings):
    """Attachments (docs/attachments.md): the largest upload, allowed types, how long a presigned upload form and a
    download URL stay valid (a download at most 5 minutes), how long an unlinked upload is kept (the bucket's
    lifecycle rule removes pending objects after a day too), and how many files one message may carry."""

    ATTACHMENT_MAX_BYTES: int = Field(default=25 * 1024 * 1024, ge=1, le=5 * 1024**3)
    ATTACHMENT_CONTENT_TYPES: tuple[str, ...] = DEFAULT_ATTACHMENT_CONTENT_TYPES
    ATTACHMENT_UPLOAD_EXPIRES_SECONDS: int = Field(default=900, ge=60, le=3600)
    ATTACHMENT_DOWNLOAD_EXPIRES_SECONDS: int = Field(default=300, ge=1, le=300)
    ATTACHMENT_PENDING_SECONDS: int = Field(default=86400, ge=3600, le=7 * 86400)
    ATTACHMENTS_PER_MESSAGE_MAX: int = Field(default=10, ge=1, le=50)

    @field_validator("ATTACHMENT_CONTENT_TYPES", mode="before")
    @classmethod
    def _content_types(cls, value: object) -> object:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            return value
        types = tuple(dict.fromkeys(str(item).strip().lower() for item in items if str(item).strip()))
        for media_type in types:
            kind, _, subtype = media_type.partition("/")
            if not kind or not subtype or not set(kind + subtype) <= MEDIA_TYPE_CHARS:
                raise ValueError(f"ATTACHMENT_CONTENT_TYPES: {media_type!r} is not a media type like text/plain")
        if not types:
            raise ValueError("ATTACHMENT_CONTENT_TYPES must list at least one media type")
        return types


class AalamSettings(EnvSettings):
    """Aalam alerts (docs/aalam.md): the format of `date_floor` and `time` ("iso8601", or a strftime format, in
    UTC), as Aalam's base-app setting `date_format`."""

    AALAM_DATE_FORMAT: str = "iso8601"

    @field_validator("AALAM_DATE_FORMAT")
    @classmethod
    def _date_format(cls, value: str) -> str:
        if value == "iso8601":
            return value
        sample = datetime(2026, 11, 25, 19, 17, 54)
        try:
            if "%" not in value:
                raise ValueError
            datetime.strptime(sample.strftime(value), value)
        except ValueError:
            raise ValueError("AALAM_DATE_FORMAT must be 'iso8601' or a strftime format that parses back") from None
        return value


class CallbackSettings(EnvSettings):
    """Calling an alert's backend_url: each call's timeout; and, for the local stack and tests only, whether
    http(s)://127.0.0.1 / [::1] receivers are allowed (never in AWS)."""

    CALLBACK_TIMEOUT_SECONDS: float = Field(default=5.0, gt=0, le=30)
    CALLBACK_ALLOW_LOOPBACK_HTTP: bool = False


class ChannelSettings(EnvSettings):
    """Email and SMS (docs/channels.md): emails go out through SES from EMAIL_SENDER (an address of a verified SES
    identity; empty: no email), SMS through SNS with SMS_SENDER_ID (optional, 1-11 letters and digits, where the
    destination country allows one); links point into the web inbox at WEB_URL; a "sent" marker per recipient,
    item, channel and revision lives this long."""

    EMAIL_SENDER: str = ""
    SMS_SENDER_ID: str = ""
    WEB_URL: str = ""
    CHANNEL_SENT_TTL_SECONDS: int = Field(default=30 * 86400, ge=86400, le=365 * 86400)

    @field_validator("EMAIL_SENDER")
    @classmethod
    def _email_sender(cls, value: str) -> str:
        address = parseaddr(value)[1]
        if value and (address.count("@") != 1 or not all(address.split("@")) or any(c in value for c in "\r\n")):
            raise ValueError("EMAIL_SENDER must be an email address, optionally 'Name <address>'")
        return value

    @field_validator("SMS_SENDER_ID")
    @classmethod
    def _sms_sender_id(cls, value: str) -> str:
        if value and not (value.isascii() and value.isalnum() and len(value) <= 11
                          and any(c.isalpha() for c in value)):
            raise ValueError("SMS_SENDER_ID must be 1-11 letters and digits, at least one letter")
        return value

    @field_validator("WEB_URL")
    @classmethod
    def _web_url(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("WEB_URL must be an http(s) URL (the web inbox)")
        return value


class SessionSettings(EnvSettings):
    """The app clients whose tokens the session cookie may carry (the web inbox's; docs/dhis2.md#browser-sessions),
    or the name of an SSM parameter holding them, comma-separated (read by the session authorizer)."""

    SESSION_CLIENT_IDS: tuple[str, ...] = ()
    SESSION_CLIENT_IDS_PARAMETER: str = ""

    @field_validator("SESSION_CLIENT_IDS", mode="before")
    @classmethod
    def _session_clients(cls, value: object) -> object:
        return tuple(part.strip() for part in value.split(",") if part.strip()) if isinstance(value, str) else value


class CognitoSettings(EnvSettings):
    """Tokens verified outside API Gateway (the IoT Core and session authorizers): the user pool that issues them
    (https://cognito-idp.<region>.amazonaws.com/<pool id>) and where its keys are fetched from (default: the
    issuer's JWKS)."""

    COGNITO_ISSUER: str = Field(min_length=1)
    COGNITO_JWKS_URL: str = ""


class IotPolicySettings(EnvSettings):
    """The IoT policies the IoT Core authorizer returns are scoped to this account and region (Lambda sets
    AWS_REGION)."""

    AWS_REGION: str = Field(min_length=1)
    AWS_ACCOUNT_ID: str = Field(min_length=1)
