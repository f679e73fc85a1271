"""What creating and replying share: display names, search text, text checks and attachments linked in the
same transaction as the message."""

from typing import Any

from postbox.auth import Caller
from postbox.dal import transactions
from postbox.dal.table import Item
from postbox.errors import BadRequest
from postbox.logic import attachments

CREATED = "Message conversation created"


def display_name(user: Item | None) -> str:
    if not user:
        return ""
    return user.get("name") or user.get("username") or user.get("id", "")


def search_text(*parts: str | None) -> str:
    return " ".join(part.lower() for part in parts if part)


def check_text(text: str) -> None:
    if not text or not text.strip():
        raise BadRequest("Message text is required.")
    if len(text) > 10000:
        raise BadRequest("Message text must be at most 10000 characters.")


def linkable(caller: Caller, attachment_ids: list[str]) -> list[Item]:
    """The caller's pending uploads, checked (409 "Attachment 'x' not found." / "... is already used ...")."""
    if not attachment_ids:
        return []
    return attachments.linkable(caller, attachment_ids)


def attachment_summaries(files: list[Item]) -> list[dict[str, Any]]:
    if not files:
        return []
    return attachments.summaries(files)


def link(files: list[Item], conversation_id: str, message: dict[str, Any], items: list[Item]) -> None:
    """Write `items` and link the files to the message, in one transaction."""
    holder = {"holder": "conversation", "conversation_id": conversation_id, "message_id": message["id"],
              "internal": bool(message.get("internal"))}
    attachments.link(files, holder, with_actions=[transactions.put_action(item) for item in items])
