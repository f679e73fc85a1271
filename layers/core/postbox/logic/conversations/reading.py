"""One conversation as the caller may see it, and a message attachment's download."""

from typing import Any

from postbox.auth import Caller
from postbox.dal import conversations as store
from postbox.dal import inbox
from postbox.dal.table import Item
from postbox.errors import Conflict, Forbidden, NotFound
from postbox.ids import is_uid
from postbox.logic import attachments
from postbox.logic.conversations.access import load_context, plain
from postbox.logic.conversations.rendering import entity
from postbox.timefmt import iso, utcnow


def get(caller: Caller, conversation_id: str, *, mark_read: bool, with_participants: bool = True,
        with_messages: bool = True) -> dict[str, Any]:
    """The conversation as the caller may see it (internal notes only for ticket managers). Participants and
    messages are read only when the response shows them (`fields`)."""
    ctx = load_context(caller, conversation_id)
    if not ctx.access.exists:
        raise NotFound(plain(f"No MessageConversation found with UID: {conversation_id}"))
    if not ctx.access.can_read():
        raise Forbidden("Not authorized to access this conversation.")
    row = ctx.access.row
    if mark_read and row is not None and not row.get("read"):
        row = {**row, **(inbox.transition(caller.id, ctx.cid, "read", iso(utcnow()), known=row).entry or {})}
    if with_participants:
        items = store.everything(ctx.cid)
        messages = [i for i in items if i.get("type") == store.MESSAGE]
        rows: list[Item] | None = [i for i in items if i.get("type") == "inbox"]
    else:
        messages, rows = store.messages(ctx.cid) if with_messages else [], None
    # Internal notes, and the summary over them, for ticket managers only (the feedback group rode along).
    return entity(ctx.header, messages if with_messages else None, rows, row, show_internal=ctx.manages_tickets())


def attachment_download(caller: Caller, conversation_id: str, message_id: str, file_id: str) -> str:
    """GET /{mc}/{msg}/attachments/{file}: where to download it, checked in DHIS2's order."""
    ctx = load_context(caller, conversation_id)
    if not ctx.access.exists:
        raise NotFound(f"No message conversation with uid '{conversation_id}'")
    if not ctx.access.can_read():
        raise Forbidden("Not authorized to access this conversation.")
    message = store.message(ctx.cid, message_id) if is_uid(message_id) else None
    if message is None:
        # DHIS2's text really lacks the closing quote.
        raise NotFound(f"No message with uid '{message_id}' in messageConversation '{conversation_id}")
    if message.get("internal") and not ctx.manages_tickets():
        raise Conflict("Not authorized to access this message")
    file = attachments.attachment_on_message(message_id, file_id)
    if file is None:
        raise NotFound(f"No messageattachment found with id '{file_id}'")
    return attachments.presigned_download(file)
