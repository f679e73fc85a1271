"""Replies, and internal notes that only ticket managers see."""

from typing import Any

from postbox.auth import Caller
from postbox.dal import conversations as store
from postbox.dal import directory
from postbox.dal.conversations import Visible
from postbox.dal.table import Item
from postbox.errors import Forbidden, NotFound
from postbox.ids import new_uid
from postbox.logic.conversations.access import Context, load_context
from postbox.logic.conversations.writing import (
    attachment_summaries,
    check_text,
    display_name,
    link,
    linkable,
    search_text,
)
from postbox.logic.permissions import is_ticket_manager
from postbox.settings import LimitsSettings
from postbox.timefmt import iso, utcnow


def reply(caller: Caller, conversation_id: str, text: str, *, internal: bool, attachment_ids: list[str],
          user_agent: str = "") -> str:
    ctx = load_context(caller, conversation_id)
    if not ctx.access.exists:
        raise NotFound(f"Message conversation does not exist: {conversation_id}")
    if internal and not ctx.manages_tickets():
        raise Forbidden("Not authorized to send internal messages")
    if not ctx.can_act():
        raise Forbidden("Not authorized to send messages to this conversation.")
    check_text(text)
    files = linkable(caller, attachment_ids)
    now = iso(utcnow())
    sender_name = display_name(ctx.actor.entry)
    message = {"id": new_uid(), "text": text, "sender": caller.id, "senderName": sender_name, "internal": internal,
               "attachments": attachment_summaries(files), "created": now, "lastUpdated": now,
               "metaData": f"User-agent: {user_agent}"}
    if files:
        link(files, ctx.cid, message, [store.message_item(ctx.cid, message)])
    else:
        store.put_message(ctx.cid, message)
    header = store.record_reply(ctx.cid, sender=caller.id, sender_name=sender_name, at=now, internal=internal)
    rows = store.participants(ctx.cid)
    managers = _managers(rows, ctx) if internal else set()
    preview = LimitsSettings.get().INBOX_PREVIEW_CHARS
    updated = []
    for row in rows:
        uid = row["user_id"]
        if internal and uid not in managers:
            continue  # internal notes never reach non-managers, not even as a preview or an unread mark
        read = row["read"] if uid == caller.id else False
        updated.append(store.participant_item(
            header, uid, read=read, follow_up=row.get("followUp", False), archived=row.get("archived", False),
            # The replier's own row keeps naming the last sender who is not them (docs/web.md#readable-content).
            visible=Visible(row.get("from") or sender_name if uid == caller.id else sender_name, text, now),
            search=row.get("search", "") + " " + search_text(text, sender_name),
            preview_chars=preview) | {"userName": row.get("userName", ""), **_read_at(row, read)})
    store.write(updated)
    return ctx.cid


def _read_at(row: Item, read: bool) -> dict[str, Any]:
    return {"read_at": row.get("read_at")} if read and row.get("read_at") else {}


def _managers(rows: list[Item], ctx: Context) -> set[str]:
    users = directory.get_users([row["user_id"] for row in rows])
    group = ctx.feedback_group()
    return {uid for uid, user in users.items() if is_ticket_manager(user, group)}
