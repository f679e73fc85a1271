"""POST /api/messageConversations/{conversation_id}/recipients: add participants (DHIS2)."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from postbox.http.dhis2 import Dhis2Routes, dhis2_resolver
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.conversations import recipients
from postbox.models.dhis2 import Recipients
from postbox.settings import AttachmentSettings, BucketSettings, CursorSettings, LimitsSettings, TableSettings, require

require(TableSettings, BucketSettings, CursorSettings, LimitsSettings, AttachmentSettings)

app = dhis2_resolver()
routes = Dhis2Routes(app)


@routes.post("/api/messageConversations/<conversation_id>/recipients", summary="Add recipients",
             tags=["DHIS2 conversations"], responses={204: {"description": "Added"}})
def add(conversation_id: Annotated[str, Path()], body: Annotated[Recipients, Body(embed=False)]):
    recipients.add_recipients(current_caller(app), conversation_id, body)
    return Response(204)


lambda_handler = api_entry(app)
