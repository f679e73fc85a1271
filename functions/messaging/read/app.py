"""POST /api/v1/messaging/{message_id}/read: mark a message read in the caller's inbox."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

from postbox.http.faces import ona_resolver
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.inbox import mark_source_read
from postbox.models.ona import ReadOut
from postbox.settings import CursorSettings, LimitsSettings, TableSettings, require

require(TableSettings, CursorSettings, LimitsSettings)

app = ona_resolver()


@app.post("/api/v1/messaging/<message_id>/read", summary="Mark a message read", tags=["Ona messaging"],
          responses={404: {"description": "The caller has no inbox entry for it"}})
def read(message_id: Annotated[str, Path()]) -> ReadOut:
    return ReadOut(markedRead=mark_source_read(current_caller(app), message_id))


lambda_handler = api_entry(app)
