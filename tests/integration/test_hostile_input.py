"""No input reaches a 500 (docs/architecture.md#limits): bodies nested too deep, text that is not UTF-8, uploads
too large or not multipart are 400 (or DHIS2's 409 for a file) in the face's own shape, on every face."""

import io

import pytest

MC = "/api/messageConversations"
APP = "acme/billing"
# (method, path, caller, face, a valid body whose CAFE becomes text that is not UTF-8) for JSON routes of each face.
JSON_ROUTES = [
    ("POST", "/api/v1/messaging", "alice", "ona", '{"target_type": "user", "target_id": "bob", "message": "CAFE"}'),
    ("PUT", "/aalam/base/message", "app", "aalam", '{"message": {"from": "Billing", "app": "' + APP + '", '
     '"content": "CAFE", "receiver": [{"type": "users", "value": ["bob@example.org"]}]}}'),
    ("POST", MC, "alice", "dhis2", '{"subject": "CAFE", "text": "t", "users": [{"id": "bob"}]}'),
    ("POST", f"{MC}/read", "alice", "dhis2", '["CAFE"]'),
    ("POST", "/api/v1/inbox/read", "bob", "native", None),    # ids are ASCII by their pattern
    ("PATCH", "/api/v1/me/settings", "bob", "native", None),  # no text field
    ("POST", "/api/v1/directory", "admin", "native", '{"users": [{"id": "x", "username": "CAFE"}]}'),
]
IDS = [f"{r[0]} {r[1]}" for r in JSON_ROUTES]


def nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


def call(api, method, path, caller, **kwargs):
    who = {"app": "acme/billing"} if caller == "app" else {"user": caller}
    return api.request(method, path, **who, **kwargs)


def shaped(face: str, body: dict, words: str) -> bool:
    """A 400 body in the face's shape that says `words`."""
    if face == "dhis2":
        return body.get("httpStatusCode") == 400 and body.get("status") == "ERROR" and words in body["message"]
    if face == "aalam":
        return "field" in body and words in body["detail"] and (not words or body["field"] == "body")
    return words in body.get("detail", "")


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
@pytest.mark.parametrize("method,path,caller,face,body", JSON_ROUTES, ids=IDS)
def test_json_nested_too_deep_is_400(api, method, path, caller, face, body, depth):
    """Deeper than 32 levels: 400 in the face's shape (request validation may name a field first); deep enough to
    exhaust the parser, the words say why."""
    response = call(api, method, path, caller, data=nested(depth), headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    words = "nested deeper than 32 levels" if depth >= 1000 else ""
    assert shaped(face, response.get_json(), words), response.get_json()


@pytest.mark.parametrize("method,path,caller,face,body", [r for r in JSON_ROUTES if r[4]],
                         ids=[i for r, i in zip(JSON_ROUTES, IDS, strict=True) if r[4]])
def test_json_that_is_not_utf8_is_400(api, method, path, caller, face, body):
    response = call(api, method, path, caller, data=body.encode().replace(b"CAFE", b"caf\xe9 \xff"),
                    headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert shaped(face, response.get_json(), "not valid UTF-8"), response.get_json()


def test_a_nested_body_within_the_limit_reaches_validation(api):
    """32 levels are fine as JSON: the route's own rules answer (here: not an Ona message)."""
    response = call(api, "POST", "/api/v1/messaging", "alice", data=nested(32),
                    headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "nested" not in str(response.get_json())


def test_text_bodies_that_are_not_utf8_are_400(api, stream):
    created = api.post(MC, user="alice", json={"subject": "S", "text": "T", "users": [{"id": "bob"}]})
    conversation = created.headers["Location"].rsplit("/", 1)[1]
    response = api.post(f"{MC}/{conversation}", user="bob", data=b"caf\xe9", headers={"Content-Type": "text/plain"})
    assert response.status_code == 400
    assert shaped("dhis2", response.get_json(), "not valid UTF-8")


def upload(api, data: bytes, content_type: str = "text/plain", path: str = "/api/fileResources"):
    return api.post(path, user="alice", query_string={"domain": "MESSAGE_ATTACHMENT"},
                    data={"file": (io.BytesIO(data), "big.txt", content_type)})


@pytest.mark.parametrize("path", ["/api/fileResources", f"{MC}/attachments"])
def test_file_resources_have_their_own_size_limit(api, path):
    """4 MB through the API (the presigned flow takes larger files): a 6 MB file is refused, nothing stored."""
    import boto3

    response = upload(api, b"x" * (6 * 1024 * 1024), path=path)
    assert response.status_code == 409
    assert "File size can't be bigger than 4194304" in response.get_json()["message"]
    listed = boto3.client("s3").list_objects_v2(Bucket="postbox-local-attachments").get("KeyCount", 0)
    assert listed == 0
    at_limit = upload(api, b"x" * (4 * 1024 * 1024), path=path)
    assert at_limit.status_code in (200, 202), at_limit.get_json()


@pytest.mark.parametrize("headers,data", [
    ({"Content-Type": "application/json"}, b'{"file": "x"}'),
    ({"Content-Type": "multipart/form-data"}, b"--x\r\n"),                           # no boundary
    ({"Content-Type": "multipart/form-data; boundary=x"}, b"--x\r\nnot a part"),    # malformed
    ({"Content-Type": "multipart/form-data; boundary=x"}, b"\xff" * 100),
    ({"Content-Type": "text/plain"}, b"\xff\xfe"),
], ids=["json", "no boundary", "malformed", "binary garbage", "not utf-8"])
def test_file_resources_take_multipart_only(api, headers, data):
    response = api.post("/api/fileResources", user="alice", query_string={"domain": "MESSAGE_ATTACHMENT"},
                        data=data, headers=headers)
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.get_json()["httpStatusCode"] == 400
