"""DELETE /api/messageConversations/{conversation_id}: hard delete (F_METADATA_IMPORT or ALL) (DHIS2)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

from postbox.http.dhis2 import Dhis2Routes, dhis2_resolver, message_response
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.conversations import removal
from postbox.settings import CursorSettings, LimitsSettings, TableSettings, require

require(TableSettings, CursorSettings, LimitsSettings)

app = dhis2_resolver()
routes = Dhis2Routes(app)


@routes.delete("/api/messageConversations/<conversation_id>", summary="Delete a conversation for everyone",
               tags=["DHIS2 conversations"])
def delete(conversation_id: Annotated[str, Path()]):
    removal.hard_delete(current_caller(app), conversation_id)
    return message_response(app, 200, None)


lambda_handler = api_entry(app)
