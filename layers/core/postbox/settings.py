"""Configuration: environment variables parsed once into one validated model."""

import os
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


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
    # Signs pagination cursors; in AWS it comes from Secrets Manager through the template.
    CURSOR_SECRET: str = Field(default="", repr=False)
    # Ona page-number mode.
    PAGE_SIZE_DEFAULT: int = 1000
    PAGE_SIZE_MAX: int = 10000
    # Lambda's response limit is 6 MB; pages stop short of it.
    PAGE_BYTES_MAX: int = 5 * 1024 * 1024
    INBOX_PREVIEW_CHARS: int = 500

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


@cache
def get_settings() -> Settings:
    """Read the environment once per container; a bad value stops the cold start with a clear error."""
    names = Settings.model_fields.keys()
    return Settings.model_validate({name: os.environ[name] for name in names if name in os.environ})
