"""Aalam alerts face (/aalam/base/...): request and response models (docs/aalam.md).

Every wrong field is a 400 whose `detail` names it and whose `field` is its path, e.g.
`{"detail": "message.receiver[0].type: Input should be 'users', 'groups' or 'permissions'",
"field": "message.receiver[0].type"}`.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints

from postbox.ids import ID_PATTERN

# Aalam's "app" is "provider_code/app_code", each a directory id.
AppId = Annotated[str, StringConstraints(pattern=f"^{ID_PATTERN}/{ID_PATTERN}$")]
Url = Annotated[str, StringConstraints(min_length=1, max_length=2048)]
MAX_RECEIVER_ENTRIES = 100
MAX_RECEIVER_VALUES = 10_000
CONTENT_MAX_CHARS = 10_000
PRIVATE_DATA_MAX_CHARS = 1024
FROM_MAX_CHARS = 255


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReceiverIn(_Strict):
    type: Literal["users", "groups", "permissions"] = Field(
        description="users: emails or phone numbers; groups: group ids or names; permissions: authorities")
    value: Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=320)]],
                     Field(min_length=1, max_length=MAX_RECEIVER_VALUES)]


class AlertMessageIn(_Strict):
    from_: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=FROM_MAX_CHARS)] = Field(
        alias="from", description="A name conveying the source of the alert")
    app: AppId = Field(description="provider_code/app_code of the calling application")
    receiver: Annotated[list[ReceiverIn], Field(min_length=1, max_length=MAX_RECEIVER_ENTRIES)]
    index: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = Field(
        default=None, description="A key of the app's message_map: content then fills that template")
    content: JsonValue = Field(default=None, description="With index: an object of template keys; else anything")
    msg_group: Annotated[str, StringConstraints(pattern=f"^{ID_PATTERN}$")] | None = None
    frontend_url: Url | None = Field(default=None, description="http(s) URL shown to the user")
    backend_url: Url | None = Field(
        default=None, description="https URL called (signed POST) after a read or delete; public hosts only")
    private_data: Annotated[str, StringConstraints(max_length=PRIVATE_DATA_MAX_CHARS)] | None = None
    persist: bool = Field(default=True, description="false: notify over MQTT only, never stored")


class SendAlertIn(_Strict):
    message: AlertMessageIn


class SentAlertOut(BaseModel):
    id: str
    receivers: int
    unknown: list[str]


class AlertOut(BaseModel):
    """An alert as the receiving user sees it (GET /aalam/base/messages)."""

    model_config = ConfigDict(serialize_by_alias=True)

    id: str
    from_: str = Field(alias="from")
    frontend_url: str | None
    content: JsonValue
    private_data: str | None
    isread: bool
    time: str


class AlertReadOut(BaseModel):
    id: str
    isread: bool


class AlertEditedOut(BaseModel):
    """The alert after the sending app's edit."""

    model_config = ConfigDict(serialize_by_alias=True)

    id: str
    from_: str = Field(alias="from")
    content: JsonValue
    private_data: str | None


class AlertDeletedOut(BaseModel):
    id: str


class PreferenceOut(BaseModel):
    provider_code: str
    app_code: str
    msg_group: str | None
    unfollow: bool


class AppSecretOut(BaseModel):
    """The calling application's callback signing secret and how it is used."""

    app: str
    client_id: str
    secret: str
    algorithm: Literal["HMAC-SHA256"] = "HMAC-SHA256"
    header: Literal["X-Postbox-Signature"] = "X-Postbox-Signature"
