"""Configuration: environment variables parsed once into one validated model."""

import os
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# docs/attachments.md: what attachments may be (ATTACHMENT_CONTENT_TYPES, comma-separated, replaces the whole list).
DEFAULT_ATTACHMENT_CONTENT_TYPES = (
    "text/plain", "text/csv", "application/json", "application/pdf", "image/png", "image/jpeg", "image/gif",
    "application/zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
)
MEDIA_TYPE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789!#$&^_.+-")


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    TABLE_NAME: str = "postbox"
    BUCKET_NAME: str = "postbox-attachments"
    # Account-specific IoT data endpoint (https://xxxx-ats.iot.<region>.amazonaws.com); empty = botocore default.
    IOT_DATA_ENDPOINT: str = ""
    MQTT_QOS: Literal[0, 1] = 1
    MQTT_RETAIN: bool = False
    MQTT_TOPIC_BASE: str = "postbox"
    MQTT_FULL_PAYLOAD: bool = False
    # The Secrets Manager secret (ARN or name) that signs pagination cursors; only the functions that paginate
    # have it, and read its value at run time (postbox.cursor), never through their environment.
    CURSOR_SECRET_ID: str = ""
    # Ona page-number mode.
    PAGE_SIZE_DEFAULT: int = 1000
    PAGE_SIZE_MAX: int = 10000
    # Lambda's response limit is 6 MB; pages stop short of it.
    PAGE_BYTES_MAX: int = 5 * 1024 * 1024
    INBOX_PREVIEW_CHARS: int = 500
    # The user pool that issues access tokens (https://cognito-idp.<region>.amazonaws.com/<pool id>); the IoT
    # authorizer checks tokens against it. COGNITO_JWKS_URL overrides where its keys are fetched from.
    COGNITO_ISSUER: str = ""
    COGNITO_JWKS_URL: str = ""
    # The app clients whose tokens the session cookie may carry (the web inbox's; docs/dhis2.md#browser-sessions).
    SESSION_CLIENT_IDS: tuple[str, ...] = ()
    # ... or the name of an SSM parameter holding them, comma-separated (read by the session authorizer).
    SESSION_CLIENT_IDS_PARAMETER: str = ""
    # IoT policies the authorizer returns are scoped to this account and region.
    AWS_REGION: str = "us-east-1"
    AWS_ACCOUNT_ID: str = ""
    # Aalam alerts (docs/aalam.md): the format of `date_floor` and `time` ("iso8601", or a strftime format, in UTC),
    # as Aalam's base-app setting `date_format`.
    AALAM_DATE_FORMAT: str = "iso8601"
    # Alert callbacks (backend_url): jobs go to this FIFO queue from the publisher; each call has this timeout.
    CALLBACK_QUEUE_URL: str = ""
    CALLBACK_TIMEOUT_SECONDS: float = Field(default=5.0, gt=0, le=30)
    # Local stack and tests only: also accept http(s)://127.0.0.1 / [::1] receivers (never in AWS).
    CALLBACK_ALLOW_LOOPBACK_HTTP: bool = False
    # Email and SMS channels (docs/channels.md): the publisher puts jobs on CHANNEL_QUEUE_URL; emails go out through
    # SES from EMAIL_SENDER (an address of a verified SES identity; empty: no email), SMS through SNS with
    # SMS_SENDER_ID (optional, 1-11 letters and digits, where the destination country allows one); links point
    # into the web inbox at WEB_URL; a "sent" marker per recipient, item, channel and revision lives this long.
    CHANNEL_QUEUE_URL: str = ""
    EMAIL_SENDER: str = ""
    SMS_SENDER_ID: str = ""
    WEB_URL: str = ""
    CHANNEL_SENT_TTL_SECONDS: int = Field(default=30 * 86400, ge=86400, le=365 * 86400)
    # Attachments (docs/attachments.md): the largest upload, allowed types, how long a presigned upload form and a
    # download URL stay valid (a download at most 5 minutes), how long an unlinked upload is kept (the bucket's
    # lifecycle rule removes pending objects after a day too), and how many files one message may carry.
    ATTACHMENT_MAX_BYTES: int = Field(default=25 * 1024 * 1024, ge=1, le=5 * 1024**3)
    ATTACHMENT_CONTENT_TYPES: tuple[str, ...] = DEFAULT_ATTACHMENT_CONTENT_TYPES
    ATTACHMENT_UPLOAD_EXPIRES_SECONDS: int = Field(default=900, ge=60, le=3600)
    ATTACHMENT_DOWNLOAD_EXPIRES_SECONDS: int = Field(default=300, ge=1, le=300)
    ATTACHMENT_PENDING_SECONDS: int = Field(default=86400, ge=3600, le=7 * 86400)
    ATTACHMENTS_PER_MESSAGE_MAX: int = Field(default=10, ge=1, le=50)
    # Idempotency-Key on the create endpoints (Powertools idempotency): the table that remembers each key's
    # response, and for how long a key is remembered (a retry after that creates again).
    IDEMPOTENCY_TABLE_NAME: str = "postbox-idempotency"
    IDEMPOTENCY_EXPIRES_SECONDS: int = Field(default=86400, ge=60, le=7 * 86400)

    @field_validator("SESSION_CLIENT_IDS", mode="before")
    @classmethod
    def _session_clients(cls, value: object) -> object:
        return tuple(part.strip() for part in value.split(",") if part.strip()) if isinstance(value, str) else value

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

    @field_validator("AALAM_DATE_FORMAT")
    @classmethod
    def _date_format(cls, value: str) -> str:
        if value == "iso8601":
            return value
        from datetime import datetime

        sample = datetime(2026, 11, 25, 19, 17, 54)
        try:
            if "%" not in value:
                raise ValueError
            datetime.strptime(sample.strftime(value), value)
        except ValueError:
            raise ValueError("AALAM_DATE_FORMAT must be 'iso8601' or a strftime format that parses back") from None
        return value

    @field_validator("EMAIL_SENDER")
    @classmethod
    def _email_sender(cls, value: str) -> str:
        from email.utils import parseaddr

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


@cache
def get_settings() -> Settings:
    """Read the environment once per container; a bad value stops the cold start with a clear error."""
    names = Settings.model_fields.keys()
    return Settings.model_validate({name: os.environ[name] for name in names if name in os.environ})
