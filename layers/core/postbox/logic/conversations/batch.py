"""What the batch endpoints share: at most MAX_BATCH ids, the conversations loaded in one read, access checked
all-or-nothing, and per-conversation writes in parallel."""

from postbox.auth import Caller
from postbox.dal import conversations as store
from postbox.dal import directory, table
from postbox.dal.gate import parallel_map
from postbox.dal.table import Item
from postbox.errors import BadRequest, Forbidden, NotFound
from postbox.ids import is_directory_id, is_uid
from postbox.logic.conversations.access import plain
from postbox.logic.permissions import (
    ConversationAccess,
    feedback_group,
    holds_ticket_authority,
    in_feedback_group,
    load_actor,
)

PARALLEL_UPDATES = 8


def target_user(caller: Caller, user_id: str | None, not_found: str) -> str:
    target = user_id or caller.id
    if target != caller.id and (not is_directory_id(target) or directory.get_user(target) is None):
        raise NotFound(plain(not_found.format(target)))
    return target


MAX_BATCH = 100   # docs/architecture.md#limits


def check_batch(conversation_ids: list[str]) -> None:
    if len(conversation_ids) > MAX_BATCH:
        raise BadRequest(f"At most {MAX_BATCH} conversation ids per request.")


def loaded(conversation_ids: list[str], not_found: str) -> dict[str, Item]:
    """The known conversations among the ids, in the order asked (unknown ids are skipped; none: 404)."""
    wanted = [cid for cid in dict.fromkeys(conversation_ids) if is_uid(cid)]
    found = store.get_headers(wanted) if wanted else {}
    if not found:
        raise NotFound(plain(not_found))
    return {cid: found[cid] for cid in wanted if cid in found}   # BatchGetItem answers in any order


def check_batch_access(caller: Caller, headers: dict[str, Item], target: str, forbidden: str,
                        on_behalf: str) -> None:
    """All-or-nothing: the caller needs access to every loaded conversation (DHIS2 §3.1), and acting for
    another user needs a superuser (DHIS2 HEAD lets any participant: a hole Postbox closes)."""
    actor = load_actor(caller)
    rows = caller_rows(list(headers), caller.id)
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


def each(conversation_ids: list[str], action) -> list[str]:
    """Run a per-conversation write for each id (in parallel); the ids for which it returned True, in order."""
    if not conversation_ids:
        return []
    done = parallel_map(action, conversation_ids, min(PARALLEL_UPDATES, len(conversation_ids)))
    return [cid for cid, changed in zip(conversation_ids, done, strict=True) if changed]


def caller_rows(conversation_ids: list[str], user_id: str) -> dict[str, Item]:
    found = table.batch_get([store.participant_key(cid, user_id) for cid in conversation_ids], consistent=True)
    return {item["id"]: item for item in found.values()}
