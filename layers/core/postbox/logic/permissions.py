"""Who may do what (docs/architecture.md#permissions). Every permission rule of Postbox lives in this module.

A check reads the caller's directory entry, the target and the caller's effective role on it in one
BatchGetItem.
"""

from dataclasses import dataclass
from typing import Any

from postbox.auth import Caller
from postbox.dal import directory as store
from postbox.dal import gate, keys
from postbox.dal.table import Item, Key, key_pair
from postbox.errors import NO_PERMISSION, Forbidden
from postbox.ids import is_directory_id

VIEW_ROLES = frozenset({"readonly", "dataentry", "editor", "manager", "owner"})
CHANGE_ROLES = frozenset({"editor", "manager", "owner"})
DELETE_ROLES = {"project": frozenset({"owner"})}
DEFAULT_DELETE_ROLES = frozenset({"manager", "owner"})


@dataclass(frozen=True)
class Actor:
    """The caller with its directory entry: a user item, or an application item (None if unknown)."""

    caller: Caller
    entry: Item | None

    @property
    def known(self) -> bool:
        if self.entry is None:
            return False
        return self.caller.is_app or bool(self.entry.get("active", True))

    @property
    def fields(self) -> Item:
        """The directory entry's fields; none for an unknown caller."""
        return self.entry or {}

    @property
    def is_user(self) -> bool:
        return self.known and not self.caller.is_app

    @property
    def superuser(self) -> bool:
        return self.is_user and bool(self.fields.get("superuser"))

    def has_authority(self, *authorities: str) -> bool:
        held = set(self.fields.get("authorities", [])) if self.is_user else set()
        return bool(held & {"ALL", *authorities}) or self.superuser

    @property
    def display_name(self) -> str:
        """What Ona shows as the sender: a username, or the application's client_id."""
        if self.caller.is_app:
            return self.caller.id
        return (self.entry or {}).get("username", self.caller.id)

    @property
    def real_name(self) -> str:
        return "" if self.caller.is_app else (self.entry or {}).get("name", "")


@dataclass(frozen=True)
class TargetAccess:
    actor: Actor
    target_type: str
    target_id: str
    target: Item | None   # the target's directory entry; None if it does not exist
    role: str | None      # the caller's effective role on a non-user target

    @property
    def exists(self) -> bool:
        if self.target is None:
            return False
        return self.target_type != "user" or bool(self.target.get("active", True))

    @property
    def name(self) -> str:
        if self.target is None:
            return self.target_id
        if self.target_type == "user":
            return self.target.get("username", self.target_id)
        return self.target.get("name") or self.target_id

    @property
    def title(self) -> str:
        """A human name for the target: a user's full name, a form's or project's name."""
        if self.target is None:
            return ""
        return self.target.get("name") or ""

    def _is_target_user(self) -> bool:
        return self.actor.is_user and self.target_type == "user" and self.actor.caller.id == self.target_id

    def can_post(self, verb: str) -> bool:
        """Ona `message` needs change on the target; other verbs are system events, for applications only."""
        if not self.exists or not self.actor.known:
            return False
        if self.actor.caller.is_app:
            return True
        if verb != "message":
            return False
        if self.target_type == "user":
            return True  # any active user may message a user (and Ona's auth.change_user is never granted)
        return self.actor.superuser or self.role in CHANGE_ROLES

    def can_list(self) -> bool:
        if self.actor.superuser:
            return True
        if not self.exists:
            return False
        if self.target_type == "user":
            return self._is_target_user()
        return self.actor.is_user and self.role in VIEW_ROLES

    def can_view(self) -> bool:
        """Read one message. A user target's messages are that user's alone, even for a superuser."""
        if not self.exists or not self.actor.is_user:
            return False
        if self.target_type == "user":
            return self._is_target_user()
        return self.actor.superuser or self.role in VIEW_ROLES

    def can_delete(self) -> bool:
        if not self.exists or not self.actor.is_user:
            return False
        if self.target_type == "user":
            return self._is_target_user()
        return self.actor.superuser or self.role in DELETE_ROLES.get(self.target_type, DEFAULT_DELETE_ROLES)


def caller_key(caller: Caller) -> Key:
    return store.app_client_key(caller.id) if caller.is_app else store.user_key(caller.id)


INACTIVE_USER = "This user account is inactive."


def lock_out_inactive(caller: Caller) -> None:
    """A user with `active: false` is refused on every route (403 in the face's shape), checked once where the
    caller is resolved: the request's gate (postbox.dal.gate) holds the caller's directory entry, read with the
    permission check's BatchGetItem or, on a route without one, on its own before the first write or the answer.
    An unknown user is left to each route's own rules (an application has no `active` flag)."""
    if caller.is_app:
        return

    def check(entry: Item | None) -> None:
        if entry is not None and not entry.get("active", True):
            raise Forbidden(INACTIVE_USER)

    gate.set_gate(caller_key(caller), check)


def load_actor(caller: Caller) -> Actor:
    found = store.get_many([caller_key(caller)])
    return Actor(caller, next(iter(found.values()), None))


def require_superuser(caller: Caller) -> Actor:
    actor = load_actor(caller)
    if not actor.superuser:
        raise Forbidden(NO_PERMISSION)
    return actor


APPS_HAVE_NO_SETTINGS = "Applications have no user settings."


def require_active_user(caller: Caller) -> Actor:
    """A person acting on their own settings (GET/PATCH /api/v1/me/settings): an active directory user."""
    if caller.is_app:
        raise Forbidden(APPS_HAVE_NO_SETTINGS)
    actor = load_actor(caller)
    if not actor.is_user:
        raise Forbidden(NO_PERMISSION)
    return actor


def require_known_caller(caller: Caller) -> Actor:
    """Looking people up (docs/dhis2.md#looking-people-up): an active directory user or a known application."""
    actor = load_actor(caller)
    if not actor.known:
        raise Forbidden(NO_PERMISSION)
    return actor


def load_target_access(caller: Caller, target_type: str, target_id: str) -> TargetAccess:
    """One BatchGetItem: the caller's entry, the target, and the caller's effective role on it."""
    wanted = [caller_key(caller)]
    valid_id = is_directory_id(target_id)
    if valid_id:
        wanted.append(store.target_key(target_type, target_id))
        if target_type != "user" and not caller.is_app:
            wanted.append(keys.role_key(target_type, target_id, caller.id))
    found = store.get_many(wanted)

    def pick(key: Key) -> Any:
        return found.get((key["PK"], key["SK"]))

    actor = Actor(caller, pick(caller_key(caller)))
    target = pick(store.target_key(target_type, target_id)) if valid_id else None
    role_item = pick(keys.role_key(target_type, target_id, caller.id)) if valid_id and target_type != "user" else None
    return TargetAccess(actor, target_type, target_id, target, role_item["role"] if role_item else None)


def writable_targets(actor: Actor) -> list[Item]:
    """The non-user targets an active user may write a message to (Ona's change on the target, as `can_post`):
    every target for a superuser, else those where the user's effective role is a change role (the user's role
    rows, then one BatchGetItem of the roles and the targets)."""
    if not actor.is_user:
        return []
    if actor.superuser:
        return store.names_of_kind("target")
    held = store.viewable_targets(actor.caller.id)
    found = store.get_many([key for t_type, t_id in held
                            for key in (keys.role_key(t_type, t_id, actor.caller.id), store.target_key(t_type, t_id))])
    writable = []
    for t_type, t_id in held:
        role = found.get(key_pair(keys.role_key(t_type, t_id, actor.caller.id)))
        target = found.get(key_pair(store.target_key(t_type, t_id)))
        if role and target and role.get("role") in CHANGE_ROLES:
            writable.append(target)
    return writable


def target_viewers(target_type: str, target_id: str) -> list[str]:
    """Users who receive a target's messages in their inbox: the user itself, or everyone with a role."""
    if target_type == "user":
        return [target_id]
    return sorted(uid for uid, role in store.role_rows(target_type, target_id).items() if role in VIEW_ROLES)


# -- attachments (docs/attachments.md) -----------------------------------------------------------------------------


def is_uploader(caller: Caller, attachment: Item) -> bool:
    """Only the uploader may link an attachment, or read it while it is pending."""
    return attachment.get("uploader_kind") == caller.kind and attachment.get("uploader_id") == caller.id


def may_read_attachment(caller: Caller, attachment: Item) -> bool:
    """Download: whoever may read the message holding a linked attachment (Ona: view on its target; a DHIS2
    conversation: a participant or a superuser, and for an internal note a ticket manager), and the uploader (a
    known, active caller) their own upload, pending or linked; nobody else. One BatchGetItem."""
    uploader = is_uploader(caller, attachment)
    linked = attachment.get("state") == "linked"
    if linked and attachment.get("holder") == "message":
        access = load_target_access(caller, attachment["target_type"], attachment["target_id"])
        return access.can_view() or (uploader and access.actor.known)
    if linked and attachment.get("holder") == "conversation" and not caller.is_app:
        row_key = keys.inbox_key(caller.id, attachment["conversation_id"])
        found = store.get_many([caller_key(caller), row_key])
        actor = Actor(caller, found.get((store.user_key(caller.id)["PK"], keys.DIR_SK)))
        allowed = actor.is_user and ((row_key["PK"], row_key["SK"]) in found or actor.superuser)
        if allowed and attachment.get("internal"):
            allowed = is_ticket_manager(actor.entry, feedback_group())
        return allowed or (uploader and actor.known)
    return uploader and load_actor(caller).known


# -- DHIS2 conversations (docs/dhis2.md) ---------------------------------------------------------------------

TICKET_AUTHORITIES = ("F_MANAGE_TICKETS",)
HARD_DELETE_AUTHORITIES = ("F_METADATA_IMPORT",)


def feedback_group() -> str | None:
    """The directory's feedback recipients group (None: not configured)."""
    return store.get_settings_entry().get("feedback_recipients_group")


def feedback_members() -> set[str]:
    """Current members of the directory's feedback recipients group (none configured: nobody)."""
    group = feedback_group()
    return set(store.member_ids(store.GROUP, group)) if group else set()


def holds_ticket_authority(user: Item | None) -> bool:
    """F_MANAGE_TICKETS, ALL or a superuser: a ticket manager without looking at the feedback group."""
    if not user or not user.get("active", True):
        return False
    return bool(user.get("superuser")) or bool(set(user.get("authorities", [])) & {"ALL", *TICKET_AUTHORITIES})


def in_feedback_group(user: Item | None, group: str | None) -> bool:
    """Membership as the user's directory entry records it (users[].groups)."""
    return bool(user and group and group in user.get("groups", []))


def is_ticket_manager(user: Item | None, group: str | None) -> bool:
    """Who may see and write internal notes (docs/dhis2.md): F_MANAGE_TICKETS, ALL, a superuser, or a member of
    the feedback group `group`."""
    if not user or not user.get("active", True):
        return False
    return holds_ticket_authority(user) or in_feedback_group(user, group)


def ticket_manager_keys(caller: Caller) -> list[Key]:
    """What deciding whether the caller manages tickets reads (the caller and the directory settings), to ride
    along a request's BatchGetItem."""
    return [caller_key(caller), store.settings_key()]


def manages_tickets_in(caller: Caller, found: dict[tuple[str, str], Item]) -> bool:
    """is_ticket_manager from the items ticket_manager_keys read."""
    if caller.is_app:
        return False
    settings = found.get(key_pair(store.settings_key())) or {}
    return is_ticket_manager(found.get(key_pair(caller_key(caller))), settings.get("feedback_recipients_group"))


@dataclass(frozen=True)
class ConversationAccess:
    actor: Actor
    header: Item | None       # None: no such conversation
    row: Item | None          # the caller's participant row; None: not a participant

    @property
    def exists(self) -> bool:
        return self.header is not None

    @property
    def participant(self) -> bool:
        return self.row is not None

    def can_read(self) -> bool:
        """GET one and attachment download: a participant or a superuser."""
        return self.exists and self.actor.is_user and (self.participant or self.actor.superuser)

    def can_act(self, manages_tickets: bool) -> bool:
        """Reply, recipients, status, priority, assignment, read state, removal, hard delete: a participant,
        a superuser, or a ticket manager on a TICKET."""
        if not self.exists or not self.actor.is_user:
            return False
        ticket = (self.header or {}).get("messageType") == "TICKET"
        return self.participant or self.actor.superuser or (ticket and manages_tickets)

    def may_act_for(self, user_id: str) -> bool:
        """Changing another user's read, follow-up or participation needs a superuser (DHIS2 lets any
        participant do it — a hole Postbox closes)."""
        return user_id == self.actor.caller.id or self.actor.superuser


def can_hard_delete(actor: Actor) -> bool:
    return actor.has_authority(*HARD_DELETE_AUTHORITIES)


# -- Aalam alerts (docs/aalam.md) -------------------------------------------------------------------------------

ALERTS_FROM_APPS_ONLY = "Only applications may send or edit alerts."
UNKNOWN_APP = "Unknown application."


def require_app(caller: Caller) -> Actor:
    """An application token whose client_id is a directory app (sending and editing alerts, its secret)."""
    if not caller.is_app:
        raise Forbidden(ALERTS_FROM_APPS_ONLY)
    actor = load_actor(caller)
    if not actor.known:
        raise Forbidden(UNKNOWN_APP)
    return actor


def can_send_as(actor: Actor, app_id: str) -> bool:
    """An app sends alerts only as itself: `app` must be its own provider_code/app_code."""
    return actor.known and actor.caller.is_app and actor.fields.get("app_id") == app_id


def can_edit_alert(actor: Actor, alert: Item) -> bool:
    """Only the sending app edits an alert (by app id, which outlives a change of client id)."""
    return can_send_as(actor, alert.get("app_id", ""))


def authority_receivers(authority: str) -> list[str]:
    """Who a `permissions` receiver reaches: users granted the authority and, when anyone is, users granted ALL
    (which holds every authority). An authority nobody is granted reaches nobody (the sender learns it is
    unknown; a misspelt one does not page every ALL holder). The superuser flag is a pass for access checks,
    not a grant: it does not subscribe a superuser to every permission-addressed alert."""
    holders = store.member_ids(store.AUTHORITY, authority)
    if holders and authority != "ALL":
        holders += store.member_ids(store.AUTHORITY, "ALL")
    return list(dict.fromkeys(holders))
