"""DHIS2 face calls through the `api` fixture (docs/dhis2.md), and DHIS2's WebMessage bodies as its own tests
assert them."""

from typing import Any

MC = "/api/messageConversations"
REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
           413: "Payload Too Large"}
CREATED = "Message conversation created"
UID = r"[A-Za-z][A-Za-z0-9]{10}"
TEXT = {"Content-Type": "text/plain"}
XML = {"Accept": "application/xml"}


def web_message(status: int, message: str | None) -> dict[str, Any]:
    """DHIS2's WebMessage, the four fields its tests assert (assertWebMessage)."""
    return {"httpStatus": REASONS[status], "httpStatusCode": status, "status": "OK" if status < 400 else "ERROR",
            "message": message}


def assert_web_message(response, status: int, message: str | None) -> None:
    body = response.get_json()
    assert response.status_code == status, body
    assert {k: body.get(k) for k in ("httpStatus", "httpStatusCode", "status", "message")} == \
        web_message(status, message), body


def uid_of(response) -> str:
    assert response.status_code == 201, response.get_json()
    return response.headers["Location"].rsplit("/", 1)[1]


def create(api, sender: str = "alice", *, subject: str = "Subject", text: str = "Text",
           users: tuple[str, ...] = ("bob",), groups: tuple[str, ...] = (), units: tuple[str, ...] = (),
           as_app: bool = False, prefix: str = MC, **extra: Any) -> str:
    body = {"subject": subject, "text": text, "users": [{"id": u} for u in users],
            "userGroups": [{"id": g} for g in groups], "organisationUnits": [{"id": o} for o in units], **extra}
    who = {"app": sender} if as_app else {"user": sender}
    return uid_of(api.post(prefix, json=body, **who))


def reply(api, user: str, conversation: str, text: str, *, internal: bool = False, prefix: str = MC):
    query = {"internal": "true"} if internal else {}
    return api.post(f"{prefix}/{conversation}", user=user, data=text, headers=TEXT, query_string=query)


def feedback(api, user: str, subject: str = "Feedback", text: str = "The message") -> str:
    return uid_of(api.post(f"{MC}/feedback", user=user, query_string={"subject": subject}, data=text, headers=TEXT))


def get(api, user: str, conversation: str, **query: Any) -> dict[str, Any]:
    response = api.get(f"{MC}/{conversation}", user=user, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def listing(api, user: str, **query: Any) -> dict[str, Any]:
    response = api.get(MC, user=user, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def ids(api, user: str, **query: Any) -> list[str]:
    return [row["id"] for row in listing(api, user, **query)["messageConversations"]]


def participants(api, conversation: str) -> dict[str, bool]:
    """user id → read, as a superuser sees the conversation's userMessages."""
    body = get(api, "admin", conversation, fields="userMessages[user[id],read]")
    return {row["user"]["id"]: row["read"] for row in body["userMessages"]}
