"""Recipients: users, user groups and org units expanded to active users in DHIS2's error order, and
participants added to a conversation."""

from postbox.auth import Caller
from postbox.dal import conversations as store
from postbox.dal import directory
from postbox.dal.conversations import Visible
from postbox.dal.table import Item
from postbox.errors import Conflict, Forbidden, NotFound
from postbox.ids import is_directory_id
from postbox.logic.conversations.access import load_context
from postbox.logic.conversations.writing import display_name, search_text
from postbox.models.dhis2 import Recipients
from postbox.settings import LimitsSettings


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


def add_recipients(caller: Caller, conversation_id: str, recipients: Recipients) -> None:
    """204; new participants get an unread row (existing ones are untouched)."""
    ctx = load_context(caller, conversation_id)
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
    search = search_text(header["subject"], *(part for m in public for part in (m["text"], m.get("senderName"))))
    preview = LimitsSettings.get().INBOX_PREVIEW_CHARS
    rows = [store.participant_item(header, uid, read=False, follow_up=False, archived=False, visible=newest,
                                   search=search, preview_chars=preview) | {"userName": display_name(user)}
            for uid, user in users.items() if uid not in current]
    store.write(rows)
