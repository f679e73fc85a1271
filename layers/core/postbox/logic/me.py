"""The caller's own settings (GET/PATCH /api/v1/me/settings): whether new items also come by email or SMS.

They are fields of the caller's directory user entry; a change sets only them (one conditional UpdateItem), the
entry's other fields stay as they are.
"""

from postbox.auth import Caller
from postbox.dal import directory
from postbox.dal.table import Item
from postbox.errors import NO_PERMISSION, Forbidden
from postbox.logic.permissions import require_active_user
from postbox.models.me import UserSettingsIn, UserSettingsOut


def _render(user: Item) -> UserSettingsOut:
    return UserSettingsOut(notify_email=bool(user.get("notify_email")), notify_sms=bool(user.get("notify_sms")),
                           email=user.get("email"), phone=user.get("phone"))


def my_settings(caller: Caller) -> UserSettingsOut:
    """One read: the caller's directory entry."""
    return _render(require_active_user(caller).fields)


def change_my_settings(caller: Caller, change: UserSettingsIn) -> UserSettingsOut:
    """Two requests: the caller's entry (an active user), then one UpdateItem of the given keys."""
    actor = require_active_user(caller)
    fields = {name: getattr(change, name) for name in sorted(change.model_fields_set)}
    if not fields:
        return _render(actor.fields)
    updated = directory.update_user(caller.id, fields)
    if updated is None:  # deleted in between
        raise Forbidden(NO_PERMISSION)
    return _render(updated)
