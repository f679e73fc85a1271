"""Attachments (docs/attachments.md): the native upload request and responses, and DHIS2's file resource shape."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from postbox.settings import MEDIA_TYPE_CHARS

FILENAME_MAX_CHARS = 255


def filename_problem(value: str) -> str | None:
    """What is wrong with a filename, or None: 1-255 characters, no path separators, no control characters.
    (A filename is only ever shown, in Content-Disposition on download; it never becomes an S3 key.)"""
    if not value.strip():
        return "must not be blank"
    if len(value) > FILENAME_MAX_CHARS:
        return f"must be at most {FILENAME_MAX_CHARS} characters"
    if "/" in value or "\\" in value:
        return "must be a file name without path separators (/ or \\)"
    if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in value):
        return "must not contain control characters"
    if value.strip() in (".", ".."):
        return "must be a file name, not . or .."
    return None


def is_media_type(value: str) -> bool:
    kind, slash, subtype = value.partition("/")
    return bool(slash and kind and subtype and set(kind + subtype) <= MEDIA_TYPE_CHARS)


class CreateAttachmentIn(BaseModel):
    """POST /api/v1/attachments: what the client is about to upload."""

    model_config = ConfigDict(extra="forbid")

    filename: str = Field(description="Shown on download; 1-255 characters without path separators.",
                          examples=["report.pdf"])
    content_type: str = Field(description="One of the allowed media types (ATTACHMENT_CONTENT_TYPES).",
                              examples=["application/pdf"])
    size: int = Field(description="Exact size in bytes, 1 to ATTACHMENT_MAX_BYTES (default 25 MiB).",
                      examples=[48213])

    @field_validator("filename", mode="before")
    @classmethod
    def _filename(cls, value: Any) -> str:
        if not isinstance(value, str):
            raise PydanticCustomError("filename_type", "must be a string")
        problem = filename_problem(value)
        if problem:
            raise PydanticCustomError("filename", problem)
        return value

    @field_validator("content_type", mode="before")
    @classmethod
    def _content_type(cls, value: Any) -> str:
        if not isinstance(value, str) or not is_media_type(value.strip().lower()):
            raise PydanticCustomError("media_type", "must be a media type such as text/plain, without parameters")
        return value.strip().lower()

    @field_validator("size", mode="before")
    @classmethod
    def _size(cls, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise PydanticCustomError("size_type", "must be a whole number of bytes")
        if value < 1:
            raise PydanticCustomError("size_min", "must be at least 1 byte")
        return value


class UploadFormOut(BaseModel):
    url: str = Field(description="POST the form here (multipart/form-data).")
    fields: dict[str, str] = Field(description="Every field of the form, exactly as given, then `file` last.")


class AttachmentUploadOut(BaseModel):
    id: str = Field(description="The attachment id, to list in a message's `attachments`.")
    upload: UploadFormOut
    expires_in: int = Field(description="Seconds the upload form stays valid.")


class AttachmentOut(BaseModel):
    id: str
    filename: str
    content_type: str
    size: int


# -- DHIS2: POST /api/fileResources ----------------------------------------------------------------------------


class FileResourceOut(BaseModel):
    id: str
    name: str
    displayName: str
    contentType: str
    contentLength: int
    contentMd5: str
    domain: str
    storageStatus: str

