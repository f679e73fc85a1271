"""AWS IoT Core custom authorizer: a Cognito access token in, a subscription policy out (docs/realtime.md).

Clients pass the token as the MQTT password, or as `token` in the WebSocket query string or the
`x-postbox-token` header; the client id must start with the principal id the response names.
"""

import base64
import time
from typing import Any

from postbox.integrations.cognito import InvalidToken, verify_access_token
from postbox.logic.subscriptions import authorize
from postbox.observability import logger
from postbox.settings import CognitoSettings, IotPolicySettings, MqttSettings, TableSettings, require

require(TableSettings, MqttSettings, CognitoSettings, IotPolicySettings)


def _token(event: dict[str, Any]) -> str | None:
    if event.get("token"):
        return event["token"]
    protocol = event.get("protocolData") or {}
    password = (protocol.get("mqtt") or {}).get("password")
    if password:
        return base64.b64decode(password).decode("utf-8", "replace")
    http = protocol.get("http") or {}
    headers = {k.lower(): v for k, v in (http.get("headers") or {}).items()}
    if headers.get("x-postbox-token"):
        return headers["x-postbox-token"]
    for pair in (http.get("queryString") or "").split("&"):
        name, _, value = pair.partition("=")
        if name == "token" and value:
            return value
    return None


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    token = _token(event)
    if not token:
        return {"isAuthenticated": False}
    try:
        claims = verify_access_token(token)
    except InvalidToken as error:
        logger.info("token refused", extra={"reason": str(error)})
        return {"isAuthenticated": False}
    return authorize(claims, int(time.time()))
