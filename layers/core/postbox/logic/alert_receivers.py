"""Aalam alerts' receivers (docs/aalam.md): users by email or phone, groups by id or name, and authorities,
expanded to the active users who follow the app's message group."""

import re

from postbox.dal import alerts as store
from postbox.dal import directory, keys
from postbox.dal.table import Item
from postbox.ids import is_directory_id
from postbox.logic import permissions
from postbox.models.aalam import ReceiverIn

PHONE_RE = re.compile(r"\+?[0-9]{3,20}")
AUTHORITY_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def expand_receivers(receivers: list[ReceiverIn], app_id: str, msg_group: str | None) -> tuple[list[str], list[str]]:
    """(receiving user ids, de-duplicated, in order; values that reached nobody). Users are active directory users
    who did not unfollow the app's message group ("" = its ungrouped alerts)."""
    emails: dict[str, str] = {}      # lookup id -> value as given
    phones: dict[str, str] = {}
    group_values: list[str] = []
    authorities: list[str] = []
    unknown: list[str] = []
    for receiver in receivers:
        for value in receiver.value:
            if receiver.type == "users":
                if "@" in value:
                    emails.setdefault(value.strip().lower(), value)
                elif PHONE_RE.fullmatch(value.strip()):
                    phones.setdefault(value.strip(), value)
                else:
                    unknown.append(value)
            elif receiver.type == "groups":
                group_values.append(value)
            elif AUTHORITY_RE.fullmatch(value):
                authorities.append(value)
            else:
                unknown.append(value)

    group_ids = [g for g in dict.fromkeys(group_values) if is_directory_id(g)]
    found = store.get_many(store.lookup_keys(emails, phones, group_ids)) if emails or phones or group_ids else {}

    def stored(kind: str, entry_id: str) -> Item | None:
        key = keys.directory_key(kind, entry_id)
        return found.get((key["PK"], key["SK"]))

    # (type, value) -> the user ids it reaches (before the active and unfollow filters)
    reached: dict[tuple[str, str], list[str]] = {}
    for kind, values in ((directory.EMAIL, emails), (directory.PHONE, phones)):
        for lookup, value in values.items():
            entry = stored(kind, lookup)
            reached[("users", value)] = [entry["user_id"]] if entry else []
    groups = _resolve_groups(group_values, {g for g in group_ids if stored(directory.GROUP, g)})
    for value, ids in groups.items():
        reached[("groups", value)] = [uid for group_id in ids
                                      for uid in directory.member_ids(directory.GROUP, group_id)]
    for authority in dict.fromkeys(authorities):
        reached[("permissions", authority)] = permissions.authority_receivers(authority)

    candidates = list(dict.fromkeys(uid for ids in reached.values() for uid in ids))
    users = store.get_users(candidates)
    active = {uid for uid, user in users.items() if user.get("active", True)}
    # Unknown: a user or authority that reaches no active user; a group that does not exist (an existing group
    # whose members are all inactive is known, just empty).
    unknown += [value for (kind, value), ids in reached.items()
                if kind != "groups" and not any(uid in active for uid in ids)]
    unknown += [value for value, ids in groups.items() if not ids]
    unfollowed = store.unfollowers(app_id, msg_group or "") if active else set()
    return [uid for uid in candidates if uid in active and uid not in unfollowed], list(dict.fromkeys(unknown))


def _resolve_groups(values: list[str], known_ids: set[str]) -> dict[str, list[str]]:
    """Each group value -> the group ids it names: a group id, else every group with that name."""
    result = {value: [value] if value in known_ids else [] for value in dict.fromkeys(values)}
    by_name = [value for value, ids in result.items() if not ids]
    if by_name:
        named: dict[str, list[str]] = {}
        for group in directory.entries_of_kind(directory.GROUP):
            named.setdefault(group.get("name", ""), []).append(group["id"])
        for value in by_name:
            result[value] = named.get(value, [])
    return result
