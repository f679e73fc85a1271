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


# -- browser sessions (docs/dhis2.md#browser-sessions) -------------------------------------------------------------
# A person signed in through the web holds their access token in an HttpOnly, Secure, SameSite=Lax cookie. Only the
# routes behind the session authorizer (GET downloads) accept it; every other route wants the bearer header, so a
# request another site makes the browser send carries no credential those routes take.

SESSION_COOKIE = "postbox_session"


def session_token(headers: dict[str, str] | None) -> tuple[str | None, bool]:
    """The token a request offers, and whether it came from the session cookie: the bearer header wins."""
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    header = lowered.get("authorization", "")
    if header.lower().startswith("bearer ") and header[7:].strip():
        return header[7:].strip(), False
    for pair in lowered.get("cookie", "").split(";"):
        name, _, value = pair.strip().partition("=")
        if name == SESSION_COOKIE and value:
            return value, True
    return None, False


def session_claims_ok(claims: dict[str, Any], from_cookie: bool, session_clients: set[str]) -> bool:
    """Claims of a verified access token that the session authorizer passes: the Postbox scopes, as the bearer
    authorizer; from the cookie, only a person's token issued to the web inbox's client."""
    try:
        caller = caller_from_claims(claims)
    except Unauthenticated:
        return False
    if not from_cookie:
        return True
    return not caller.is_app and str(claims.get("client_id", "")) in session_clients
