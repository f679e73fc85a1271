"""Directory storage: users, groups, org units, targets with effective roles, apps, settings."""

from typing import Any

from postbox.dal import keys, table
from postbox.dal.table import Item, Key

# Directory kinds as stored in keys; "target" entries are keyed by their own type (xform, project, ...).
USER, GROUP, ORG_UNIT, APP, APP_CLIENT, SETTINGS = "user", "group", "orgunit", "app", "appclient", "settings"
EMAIL, PHONE, AUTHORITY, PROJECT = "email", "phone", "authority", "project"
LISTED_KINDS = {"users": USER, "groups": GROUP, "org_units": ORG_UNIT, "targets": "target", "apps": APP}
SETTINGS_ID = "global"


def entry_item(kind: str, entry_id: str, listed_as: str, fields: dict[str, Any]) -> Item:
    """A directory entry item; `listed_as` puts it in the admin listing of that kind."""
    listed_id = entry_id if kind == listed_as else f"{kind}#{entry_id}"
    return {**keys.directory_key(kind, entry_id), **fields, "kind": kind,
            "GSI1PK": keys.directory_kind_feed(listed_as), "GSI1SK": listed_id}


def user_key(user_id: str) -> Key:
    return keys.directory_key(USER, user_id)


def target_key(target_type: str, target_id: str) -> Key:
    """A user target is the directory user itself."""
    return keys.directory_key(target_type, target_id)


def app_client_key(client_id: str) -> Key:
    return keys.directory_key(APP_CLIENT, client_id)


def get_many(entry_keys: list[Key]) -> dict[tuple[str, str], Item]:
    return table.batch_get(entry_keys)


def get_user(user_id: str) -> Item | None:
    return table.get(user_key(user_id))


def get_users(user_ids: list[str]) -> dict[str, Item]:
    found = table.batch_get([user_key(uid) for uid in user_ids])
    return {item["id"]: item for item in found.values()}


def get_settings_entry() -> Item:
    return table.get(keys.directory_key(SETTINGS, SETTINGS_ID)) or {}


def role_rows(target_type: str, target_id: str, *, consistent: bool = False) -> dict[str, str]:
    """Effective role per user id on a target."""
    pk = target_key(target_type, target_id)["PK"]
    rows = table.query_all(table.key_attr("PK").eq(pk) &
                           table.key_attr("SK").begins_with("ROLE#"), projection=["SK", "role"],
                           consistent=consistent)
    return {row["SK"].removeprefix("ROLE#"): row["role"] for row in rows}


def role_item(target_type: str, target_id: str, user_id: str, role: str) -> Item:
    """An effective role row, also indexed by user (the targets a user can view)."""
    return {**keys.role_key(target_type, target_id, user_id), "role": role,
            "GSI4PK": keys.user_roles_feed(user_id), "GSI4SK": f"{target_type}#{target_id}"}


def viewable_targets(user_id: str) -> list[tuple[str, str]]:
    """(type, id) of every target the user holds a role on (every role can view)."""
    rows = table.query_all(table.key_attr("GSI4PK").eq(keys.user_roles_feed(user_id)), index=keys.BY_SOURCE_INDEX)
    return [tuple(row["GSI4SK"].split("#", 1)) for row in rows]


def member_ids(container_kind: str, container_id: str) -> list[str]:
    pk = keys.directory_key(container_kind, container_id)["PK"]
    rows = table.query_all(table.key_attr("PK").eq(pk) & table.key_attr("SK").begins_with("MEMBER#"), projection=["SK"])
    return [row["SK"].removeprefix("MEMBER#") for row in rows]


def project_xform_ids(project_id: str) -> list[str]:
    pk = keys.directory_key(PROJECT, project_id)["PK"]
    rows = table.query_all(table.key_attr("PK").eq(pk) &
                           table.key_attr("SK").begins_with("XFORM#"), projection=["SK"], consistent=True)
    return [row["SK"].removeprefix("XFORM#") for row in rows]


def entries_of_kind(listed_as: str) -> list[Item]:
    """Every entry of one listed kind (paged Queries; admin deletes find what refers to a deleted entry)."""
    return table.query_all(table.key_attr("GSI1PK").eq(keys.directory_kind_feed(listed_as)), index=keys.FEED_INDEX)


def list_kind(listed_as: str, *, limit: int, start_key: Key | None) -> tuple[list[Item], Key | None]:
    pages = table.query_pages(table.key_attr("GSI1PK").eq(keys.directory_kind_feed(listed_as)), index=keys.FEED_INDEX,
                              limit=limit, start_key=start_key)
    items, _, last = next(pages)
    return items, last


def update_user(user_id: str, fields: dict[str, Any]) -> Item | None:
    """Set some fields of an existing user entry (one conditional UpdateItem; the other fields stay as they are).
    Returns the entry as it is now; None when there is no such user."""
    try:
        return table.update_fields(user_key(user_id), fields, condition=table.attr("PK").exists())
    except table.ConditionFailed:
        return None
