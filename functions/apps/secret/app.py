"""GET /api/v1/app/callback-secret: the calling application's secret for verifying alert callbacks."""

from aws_lambda_powertools.event_handler import Response

from postbox.http.faces import native_resolver
from postbox.http.resolver import api_entry, current_caller
from postbox.logic.alerts import app_secret
from postbox.models.aalam import AppSecretOut
from postbox.settings import AalamSettings, CallbackSettings, CursorSettings, LimitsSettings, TableSettings, require

require(TableSettings, CursorSettings, LimitsSettings, AalamSettings, CallbackSettings)

app = native_resolver()


@app.get("/api/v1/app/callback-secret", summary="My callback signing secret", tags=["Applications"],
         responses={403: {"description": "Not an application known to the directory"}})
def secret() -> Response[AppSecretOut]:
    return Response(200, "application/json", app_secret(current_caller(app)),
                    headers={"Cache-Control": "no-store"})


lambda_handler = api_entry(app)
