"""multipart/form-data request bodies (file uploads through the API), parsed with the standard library.

API Gateway passes such a body base64-encoded when `multipart/form-data` is one of the API's binary media
types (template.yaml); the local gateway does the same for every non-text body. A malformed body is a
BadRequest, never a server error.
"""

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any, cast

from postbox.errors import BadRequest

# filename="..." (quoted, \" and \\ unescaped, other backslashes kept: browsers send Windows paths unescaped)
# or filename=token; filename*= (RFC 5987) is left to the email package, which decodes it.
_FILENAME = re.compile(r'(?:^|;)\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))', re.IGNORECASE)


@dataclass(frozen=True)
class FilePart:
    filename: str | None       # as the client sent it (may carry a path; callers decide what to keep)
    content_type: str | None   # the part's own Content-Type header, if any
    content: bytes


def raw_body(event: Any) -> bytes:
    body = event.body or ""
    if event.is_base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("The request body is not valid base64.") from None
    return body.encode("utf-8", "surrogateescape")


def file_parts(event: Any, field: str) -> list[FilePart]:
    """Every part named `field` that carries a file; [] if there is none. 400 if the body is not a
    multipart/form-data document."""
    headers = event.headers or {}
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "") or ""
    if content_type.split(";")[0].strip().lower() != "multipart/form-data" or "boundary=" not in content_type:
        raise BadRequest("The request must be multipart/form-data with a boundary.")
    from email.message import Message
    from email.parser import BytesParser  # cold start: only an upload parses MIME (the email package is large)

    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    try:
        document = BytesParser().parsebytes(head + raw_body(event))
        # A multipart message's payload is the list of its parts.
        parts = cast(list[Message], document.get_payload()) if document.is_multipart() else []
        found = []
        for part in parts:
            if part.get_param("name", header="content-disposition") != field:
                continue
            filename = _filename(part)
            if filename is None:
                continue
            payload = part.get_payload(decode=True)
            content_type = part.get("content-type")
            found.append(FilePart(filename=filename, content_type=str(content_type) if content_type else None,
                                  content=payload if isinstance(payload, bytes) else b""))
    except BadRequest:
        raise
    except Exception:
        raise BadRequest("The multipart/form-data body could not be parsed.") from None
    return found


def _filename(part: Any) -> str | None:
    # The header as sent: browsers send UTF-8 names raw (the parser keeps the bytes as surrogate escapes).
    raw = next((value for name, value in part.raw_items() if name.lower() == "content-disposition"), "")
    disposition = str(raw).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if "filename*" in disposition.lower():
        decoded = part.get_filename()
        return str(decoded) if decoded is not None else None
    match = _FILENAME.search(disposition)
    if match is None:
        return None
    if match.group(1) is not None:
        return re.sub(r'\\(["\\])', r"\1", match.group(1))
    return match.group(2)
