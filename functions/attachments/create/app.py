"""POST /api/v1/attachments: announce an upload and get a presigned POST form for it (docs/attachments.md)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from postbox.http.faces import native_resolver
from postbox.http.idempotency import IdempotencyKey, idempotent_create
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.attachments import create_upload
from postbox.models.attachments import AttachmentUploadOut, CreateAttachmentIn
from postbox.settings import AttachmentSettings, BucketSettings, IdempotencySettings, TableSettings, require

require(TableSettings, BucketSettings, IdempotencySettings, AttachmentSettings)

app = native_resolver()


@app.post("/api/v1/attachments", summary="Start an upload: a presigned POST form", tags=["Attachments"],
          description=("POST `upload.fields` plus `file` (last) to `upload.url` as multipart/form-data; then list the "
                       "`id` in a message's `attachments`. The form fixes the key, the Content-Type and the size "
                       "range, and expires after `expires_in` seconds; an unused upload is removed after a day."),
          responses={201: {"description": "Created: the attachment id and its upload form"},
                     400: {"description": "Invalid filename, size or type, or a type that is not allowed"},
                     409: {"description": "The Idempotency-Key is in use"},
                     422: {"description": "The Idempotency-Key was used with a different request"}},
          middlewares=[idempotent_create])
def create(body: Annotated[CreateAttachmentIn, Body(embed=False)],
           idempotency_key: IdempotencyKey = None) -> tuple[AttachmentUploadOut, int]:
    return create_upload(current_caller(app), body), 201


lambda_handler = api_entry(app)
