"""Which token a request offers the session authorizer, and the cookie Postbox sets (docs/dhis2.md#browser-sessions)."""

import pytest

from postbox.auth import SESSION_COOKIE, session_claims_ok, session_token
from postbox.http.session import bearer_token, clear_cookie, set_cookie

PERSON = {"username": "bob", "scope": "openid postbox/user", "token_use": "access", "client_id": "web"}


@pytest.mark.parametrize(("headers", "expected"), [
    ({"Authorization": "Bearer abc", "Cookie": f"{SESSION_COOKIE}=xyz"}, ("abc", False)),  # the header wins
    ({"cookie": f"a=1; {SESSION_COOKIE}=xyz; b=2"}, ("xyz", True)),
    ({"Cookie": f"{SESSION_COOKIE}="}, (None, False)),
    ({"Cookie": f"x{SESSION_COOKIE}=xyz"}, (None, False)),
    ({"Authorization": "Basic abc"}, (None, False)),
    ({"Authorization": "Bearer "}, (None, False)),
    ({}, (None, False)),
    (None, (None, False)),
])
def test_session_token(headers, expected):
    assert session_token(headers) == expected


@pytest.mark.parametrize(("claims", "from_cookie", "allowed"), [
    (PERSON, True, True),
    (PERSON, False, True),
    ({**PERSON, "client_id": "other"}, True, False),     # the cookie carries only the web client's tokens
    ({**PERSON, "client_id": "other"}, False, True),     # as the bearer authorizer: any client of the pool
    ({**PERSON, "scope": "openid"}, False, False),
    ({**PERSON, "token_use": "id"}, True, False),
    ({"client_id": "web", "scope": "postbox/app", "token_use": "access"}, True, False),
    ({"client_id": "web", "scope": "postbox/app", "token_use": "access"}, False, True),
])
def test_session_claims(claims, from_cookie, allowed):
    assert session_claims_ok(claims, from_cookie, {"web"}) is allowed


def test_cookie_attributes_and_bearer_header():
    assert set_cookie("t", 60) == f"{SESSION_COOKIE}=t; Path=/api; Max-Age=60; HttpOnly; Secure; SameSite=Lax"
    assert "Max-Age=0" in set_cookie("t", -5) and "Max-Age=0" in clear_cookie()
    assert bearer_token({"authorization": "Bearer t"}) == "t"
    assert bearer_token({"Authorization": "Basic dXNlcjpwYXNz"}) is None
    assert bearer_token({}) is None
