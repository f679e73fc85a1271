"""The caller and the conversation they act on, read together (one BatchGetItem), and what they may do."""

from dataclasses import dataclass, field

from postbox.auth import Caller
from postbox.dal import conversations as store
from postbox.dal.directory import settings_key
from postbox.dal.table import Item, key_pair
from postbox.ids import is_uid
from postbox.logic.permissions import (
    Actor,
    ConversationAccess,
    caller_key,
    feedback_group,
    holds_ticket_authority,
    in_feedback_group,
    load_actor,
    ticket_manager_keys,
)


def plain(message: str) -> dict[str, str]:
    """DHIS2's "plain object" error body (no httpStatus/status keys)."""
    return {"message": message}


@dataclass
class Context:
    """The caller, the conversation header and the caller's participant row: one BatchGetItem."""

    access: ConversationAccess
    _group: tuple[str | None] | None = field(default=None, repr=False)

    @property
    def actor(self) -> Actor:
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


def load_context(caller: Caller, conversation_id: str) -> Context:
    if not is_uid(conversation_id):
        return Context(ConversationAccess(load_actor(caller), None, None))
    # The directory settings ride along, so whether the caller manages tickets (which internal notes and which
    # summary they see) costs no request of its own.
    found = store.load_for(conversation_id, caller.id, *ticket_manager_keys(caller))
    header = found.get(key_pair(store.header_key(conversation_id)))
    row = found.get(key_pair(store.participant_key(conversation_id, caller.id))) if not caller.is_app else None
    entry = found.get(key_pair(caller_key(caller)))
    settings = found.get(key_pair(settings_key())) or {}
    return Context(ConversationAccess(Actor(caller, entry), header, row),
                   (settings.get("feedback_recipients_group"),))
