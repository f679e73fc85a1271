"""GET /api/v1/messaging/{message_id}/attachments: a message's files, for callers who may read it
(docs/attachments.md)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

from postbox.http.faces import ona_resolver
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.messages import list_attachments
from postbox.models.attachments import AttachmentOut
from postbox.settings import AttachmentSettings, BucketSettings, CursorSettings, LimitsSettings, TableSettings, require

require(TableSettings, BucketSettings, CursorSettings, LimitsSettings, AttachmentSettings)

app = ona_resolver()


@app.get("/api/v1/messaging/<message_id>/attachments", summary="List a message's attachments",
         tags=["Ona messaging"],
         responses={403: {"description": "Not allowed"}, 404: {"description": "No such message"}})
def list_(message_id: Annotated[str, Path()]) -> list[AttachmentOut]:
    return [AttachmentOut.model_validate(a) for a in list_attachments(current_caller(app), message_id)]


lambda_handler = api_entry(app)
