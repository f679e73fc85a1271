"""The caller's own settings (/api/v1/me/settings): email and SMS notifications (docs/channels.md)."""

from pydantic import BaseModel, ConfigDict, Field, StrictBool


class UserSettingsIn(BaseModel):
    """A PATCH: only the keys given change; each is true or false (no strings, numbers or null)."""

    model_config = ConfigDict(extra="forbid")

    # A key left out leaves its setting as it is (the default is never read); null is refused as not a boolean.
    notify_email: StrictBool = Field(  # type: ignore[assignment]
        default=None, description="Email me each new message, conversation, reply and alert (to my directory email "
                                  "address)")
    notify_sms: StrictBool = Field(  # type: ignore[assignment]
        default=None, description="Send me each one by SMS (to my directory phone number, in E.164 form)")


class UserSettingsOut(BaseModel):
    notify_email: bool
    notify_sms: bool
    email: str | None = Field(description="Where emails go (the directory's; read-only here)")
    phone: str | None = Field(description="Where SMS go (the directory's; read-only here)")
