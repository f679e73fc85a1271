"""Ona messaging face (/api/v1/messaging): request and response models.

Validation messages are DRF's own texts, so Ona clients see the errors they already handle.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from postbox.ids import is_uid

TARGET_TYPES = ("xform", "project", "user", "kmskey", "entitylist")
MESSAGE_VERB = "message"
VERBS = (
    "message", "submission_created", "submission_edited", "submission_deleted", "submission_reviewed",
    "form_updated", "export_created", "export_downloaded", "profile_updated", "kmskey_rotated",
    "entitylist_imported", "entitylist_deleted",
)
MESSAGE_MAX_CHARS = 10000


def _not_null(value: Any) -> Any:
    if value is None:
        raise PydanticCustomError("null", "This field may not be null.")
    return value


def _choice(value: Any, choices: tuple[str, ...]) -> str:
    _not_null(value)
    if isinstance(value, str) and value in choices:
        return value
    raise PydanticCustomError("invalid_choice", '"{input}" is not a valid choice.', {"input": value})


class FormCompatible(BaseModel):
    """Accepts JSON objects and url-encoded forms; a form field arrives as a one-element list.

    Only a parsed form (every value a list of strings) is unwrapped: in a JSON object, `["bob"]` stays a list.
    """

    @model_validator(mode="before")
    @classmethod
    def _unwrap_form_values(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not all(
                isinstance(value, list) and all(isinstance(v, str) for v in value) for value in data.values()):
            return data
        scalar_fields = {name for name, field in cls.model_fields.items() if "list" not in str(field.annotation)}
        return {key: value[0] if key in scalar_fields and isinstance(value, list) and len(value) == 1 else value
                for key, value in data.items()}


class CreateMessageIn(FormCompatible):
    model_config = ConfigDict(extra="ignore")

    target_type: str
    # Validated to str (the directory id); typed int | str so the schema says what clients may send.
    target_id: int | str = Field(description="A number or a directory id; rendered as a number when all digits.")
    message: str = Field(max_length=MESSAGE_MAX_CHARS)
    verb: str = MESSAGE_VERB
    # Postbox addition (docs/attachments.md): ids of the caller's uploads (POST /api/v1/attachments) to link to the
    # message.
    attachments: list[str] = Field(default_factory=list, description="Attachment ids to link (Postbox addition).")

    @field_validator("target_type", mode="before")
    @classmethod
    def _target_type(cls, value: Any) -> str:
        return _choice(value, TARGET_TYPES)

    @field_validator("verb", mode="before")
    @classmethod
    def _verb(cls, value: Any) -> str:
        return _choice(value, VERBS)

    @field_validator("target_id", mode="before")
    @classmethod
    def _target_id(cls, value: Any) -> str:
        _not_null(value)
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise PydanticCustomError("invalid_integer", "A valid integer is required.")
        return str(value)

    @field_validator("attachments", mode="before")
    @classmethod
    def _attachments(cls, value: Any) -> Any:
        return _not_null(value)

    @field_validator("attachments")
    @classmethod
    def _attachment_ids(cls, value: list[str]) -> list[str]:
        for attachment_id in value:
            if not is_uid(attachment_id):
                shown = attachment_id if len(attachment_id) <= 40 else attachment_id[:40] + "..."
                raise PydanticCustomError("invalid_attachment_id", '"{input}" is not a valid attachment id.',
                                          {"input": shown})
        return value

    @field_validator("message", mode="before")
    @classmethod
    def _message(cls, value: Any) -> str:
        _not_null(value)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise PydanticCustomError("invalid_string", "Not a valid string.")
        text = str(value).strip()
        if not text:
            raise PydanticCustomError("blank", "This field may not be blank.")
        if len(text) > MESSAGE_MAX_CHARS:
            raise PydanticCustomError("max_length", "Ensure this field has no more than {max} characters.",
                                      {"max": MESSAGE_MAX_CHARS})
        return text


def render_target_id(target_id: str) -> int | str:
    """Ona renders target ids as integers; a canonical all-digit id is rendered as one."""
    return int(target_id) if target_id.isdigit() and str(int(target_id)) == target_id else target_id


class MessageOut(BaseModel):
    id: str
    verb: str
    message: str
    user: str
    timestamp: str


class CreatedMessageOut(BaseModel):
    id: str
    verb: str
    message: str
    user: str
    target_id: int | str
    target_type: str
    timestamp: str


def _absent(value: Any) -> bool:
    return value is None


class GroupRow(BaseModel):
    """A group_by row, fields in Ona's order; `period_start`, `user`, `verb` are present only when grouped by them."""

    period_start: str | None = Field(default=None, exclude_if=_absent)
    user: str | None = Field(default=None, exclude_if=_absent)
    verb: str | None = Field(default=None, exclude_if=_absent)
    count: int
    earliest_timestamp: str
    latest_timestamp: str


class ReadOut(BaseModel):
    markedRead: list[str]
