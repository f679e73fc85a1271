"""New conversations: POST /messageConversations (users and applications) and feedback tickets."""

from postbox.auth import Caller
from postbox.dal import conversations as store
from postbox.dal import directory
from postbox.dal.conversations import Visible
from postbox.dal.table import Item
from postbox.errors import BadRequest, Conflict, Forbidden
from postbox.ids import new_uid
from postbox.logic.conversations.recipients import expand_recipients
from postbox.logic.conversations.writing import (
    attachment_summaries,
    check_text,
    display_name,
    link,
    linkable,
    search_text,
)
from postbox.logic.permissions import Actor, feedback_members, load_actor
from postbox.models.dhis2 import ConversationIn
from postbox.settings import LimitsSettings
from postbox.timefmt import iso, utcnow


def _new_conversation(*, subject: str, text: str, sender: Actor | None, message_type: str, status: str,
                      priority: str, recipients: dict[str, Item], attachments: list[Item],
                      user_agent: str) -> str:
    """Header, first message and every participant row, written in the request (⌈n/25⌉ batch writes). With
    attachments, the header, the message and the links are one transaction, so a file is never linked to a
    conversation that was not written."""
    now = iso(utcnow())
    cid = new_uid()
    sender_id = sender.caller.id if sender and sender.is_user else None
    sender_name = display_name(sender.entry) if sender and sender.is_user else (sender.caller.id if sender else "")
    header = {"id": cid, "subject": subject, "messageType": message_type, "status": status, "priority": priority,
              "assignee": None, "assigneeName": None, "lastSender": sender_id, "lastSenderName": sender_name,
              "lastMessage": now, "messageCount": 1, "created": now, "lastUpdated": now, "createdBy": sender_id,
              "createdByName": sender_name if sender_id else None,
              # The summary over the messages everyone sees (internal notes leave it alone: store.record_reply).
              "publicSender": sender_id, "publicSenderName": sender_name, "publicMessage": now, "publicUpdated": now,
              "noteCount": 0}
    message = {"id": new_uid(), "text": text, "sender": sender_id, "senderName": sender_name, "internal": False,
               "attachments": attachment_summaries(attachments), "created": now, "lastUpdated": now,
               "metaData": f"User-agent: {user_agent}"}
    visible = Visible(sender_name, text, now)
    search = search_text(subject, text, sender_name)
    preview = LimitsSettings.get().INBOX_PREVIEW_CHARS
    participants = {uid: user for uid, user in recipients.items() if uid != sender_id}
    rows = [store.participant_item(header, uid, read=False, follow_up=False, archived=False, visible=visible,
                                   search=search, preview_chars=preview) | {"userName": display_name(user)}
            for uid, user in participants.items()]
    if sender_id:
        rows.append(store.participant_item(header, sender_id, read=True, follow_up=False, archived=False,
                                           visible=visible, search=search, preview_chars=preview)
                    | {"userName": sender_name})
    first = [store.header_item(header), store.message_item(cid, message)]
    if attachments:
        link(attachments, cid, message, first)
        store.write(rows)
    else:
        store.write([*first, *rows])
    return cid


def create(caller: Caller, request: ConversationIn, *, user_agent: str = "") -> str:
    """POST /messageConversations → the new conversation's uid (201 with Location)."""
    actor = load_actor(caller)
    if not actor.known:
        raise Forbidden("Not authorized to send messages.")
    if actor.caller.is_app:
        message_type = request.messageType or "SYSTEM"
        if message_type == "PRIVATE":
            raise Conflict("Applications create SYSTEM or VALIDATION_RESULT conversations.")
    else:
        if request.messageType not in (None, "PRIVATE") or request.priority is not None:
            raise Forbidden("Only applications may create SYSTEM or VALIDATION_RESULT conversations.")
        message_type = "PRIVATE"
    recipients = expand_recipients(request)
    if not recipients:
        raise Conflict("No recipients selected.")
    files = linkable(caller, [ref.id for ref in request.attachments])
    status = "OPEN" if message_type == "VALIDATION_RESULT" else "NONE"
    return _new_conversation(subject=request.subject, text=request.text, sender=actor, message_type=message_type,
                             status=status, priority=request.priority or "NONE", recipients=recipients,
                             attachments=files, user_agent=user_agent)


def feedback(caller: Caller, subject: str | None, text: str, *, user_agent: str = "") -> str:
    """POST /messageConversations/feedback: a TICKET to the feedback recipients group, status OPEN."""
    actor = load_actor(caller)
    if not actor.is_user:
        raise Forbidden("Not authorized to send feedback.")
    if not subject or not subject.strip():
        raise BadRequest("Required request parameter 'subject' for method parameter type String is not present")
    if len(subject) > 255:
        raise BadRequest("Subject must be at most 255 characters.")
    check_text(text)
    members = feedback_members()
    recipients = directory.get_users(sorted(members)) if members else {}
    recipients = {uid: user for uid, user in recipients.items() if user.get("active", True)}
    return _new_conversation(subject=subject.strip(), text=text, sender=actor, message_type="TICKET", status="OPEN",
                             priority="NONE", recipients=recipients, attachments=[], user_agent=user_agent)
