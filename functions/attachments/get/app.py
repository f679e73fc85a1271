"""GET /api/v1/attachments/{attachment_id}: 302 to a short-lived presigned download, for callers who may read
the message holding the file, or its uploader (docs/attachments.md). Anyone else gets 404."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from postbox.http.faces import native_resolver
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.attachments import download_url
from postbox.settings import AttachmentSettings, BucketSettings, TableSettings, require

require(TableSettings, BucketSettings, AttachmentSettings)

app = native_resolver()


@app.get("/api/v1/attachments/<attachment_id>", summary="Download an attachment", tags=["Attachments"],
         responses={302: {"description": "Location: a presigned GET, valid for at most 5 minutes"},
                    404: {"description": "Unknown, or not readable by the caller"}})
def get(attachment_id: Annotated[str, Path()]):
    location = download_url(current_caller(app), attachment_id)
    return Response(302, None, "", headers={"Location": location, "Cache-Control": "no-store",
                                         "X-Content-Type-Options": "nosniff"})


lambda_handler = api_entry(app)
