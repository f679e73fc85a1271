"""Ona face calls through the `api` fixture (docs/ona.md)."""

from typing import Any

MESSAGING = "/api/v1/messaging"


def send(api, sender: str | None, target_type: str, target_id: Any, text: str = "hello", *, app: str | None = None,
         **fields: Any) -> dict[str, Any]:
    """POST /api/v1/messaging as a user, or as an application (`app`, or a sender with a "/" as Ona's client ids
    have); the created message."""
    if sender and "/" in sender:
        app, sender = sender, None
    body = {"target_type": target_type, "target_id": target_id, "message": text, **fields}
    response = api.post(MESSAGING, user=sender, app=app, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def send_to_user(api, sender: str, to: str, text: str = "hello") -> dict[str, Any]:
    """A message from one user to another (target type "user")."""
    return send(api, sender, "user", to, text)
