"""Domain errors raised by logic; each face renders them in its own shape (Ona detail, DHIS2 WebMessage, ...)."""

from typing import Any


class PostboxError(Exception):
    status = 500

    def __init__(self, detail: str | dict[str, Any]):
        super().__init__(detail if isinstance(detail, str) else repr(detail))
        # A str becomes {"detail": ...}; a dict is a field -> errors body (DRF's shape).
        self.detail = detail


class BadRequest(PostboxError):
    status = 400


class Forbidden(PostboxError):
    status = 403


class NotFound(PostboxError):
    status = 404


class Conflict(PostboxError):
    status = 409


class PayloadTooLarge(PostboxError):
    status = 413


NOT_FOUND = "Not found."
NO_PERMISSION = "You do not have permission to perform this action."
