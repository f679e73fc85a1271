"""Browser sessions (docs/dhis2.md#browser-sessions): a signed-in person's HttpOnly cookie is accepted in place of
the bearer header on the GET downloads of both faces, verified as strictly as a bearer token, and on no other
route. The deployed session authorizer is tested here with Cognito-shaped RS256 tokens; the local gateway applies
the same rules (postbox.auth) to local tokens."""

import io
import time
from pathlib import Path

import pytest
from test_iot_authorizer import ISSUER, OTHER_KEY, keys, token  # noqa: F401 (keys is a fixture)

from postbox.auth import SESSION_COOKIE
from postbox_local import tokens

ROOT = Path(__file__).resolve().parents[2]
ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123/dev/GET/api/v1/attachments/Abcdefghijk"


# -- the deployed authorizer ------------------------------------------------------------------------------------


@pytest.fixture
def authorizer(keys, monkeypatch):  # noqa: F811
    from postbox.settings import reset as reset_settings

    monkeypatch.setenv("SESSION_CLIENT_IDS", "web")
    reset_settings()
    from postbox_local.functions import LocalFunction

    function = LocalFunction("SessionAuthorizerFunction", ROOT / "functions/auth/session")
    yield lambda headers: function.invoke({"type": "REQUEST", "methodArn": ARN, "headers": headers})
    reset_settings()


def test_the_authorizer_takes_the_cookie_or_the_bearer_header(authorizer, keys):  # noqa: F811
    for headers in ({"Cookie": f"theme=dark; {SESSION_COOKIE}={token(keys)}"},
                    {"Authorization": f"Bearer {token(keys)}"}):
        response = authorizer(headers)
        assert response["policyDocument"]["Statement"] == [
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": ARN}]
        assert response["principalId"] == "bob"
        assert (response["context"]["username"], response["context"]["token_use"]) == ("bob", "access")


@pytest.mark.parametrize("bad", ["garbage", "expired", "another key", "id token", "no scope", "another issuer",
                                 "another client", "an application"])
def test_the_authorizer_refuses_what_a_bearer_token_would_not_pass(authorizer, keys, bad):  # noqa: F811
    import jwt

    now = int(time.time())
    made = {
        "garbage": "garbage",
        "expired": token(keys, expires_in=-60),
        "another key": token(OTHER_KEY),
        "id token": token(keys, token_use="id"),
        "no scope": token(keys, scope="openid"),
        "another issuer": token(keys, issuer="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_OTHER"),
        "another client": jwt.encode({"username": "bob", "scope": "postbox/user", "token_use": "access",
                                      "iss": ISSUER, "exp": now + 600, "client_id": "elsewhere"}, keys,
                                     algorithm="RS256", headers={"kid": "k1"}),
        "an application": jwt.encode({"client_id": "web", "scope": "postbox/app", "token_use": "access",
                                      "iss": ISSUER, "exp": now + 600}, keys, algorithm="RS256",
                                     headers={"kid": "k1"}),
    }[bad]
    with pytest.raises(Exception, match="Unauthorized"):
        authorizer({"Cookie": f"{SESSION_COOKIE}={made}"})
    if bad not in ("another client", "an application"):  # the bearer header takes any client, and applications
        with pytest.raises(Exception, match="Unauthorized"):
            authorizer({"Authorization": f"Bearer {made}"})
    with pytest.raises(Exception, match="Unauthorized"):
        authorizer({})


def test_the_deployed_authorizer_reads_the_web_clients_from_its_ssm_parameter(aws, keys, monkeypatch):  # noqa: F811
    """As template.yaml deploys it: no SESSION_CLIENT_IDS, the client ids in the SSM parameter it names."""
    import boto3
    import jwt

    from postbox.settings import reset as reset_settings
    from postbox_local.functions import LocalFunction

    name = "/postbox/dev/session-client-ids"
    boto3.client("ssm").put_parameter(Name=name, Value="web, web-admin", Type="String")
    monkeypatch.delenv("SESSION_CLIENT_IDS", raising=False)
    monkeypatch.setenv("SESSION_CLIENT_IDS_PARAMETER", name)
    reset_settings()
    function = LocalFunction("SessionAuthorizerFunction", ROOT / "functions/auth/session")

    def with_cookie_of(client_id: str) -> dict:
        claims = {"username": "bob", "scope": "postbox/user", "token_use": "access", "iss": ISSUER,
                  "exp": int(time.time()) + 600, "client_id": client_id}
        cookie = jwt.encode(claims, keys, algorithm="RS256", headers={"kid": "k1"})
        headers = {"Cookie": f"{SESSION_COOKIE}={cookie}"}
        return function.invoke({"type": "REQUEST", "methodArn": ARN, "headers": headers})

    try:
        assert with_cookie_of("web")["principalId"] == with_cookie_of("web-admin")["principalId"] == "bob"
        with pytest.raises(Exception, match="Unauthorized"):
            with_cookie_of("elsewhere")
    finally:
        monkeypatch.undo()
        reset_settings()


# -- the session endpoint and the cookie, through the local gateway ---------------------------------------------------


def session_cookie(api, user: str) -> str:
    response = api.post("/api/v1/session", user=user)
    assert response.status_code == 204, response.get_data()
    header = response.headers["Set-Cookie"]
    assert header.startswith(f"{SESSION_COOKIE}=")
    assert {"HttpOnly", "Secure", "SameSite=Lax", "Path=/api"} <= {part.strip() for part in header.split(";")}
    max_age = int(next(p for p in header.split("; ") if p.startswith("Max-Age=")).split("=")[1])
    assert 0 < max_age <= tokens.LIFETIME_SECONDS
    api.client.delete_cookie(SESSION_COOKIE, path="/api")  # each call below says which cookie it carries
    return header.split(";")[0].split("=", 1)[1]


def test_session_is_for_active_people_only(api):
    assert api.post("/api/v1/session", app="acme/billing").status_code == 403
    assert api.post("/api/v1/session", user="frank").status_code == 403
    assert api.post("/api/v1/session").status_code == 401
    ended = api.delete("/api/v1/session", user="bob")
    assert ended.status_code == 204 and "Max-Age=0" in ended.headers["Set-Cookie"]


def a_conversation_file(api) -> tuple[str, str, str]:
    upload = api.post("/api/40/fileResources", user="alice", query_string={"domain": "MESSAGE_ATTACHMENT"},
                      data={"file": (io.BytesIO(b"register\n"), "register.txt", "text/plain")})
    file_id = upload.get_json()["response"]["fileResource"]["id"]
    created = api.post("/api/messageConversations", user="alice", json={
        "subject": "File", "text": "see it", "users": [{"id": "bob"}], "attachments": [{"id": file_id}]})
    conversation = created.headers["Location"].rsplit("/", 1)[1]
    got = api.get(f"/api/messageConversations/{conversation}", user="bob", query_string={"fields": "messages[id]"})
    return conversation, got.get_json()["messages"][0]["id"], file_id


def with_cookie(api, method: str, path: str, value: str, **kwargs):
    """A request carrying the session cookie (the test client's cookie jar: it sends no Cookie header of ours)."""
    api.client.set_cookie(SESSION_COOKIE, value, path="/api")
    try:
        return api.request(method, path, **kwargs)
    finally:
        api.client.delete_cookie(SESSION_COOKIE, path="/api")


def test_the_cookie_downloads_on_both_faces_for_those_who_may_read(api):
    conversation, message, file_id = a_conversation_file(api)
    bob, dave = session_cookie(api, "bob"), session_cookie(api, "dave")
    for path in (f"/api/messageConversations/{conversation}/{message}/attachments/{file_id}",
                 f"/api/40/messageConversations/{conversation}/{message}/attachments/{file_id}",
                 f"/api/v1/attachments/{file_id}"):
        response = with_cookie(api, "GET", path, bob)
        assert response.status_code == 302, (path, response.get_json())
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert with_cookie(api, "GET", path, dave).status_code in (403, 404), path
        assert api.get(path).status_code == 401


def test_a_cookie_is_verified_like_a_bearer_token(api):
    import jwt

    conversation, message, file_id = a_conversation_file(api)
    path = f"/api/messageConversations/{conversation}/{message}/attachments/{file_id}"
    now = int(time.time())
    claims = {"username": "bob", "scope": "postbox/user", "token_use": "access", "iss": tokens.ISSUER,
              "client_id": tokens.WEB_CLIENT_ID, "exp": now + 600}
    refused = {
        "expired": jwt.encode({**claims, "exp": now - 60}, tokens._key(), algorithm="HS256"),
        "another key": jwt.encode(claims, "another-key-long-enough-for-hs256-signing!", algorithm="HS256"),
        "another client": jwt.encode({**claims, "client_id": "elsewhere"}, tokens._key(), algorithm="HS256"),
        "an application": tokens.app_token("acme/billing"),
        "no scope": jwt.encode({**claims, "scope": "openid"}, tokens._key(), algorithm="HS256"),
    }
    for label, value in refused.items():
        assert with_cookie(api, "GET", path, value).status_code == 401, label
    valid = jwt.encode(claims, tokens._key(), algorithm="HS256")
    assert with_cookie(api, "GET", path, valid).status_code == 302
    # an inactive user's cookie gets nothing either: the handler resolves the caller as for a bearer token
    inactive = jwt.encode({**claims, "username": "frank"}, tokens._key(), algorithm="HS256")
    assert with_cookie(api, "GET", path, inactive).status_code == 403


def test_no_other_route_accepts_the_cookie(api):
    bob = session_cookie(api, "bob")
    assert with_cookie(api, "GET", "/api/v1/inbox", bob).status_code == 401
    assert with_cookie(api, "GET", "/api/messageConversations", bob).status_code == 401
    created = with_cookie(api, "POST", "/api/messageConversations", bob,
                          json={"subject": "Forged", "text": "x", "users": [{"id": "alice"}]})
    assert created.status_code == 401
    assert with_cookie(api, "POST", "/api/v1/session", bob).status_code == 401
