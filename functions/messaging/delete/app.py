"""DELETE /api/v1/messaging/{message_id}: delete a message; its inbox entries follow via the stream (Ona)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from postbox.http.faces import ona_resolver
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.messages import delete_message
from postbox.settings import AttachmentSettings, BucketSettings, CursorSettings, LimitsSettings, TableSettings, require

require(TableSettings, BucketSettings, CursorSettings, LimitsSettings, AttachmentSettings)

app = ona_resolver()


@app.delete("/api/v1/messaging/<message_id>", summary="Delete a message", tags=["Ona messaging"],
            responses={204: {"description": "Deleted"}, 403: {"description": "Not allowed"},
                       404: {"description": "No such message"}})
def delete(message_id: Annotated[str, Path()]):
    delete_message(current_caller(app), message_id)
    return Response(204)


lambda_handler = api_entry(app)
