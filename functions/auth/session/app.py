"""The session authorizer: a Lambda REQUEST authorizer of API Gateway on the attachment downloads
(docs/dhis2.md#browser-sessions). It takes the bearer header or, for a browser following a download link, the
`postbox_session` cookie, and verifies the token exactly as a bearer token is: signature against the pool's keys,
issuer, expiry, an access token with a Postbox scope, and (from the cookie) the web inbox's client. The handler
behind it then checks, as everywhere, that the caller is an active directory user."""

from typing import Any

from postbox.auth import session_claims_ok, session_token
from postbox.integrations.cognito import InvalidToken, verify_access_token
from postbox.observability import logger
from postbox.settings import CognitoSettings, SessionSettings, require

require(CognitoSettings, SessionSettings)


def _policy(principal: str, effect: str, resource: str) -> dict[str, Any]:
    return {"principalId": principal, "policyDocument": {"Version": "2012-10-17", "Statement": [
        {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}]}}


def session_clients() -> set[str]:
    """The web clients whose tokens the cookie may carry: SESSION_CLIENT_IDS, or the SSM parameter named by
    SESSION_CLIENT_IDS_PARAMETER (Powertools Parameters, cached for five minutes)."""
    settings = SessionSettings.get()
    if settings.SESSION_CLIENT_IDS or not settings.SESSION_CLIENT_IDS_PARAMETER:
        return set(settings.SESSION_CLIENT_IDS)
    from aws_lambda_powertools.utilities.parameters import get_parameter  # cold start: it imports boto3

    value = get_parameter(settings.SESSION_CLIENT_IDS_PARAMETER, max_age=300) or ""
    return {part.strip() for part in str(value).split(",") if part.strip()}


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    token, from_cookie = session_token(event.get("headers"))
    if not token:
        raise Exception("Unauthorized")  # API Gateway's 401 (the UNAUTHORIZED gateway response)
    try:
        claims = verify_access_token(token)
    except InvalidToken as error:
        logger.info("token refused", extra={"reason": str(error), "cookie": from_cookie})
        raise Exception("Unauthorized") from None
    clients = session_clients()
    if not session_claims_ok(claims, from_cookie, clients):
        logger.info("claims refused", extra={"cookie": from_cookie})
        raise Exception("Unauthorized")
    principal = str(claims.get("username") or claims.get("client_id"))
    response = _policy(principal, "Allow", event["methodArn"])
    # The context is what handlers read as the caller's claims (flat strings, like the Cognito authorizer's).
    response["context"] = {name: str(value) for name, value in claims.items()
                           if isinstance(value, str | int | float | bool)}
    return response
