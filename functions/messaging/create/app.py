"""POST /api/v1/messaging: send a message or a system event to a target (Ona)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from postbox.http.faces import ona_resolver
from postbox.http.idempotency import IdempotencyKey, idempotent_create
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.messages import create_message
from postbox.models.ona import CreatedMessageOut, CreateMessageIn
from postbox.settings import creating_with_attachments, require

require(*creating_with_attachments())

app = ona_resolver()


@app.post("/api/v1/messaging", summary="Create a message", tags=["Ona messaging"],
          responses={201: {"description": "Created"}, 400: {"description": "Invalid fields or unknown target"},
                     403: {"description": "Not allowed"},
                     409: {"description": "An attachment cannot be linked, or the Idempotency-Key is in use"},
                     422: {"description": "The Idempotency-Key was used with a different request"}},
          middlewares=[idempotent_create])
def create(body: Annotated[CreateMessageIn, Body(embed=False)],
           idempotency_key: IdempotencyKey = None) -> tuple[CreatedMessageOut, int]:
    return create_message(current_caller(app), body), 201


lambda_handler = api_entry(app)
