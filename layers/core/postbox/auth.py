"""Who is calling: read only from the authorizer's claims (Cognito access tokens)."""

from dataclasses import dataclass
from typing import Any, Literal

USER_SCOPE = "postbox/user"
APP_SCOPE = "postbox/app"


@dataclass(frozen=True)
class Caller:
    kind: Literal["user", "app"]
    # A user's directory id (the token's username), or an application's client_id.
    id: str

    @property
    def is_app(self) -> bool:
        return self.kind == "app"


class Unauthenticated(Exception):
    """Claims that no authorizer would have passed; the gateway answers 401 before this in practice."""


def caller_from_claims(claims: dict[str, Any] | None) -> Caller:
    claims = claims or {}
    if claims.get("token_use", "access") != "access":
        raise Unauthenticated("access token required")
    scopes = str(claims.get("scope", "")).split()
    username = claims.get("username") or claims.get("cognito:username")
    if USER_SCOPE in scopes and username:
        return Caller("user", str(username))
    # An application token comes from the client-credentials grant, which has no user: a person's token that
    # carries the app scope (a misconfigured app client) never acts as the application.
    if APP_SCOPE in scopes and claims.get("client_id") and not username:
        return Caller("app", str(claims["client_id"]))
    raise Unauthenticated("token has no postbox scope")
