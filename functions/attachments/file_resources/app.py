"""POST /api/fileResources?domain=MESSAGE_ATTACHMENT: DHIS2's upload through the API (multipart `file`), answered
with DHIS2's 202 WebMessage; the file becomes a pending attachment of the caller (docs/attachments.md, docs/dhis2.md).

API Gateway takes request bodies up to 10 MB and Lambda events up to 6 MB (the body arrives base64-encoded), so
files above about 4 MB must use the presigned flow (POST /api/v1/attachments).
"""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from postbox.http.dhis2 import Dhis2Routes, dhis2_resolver, respond
from postbox.http.multipart import file_parts
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.attachments import (
    FILE_RESOURCE_BODY_MAX_BYTES,
    MESSAGE_ATTACHMENT,
    file_resource_too_large,
    store_file_resource,
)
from postbox.models.dhis2 import web_message
from postbox.settings import AttachmentSettings, BucketSettings, CursorSettings, LimitsSettings, TableSettings, require

require(TableSettings, BucketSettings, CursorSettings, LimitsSettings, AttachmentSettings)

app = dhis2_resolver()
routes = Dhis2Routes(app)


def _bounded_body(app, next_middleware):
    """A body over the file limit (plus framing) is refused before it is decoded or parsed."""
    body = app.current_event.body or ""
    size = len(body) * 3 // 4 if app.current_event.is_base64_encoded else len(body.encode())
    if size > FILE_RESOURCE_BODY_MAX_BYTES:
        raise file_resource_too_large(size)
    return next_middleware(app)


app.use([_bounded_body])


@routes.post("/api/fileResources", summary="Upload a message attachment (DHIS2)", tags=["DHIS2 file resources"],
          description="multipart/form-data with the file in the field `file`; up to about 4 MB through the API.",
          responses={202: {"description": "WebMessage; the new attachment id is response.fileResource.id"},
                     400: {"description": "No `file` part, or an unknown domain"},
                     409: {"description": "Empty, too large, a type that is not allowed, or another domain"}})
def upload(domain: Annotated[str, Query(description="MESSAGE_ATTACHMENT (DHIS2's default, DATA_VALUE, is "
                                                    "refused)")] = "DATA_VALUE"):
    resource = store_file_resource(current_caller(app), domain, file_parts(app.current_event, "file"))
    body = web_message(202, "File resource created",
                       response={"responseType": "FileResource", "fileResource": resource.model_dump()})
    return respond(app, 202, body)


@routes.post("/api/messageConversations/attachments", summary="Upload a message attachment (DHIS2's older path)",
             tags=["DHIS2 file resources"],
             description="multipart/form-data with the file in the field `file`; answers the attachment object.",
             responses={400: {"description": "No `file` part"}, 409: {"description": "Empty, too large, or a type "
                                                                                     "that is not allowed"}})
def upload_attachment():
    resource = store_file_resource(current_caller(app), MESSAGE_ATTACHMENT, file_parts(app.current_event, "file"))
    return respond(app, 200, resource.model_dump(), root="fileResource")


lambda_handler = api_entry(app)
