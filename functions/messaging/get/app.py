"""GET /api/v1/messaging/{message_id}: one message, for callers with view on its target (Ona)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

from postbox.http.faces import ona_resolver
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.messages import get_message
from postbox.models.ona import MessageOut
from postbox.settings import AttachmentSettings, BucketSettings, CursorSettings, LimitsSettings, TableSettings, require

require(TableSettings, BucketSettings, CursorSettings, LimitsSettings, AttachmentSettings)

app = ona_resolver()


@app.get("/api/v1/messaging/<message_id>", summary="Get a message", tags=["Ona messaging"],
         responses={403: {"description": "Not allowed"}, 404: {"description": "No such message"}})
def get(message_id: Annotated[str, Path()]) -> MessageOut:
    return get_message(current_caller(app), message_id)


lambda_handler = api_entry(app)
