"""PUT /aalam/base/message: an application sends an alert to users, groups or permission holders (Aalam)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from postbox.http.faces import aalam_resolver
from postbox.http.idempotency import IdempotencyKey, idempotent_create
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.alerts import send_alert
from postbox.models.aalam import SendAlertIn, SentAlertOut
from postbox.settings import (
    AalamSettings,
    CallbackSettings,
    CursorSettings,
    IdempotencySettings,
    LimitsSettings,
    TableSettings,
    require,
)

require(TableSettings, IdempotencySettings, CursorSettings, LimitsSettings, AalamSettings, CallbackSettings)

app = aalam_resolver()


@app.put("/aalam/base/message", summary="Send an alert", tags=["Aalam alerts"],
         responses={400: {"description": "A wrong field (named), or no receiver left"},
                    403: {"description": "Not an application"}, 409: {"description": "The Idempotency-Key is in use"},
                    422: {"description": "The Idempotency-Key was used with a different request"}},
         middlewares=[idempotent_create])
def send(body: Annotated[SendAlertIn, Body(embed=False)], idempotency_key: IdempotencyKey = None) -> SentAlertOut:
    return send_alert(current_caller(app), body)


lambda_handler = api_entry(app)
