"""Directory writes: idempotent upsert of a directory document, deletion, effective roles computed on write."""

import contextlib
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from postbox.dal import directory as store
from postbox.dal import keys, table
from postbox.dal.table import Item, Key
from postbox.errors import BadRequest
from postbox.models.directory import (
    DirectoryApp,
    DirectoryDeletion,
    DirectoryDocument,
    DirectoryUser,
    DirectoryWriteSummary,
)
from postbox.validation import describe_errors

ROLE_RANK = {"readonly": 0, "dataentry": 1, "editor": 2, "manager": 3, "owner": 4}


class DirectoryError(BadRequest):
    """The document is not valid; `errors` lists every problem, each naming where it is."""

    def __init__(self, errors: list[str]):
        super().__init__({"detail": "Invalid directory document.", "errors": errors})
        self.errors = errors


def parse_document(data: Any) -> DirectoryDocument:
    try:
        return DirectoryDocument.model_validate(data)
    except ValidationError as error:
        raise DirectoryError(describe_errors(error.errors())) from None


def merged_roles(*acls: Mapping[str, str]) -> dict[str, str]:
    """The higher role wins (an xform's own ACL merged with its project's)."""
    merged: dict[str, str] = {}
    for acl in acls:
        for user_id, role in acl.items():
            if user_id not in merged or ROLE_RANK[role] > ROLE_RANK[merged[user_id]]:
                merged[user_id] = role
    return merged


def upsert(document: DirectoryDocument) -> DirectoryWriteSummary:
    """Write every entry of the document, replacing stored entries with the same id."""
    _check_unique(document)
    stored = _read_existing(document)
    _check_references(document, stored)

    puts: list[Item] = []
    deletes: list[Key] = []
    if document.settings is not None:
        puts.append(store.entry_item(store.SETTINGS, store.SETTINGS_ID, store.SETTINGS,
                                     document.settings.model_dump()))
    for group in document.groups:
        puts.append(store.entry_item(store.GROUP, group.id, store.GROUP, group.model_dump()))
        old = stored.get(table.key_pair(keys.directory_key(store.GROUP, group.id)))
        _word_changes(store.GROUP, group.id, {"name": group.name}, old, puts, deletes)
    for unit in document.org_units:
        puts.append(store.entry_item(store.ORG_UNIT, unit.id, store.ORG_UNIT, unit.model_dump()))
        old = stored.get(table.key_pair(keys.directory_key(store.ORG_UNIT, unit.id)))
        _word_changes(store.ORG_UNIT, unit.id, None, old, puts, deletes)  # rewritten below, with its user count
    units_to_recount = {unit.id for unit in document.org_units}
    for user in document.users:
        old = stored.get((store.user_key(user.id)["PK"], keys.DIR_SK))
        puts.append(store.entry_item(store.USER, user.id, store.USER, user.model_dump()))
        _user_index_changes(user, old, puts, deletes)
        _word_changes(store.USER, user.id, {"username": user.username, "name": user.name, "active": user.active},
                      old, puts, deletes)
        units_to_recount |= set(user.org_units) ^ set((old or {}).get("org_units", []))
    for app in document.apps:
        old = stored.get(table.key_pair(keys.directory_key(store.APP, app.app_id)))
        puts.extend(_app_items(app, old))
        if old and old["client_id"] != app.client_id:
            deletes.append(store.app_client_key(old["client_id"]))

    targets = sorted(document.targets, key=lambda t: t.type != "project")  # projects first: xforms read them
    for target in targets:
        old = stored.get(table.key_pair(store.target_key(target.type, target.id)))
        puts.append(store.entry_item(target.type, target.id, "target", target.model_dump()))
        if target.type == "xform":
            old_project = old.get("project") if old else None
            if old_project and old_project != target.project:
                deletes.append(keys.project_xform_key(old_project, target.id))
            if target.project:
                puts.append({**keys.project_xform_key(target.project, target.id)})
    _batch_write(puts, deletes)

    _recount_org_units(units_to_recount)
    _recompute_roles(document, stored)
    return DirectoryWriteSummary(users=len(document.users), groups=len(document.groups),
                                 org_units=len(document.org_units), targets=len(document.targets),
                                 apps=len(document.apps), settings=int(document.settings is not None))


def delete(deletion: DirectoryDeletion) -> DirectoryWriteSummary:
    """Remove entries and everything derived from them; references to them are removed too."""
    deletes: list[Key] = []
    units_to_recount: set[str] = set()
    for user_id in deletion.users:
        old = store.get_user(user_id)
        if old:
            deletes.append(store.user_key(user_id))
            _user_index_changes(None, old, [], deletes)
            _word_changes(store.USER, user_id, None, old, [], deletes)
            units_to_recount |= set(old.get("org_units", []))
    containers = ((store.GROUP, deletion.groups, "groups"), (store.ORG_UNIT, deletion.org_units, "org_units"))
    for kind, ids, field in containers:
        for container_id in ids:
            deletes += [keys.directory_key(kind, container_id), keys.member_count_key(kind, container_id)]
            _word_changes(kind, container_id, None, table.get(keys.directory_key(kind, container_id)), [], deletes)
            for member in store.member_ids(kind, container_id):
                deletes.append(keys.member_key(kind, container_id, member))
                if member not in deletion.users:
                    _remove_from_user(member, field, container_id)
    if deletion.groups and store.get_settings_entry().get("feedback_recipients_group") in deletion.groups:
        table.update(keys.directory_key(store.SETTINGS, store.SETTINGS_ID), "REMOVE #g",
                     names={"#g": "feedback_recipients_group"})
    projects_to_recompute: set[str] = set()
    for ref in deletion.targets:
        deletes.append(store.target_key(ref.type, ref.id))
        deletes.extend(keys.role_key(ref.type, ref.id, uid) for uid in store.role_rows(ref.type, ref.id))
        old = table.get(store.target_key(ref.type, ref.id)) or {}
        if ref.type == "xform" and old.get("project"):
            deletes.append(keys.project_xform_key(old["project"], ref.id))
        if ref.type == "project":
            projects_to_recompute.add(ref.id)
    for app_ref in deletion.apps:
        old = table.get(keys.directory_key(store.APP, f"{app_ref.provider_code}/{app_ref.app_code}"))
        if old:
            deletes += [keys.directory_key(store.APP, old["app_id"]), store.app_client_key(old["client_id"])]
    _batch_write((), deletes)
    _recount_org_units(units_to_recount - set(deletion.org_units))
    for project_id in projects_to_recompute:
        for xform_id in store.project_xform_ids(project_id):
            table.delete(keys.project_xform_key(project_id, xform_id))
            xform = table.get(store.target_key("xform", xform_id), consistent=True)
            if xform:
                table.update(store.target_key("xform", xform_id), "REMOVE #p", names={"#p": "project"})
                _write_roles("xform", xform_id, xform.get("acl", {}))
    if deletion.org_units:
        _drop_parent(set(deletion.org_units))
    if deletion.users:
        _drop_from_acls(set(deletion.users), {(ref.type, ref.id) for ref in deletion.targets})
    return DirectoryWriteSummary(users=len(deletion.users), groups=len(deletion.groups),
                                 org_units=len(deletion.org_units), targets=len(deletion.targets),
                                 apps=len(deletion.apps))


def recount_members() -> int:
    """Maintenance for a directory written before member counters existed (docs/aalam.md#large-alerts): every
    group's, org unit's and authority's counter set from its membership rows, and the org units' user counts.
    Run it while nothing else writes the directory. Returns how many containers were counted."""
    users = store.entries_of_kind(store.USER)
    containers = [(store.GROUP, group["id"]) for group in store.entries_of_kind(store.GROUP)]
    units = [unit["id"] for unit in store.entries_of_kind(store.ORG_UNIT)]
    containers += [(store.ORG_UNIT, unit_id) for unit_id in units]
    containers += [(store.AUTHORITY, authority)
                   for authority in sorted({a for user in users for a in user.get("authorities") or []})]
    for kind, container_id in containers:
        store.recount_members(kind, container_id)
    _recount_org_units(units)
    return len(containers)


def _drop_parent(unit_ids: set[str]) -> None:
    """Children of deleted org units become top-level units (no dangling `parent`)."""
    for unit in store.entries_of_kind(store.ORG_UNIT):
        if unit.get("parent") in unit_ids and unit["id"] not in unit_ids:
            with contextlib.suppress(table.ConditionFailed):
                table.update(keys.directory_key(store.ORG_UNIT, unit["id"]), "REMOVE #p", names={"#p": "parent"},
                             condition=table.attr("PK").exists())


def _drop_from_acls(user_ids: set[str], deleted: set[tuple[str, str]]) -> None:
    """A deleted user's roles go with them (a user created later with the same id must not inherit them):
    out of every acl, and the effective roles of the targets concerned recomputed."""
    targets = {(t["type"], t["id"]): t for t in store.entries_of_kind("target") if (t["type"], t["id"]) not in deleted}
    changed: set[tuple[str, str]] = set()
    for ref, target in targets.items():
        if user_ids & target.get("acl", {}).keys():
            target["acl"] = {uid: role for uid, role in target["acl"].items() if uid not in user_ids}
            with contextlib.suppress(table.ConditionFailed):
                table.update(store.target_key(*ref), "SET #a = :acl", names={"#a": "acl"},
                             values={":acl": target["acl"]}, condition=table.attr("PK").exists())
            changed.add(ref)
    changed_projects = {target_id for kind, target_id in changed if kind == "project"}
    for ref, target in targets.items():
        in_changed_project = ref[0] == "xform" and target.get("project") in changed_projects
        if ref not in changed and not in_changed_project:
            continue
        project = targets.get(("project", target.get("project") or "")) if ref[0] == "xform" else None
        _write_roles(*ref, merged_roles(target.get("acl", {}), (project or {}).get("acl", {})))


def _batch_write(puts: Iterable[Item], deletes: Iterable[Key]) -> None:
    """BatchWriteItem refuses a request naming one key twice: one write per key, and a put wins over a delete
    (a lookup that moves between two users of one document, a member of a group deleted with the group)."""
    unique_puts = {(item["PK"], item["SK"]): item for item in puts}
    unique_deletes = {(key["PK"], key["SK"]): key for key in deletes if (key["PK"], key["SK"]) not in unique_puts}
    # Membership rows go with their containers' member counters (transactions), before the rest: a deleted
    # container's counter is deleted after its members.
    store.apply_memberships([table.key_of(item) for item in unique_puts.values() if keys.is_member_key(item)],
                            [key for key in unique_deletes.values() if keys.is_member_key(key)])
    table.batch_write([item for item in unique_puts.values() if not keys.is_member_key(item)],
                      [key for key in unique_deletes.values() if not keys.is_member_key(key)])


def _remove_from_user(user_id: str, field: str, container_id: str) -> None:
    """Drop a deleted group or org unit from a user's list (never creating a user that is not there)."""
    user = store.get_user(user_id)
    if user is None:
        return
    with contextlib.suppress(table.ConditionFailed):  # deleted meanwhile
        table.update(store.user_key(user_id), "SET #f = :remaining", names={"#f": field},
                     values={":remaining": [c for c in user.get(field, []) if c != container_id]},
                     condition=table.attr("PK").exists())


def _check_unique(document: DirectoryDocument) -> None:
    errors = []
    for kind, ids in (("users", [u.id for u in document.users]), ("groups", [g.id for g in document.groups]),
                      ("org_units", [o.id for o in document.org_units]),
                      ("targets", [f"{t.type}/{t.id}" for t in document.targets]),
                      ("apps", [a.app_id for a in document.apps]),
                      ("apps client_id", [a.client_id for a in document.apps]),
                      ("users email", [u.email.lower() for u in document.users if u.email]),
                      ("users phone", [u.phone for u in document.users if u.phone])):
        seen: set[str] = set()
        for value in ids:
            if value in seen:
                errors.append(f"{kind}: {value!r} appears more than once")
            seen.add(value)
    if errors:
        raise DirectoryError(errors)


def _read_existing(document: DirectoryDocument) -> dict[tuple[str, str], Item]:
    """Stored entries the document replaces or refers to, in as few BatchGetItem calls as possible."""
    wanted: list[Key] = [store.user_key(u.id) for u in document.users]
    wanted += [keys.directory_key(store.GROUP, g) for u in document.users for g in u.groups]
    wanted += [keys.directory_key(store.ORG_UNIT, o) for u in document.users for o in u.org_units]
    wanted += [keys.directory_key(store.ORG_UNIT, o.parent) for o in document.org_units if o.parent]
    wanted += [keys.directory_key(store.GROUP, g.id) for g in document.groups]
    wanted += [keys.directory_key(store.ORG_UNIT, o.id) for o in document.org_units]
    wanted += [store.target_key(t.type, t.id) for t in document.targets]
    wanted += [store.target_key("project", t.project) for t in document.targets if t.project]
    wanted += [store.user_key(uid) for t in document.targets for uid in t.acl]
    wanted += [keys.directory_key(store.APP, a.app_id) for a in document.apps]
    wanted += [store.app_client_key(a.client_id) for a in document.apps]
    wanted += [keys.directory_key(store.EMAIL, u.email.lower()) for u in document.users if u.email]
    wanted += [keys.directory_key(store.PHONE, u.phone) for u in document.users if u.phone]
    if document.settings and document.settings.feedback_recipients_group:
        wanted.append(keys.directory_key(store.GROUP, document.settings.feedback_recipients_group))
    return table.batch_get(wanted, consistent=True)


def _check_references(document: DirectoryDocument, stored: dict[tuple[str, str], Item]) -> None:
    def exists(key: Key, in_document: Iterable[str], entry_id: str) -> bool:
        return entry_id in set(in_document) or (key["PK"], key["SK"]) in stored

    group_ids = [g.id for g in document.groups]
    unit_ids = [o.id for o in document.org_units]
    user_ids = [u.id for u in document.users]
    project_ids = [t.id for t in document.targets if t.type == "project"]
    errors = []
    for i, user in enumerate(document.users):
        errors += [f"users[{i}].groups: unknown group {g!r}" for g in user.groups
                   if not exists(keys.directory_key(store.GROUP, g), group_ids, g)]
        errors += [f"users[{i}].org_units: unknown org unit {o!r}" for o in user.org_units
                   if not exists(keys.directory_key(store.ORG_UNIT, o), unit_ids, o)]
        for kind, value in ((store.EMAIL, user.email.lower() if user.email else None), (store.PHONE, user.phone)):
            owner = stored.get((keys.directory_key(kind, value)["PK"], keys.DIR_SK)) if value else None
            if owner and owner["user_id"] != user.id and owner["user_id"] not in user_ids:
                errors.append(f"users[{i}].{kind}: {value!r} already belongs to user {owner['user_id']!r}")
    for i, unit in enumerate(document.org_units):
        if unit.parent and not exists(keys.directory_key(store.ORG_UNIT, unit.parent), unit_ids, unit.parent):
            errors.append(f"org_units[{i}].parent: unknown org unit {unit.parent!r}")
    for i, target in enumerate(document.targets):
        if target.project and not exists(store.target_key("project", target.project), project_ids, target.project):
            errors.append(f"targets[{i}].project: unknown project {target.project!r}")
        errors += [f"targets[{i}].acl: unknown user {uid!r}" for uid in target.acl
                   if not exists(store.user_key(uid), user_ids, uid)]
    for i, app in enumerate(document.apps):
        owner = stored.get((store.app_client_key(app.client_id)["PK"], keys.DIR_SK))
        if owner and owner["app_id"] != app.app_id:
            errors.append(f"apps[{i}].client_id: {app.client_id!r} already belongs to app {owner['app_id']!r}")
    group = document.settings.feedback_recipients_group if document.settings else None
    if group and not exists(keys.directory_key(store.GROUP, group), group_ids, group):
        errors.append(f"settings.feedback_recipients_group: unknown group {group!r}")
    if errors:
        raise DirectoryError(errors)


def _user_index_changes(user: DirectoryUser | None, old: Item | None, puts: list[Item], deletes: list[Key]) -> None:
    """Membership rows and email/phone lookups follow the user entry."""
    user_id = user.id if user else (old or {})["id"]
    memberships = {(store.GROUP, "groups"), (store.ORG_UNIT, "org_units"), (store.AUTHORITY, "authorities")}
    for kind, field in memberships:
        now = set(getattr(user, field)) if user else set()
        before = set(old.get(field, [])) if old else set()
        puts += [keys.member_key(kind, container, user_id) for container in sorted(now - before)]
        deletes += [keys.member_key(kind, container, user_id) for container in sorted(before - now)]
    for kind, address, old_address in ((store.EMAIL, user.email.lower() if user and user.email else None,
                                        (old.get("email") or "").lower() or None if old else None),
                                       (store.PHONE, user.phone if user else None, old.get("phone") if old else None)):
        if old_address and old_address != address:
            deletes.append(keys.directory_key(kind, old_address))
        if address:
            puts.append({**keys.directory_key(kind, address), "user_id": user_id})


def _word_changes(kind: str, entry_id: str, fields: dict[str, Any] | None, old: Item | None, puts: list[Item],
                  deletes: list[Key]) -> None:
    """The name-word items of an entry (docs/dhis2.md#looking-people-up) follow its name: every word of the new
    name is (re)written with `fields`, words only the old name had are removed. `fields` None: none are written."""
    new_words = store.words_of(fields.get("name"), fields.get("username")) if fields is not None else []
    old_words = store.words_of(old.get("name"), old.get("username")) if old else []
    if fields is not None:
        puts += store.word_items(kind, entry_id, new_words, fields)
    deletes += store.word_keys(kind, entry_id, [word for word in old_words if word not in new_words])


def _recount_org_units(unit_ids: Iterable[str]) -> None:
    """An org unit's entry and word items carry how many users are assigned to it (DHIS2's `users:gte:1` filter),
    counted when the directory is written, never on a request."""
    unit_ids = sorted(unit_ids)
    if not unit_ids:
        return
    units = table.batch_get([keys.directory_key(store.ORG_UNIT, u) for u in unit_ids], consistent=True)
    counts = store.member_counts([(store.ORG_UNIT, unit["id"]) for unit in units.values()], consistent=True)
    puts: list[Item] = []
    for unit in units.values():
        fields = {"name": unit["name"], "users": counts[(store.ORG_UNIT, unit["id"])] or 0}
        puts.append({**unit, "users": fields["users"]})
        puts += store.word_items(store.ORG_UNIT, unit["id"], store.words_of(unit["name"]), fields)
    _batch_write(puts, ())


def _app_items(app: DirectoryApp, old: Item | None) -> list[Item]:
    # The callback signing secret is generated once and survives later upserts of the app.
    fields = {**app.model_dump(), "app_id": app.app_id,
              "secret": old["secret"] if old and old.get("secret") else secrets.token_urlsafe(32)}
    return [store.entry_item(store.APP, app.app_id, store.APP, fields),
            {**store.app_client_key(app.client_id), **fields}]


def _recompute_roles(document: DirectoryDocument, stored: dict[tuple[str, str], Item]) -> None:
    """Effective roles: a target's own ACL, and for an xform merged with its project's ACL."""
    written = {(t.type, t.id): t for t in document.targets}
    projects: dict[str, Mapping[str, str]] = {t.id: t.acl for t in document.targets if t.type == "project"}

    def project_acl(project_id: str | None) -> Mapping[str, str]:
        if not project_id:
            return {}
        if project_id not in projects:
            item = stored.get(table.key_pair(store.target_key("project", project_id)))
            projects[project_id] = (item or {}).get("acl", {})
        return projects[project_id]

    for target in written.values():
        extra = project_acl(target.project) if target.type == "xform" else {}
        _write_roles(target.type, target.id, merged_roles(target.acl, extra))
    # Forms of a rewritten project that the document itself did not rewrite.
    for project_id, acl in list(projects.items()):
        if ("project", project_id) not in written:
            continue
        for xform_id in store.project_xform_ids(project_id):
            if ("xform", xform_id) in written:
                continue
            xform = table.get(store.target_key("xform", xform_id), consistent=True)
            if xform:
                _write_roles("xform", xform_id, merged_roles(xform.get("acl", {}), acl))


def _write_roles(target_type: str, target_id: str, roles: dict[str, str]) -> None:
    current = store.role_rows(target_type, target_id, consistent=True)
    puts = [store.role_item(target_type, target_id, uid, role)
            for uid, role in roles.items() if current.get(uid) != role]
    deletes = [keys.role_key(target_type, target_id, uid) for uid in current if uid not in roles]
    if puts or deletes:
        table.batch_write(puts, deletes)
