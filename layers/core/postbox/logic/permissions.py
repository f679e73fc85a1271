"""Who may do what (DESIGN §2). Every permission rule of Postbox lives in this module.

A check reads the caller's directory entry, the target and the caller's effective role on it in one
BatchGetItem.
"""

from dataclasses import dataclass
from typing import Any

from postbox.auth import Caller
from postbox.dal import directory as store
from postbox.dal import keys
from postbox.dal.table import Item, Key
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
    def is_user(self) -> bool:
        return self.known and not self.caller.is_app

    @property
    def superuser(self) -> bool:
        return self.is_user and bool(self.entry.get("superuser"))

    def has_authority(self, *authorities: str) -> bool:
        held = set(self.entry.get("authorities", [])) if self.is_user else set()
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


def load_actor(caller: Caller) -> Actor:
    found = store.get_many([caller_key(caller)])
    return Actor(caller, next(iter(found.values()), None))


def require_superuser(caller: Caller) -> Actor:
    from postbox.errors import NO_PERMISSION, Forbidden

    actor = load_actor(caller)
    if not actor.superuser:
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


def target_viewers(target_type: str, target_id: str) -> list[str]:
    """Users who receive a target's messages in their inbox: the user itself, or everyone with a role."""
    if target_type == "user":
        return [target_id]
    return sorted(uid for uid, role in store.role_rows(target_type, target_id).items() if role in VIEW_ROLES)
