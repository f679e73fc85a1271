"""DHIS2 message conversations (docs/dhis2.md): create, list, get, reply, recipients, feedback tickets,
ticket management, read/follow-up state, removal and hard delete, with DHIS2's texts and check order.

Holes in DHIS2 that Postbox closes: list and query= never reach other users' conversations; internal
notes are hidden from non-managers everywhere (get, list, search, MQTT); only a superuser may change
another user's read/follow-up state or participation.
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from postbox.auth import Caller
from postbox.dal import conversations as store
from postbox.dal import directory, feed
from postbox.dal.conversations import Visible
from postbox.dal.table import Item, parallel_map
from postbox.errors import BadRequest, Conflict, Forbidden, NotFound
from postbox.ids import is_directory_id, is_uid, new_uid
from postbox.logic.permissions import Actor as ActorT
from postbox.logic.permissions import (
    ConversationAccess,
    caller_key,
    can_hard_delete,
    feedback_group,
    feedback_members,
    holds_ticket_authority,
    in_feedback_group,
    is_ticket_manager,
)
from postbox.models.dhis2 import PRIORITIES, STATUSES, ConversationIn, Recipients
from postbox.settings import get_settings
from postbox.timefmt import iso, utcnow

CREATED = "Message conversation created"
PARALLEL_UPDATES = 8


def _plain(message: str) -> dict[str, str]:
    """DHIS2's "plain object" error body (no httpStatus/status keys)."""
    return {"message": message}


@dataclass
class Context:
    """The caller, the conversation header and the caller's participant row: one BatchGetItem."""

    access: ConversationAccess
    _group: tuple[str | None] | None = field(default=None, repr=False)

    @property
    def actor(self) -> ActorT:
        return self.access.actor

    @property
    def header(self) -> Item:
        assert self.access.header is not None
        return self.access.header

    @property
    def cid(self) -> str:
        return self.header["id"]

    def feedback_group(self) -> str | None:
        """Read once, and only when needed."""
        if self._group is None:
            self._group = (feedback_group(),)
        return self._group[0]

    def manages_tickets(self) -> bool:
        entry = self.actor.entry if self.actor.is_user else None
        return holds_ticket_authority(entry) or in_feedback_group(entry, self.feedback_group())

    def can_act(self) -> bool:
        """DHIS2 §3.1; the feedback group is read only when it can matter (a ticket, an outsider)."""
        if not self.access.exists:
            return False
        outsider = not (self.access.participant or self.actor.superuser)
        ticket = self.header.get("messageType") == "TICKET"
        return self.access.can_act(outsider and ticket and self.manages_tickets())


def _context(caller: Caller, conversation_id: str) -> Context:
    if not is_uid(conversation_id):
        return Context(ConversationAccess(_actor(caller), None, None))
    found = store.load_for(conversation_id, caller.id, caller_key(caller))
    header = found.get(tuple(store.header_key(conversation_id).values()))
    row = found.get(tuple(store.participant_key(conversation_id, caller.id).values())) if not caller.is_app else None
    entry = found.get(tuple(caller_key(caller).values()))
    return Context(ConversationAccess(ActorT(caller, entry), header, row))


def _actor(caller: Caller) -> ActorT:
    from postbox.logic.permissions import load_actor

    return load_actor(caller)


# -- recipients -------------------------------------------------------------------------------------------


def expand_recipients(recipients: Recipients) -> dict[str, Item]:
    """Users, groups and org units → active users, in DHIS2's error order: org unit 409, user 409, group 404."""
    unit_ids = [ref.id for ref in recipients.organisationUnits]
    user_ids = [ref.id for ref in recipients.users]
    group_ids = [ref.id for ref in recipients.userGroups]
    wanted = [directory.target_key("orgunit", i) for i in unit_ids if is_directory_id(i)]
    wanted += [directory.user_key(i) for i in user_ids if is_directory_id(i)]
    wanted += [directory.target_key("group", i) for i in group_ids if is_directory_id(i)]
    found = directory.get_many(wanted) if wanted else {}

    def exists(kind: str, entry_id: str) -> bool:
        return is_directory_id(entry_id) and tuple(directory.target_key(kind, entry_id).values()) in found

    for unit in unit_ids:
        if not exists("orgunit", unit):
            raise Conflict(f"Organisation Unit does not exist: {unit}")
    for user in user_ids:
        if not exists("user", user):
            raise Conflict(f"User does not exist: {user}")
    for group in group_ids:
        if not exists("group", group):
            raise NotFound(f"UserGroup with id {group} could not be found.")
    members = set(user_ids)
    for unit in dict.fromkeys(unit_ids):
        members.update(directory.member_ids(directory.ORG_UNIT, unit))
    for group in dict.fromkeys(group_ids):
        members.update(directory.member_ids(directory.GROUP, group))
    known = {uid: found[key] for uid in members
             if (key := tuple(directory.user_key(uid).values())) in found}
    missing = [uid for uid in members if uid not in known]
    if missing:
        known.update(directory.get_users(missing))
    return {uid: user for uid, user in known.items() if user.get("active", True)}


# -- writing --------------------------------------------------------------------------------------------------


def _search_text(*parts: str) -> str:
    return " ".join(part.lower() for part in parts if part)


def _new_conversation(*, subject: str, text: str, sender: ActorT | None, message_type: str, status: str,
                      priority: str, recipients: dict[str, Item], attachments: list[Item],
                      user_agent: str) -> str:
    """Header, first message and every participant row, written in the request (⌈n/25⌉ batch writes). With
    attachments, the header, the message and the links are one transaction, so a file is never linked to a
    conversation that was not written."""
    now = iso(utcnow())
    cid = new_uid()
    sender_id = sender.caller.id if sender and sender.is_user else None
    sender_name = _name(sender.entry) if sender and sender.is_user else (sender.caller.id if sender else "")
    header = {"id": cid, "subject": subject, "messageType": message_type, "status": status, "priority": priority,
              "assignee": None, "assigneeName": None, "lastSender": sender_id, "lastSenderName": sender_name,
              "lastMessage": now, "messageCount": 1, "created": now, "lastUpdated": now, "createdBy": sender_id,
              "createdByName": sender_name if sender_id else None}
    message = {"id": new_uid(), "text": text, "sender": sender_id, "senderName": sender_name, "internal": False,
               "attachments": attachment_summaries(attachments), "created": now, "lastUpdated": now,
               "metaData": f"User-agent: {user_agent}"}
    visible = Visible(sender_name, text, now)
    search = _search_text(subject, text, sender_name)
    preview = get_settings().INBOX_PREVIEW_CHARS
    participants = {uid: user for uid, user in recipients.items() if uid != sender_id}
    rows = [store.participant_item(header, uid, read=False, follow_up=False, archived=False, visible=visible,
                                   search=search, preview_chars=preview) | {"userName": _name(user)}
            for uid, user in participants.items()]
    if sender_id:
        rows.append(store.participant_item(header, sender_id, read=True, follow_up=False, archived=False,
                                           visible=visible, search=search, preview_chars=preview)
                    | {"userName": sender_name})
    first = [store.header_item(header), store.message_item(cid, message)]
    if attachments:
        _link(attachments, cid, message, first)
        store.write(rows)
    else:
        store.write([*first, *rows])
    return cid


def _name(user: Item | None) -> str:
    if not user:
        return ""
    return user.get("name") or user.get("username") or user.get("id", "")


def create(caller: Caller, request: ConversationIn, *, user_agent: str = "") -> str:
    """POST /messageConversations → the new conversation's uid (201 with Location)."""
    actor = _actor(caller)
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
    files = _linkable(caller, [ref.id for ref in request.attachments])
    status = "OPEN" if message_type == "VALIDATION_RESULT" else "NONE"
    return _new_conversation(subject=request.subject, text=request.text, sender=actor, message_type=message_type,
                             status=status, priority=request.priority or "NONE", recipients=recipients,
                             attachments=files, user_agent=user_agent)


def feedback(caller: Caller, subject: str | None, text: str, *, user_agent: str = "") -> str:
    """POST /messageConversations/feedback: a TICKET to the feedback recipients group, status OPEN."""
    actor = _actor(caller)
    if not actor.is_user:
        raise Forbidden("Not authorized to send feedback.")
    if not subject or not subject.strip():
        raise BadRequest("Required request parameter 'subject' for method parameter type String is not present")
    if len(subject) > 255:
        raise BadRequest("Subject must be at most 255 characters.")
    _check_text(text)
    members = feedback_members()
    recipients = directory.get_users(sorted(members)) if members else {}
    recipients = {uid: user for uid, user in recipients.items() if user.get("active", True)}
    return _new_conversation(subject=subject.strip(), text=text, sender=actor, message_type="TICKET", status="OPEN",
                             priority="NONE", recipients=recipients, attachments=[], user_agent=user_agent)


def _check_text(text: str) -> None:
    if not text or not text.strip():
        raise BadRequest("Message text is required.")
    if len(text) > 10000:
        raise BadRequest("Message text must be at most 10000 characters.")


def _linkable(caller: Caller, attachment_ids: list[str]) -> list[Item]:
    """The caller's pending uploads, checked (409 "Attachment 'x' not found." / "... is already used ...")."""
    if not attachment_ids:
        return []
    from postbox.logic import attachments

    return attachments.linkable(caller, attachment_ids)


def attachment_summaries(files: list[Item]) -> list[dict[str, Any]]:
    if not files:
        return []
    from postbox.logic import attachments

    return attachments.summaries(files)


def _link(files: list[Item], conversation_id: str, message: dict[str, Any], items: list[Item]) -> None:
    """Write `items` and link the files to the message, in one transaction."""
    from postbox.dal import table
    from postbox.logic import attachments

    holder = {"holder": "conversation", "conversation_id": conversation_id, "message_id": message["id"],
              "internal": bool(message.get("internal"))}
    attachments.link(files, holder, with_actions=[table.put_action(item) for item in items])


def reply(caller: Caller, conversation_id: str, text: str, *, internal: bool, attachment_ids: list[str],
          user_agent: str = "") -> str:
    ctx = _context(caller, conversation_id)
    if not ctx.access.exists:
        raise NotFound(f"Message conversation does not exist: {conversation_id}")
    if internal and not ctx.manages_tickets():
        raise Forbidden("Not authorized to send internal messages")
    if not ctx.can_act():
        raise Forbidden("Not authorized to send messages to this conversation.")
    _check_text(text)
    files = _linkable(caller, attachment_ids)
    now = iso(utcnow())
    sender_name = _name(ctx.actor.entry)
    message = {"id": new_uid(), "text": text, "sender": caller.id, "senderName": sender_name, "internal": internal,
               "attachments": attachment_summaries(files), "created": now, "lastUpdated": now,
               "metaData": f"User-agent: {user_agent}"}
    if files:
        _link(files, ctx.cid, message, [store.message_item(ctx.cid, message)])
    else:
        store.put_message(ctx.cid, message)
    header = store.record_reply(ctx.cid, sender=caller.id, sender_name=sender_name, at=now, counted=not internal)
    rows = store.participants(ctx.cid)
    managers = _managers(rows, ctx) if internal else set()
    preview = get_settings().INBOX_PREVIEW_CHARS
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
            search=row.get("search", "") + " " + _search_text(text, sender_name),
            preview_chars=preview) | {"userName": row.get("userName", ""), **_read_at(row, read)})
    store.write(updated)
    return ctx.cid


def _read_at(row: Item, read: bool) -> dict[str, Any]:
    return {"read_at": row.get("read_at")} if read and row.get("read_at") else {}


def _managers(rows: list[Item], ctx: Context) -> set[str]:
    users = directory.get_users([row["user_id"] for row in rows])
    group = ctx.feedback_group()
    return {uid for uid, user in users.items() if is_ticket_manager(user, group)}


def add_recipients(caller: Caller, conversation_id: str, recipients: Recipients) -> None:
    """204; new participants get an unread row (existing ones are untouched)."""
    ctx = _context(caller, conversation_id)
    if not ctx.access.exists:
        raise NotFound(f"Message conversation does not exist: {conversation_id}")
    if not ctx.can_act():
        raise Forbidden("Not authorized to change recipients in this conversation.")
    users = expand_recipients(recipients)
    current = {row["user_id"] for row in store.participants(ctx.cid)}
    header = ctx.header
    public = [m for m in store.messages(ctx.cid) if not m.get("internal")]   # newcomers see no internal notes
    latest = public[-1] if public else None
    newest = Visible(latest.get("senderName", ""), latest["text"], latest["created"]) if latest else \
        Visible("", "", header["lastMessage"])
    # A newcomer searches the whole public history, as DHIS2's queryString does.
    search = _search_text(header["subject"], *(part for m in public for part in (m["text"], m.get("senderName"))))
    preview = get_settings().INBOX_PREVIEW_CHARS
    rows = [store.participant_item(header, uid, read=False, follow_up=False, archived=False, visible=newest,
                                   search=search, preview_chars=preview) | {"userName": _name(user)}
            for uid, user in users.items() if uid not in current]
    store.write(rows)


# -- ticket management ---------------------------------------------------------------------------------------

NO_CONVERSATION_FOR_ID = "No MessageConversation found for the given ID."


def _managed(caller: Caller, conversation_id: str, forbidden: str) -> Context:
    ctx = _context(caller, conversation_id)
    if not ctx.access.exists:
        raise NotFound(_plain(NO_CONVERSATION_FOR_ID))
    if not ctx.can_act():
        raise Forbidden(forbidden)
    return ctx


def _valid_enum(value: str | None, name: str, allowed: tuple[str, ...]) -> str:
    if value is None or value == "":
        raise BadRequest(f"Required request parameter '{name}' for method parameter type "
                         f"{'MessageConversationStatus' if allowed is STATUSES else 'MessageConversationPriority'} "
                         "is not present")
    if value not in allowed:
        raise BadRequest(f"Value '{value}' is not valid for parameter {name}. Valid values are: [{', '.join(allowed)}]")
    return value


def _copy_to_rows(conversation_id: str, fields: dict[str, Any]) -> None:
    """Keep the list-filter copies on participant rows equal to the header."""
    users = [row["user_id"] for row in store.participants(conversation_id)]
    _each(users, lambda uid: store.copy_fields(conversation_id, uid, fields))


def _set_ticket_field(caller: Caller, conversation_id: str, field: str, value: str) -> dict[str, list[str]]:
    ctx = _managed(caller, conversation_id, f"Not authorized to change {field} in this conversation.")
    store.set_fields(ctx.cid, {field: value}, iso(utcnow()))
    _copy_to_rows(ctx.cid, {field: value})
    return {value: [ctx.cid]}


def set_priority(caller: Caller, conversation_id: str, priority: str | None) -> dict[str, list[str]]:
    value = _valid_enum(priority, "messageConversationPriority", PRIORITIES)
    return _set_ticket_field(caller, conversation_id, "priority", value)


def set_status(caller: Caller, conversation_id: str, status: str | None) -> dict[str, list[str]]:
    value = _valid_enum(status, "messageConversationStatus", STATUSES)
    return _set_ticket_field(caller, conversation_id, "status", value)


def assign(caller: Caller, conversation_id: str, user_id: str | None) -> dict[str, str]:
    ctx = _managed(caller, conversation_id, "Not authorized to assign a user to this conversation.")
    user = directory.get_user(user_id) if user_id and is_directory_id(user_id) else None
    if user is None or not user.get("active", True):
        raise NotFound(_plain("Could not find user to assign"))
    if ctx.header.get("messageType") == "TICKET" and not in_feedback_group(user, ctx.feedback_group()):
        raise Conflict(_plain("User provided is not a member of the system's feedback recipient group"))
    store.set_fields(ctx.cid, {"assignee": user["id"], "assigneeName": _name(user)}, iso(utcnow()))
    _copy_to_rows(ctx.cid, {"assignee": user["id"]})
    return {"message": f"User {_name(user)} was assigned successfully"}


def unassign(caller: Caller, conversation_id: str) -> dict[str, str]:
    ctx = _managed(caller, conversation_id, "Not authorized to remove the assigned user to this conversation.")
    store.set_fields(ctx.cid, {"assignee": None, "assigneeName": None}, iso(utcnow()))
    _copy_to_rows(ctx.cid, {"assignee": ""})   # rows keep "" for no assignee (list filters)
    return {"message": "Message is no longer assigned to user"}


# -- per-user state ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StateChange:
    attribute: str          # read | followUp
    value: bool
    result_key: str         # markedRead, markedUnread, markedFollowup, unmarkedFollowup
    not_found: str          # the 404 text when no conversation is known
    forbidden: str
    only_changed: bool      # read lists changed conversations; follow-up lists every loaded one


READ = StateChange("read", True, "markedRead", "No MessageConversations found for the given IDs.",
                   "Not authorized to change read property of this conversation.", True)
UNREAD = StateChange("read", False, "markedUnread", "No MessageConversations found for the given IDs.",
                     "Not authorized to change read property of this conversation.", True)
FOLLOWUP = StateChange("followUp", True, "markedFollowup", "No MessageConversations found for the given UIDs",
                       "Not authorized to change followups in this conversation.", False)
UNFOLLOWUP = StateChange("followUp", False, "unmarkedFollowup", "No MessageConversations found for the given UIDs",
                         "Not authorized to change unfollowups in this conversation.", False)


def _target_user(caller: Caller, user_id: str | None, not_found: str) -> str:
    target = user_id or caller.id
    if target != caller.id and (not is_directory_id(target) or directory.get_user(target) is None):
        raise NotFound(_plain(not_found.format(target)))
    return target


MAX_BATCH = 100   # docs/architecture.md#limits


def _check_batch(conversation_ids: list[str]) -> None:
    if len(conversation_ids) > MAX_BATCH:
        raise BadRequest(f"At most {MAX_BATCH} conversation ids per request.")


def _loaded(conversation_ids: list[str], not_found: str) -> dict[str, Item]:
    """The known conversations among the ids, in the order asked (unknown ids are skipped; none: 404)."""
    wanted = [cid for cid in dict.fromkeys(conversation_ids) if is_uid(cid)]
    found = store.get_headers(wanted) if wanted else {}
    if not found:
        raise NotFound(_plain(not_found))
    return {cid: found[cid] for cid in wanted if cid in found}   # BatchGetItem answers in any order


def _check_batch_access(caller: Caller, headers: dict[str, Item], target: str, forbidden: str,
                        on_behalf: str) -> None:
    """All-or-nothing: the caller needs access to every loaded conversation (DHIS2 §3.1), and acting for
    another user needs a superuser (DHIS2 HEAD lets any participant: a hole Postbox closes)."""
    actor = _actor(caller)
    rows = _caller_rows(list(headers), caller.id)
    entry = actor.entry if actor.is_user else None
    group: tuple[str | None] | None = None
    for cid, header in headers.items():
        access = ConversationAccess(actor, header, rows.get(cid))
        manages = False
        if not (access.participant or actor.superuser) and header.get("messageType") == "TICKET":
            if not holds_ticket_authority(entry) and group is None:
                group = (feedback_group(),)
            manages = holds_ticket_authority(entry) or in_feedback_group(entry, group[0] if group else None)
        if not access.can_act(manages):
            raise Forbidden(forbidden)
        if not access.may_act_for(target):
            raise Forbidden(on_behalf)


def _each(conversation_ids: list[str], action) -> list[str]:
    """Run a per-conversation write for each id (in parallel); the ids for which it returned True, in order."""
    if not conversation_ids:
        return []
    done = parallel_map(action, conversation_ids, min(PARALLEL_UPDATES, len(conversation_ids)))
    return [cid for cid, changed in zip(conversation_ids, done, strict=True) if changed]


def change_state(caller: Caller, conversation_ids: list[str], change: StateChange,
                 user_id: str | None = None) -> dict[str, list[str]]:
    """Batch (and single) read/unread/followup/unfollowup, all-or-nothing on access."""
    _check_batch(conversation_ids)
    target = _target_user(caller, user_id, "No user with uid: {}")
    headers = _loaded(conversation_ids, change.not_found)
    _check_batch_access(caller, headers, target, change.forbidden, "Not authorized to modify this object.")
    now = iso(utcnow())
    changed = _each(list(headers), lambda cid: _set_flag(cid, target, change, now))
    return {change.result_key: changed if change.only_changed else list(headers)}


def _caller_rows(conversation_ids: list[str], user_id: str) -> dict[str, Item]:
    from postbox.dal import table

    found = table.batch_get([store.participant_key(cid, user_id) for cid in conversation_ids], consistent=True)
    return {item["id"]: item for item in found.values()}


def _set_flag(conversation_id: str, user_id: str, change: StateChange, now: str) -> bool:
    """One conditional update; True if the participant's flag changed."""
    if change.attribute == "read":
        from postbox.dal import inbox

        return inbox.transition(user_id, conversation_id, "read" if change.value else "unread", now).entry is not None
    from boto3.dynamodb.conditions import Attr

    from postbox.dal import table

    try:
        table.update(store.participant_key(conversation_id, user_id), "SET followUp = :v", values={":v": change.value},
                     condition=Attr("PK").exists() & Attr("followUp").ne(change.value))
    except table.ConditionFailed:
        return False
    return True


def mark_one(caller: Caller, conversation_id: str, change: StateChange, user_id: str | None) -> dict[str, list[str]]:
    return change_state(caller, [conversation_id], change, user_id)


# -- removal and delete -----------------------------------------------------------------------------------------

REMOVE_FORBIDDEN = "Not authorized to remove assigned users to this conversation."


def remove_user(caller: Caller, conversation_id: str, user_id: str) -> dict[str, list[str]]:
    if not is_directory_id(user_id) or directory.get_user(user_id) is None:
        raise NotFound(_plain(f"No user with uid: {user_id}"))
    ctx = _context(caller, conversation_id)
    if not ctx.access.exists:
        raise NotFound(_plain(f"No messageConversation with uid: {conversation_id}"))
    if not ctx.can_act() or not ctx.access.may_act_for(user_id):
        raise Forbidden(REMOVE_FORBIDDEN)
    return {"removed": [ctx.cid] if store.delete_row(ctx.cid, user_id) else []}


def remove_user_batch(caller: Caller, conversation_ids: list[str], user_id: str | None) -> dict[str, list[str]]:
    _check_batch(conversation_ids)
    target = user_id or caller.id
    if target != caller.id and (not is_directory_id(target) or directory.get_user(target) is None):
        raise NotFound(_plain(f"User does not exist: {target}"))
    headers = _loaded(conversation_ids, "No MessageConversations found for the given UIDs.")
    _check_batch_access(caller, headers, target, REMOVE_FORBIDDEN, REMOVE_FORBIDDEN)
    return {"removed": _each(list(headers), lambda cid: store.delete_row(cid, target))}


def hard_delete(caller: Caller, conversation_id: str) -> None:
    """F_METADATA_IMPORT or ALL; the conversation, its messages, participants and attachments go."""
    actor = _actor(caller)
    if not can_hard_delete(actor):
        raise Forbidden("Access is denied, requires one Authority from [F_METADATA_IMPORT]")
    ctx = _context(caller, conversation_id)
    if not ctx.access.exists:
        raise NotFound(f"Message conversation does not exist: {conversation_id}")
    if not ctx.can_act():
        raise Forbidden("Not authorized to delete this conversation.")
    items = store.everything(ctx.cid)
    store.delete_keys([{"PK": item["PK"], "SK": item["SK"]} for item in items])


# -- reading ----------------------------------------------------------------------------------------------------


def get(caller: Caller, conversation_id: str, *, mark_read: bool, with_participants: bool = True,
        with_messages: bool = True) -> dict[str, Any]:
    """The conversation as the caller may see it (internal notes only for ticket managers). Participants and
    messages are read only when the response shows them (`fields`)."""
    ctx = _context(caller, conversation_id)
    if not ctx.access.exists:
        raise NotFound(_plain(f"No MessageConversation found with UID: {conversation_id}"))
    if not ctx.access.can_read():
        raise Forbidden("Not authorized to access this conversation.")
    row = ctx.access.row
    if mark_read and row is not None and not row.get("read"):
        from postbox.dal import inbox

        row = inbox.transition(caller.id, ctx.cid, "read", iso(utcnow())).entry or row
    if with_participants:
        items = store.everything(ctx.cid)
        messages = [i for i in items if i.get("type") == store.MESSAGE]
        rows: list[Item] | None = [i for i in items if i.get("type") == "inbox"]
    else:
        messages, rows = store.messages(ctx.cid) if with_messages else [], None
    internal = with_messages and any(m.get("internal") for m in messages)   # else the group need not be read
    return entity(ctx.header, messages if with_messages else None, rows, row,
                  show_internal=internal and ctx.manages_tickets())


def file_resource(summary: dict[str, Any] | str) -> dict[str, Any]:
    """A message attachment as DHIS2 shows it (a FileResource reference)."""
    if isinstance(summary, str):
        return {"id": summary}
    return {"id": summary["id"], "name": summary.get("filename", ""), "displayName": summary.get("filename", ""),
            "contentType": summary.get("content_type", ""), "contentLength": summary.get("size", 0)}


def entity(header: Item, messages: list[Item] | None, rows: list[Item] | None, caller_row: Item | None, *,
           show_internal: bool) -> dict[str, Any]:
    """DHIS2's MessageConversation JSON (messages oldest first)."""
    def ref(user_id: str | None, name: str | None) -> dict[str, str] | None:
        return {"id": user_id, "name": name or "", "displayName": name or ""} if user_id else None

    out: dict[str, Any] = {
        "id": header["id"], "name": header["subject"], "displayName": header["subject"],
        "subject": header["subject"], "messageType": header["messageType"], "status": header["status"],
        "priority": header["priority"], "created": header["created"], "lastUpdated": header["lastUpdated"],
        "lastMessage": header["lastMessage"], "messageCount": header.get("messageCount", 0),
        "createdBy": ref(header.get("createdBy"), header.get("createdByName")),
        "lastSender": ref(header.get("lastSender"), header.get("lastSenderName")),
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


@dataclass(frozen=True)
class ListQuery:
    filters: tuple[tuple[str, str, str], ...] = ()   # (property, operator, value)
    query_string: str | None = None
    query_operator: str = "token"
    newest_first: bool = True
    page: int = 1
    page_size: int = 50
    paging: bool = True
    wants_messages: bool = False
    query: str | None = None                          # DHIS2's `query=`: an id, or words of the subject


def parse_filter(text: str) -> tuple[str, str, str]:
    """`property:operator:value` (the value may itself contain colons). DHIS2's query parser errors are 409s."""
    parts = text.split(":", 2)
    if len(parts) != 3 or not all(parts[:2]):
        raise Conflict(f"Invalid filter: {text}")
    return parts[0], parts[1], parts[2]


FILTERABLE = {"messageType": "messageType", "status": "status", "priority": "priority", "read": "read",
              "followUp": "followUp", "assignee.id": "assignee", "assignee": "assignee"}
BOOLEAN_PROPS = {"read", "followUp"}


def _filter_conditions(query: ListQuery) -> tuple:
    conditions: list[tuple[str, str, Any]] = []
    for prop, op, raw in query.filters:
        attribute = FILTERABLE.get(prop)
        if attribute is None:
            raise Conflict(f"Filter property is not supported: {prop}")
        value: Any = raw
        if attribute in BOOLEAN_PROPS:
            if raw.lower() not in ("true", "false"):
                raise Conflict(f"Value '{raw}' is not valid for filter property {prop}.")
            value = raw.lower() == "true"
        if op == "eq":
            conditions.append((attribute, "eq", value))
        elif op in ("ne", "neq", "!eq"):
            conditions.append((attribute, "ne", value))
        elif op == "in":
            options = [v.strip() for v in raw.strip("[]").split(",") if v.strip()]
            if not options:
                raise Conflict(f"Filter value is not valid: {raw}")
            conditions.append((attribute, "is_in", options))
        elif op in ("like", "ilike") and attribute not in BOOLEAN_PROPS:
            conditions.append((attribute, "contains", raw.upper() if attribute != "assignee" else raw))
        else:
            raise Conflict(f"Filter operator is not supported: {op}")
    if query.query_string:
        text = query.query_string.lower()
        if query.query_operator == "token":
            conditions += [("search", "contains", token) for token in text.split()]
        elif query.query_operator in ("like", "ilike"):
            conditions.append(("search", "contains", text))
        elif query.query_operator == "eq":
            conditions.append(("subject", "eq", query.query_string))
        else:
            raise Conflict(f"Query operator is not supported: {query.query_operator}")
    return tuple(conditions)


def _query_conditions(caller: Caller, text: str | None) -> tuple:
    """DHIS2's `query=` (id:eq, or name:like), over the caller's own conversations only — DHIS2 runs it over
    every conversation in the system, a hole Postbox closes. An id the caller has wins; else the subject."""
    if not text:
        return ()
    if is_uid(text) and store.load_for(text, caller.id).get(tuple(store.participant_key(text, caller.id).values())):
        return (("id", "eq", text),)
    return (("subjectSearch", "contains", text.lower()),)


def list_for(caller: Caller, query: ListQuery) -> tuple[list[dict[str, Any]], dict[str, int] | None]:
    """The caller's conversations (only theirs, whatever the query), newest activity first by default."""
    if caller.is_app:
        raise Forbidden("Applications have no conversations.")
    where = _filter_conditions(query) + _query_conditions(caller, query.query)
    feed_query = store.user_feed(caller.id, where=where, newest_first=query.newest_first)
    if query.paging:
        total = feed.count(feed_query)
        skipped = (query.page - 1) * query.page_size
        start = feed.skip(feed_query, skipped) if skipped < total else None
        rows = feed.fetch(feed_query, limit=query.page_size, start_key=start).items if skipped < total else []
        pager = {"page": query.page, "pageCount": max(1, -(-total // query.page_size)), "total": total,
                 "pageSize": query.page_size}
    else:
        rows = feed.fetch(feed_query, limit=get_settings().PAGE_SIZE_MAX).items
        pager = None
    headers = store.get_headers([row["id"] for row in rows]) if rows else {}
    show_internal = False
    messages: dict[str, list[Item]] = {}
    if query.wants_messages and rows:
        wanted = [row["id"] for row in rows]
        with ThreadPoolExecutor(max_workers=min(PARALLEL_UPDATES, len(wanted))) as pool:
            messages = dict(zip(wanted, pool.map(store.messages, wanted), strict=True))
        if any(m.get("internal") for found in messages.values() for m in found):
            actor = _actor(caller)
            entry = actor.entry if actor.is_user else None
            show_internal = holds_ticket_authority(entry) or in_feedback_group(entry, feedback_group())
    out = []
    for row in rows:
        header = headers.get(row["id"])
        if header is None:
            continue
        out.append(entity(header, messages.get(row["id"]) if query.wants_messages else None, None, row,
                          show_internal=show_internal))
    return out, pager


def unread_count(caller: Caller) -> int:
    """GET /api/me/dashboard: the caller's unread conversations."""
    if caller.is_app:
        return 0
    return feed.count(store.user_feed(caller.id, where=(("read", "eq", False),)))


# -- attachments --------------------------------------------------------------------------------------------


def attachment_download(caller: Caller, conversation_id: str, message_id: str, file_id: str) -> str:
    """GET /{mc}/{msg}/attachments/{file}: where to download it, checked in DHIS2's order."""
    ctx = _context(caller, conversation_id)
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
    from postbox.logic import attachments

    file = attachments.attachment_on_message(message_id, file_id)
    if file is None:
        raise NotFound(f"No messageattachment found with id '{file_id}'")
    return attachments.presigned_download(file)
