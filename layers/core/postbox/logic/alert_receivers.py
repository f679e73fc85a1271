"""Aalam alerts' receivers (docs/aalam.md): users by email or phone, groups by id or name, and authorities,
expanded to the active users who follow the app's message group.

The send request does a bounded amount of work whatever the audience (docs/aalam.md#large-alerts): it reads the
member counters of the groups and authorities named, and when the receivers are few (at most SYNC_RECEIVERS) it
expands them exactly, as before; when they are more, it queues one expansion job per group or authority (and one
for the users named directly) and answers with the number addressed. The fan-out then expands each job a page at
a time (postbox.logic.alert_stream).
"""

import re
from dataclasses import dataclass, field

from postbox.dal import alerts as store
from postbox.dal import directory, keys
from postbox.dal.table import Item
from postbox.ids import is_directory_id
from postbox.logic import permissions
from postbox.models.aalam import ReceiverIn

PHONE_RE = re.compile(r"\+?[0-9]{3,20}")
AUTHORITY_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
ALL = "ALL"


@dataclass
class Receivers:
    """Who an alert reaches: `users` resolved now (in order), and `jobs` queued for the background; `count` is what
    the answer reports (exact without jobs, else the users addressed before the active and unfollow filters)."""
    users: list[str]
    unknown: list[str]
    count: int
    jobs: list[store.Job] = field(default_factory=list)


class TooManySources(ValueError):
    pass


def _parse(receivers: list[ReceiverIn]) -> tuple[dict[str, str], dict[str, str], list[str], list[str], list[str]]:
    """(emails: lookup -> value as given, phones likewise, group values, authorities, unparseable values)."""
    emails: dict[str, str] = {}
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
    return emails, phones, list(dict.fromkeys(group_values)), list(dict.fromkeys(authorities)), unknown


def plan_receivers(receivers: list[ReceiverIn], app_id: str, msg_group: str | None) -> Receivers:
    """Resolve what is cheap to know now; queue the rest. Raises TooManySources past MAX_SOURCES groups and
    authorities or MAX_DIRECT users named directly."""
    emails, phones, group_values, authorities, unknown = _parse(receivers)
    if len(group_values) + len(authorities) > store.MAX_SOURCES:
        raise TooManySources(f"names {len(group_values) + len(authorities)} groups and permissions; at most "
                             f"{store.MAX_SOURCES}")
    if len(emails) + len(phones) > store.MAX_DIRECT:
        raise TooManySources(f"names {len(emails) + len(phones)} users; at most {store.MAX_DIRECT}")
    direct_now = len(emails) + len(phones) <= store.SYNC_RECEIVERS
    group_ids = [g for g in group_values if is_directory_id(g)]
    counters = [(directory.GROUP, g) for g in group_ids] + [(directory.AUTHORITY, a)
                                                           for a in dict.fromkeys([*authorities, ALL])]
    # One BatchGetItem (per 100 keys): the lookups, the groups named by id and the member counters.
    found = store.get_many([*(store.lookup_keys(emails, phones, []) if direct_now else []),
                            *store.lookup_keys([], [], group_ids),
                            *(keys.member_count_key(kind, cid) for kind, cid in counters)])

    def stored(kind: str, entry_id: str) -> Item | None:
        key = keys.directory_key(kind, entry_id)
        return found.get((key["PK"], key["SK"]))

    def counted(kind: str, entry_id: str) -> int | None:
        key = keys.member_count_key(kind, entry_id)
        return directory.member_count_of(found.get((key["PK"], key["SK"])))

    groups = _resolve_groups(group_values, {g for g in group_ids if stored(directory.GROUP, g)})
    by_name = sorted({gid for ids in groups.values() for gid in ids} - set(group_ids))
    sizes = {(directory.GROUP, g): counted(directory.GROUP, g) for g in group_ids}
    if by_name:  # groups named by name: their counters too
        sizes.update(directory.member_counts([(directory.GROUP, g) for g in by_name]))
    for authority in [*authorities, ALL]:
        # an authority has no entry: no counter means nobody ever held it
        sizes[(directory.AUTHORITY, authority)] = counted(directory.AUTHORITY, authority) or 0

    # (type, value) -> the user ids named directly (emails and phones)
    direct: dict[tuple[str, str], list[str]] = {}
    if direct_now:
        for kind, values in ((directory.EMAIL, emails), (directory.PHONE, phones)):
            for lookup, value in values.items():
                entry = stored(kind, lookup)
                direct[("users", value)] = [entry["user_id"]] if entry else []
    # The containers whose members are receivers: each group named, each authority held by anyone (with ALL).
    containers: dict[tuple[str, str], list[str]] = {}  # container -> the values that name it
    for value, ids in groups.items():
        for gid in ids:
            containers.setdefault((directory.GROUP, gid), []).append(value)
    for authority in authorities:
        if sizes[(directory.AUTHORITY, authority)] != 0:  # an authority nobody holds reaches nobody, not ALL
            containers.setdefault((directory.AUTHORITY, authority), []).append(authority)
            containers.setdefault((directory.AUTHORITY, ALL), [])
    members = sum(sizes.get(c) or 0 for c in containers)
    uncounted = any(sizes.get(c) is None for c in containers)
    if direct_now and not uncounted and len(direct) + members <= store.SYNC_RECEIVERS:
        return _expand_now(direct, groups, authorities, unknown, app_id, msg_group)
    return _queue(direct, direct_now, emails, phones, containers, sizes, groups, authorities, unknown,
                  app_id, msg_group)


def _expand_now(direct: dict[tuple[str, str], list[str]], groups: dict[str, list[str]], authorities: list[str],
                unknown: list[str], app_id: str, msg_group: str | None) -> Receivers:
    """Few receivers: every one resolved in the request (bounded by SYNC_RECEIVERS), the count exact."""
    reached = dict(direct)  # (type, value) -> the user ids it reaches (before the active and unfollow filters)
    for value, ids in groups.items():
        reached[("groups", value)] = [uid for group_id in ids
                                      for uid in directory.member_ids(directory.GROUP, group_id)]
    for authority in authorities:
        reached[("permissions", authority)] = permissions.authority_receivers(authority)
    candidates = list(dict.fromkeys(uid for ids in reached.values() for uid in ids))
    active, unfollowed = store.receiving(candidates, app_id, msg_group)
    # Unknown: a user or authority that reaches no active user; a group that does not exist (an existing group
    # whose members are all inactive is known, just empty).
    unknown = [*unknown, *(value for (kind, value), ids in reached.items()
                           if kind != "groups" and not any(uid in active for uid in ids))]
    unknown += [value for value, ids in groups.items() if not ids]
    users = [uid for uid in candidates if uid in active and uid not in unfollowed]
    return Receivers(users, list(dict.fromkeys(unknown)), len(users))


def _queue(direct: dict[tuple[str, str], list[str]], direct_now: bool, emails: dict[str, str],
           phones: dict[str, str], containers: dict[tuple[str, str], list[str]],
           sizes: dict[tuple[str, str], int | None], groups: dict[str, list[str]], authorities: list[str],
           unknown: list[str], app_id: str, msg_group: str | None) -> Receivers:
    """Many receivers: one job per group and authority, and the users named directly (resolved now when at most
    SYNC_RECEIVERS, else looked up by jobs). Unknown is what the request can tell: a group that does not exist, an
    authority nobody holds, a user named directly who is not an active user (when resolved now)."""
    jobs: list[store.Job] = []
    count = 0
    if direct_now:
        candidates = list(dict.fromkeys(uid for ids in direct.values() for uid in ids))
        active, unfollowed = store.receiving(candidates, app_id, msg_group)
        unknown = [*unknown, *(value for (_, value), ids in direct.items() if not any(uid in active for uid in ids))]
        users = [uid for uid in candidates if uid in active and uid not in unfollowed]
        if users:
            jobs.append(store.Job(users=tuple(users)))
        count += len(users)
    else:
        lookups = [(email, None) for email in emails] + [(None, phone) for phone in phones]
        for start in range(0, len(lookups), store.VALUES_PER_JOB):
            part = lookups[start:start + store.VALUES_PER_JOB]
            jobs.append(store.Job(emails=tuple(e for e, _ in part if e), phones=tuple(p for _, p in part if p)))
        count += len(lookups)
    for container in containers:
        if sizes.get(container) != 0:  # uncounted (None) is expanded too
            jobs.append(store.Job(source=container))
            count += sizes.get(container) or 0
    unknown += [value for value, ids in groups.items() if not ids]
    unknown += [a for a in authorities if sizes[(directory.AUTHORITY, a)] == 0]
    return Receivers([], list(dict.fromkeys(unknown)), count, jobs)


def _resolve_groups(values: list[str], known_ids: set[str]) -> dict[str, list[str]]:
    """Each group value -> the group ids it names: a group id, else every group with that name."""
    result = {value: [value] if value in known_ids else [] for value in values}
    by_name = [value for value, ids in result.items() if not ids]
    if by_name:
        named: dict[str, list[str]] = {}
        for group in directory.entries_of_kind(directory.GROUP):
            named.setdefault(group.get("name", ""), []).append(group["id"])
        for value in by_name:
            result[value] = named.get(value, [])
    return result
