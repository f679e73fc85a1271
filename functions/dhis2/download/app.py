"""GET /api/messageConversations/{conversation_id}/{child_id}/attachments/{file_id}: a message's attachment,
checked in DHIS2's order, as a redirect to a short-lived S3 URL (DHIS2)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from postbox.http.dhis2 import Dhis2Routes, dhis2_resolver
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.conversations import reading
from postbox.settings import AttachmentSettings, BucketSettings, CursorSettings, LimitsSettings, TableSettings, require

require(TableSettings, BucketSettings, CursorSettings, LimitsSettings, AttachmentSettings)

app = dhis2_resolver()
routes = Dhis2Routes(app)


@routes.get("/api/messageConversations/<conversation_id>/<child_id>/attachments/<file_id>",
            summary="Download a message attachment", tags=["DHIS2 conversations"],
            responses={302: {"description": "Location: a presigned S3 URL valid for minutes"},
                       403: {"description": "Not a participant"}, 404: {"description": "No such conversation, "
                                                                                       "message or attachment"},
                       409: {"description": "An internal note's file, for non-managers"}})
def download(conversation_id: Annotated[str, Path()], child_id: Annotated[str, Path(description="The message")],
             file_id: Annotated[str, Path()]):
    url = reading.attachment_download(current_caller(app), conversation_id, child_id, file_id)
    return Response(302, None, "", headers={"Location": url, "Cache-Control": "no-store",
                                         "X-Content-Type-Options": "nosniff"})


lambda_handler = api_entry(app)
