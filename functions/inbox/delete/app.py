"""DELETE /api/v1/inbox/{entry_id}: remove the caller's copy of an item."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from postbox.http.faces import native_resolver
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.inbox import delete_entry
from postbox.settings import CursorSettings, LimitsSettings, TableSettings, require

require(TableSettings, CursorSettings, LimitsSettings)

app = native_resolver()


@app.delete("/api/v1/inbox/<entry_id>", summary="Delete my copy of an entry", tags=["Inbox"],
            responses={204: {"description": "Deleted"}, 404: {"description": "No such entry"}})
def delete(entry_id: Annotated[str, Path()]):
    delete_entry(current_caller(app), entry_id)
    return Response(204)


lambda_handler = api_entry(app)
