"""The IoT Core custom authorizer (docs/realtime.md): a Cognito access token in, a policy that lets a user receive
only their inbox, their own user topic and the topics of targets they can view."""

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parents[2]
ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TEST"


SIGNING_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def keys(monkeypatch):
    """The signing key, and its JWKS served over HTTP on loopback (PyJWKClient fetches it like Cognito's)."""
    from postbox.integrations import cognito
    from postbox.settings import reset as reset_settings

    private = SIGNING_KEY
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]}).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Jwks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("COGNITO_ISSUER", ISSUER)
    monkeypatch.setenv("COGNITO_JWKS_URL", f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json")
    monkeypatch.setenv("AWS_ACCOUNT_ID", "123456789012")
    monkeypatch.setenv("AWS_REGION", "us-east-1")  # Lambda sets it
    reset_settings()
    cognito._jwks_client.cache_clear()
    yield private
    server.shutdown()
    reset_settings()
    cognito._jwks_client.cache_clear()


def token(private, *, username="bob", scope="openid postbox/user", token_use="access", issuer=ISSUER,
          expires_in=3600, kid="k1") -> str:
    now = int(time.time())
    claims = {"sub": f"sub-{username}", "username": username, "scope": scope, "token_use": token_use,
              "iss": issuer, "iat": now, "exp": now + expires_in, "client_id": "web"}
    return jwt.encode(claims, private, algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def authorizer():
    """The function as Lambda runs it (a fresh container); its AWS calls are checked against its role."""
    from postbox_local.functions import LocalFunction

    return LocalFunction("IotAuthorizerFunction", ROOT / "functions/iot/authorizer").invoke


def mqtt_event(value: str, client_id: str = "phone") -> dict:
    return {"protocols": ["mqtt"], "protocolData": {"mqtt": {
        "username": "x?x-amz-customauthorizer-name=postbox-dev", "clientId": client_id,
        "password": base64.b64encode(value.encode()).decode()}}}


def statements(response: dict) -> list[dict]:
    return [s for doc in response["policyDocuments"] for s in json.loads(doc)["Statement"]]


def resources(response: dict, action: str) -> set[str]:
    found = set()
    for statement in statements(response):
        if statement["Action"] == action:
            value = statement["Resource"]
            found |= set(value) if isinstance(value, list) else {value}
    return found


def principal(user_id: str) -> str:
    import hashlib

    return "u" + hashlib.sha256(user_id.encode()).hexdigest()


ARN = "arn:aws:iot:us-east-1:123456789012"


def test_a_user_receives_their_inbox_own_topic_and_viewable_targets_only(directory, keys, authorizer):
    response = authorizer(mqtt_event(token(keys, username="bob")))

    assert response["isAuthenticated"] is True
    assert response["principalId"] == principal("bob")
    assert 300 <= response["disconnectAfterInSeconds"] <= 3600
    assert response["refreshAfterInSeconds"] == 300
    assert resources(response, "iot:Connect") == {f"{ARN}:client/{principal('bob')}-*"}
    # bob: dataentry on xform 34, readonly on entity list trees; nothing on project 12 or key-1.
    expected = {"postbox/user/bob/inbox", "postbox/user/bob/messages/publish", "postbox/xform/34/messages/publish",
                "postbox/entitylist/trees/messages/publish"}
    assert resources(response, "iot:Subscribe") == {f"{ARN}:topicfilter/{t}" for t in expected}
    assert resources(response, "iot:Receive") == {f"{ARN}:topic/{t}" for t in expected}
    assert all(len(doc) <= 2048 for doc in response["policyDocuments"])


def test_a_stranger_gets_only_their_own_topics(directory, keys, authorizer):
    response = authorizer(mqtt_event(token(keys, username="dave")))
    assert resources(response, "iot:Receive") == {f"{ARN}:topic/postbox/user/dave/inbox",
                                                  f"{ARN}:topic/postbox/user/dave/messages/publish"}


def test_project_roles_reach_the_project_and_its_forms(directory, keys, authorizer):
    receive = resources(authorizer(mqtt_event(token(keys, username="erin"))), "iot:Receive")
    assert f"{ARN}:topic/postbox/project/12/messages/publish" in receive
    assert f"{ARN}:topic/postbox/xform/34/messages/publish" in receive   # readonly on the project reaches its form
    assert f"{ARN}:topic/postbox/user/bob/inbox" not in receive


def test_a_superuser_may_receive_every_target_but_no_other_users_inbox(directory, keys, authorizer):
    receive = resources(authorizer(mqtt_event(token(keys, username="admin"))), "iot:Receive")
    assert f"{ARN}:topic/postbox/xform/*" in receive and f"{ARN}:topic/postbox/project/*" in receive
    assert not any("/user/bob" in arn for arn in receive)


def test_revoking_a_role_drops_the_topic_at_the_next_refresh(directory, keys, authorizer):
    from postbox.logic.directory import parse_document, upsert

    upsert(parse_document({"targets": [{"type": "entitylist", "id": "trees", "name": "trees",
                                        "acl": {"alice": "manager"}}]}))
    receive = resources(authorizer(mqtt_event(token(keys, username="bob"))), "iot:Receive")
    assert f"{ARN}:topic/postbox/entitylist/trees/messages/publish" not in receive


@pytest.mark.parametrize("make", [
    lambda k: token(k, expires_in=-10),
    lambda k: token(k, token_use="id"),
    lambda k: token(k, issuer="https://cognito-idp.eu-west-1.amazonaws.com/other"),
    lambda k: token(k, scope="postbox/app"),
    lambda k: token(k, username="frank"),          # inactive
    lambda k: token(k, username="ghost"),          # not in the directory
    lambda k: token(OTHER_KEY),
    lambda k: token(k, kid="unknown"),
    lambda k: "not-a-jwt",
], ids=["expired", "id-token", "other-issuer", "app-scope", "inactive", "unknown-user", "bad-signature",
        "unknown-kid", "garbage"])
def test_bad_tokens_are_refused(directory, keys, authorizer, make):
    assert authorizer(mqtt_event(make(keys))) == {"isAuthenticated": False}


def test_token_from_websocket_query_or_header(directory, keys, authorizer):
    good = token(keys, username="bob")
    by_query = {"protocols": ["http"], "protocolData": {"http": {"headers": {}, "queryString": f"a=1&token={good}"}}}
    by_header = {"protocols": ["http"], "protocolData": {"http": {"headers": {"X-Postbox-Token": good}}}}
    assert authorizer(by_query)["isAuthenticated"] is True
    assert authorizer(by_header)["isAuthenticated"] is True
    assert authorizer({"protocols": ["mqtt"], "protocolData": {"mqtt": {"clientId": "x"}}}) == {
        "isAuthenticated": False}


def test_many_targets_stay_within_iot_policy_limits_and_none_is_lost(directory, keys, authorizer):
    from postbox.logic.directory import parse_document, upsert

    upsert(parse_document({"targets": [{"type": "xform", "id": f"f{n}", "name": f"f{n}", "acl": {"dave": "readonly"}}
                                       for n in range(90)]}))
    response = authorizer(mqtt_event(token(keys, username="dave")))
    assert response["isAuthenticated"] is True
    assert 1 < len(response["policyDocuments"]) <= 10
    assert all(len(doc) <= 2048 for doc in response["policyDocuments"])
    wanted = {f"{ARN}:topic/postbox/xform/f{n}/messages/publish" for n in range(90)}
    wanted.add(f"{ARN}:topic/postbox/user/dave/inbox")
    assert wanted <= resources(response, "iot:Receive")
    assert {t.replace(":topic/", ":topicfilter/") for t in wanted} <= resources(response, "iot:Subscribe")


def test_more_targets_than_iot_policies_hold_are_refused_not_cut_short(directory, keys, authorizer):
    from postbox.logic.directory import parse_document, upsert

    upsert(parse_document({"targets": [{"type": "xform", "id": f"f{n}", "name": f"f{n}", "acl": {"dave": "readonly"}}
                                       for n in range(400)]}))
    assert authorizer(mqtt_event(token(keys, username="dave"))) == {"isAuthenticated": False}
    assert authorizer(mqtt_event(token(keys, username="bob")))["isAuthenticated"] is True


def test_principals_are_distinct_for_ids_that_share_a_prefix(directory, keys, authorizer):
    """Two 64-character ids that differ only at the end (a truncated hex would give them one principal)."""
    from postbox.logic.directory import parse_document, upsert

    first, second = "a" * 63 + "1", "a" * 63 + "2"
    upsert(parse_document({"users": [{"id": first, "username": first}, {"id": second, "username": second}]}))
    one, two = (authorizer(mqtt_event(token(keys, username=u))) for u in (first, second))
    assert one["principalId"] != two["principalId"]
    assert len(one["principalId"]) == 65 and one["principalId"].isalnum()
    assert resources(one, "iot:Connect").isdisjoint(resources(two, "iot:Connect"))


@pytest.mark.parametrize("expires_in,session", [(60, 300), (299, 300), (3600, 3600), (5 * 86400, 86400)])
def test_the_session_length_stays_within_iot_cores_bounds(directory, keys, authorizer, expires_in, session):
    response = authorizer(mqtt_event(token(keys, username="bob", expires_in=expires_in)))
    assert abs(response["disconnectAfterInSeconds"] - session) <= 2
