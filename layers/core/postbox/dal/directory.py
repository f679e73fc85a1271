"""Directory storage: users, groups, org units, targets with effective roles, apps, settings."""

import re
from typing import Any

from postbox.dal import counters, keys, table, transactions
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


def settings_key() -> Key:
    return keys.directory_key(SETTINGS, SETTINGS_ID)


def get_settings_entry() -> Item:
    return table.get(settings_key()) or {}


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
    rows = table.query_all(table.key_attr("PK").eq(pk) & table.key_attr("SK").begins_with(keys.MEMBER_PREFIX),
                           projection=["SK"])
    return [row["SK"].removeprefix(keys.MEMBER_PREFIX) for row in rows]


def member_page(container_kind: str, container_id: str, *, limit: int,
                start_key: Key | None) -> tuple[list[str], Key | None]:
    """One page of a container's member ids, at most `limit`, and where the next page starts (None: the last)."""
    pk = keys.directory_key(container_kind, container_id)["PK"]
    condition = table.key_attr("PK").eq(pk) & table.key_attr("SK").begins_with(keys.MEMBER_PREFIX)
    rows, _, last = next(table.query_pages(condition, limit=limit, start_key=start_key, projection=["PK", "SK"]))
    return [row["SK"].removeprefix(keys.MEMBER_PREFIX) for row in rows], last


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


# -- name words: the DHIS2 name search (docs/dhis2.md#looking-people-up) ---------------------------------------------
# Each user, group and org unit has one item per word of its name (a user: also of the username), in its own
# partition, indexed on FeedByVerb by the word's first letter; an item carries what a search answers with, so a
# search is one Query and never reads the entries themselves (nor their email, phone or authorities).

WORD_MAX_CHARS = 64
WORDS_PER_ENTRY_MAX = 32


def words_of(*texts: str | None) -> list[str]:
    """The distinct words of some texts, case-folded: runs of letters and digits (DHIS2's token rule)."""
    found: dict[str, None] = {}
    for text in texts:
        for word in re.findall(r"[^\W_]+", (text or "").casefold()):
            found.setdefault(word[:WORD_MAX_CHARS], None)
    return list(found)[:WORDS_PER_ENTRY_MAX]


def word_items(kind: str, entry_id: str, words: list[str], fields: dict[str, Any]) -> list[Item]:
    return [{**keys.word_key(kind, entry_id, word), **fields, "entry_id": entry_id,
             "GSI2PK": keys.word_feed(kind, word), "GSI2SK": f"{word}#{entry_id}"} for word in words]


def word_keys(kind: str, entry_id: str, words: list[str]) -> list[Key]:
    return [keys.word_key(kind, entry_id, word) for word in words]


def search_words(kind: str, prefix: str, *, limit: int) -> list[Item]:
    """Word items of one kind whose word starts with `prefix` (case-folded), in word order, at most `limit`."""
    condition = table.key_attr("GSI2PK").eq(keys.word_feed(kind, prefix)) & table.key_attr("GSI2SK").begins_with(prefix)
    found: list[Item] = []
    for items, _, _ in table.query_pages(condition, index=keys.FEED_BY_VERB_INDEX, limit=limit):
        found += items
        if len(found) >= limit:
            break
    return found[:limit]


def first_entries(listed_as: str, *, limit: int) -> list[Item]:
    """Up to `limit` entries of one kind in id order (a search without words)."""
    found: list[Item] = []
    # Only what a search answers with: never a user's email, phone or authorities.
    for items, _, _ in table.query_pages(table.key_attr("GSI1PK").eq(keys.directory_kind_feed(listed_as)),
                                         index=keys.FEED_INDEX, limit=limit,
                                         projection=["id", "kind", "name", "username", "active", "users"]):
        found += items
        if len(found) >= limit:
            break
    return found[:limit]


# -- member counters: how many members a group, org unit or authority has, without reading them ---------------------
# Each container has a counter item (keys.member_count_key) changed in the same TransactWriteItems as its membership
# rows: a row is put only if absent and deleted only if present, with the counter's ADD, so a counter always equals
# its rows (a change whose row is already as wanted counts nothing), whatever retries or concurrent loads do.

MEMBERSHIPS_PER_TRANSACTION = 40  # plus at most as many counter updates: within a transaction's 100 actions


def member_counts(containers: list[tuple[str, str]], *, consistent: bool = False) -> dict[tuple[str, str], int | None]:
    """(kind, id) -> its member count (one BatchGetItem per 100); None for a container never counted."""
    found = table.batch_get([keys.member_count_key(kind, cid) for kind, cid in containers], consistent=consistent)
    result: dict[tuple[str, str], int | None] = {}
    for kind, cid in containers:
        result[(kind, cid)] = member_count_of(found.get(table.key_pair(keys.member_count_key(kind, cid))))
    return result


def member_count_of(counter: Item | None) -> int | None:
    """The count a member counter item holds; None for a container never counted."""
    return max(0, int(counter.get("members", 0))) if counter else None


def recount_members(container_kind: str, container_id: str) -> int:
    """Set a container's member counter to the number of its membership rows, read with Select=COUNT: maintenance
    only (`postbox directory recount`), never on a request or stream path. Written as the other counters are
    rebuilt (counters.rewrite_versioned): a membership change meanwhile makes it count again."""
    pk = keys.directory_key(container_kind, container_id)["PK"]
    counted: dict[str, int] = {}

    def recomputed(before: Item | None) -> dict[str, int] | None:
        counted["members"] = table.count(table.key_attr("PK").eq(pk) &
                                         table.key_attr("SK").begins_with(keys.MEMBER_PREFIX), consistent=True)
        return None if before is not None and int(before.get("members", 0)) == counted["members"] else counted
    counters.rewrite_versioned(keys.member_count_key(container_kind, container_id), recomputed)
    return counted["members"]


def apply_memberships(added: list[Key], removed: list[Key]) -> None:
    """Put and delete membership rows (keys.member_key) with their containers' counters, in transactions."""
    changes = {table.key_pair(key): (key, True) for key in added}
    changes.update({table.key_pair(key): (key, False) for key in removed if table.key_pair(key) not in changes})
    pending = list(changes.values())
    for start in range(0, len(pending), MEMBERSHIPS_PER_TRANSACTION):
        # A row already as wanted (put of a present row, delete of an absent one) drops out: nothing to count.
        transactions.transact_each(pending[start:start + MEMBERSHIPS_PER_TRANSACTION], _membership_actions,
                                   what="membership writes")


def _membership_actions(chunk: list[tuple[Key, bool]]) -> list[dict[str, Any]]:
    """Each row's conditional put or delete, in the chunk's order, then the ADDs of its containers' counters:
    counted from the rows still to write, so a row that dropped out counts nothing."""
    per_container: dict[tuple[str, str], int] = {}
    actions = []
    for key, add in chunk:
        kind, container_id, _ = keys.member_of(key)
        per_container[(kind, container_id)] = per_container.get((kind, container_id), 0) + (1 if add else -1)
        actions.append(transactions.put_action(dict(key), condition=table.attr("PK").not_exists()) if add
                       else transactions.delete_action(key, condition=table.attr("PK").exists()))
    actions += [transactions.update_action(keys.member_count_key(kind, cid), "ADD members :n, version :one",
                                           values={":n": n, ":one": 1})
                for (kind, cid), n in per_container.items() if n]
    return actions


def names_of_kind(listed_as: str) -> list[Item]:
    """Id, kind, display name and active flag of every entry of one listed kind (the recipient picker's search:
    paged Queries of the kind's index partition that read no other field)."""
    return table.query_all(table.key_attr("GSI1PK").eq(keys.directory_kind_feed(listed_as)), index=keys.FEED_INDEX,
                           projection=["id", "kind", "name", "username", "active"])
