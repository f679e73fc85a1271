"""Local access tokens: JWTs shaped like Cognito's, signed with the local stack's own key (HS256)."""

import time
import uuid

import jwt

from postbox.auth import APP_SCOPE, USER_SCOPE
from postbox_local.state import persistent_secret

ISSUER = "postbox-local"
LIFETIME_SECONDS = 12 * 3600
WEB_CLIENT_ID = "postbox-local-web"  # the web inbox's client, as Cognito's UserClient in AWS


def _key() -> str:
    return persistent_secret("signing.key")


def user_token(user_id: str) -> str:
    now = int(time.time())
    claims = {"sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"postbox:{user_id}")), "username": user_id,
              "token_use": "access", "scope": f"openid {USER_SCOPE}", "client_id": WEB_CLIENT_ID,
              "iss": ISSUER, "iat": now, "exp": now + LIFETIME_SECONDS}
    return jwt.encode(claims, _key(), algorithm="HS256")


def app_token(client_id: str) -> str:
    now = int(time.time())
    claims = {"sub": client_id, "client_id": client_id, "token_use": "access", "scope": APP_SCOPE,
              "iss": ISSUER, "iat": now, "exp": now + LIFETIME_SECONDS}
    return jwt.encode(claims, _key(), algorithm="HS256")


def verify(token: str) -> dict[str, str] | None:
    """Claims as API Gateway's Cognito authorizer passes them (every value a string), or None."""
    try:
        claims = jwt.decode(token, _key(), algorithms=["HS256"], issuer=ISSUER,
                            options={"require": ["exp", "iss", "token_use", "scope"]})
    except jwt.PyJWTError:
        return None
    if claims.get("token_use") != "access":
        return None
    return {name: str(value) for name, value in claims.items()}
