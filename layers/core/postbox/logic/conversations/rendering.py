"""DHIS2's MessageConversation JSON: the header, messages (internal notes for managers only) and user
messages."""

from typing import Any

from postbox.dal.table import Item


def file_resource(summary: dict[str, Any] | str) -> dict[str, Any]:
    """A message attachment as DHIS2 shows it (a FileResource reference)."""
    if isinstance(summary, str):
        return {"id": summary}
    return {"id": summary["id"], "name": summary.get("filename", ""), "displayName": summary.get("filename", ""),
            "contentType": summary.get("content_type", ""), "contentLength": summary.get("size", 0)}


def summary(header: Item, *, show_internal: bool) -> dict[str, Any]:
    """The header's summary over the messages the viewer may see (docs/dhis2.md#tickets-and-internal-notes): over
    every message for a ticket manager, over the messages that are not internal notes (`public*`) for everyone
    else. A header without `public*` fields (written before they existed) falls back to its first message."""
    notes = int(header.get("noteCount", 0))
    if show_internal or not notes:
        return {"lastSender": header.get("lastSender"), "lastSenderName": header.get("lastSenderName"),
                "lastMessage": header["lastMessage"], "lastUpdated": header["lastUpdated"],
                "messageCount": int(header.get("messageCount", 0)) + (notes if show_internal else 0)}
    return {"lastSender": header.get("publicSender", header.get("createdBy")),
            "lastSenderName": header.get("publicSenderName", header.get("createdByName")),
            "lastMessage": header.get("publicMessage", header["created"]),
            "lastUpdated": header.get("publicUpdated", header["created"]),
            "messageCount": int(header.get("messageCount", 0))}


def entity(header: Item, messages: list[Item] | None, rows: list[Item] | None, caller_row: Item | None, *,
           show_internal: bool) -> dict[str, Any]:
    """DHIS2's MessageConversation JSON (messages oldest first)."""
    def ref(user_id: str | None, name: str | None) -> dict[str, str] | None:
        return {"id": user_id, "name": name or "", "displayName": name or ""} if user_id else None

    seen = summary(header, show_internal=show_internal)
    out: dict[str, Any] = {
        "id": header["id"], "name": header["subject"], "displayName": header["subject"],
        "subject": header["subject"], "messageType": header["messageType"], "status": header["status"],
        "priority": header["priority"], "created": header["created"], "lastUpdated": seen["lastUpdated"],
        "lastMessage": seen["lastMessage"], "messageCount": seen["messageCount"],
        "createdBy": ref(header.get("createdBy"), header.get("createdByName")),
        "lastSender": ref(seen["lastSender"], seen["lastSenderName"]),
        "assignee": ref(header.get("assignee"), header.get("assigneeName")),
        "read": bool(caller_row and caller_row.get("read")),
        "followUp": bool(caller_row and caller_row.get("followUp")),
    }
    if messages is not None:
        out["messages"] = [
            {"id": m["id"], "text": m["text"], "internal": bool(m.get("internal")), "created": m["created"],
             "lastUpdated": m["lastUpdated"], "metaData": m.get("metaData", ""),
             "sender": ref(m.get("sender"), m.get("senderName")),
             "attachments": [file_resource(a) for a in m.get("attachments", [])]}
            for m in messages if show_internal or not m.get("internal")
        ]
    if rows is not None:
        out["userMessages"] = [
            {"user": ref(r["user_id"], r.get("userName")), "read": bool(r.get("read")),
             "followUp": bool(r.get("followUp"))}
            for r in rows
        ]
    return out
