"""DHIS2 face (/api/messageConversations): request models, enums and the WebMessage shape."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

MESSAGE_TYPES = ("PRIVATE", "SYSTEM", "VALIDATION_RESULT", "TICKET", "SYSTEM_VERSION_UPDATE")
STATUSES = ("NONE", "OPEN", "PENDING", "INVALID", "SOLVED")
PRIORITIES = ("NONE", "LOW", "MEDIUM", "HIGH")

MessageType = Literal["PRIVATE", "SYSTEM", "VALIDATION_RESULT", "TICKET", "SYSTEM_VERSION_UPDATE"]
Status = Literal["NONE", "OPEN", "PENDING", "INVALID", "SOLVED"]
Priority = Literal["NONE", "LOW", "MEDIUM", "HIGH"]
Subject = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=10000)]
RefId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class IdRef(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: RefId


class Recipients(BaseModel):
    model_config = ConfigDict(extra="ignore")

    users: list[IdRef] = Field(default_factory=list, max_length=10000)
    userGroups: list[IdRef] = Field(default_factory=list, max_length=1000)
    organisationUnits: list[IdRef] = Field(default_factory=list, max_length=1000)


class ConversationIn(Recipients):
    """POST /api/messageConversations (JSON, or the dxf2 XML `<message>` converted to this shape)."""

    subject: Subject
    text: Text
    # DHIS2 clients send [{"id": ...}]; its documentation shows bare ids. Both are accepted.
    attachments: list[IdRef] = Field(default_factory=list, max_length=100)
    # Only application tokens may choose these (SYSTEM / VALIDATION_RESULT conversations).
    messageType: Literal["PRIVATE", "SYSTEM", "VALIDATION_RESULT"] | None = None
    priority: Priority | None = None

    @field_validator("attachments", mode="before")
    @classmethod
    def _bare_ids(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"id": item} if isinstance(item, str) else item for item in value]
        return value


class WebMessage(BaseModel):
    """DHIS2's WebMessage: the HTTP status repeated in the body, with OK/WARNING/ERROR."""

    httpStatus: str
    httpStatusCode: int
    status: Literal["OK", "WARNING", "ERROR"]
    errorCode: str | None = None
    message: str | None = None
    response: dict[str, Any] | None = None


HTTP_REASONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 400: "Bad Request",
                401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict", 413: "Payload Too Large",
                500: "Internal Server Error"}


def web_message(status: int, message: str | None, *, response: dict[str, Any] | None = None,
                error_code: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"httpStatus": HTTP_REASONS.get(status, str(status)), "httpStatusCode": status,
                            "status": "OK" if status < 400 else "ERROR"}
    if error_code:
        body["errorCode"] = error_code
    body["message"] = message
    if response is not None:
        body["response"] = response
    return body
