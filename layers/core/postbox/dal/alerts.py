"""Aalam alerts (docs/aalam.md, docs/architecture.md#data-model): the alert item, its receiver chunks, the per-user
copies (inbox entries of
kind "alert", also on the user's alert feed) and unfollow preferences.

An alert is written with its receivers in one transaction: the alert item `ALERT#{id}/ALERT` and chunk items
`ALERT#{id}/RCPT#{nnnn}` of at most RECEIVERS_PER_CHUNK user ids each. The fan-out turns each chunk into inbox
entries. A notify-only alert (persist=false) is chunks alone, flagged transient, carrying what the publisher
sends; the publisher deletes each chunk once published (and a short TTL removes any it could not).
"""

import json
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from postbox.dal import directory, keys, table, transactions
from postbox.dal.feed import FeedQuery
from postbox.dal.inbox import NewEntry, entry_item
from postbox.dal.table import ConditionFailed, Item, Key

ALERT_TYPE = "alert"
RECEIVERS_TYPE = "alert_receivers"
JOB_TYPE = "alert_job"
CLAIM_TYPE = "alert_claim"
PREFERENCE_TYPE = "preference"
ENTRY_KIND = "alert"
# With 1000 ids of at most 64 characters a chunk stays under 70 KB (an item holds 400 KB).
RECEIVERS_PER_CHUNK = 1000
# A send resolves up to this many receivers in the request; more are queued as expansion jobs
# (docs/aalam.md#large-alerts).
SYNC_RECEIVERS = RECEIVERS_PER_CHUNK
# Groups and authorities one alert names (one expansion job each, in the send's one transaction).
MAX_SOURCES = 40
# Users named directly in one expansion job (lookups resolved in the background), and in one alert: the jobs, the
# groups' and the alert fit one transaction's 100 items.
VALUES_PER_JOB = 1000
MAX_DIRECT = 50 * VALUES_PER_JOB
# What one send may address: a safeguard against a mistaken send to everyone, not a limit of the design.
MAX_RECEIVERS = 1_000_000
TRANSIENT_TTL_SECONDS = 3600
PARALLEL_UPDATES = 16


@dataclass(frozen=True)
class NewAlert:
    id: str
    app_id: str
    client_id: str
    sender: str               # Aalam's "from"
    content: str              # JSON text of the content as Aalam returns it (rendered text with an index)
    text: str                 # what an inbox shows
    index: str | None
    template: str | None      # the message_map template used, kept for edits of `content`
    msg_group: str | None
    frontend_url: str | None
    backend_url: str | None
    private_data: str | None
    created_at: str


def alert_item(alert: NewAlert, receivers: int) -> Item:
    return {
        **keys.alert_key(alert.id), "type": ALERT_TYPE,
        "id": alert.id, "app_id": alert.app_id, "client_id": alert.client_id, "from": alert.sender,
        "content": alert.content, "text": alert.text, "index": alert.index, "template": alert.template,
        "msg_group": alert.msg_group, "frontend_url": alert.frontend_url, "backend_url": alert.backend_url,
        "private_data": alert.private_data, "created_at": alert.created_at, "receivers": receivers,
    }


def receiver_items(alert_id: str, user_ids: list[str], *, transient: dict[str, Any] | None = None,
                   created_at: str | None = None, expires_at: int | None = None) -> list[Item]:
    """Chunks of receiver ids; a transient alert's chunks also carry the notice to publish and a TTL."""
    items = []
    for number, start in enumerate(range(0, len(user_ids), RECEIVERS_PER_CHUNK)):
        item: Item = {**keys.receivers_key(alert_id, number), "type": RECEIVERS_TYPE, "alert_id": alert_id,
                      "users": user_ids[start : start + RECEIVERS_PER_CHUNK]}
        if transient is not None:
            # JSON text: content may hold floats, which DynamoDB takes only as Decimal
            item.update(transient=True, notice=json.dumps(transient, ensure_ascii=False), created_at=created_at,
                        expires_at=expires_at)
        items.append(item)
    return items


def put_new(items: list[Item]) -> None:
    """The alert with its receiver chunks or expansion jobs, all or nothing (one TransactWriteItems), each a new
    key."""
    transactions.transact_write([transactions.put_action(item, condition=table.attr("PK").not_exists())
                                 for item in items])


# -- expansion jobs: a large alert's receivers, expanded in the background (docs/aalam.md#large-alerts) -----------


@dataclass(frozen=True)
class Job:
    """What one job expands: the members of a group or authority (`source` = (kind, id)), a list of user ids
    already resolved (`users`), or emails and phone numbers to look up (`emails`, `phones`)."""
    source: tuple[str, str] | None = None
    users: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()


def job_items(alert_id: str, jobs: list[Job], *, app_id: str, msg_group: str | None,
              transient: dict[str, Any] | None = None, created_at: str | None = None,
              expires_at: int | None = None) -> list[Item]:
    """The first step of each job. A notify-only alert's jobs carry the notice (there is no alert item) and a TTL."""
    items = []
    for number, job in enumerate(jobs):
        item: Item = {**keys.expansion_job_key(alert_id, number, 0), "type": JOB_TYPE, "alert_id": alert_id,
                      "job": number, "step": 0, "app_id": app_id, "msg_group": msg_group or ""}
        if job.source is not None:
            item.update(kind=job.source[0], container=job.source[1])
        else:
            item.update(kind="users", users=list(job.users), emails=list(job.emails), phones=list(job.phones))
        if transient is not None:
            item.update(transient=True, notice=json.dumps(transient, ensure_ascii=False), created_at=created_at,
                        expires_at=expires_at)
        items.append(item)
    return items


def next_step(job: Item, start_key: Key) -> Item:
    """The job's next step: the same job, from where this page ended."""
    step = int(job["step"]) + 1
    return {**job, **keys.expansion_job_key(job["alert_id"], int(job["job"]), step), "step": step,
            "start": start_key}


def step_chunk(job: Item, user_ids: list[str]) -> Item:
    """The receiver chunk one step writes (transient: with the job's notice and TTL)."""
    item: Item = {**keys.job_receivers_key(job["alert_id"], int(job["job"]), int(job["step"])),
                  "type": RECEIVERS_TYPE, "alert_id": job["alert_id"], "users": user_ids}
    if job.get("transient"):
        item.update(transient=True, notice=job["notice"], created_at=job["created_at"], expires_at=job["expires_at"])
    return item


def finish_step(job: Item, chunk: Item | None, following: Item | None) -> bool:
    """One step's writes in one transaction: its chunk, the next step, and the step itself deleted. False when the
    step was done already (a re-delivered record): nothing is written twice."""
    actions = [transactions.delete_action(table.key_of(job), condition=table.attr("PK").exists())]
    actions += [transactions.put_action(item, condition=table.attr("PK").not_exists())
                for item in (chunk, following) if item is not None]
    try:
        transactions.transact_write(actions)
    except transactions.TransactionCancelled as cancelled:
        if cancelled.reasons[:1] == ["ConditionalCheckFailed"]:
            return False
        raise
    return True


def claim(job: Item, user_ids: list[str]) -> list[str]:
    """A notify-only alert's users whose notice this step takes: those no other step claimed (a user in two groups
    is notified once). A retried step takes its own claims again. Transactions of 100 conditional puts."""
    by = job["SK"]

    def claim_actions(pending: list[str]) -> list[dict[str, Any]]:
        condition = table.attr("PK").not_exists() | table.attr("by").eq(by)
        return [transactions.put_action({**keys.claim_key(job["alert_id"], uid), "type": CLAIM_TYPE, "by": by,
                                         "expires_at": job.get("expires_at")}, condition=condition)
                for uid in pending]

    claimed: list[str] = []
    for start in range(0, len(user_ids), transactions.TRANSACTION_MAX):
        # The users written are this step's claims; a user whose condition failed is another step's.
        claimed += transactions.transact_each(user_ids[start:start + transactions.TRANSACTION_MAX], claim_actions,
                                              what="notice claims")
    return claimed


def get_alert(alert_id: str, *, consistent: bool = False) -> Item | None:
    return table.get(keys.alert_key(alert_id), consistent=consistent)


def get_many(item_keys: Iterable[Key]) -> dict[tuple[str, str], Item]:
    return table.batch_get(item_keys)


def get_alerts(alert_ids: list[str]) -> dict[str, Item]:
    found = table.batch_get([keys.alert_key(alert_id) for alert_id in alert_ids]) if alert_ids else {}
    return {item["id"]: item for item in found.values()}


def update_alert(alert_id: str, app_id: str, changes: dict[str, Any]) -> Item | None:
    """Change fields of an app's own alert; None when there is no such alert of that app."""
    try:
        return table.update_fields(keys.alert_key(alert_id), changes, condition=table.attr("app_id").eq(app_id))
    except ConditionFailed:
        return None


def receiver_ids(alert_id: str) -> list[str]:
    """Every receiver of an alert, from its chunks (strongly consistent: no index involved)."""
    rows = table.query_all(table.key_attr("PK").eq(keys.alert_pk(alert_id)) &
                           table.key_attr("SK").begins_with(keys.RECEIVERS_PREFIX),
                           projection=["users"], consistent=True)
    return [user_id for row in rows for user_id in row.get("users", [])]


def delete_receivers(chunk: Item) -> None:
    table.delete(table.key_of(chunk))


# -- per-user copies -------------------------------------------------------------------------------------


def entry(user_id: str, alert: Item, text: str, truncated: bool) -> Item:
    """An inbox entry of kind alert, also on the user's alert feed (the Aalam list)."""
    item = entry_item(NewEntry(user_id=user_id, kind=ENTRY_KIND, source_id=alert["id"], sender=alert["from"],
                               text=text, truncated=truncated, created_at=alert["created_at"]))
    item.update(GSI2PK=keys.alert_feed(user_id), GSI2SK=item["sort"], app_id=alert["app_id"],
                callback=bool(alert.get("backend_url")))
    return item


def alert_feed_query(user_id: str, *, lower: str | None = None) -> FeedQuery:
    return FeedQuery(keys.FEED_BY_VERB_INDEX, keys.alert_feed(user_id), lower=lower)


def update_entries(alert_id: str, user_ids: list[str], sender: str, text: str, truncated: bool) -> int:
    """Rewrite the shown sender and text of every receiver's copy that still exists (one conditional
    UpdateItem each, in parallel). Returns how many changed."""
    def one(user_id: str) -> bool:
        try:
            table.update(keys.inbox_key(user_id, alert_id), "SET #from = :from, #text = :text, truncated = :cut",
                         names={"#from": "from", "#text": "text"},
                         values={":from": sender, ":text": text, ":cut": truncated},
                         condition=table.attr("kind").eq(ENTRY_KIND))
        except ConditionFailed:
            return False  # the user deleted their copy
        return True

    if not user_ids:
        return 0
    with ThreadPoolExecutor(max_workers=min(PARALLEL_UPDATES, len(user_ids))) as pool:
        return sum(pool.map(one, user_ids))


# -- receivers: directory lookups ---------------------------------------------------------------------------


def lookup_keys(emails: Iterable[str], phones: Iterable[str], group_ids: Iterable[str]) -> list[Key]:
    return ([keys.directory_key(directory.EMAIL, email) for email in emails]
            + [keys.directory_key(directory.PHONE, phone) for phone in phones]
            + [keys.directory_key(directory.GROUP, group_id) for group_id in group_ids])


def receiving(user_ids: list[str], app_id: str, msg_group: str | None) -> tuple[set[str], set[str]]:
    """(the active users among `user_ids`, those of them who unfollowed the app's message group): each user's
    directory entry and preference item in BatchGetItem calls of 100 keys (50 users), several at once."""
    provider_code, _, app_code = app_id.partition("/")
    wanted: list[Key] = []
    for uid in user_ids:
        wanted += [directory.user_key(uid), keys.preference_key(uid, provider_code, app_code, msg_group or "")]
    chunks = [wanted[i : i + table.BATCH_GET_MAX] for i in range(0, len(wanted), table.BATCH_GET_MAX)]
    found: dict[tuple[str, str], Item] = {}
    if len(chunks) == 1:
        found = table.batch_get(chunks[0])
    elif chunks:
        with ThreadPoolExecutor(max_workers=min(PARALLEL_UPDATES, len(chunks))) as pool:
            for part in pool.map(table.batch_get, chunks):
                found.update(part)
    active, unfollowed = set(), set()
    for uid in user_ids:
        user = found.get(table.key_pair(directory.user_key(uid)))
        if user is not None and user.get("active", True):
            active.add(uid)
            if table.key_pair(keys.preference_key(uid, provider_code, app_code, msg_group or "")) in found:
                unfollowed.add(uid)
    return active, unfollowed


def app_key(app_id: str) -> Key:
    return keys.directory_key(directory.APP, app_id)


# -- preferences ---------------------------------------------------------------------------------------------


def put_unfollow(user_id: str, provider_code: str, app_code: str, msg_group: str) -> None:
    app_id = f"{provider_code}/{app_code}"
    table.put({**keys.preference_key(user_id, provider_code, app_code, msg_group), "type": PREFERENCE_TYPE,
               "user_id": user_id, "app_id": app_id, "msg_group": msg_group, "unfollow": True,
               "GSI4PK": keys.unfollow_feed(app_id, msg_group), "GSI4SK": keys.user_pk(user_id)})


def delete_unfollow(user_id: str, provider_code: str, app_code: str, msg_group: str) -> None:
    table.delete(keys.preference_key(user_id, provider_code, app_code, msg_group))


def unfollows(user_id: str, app_id: str, msg_group: str) -> bool:
    """Whether the user unfollowed the app's message group ("" = its ungrouped alerts): one GetItem."""
    provider_code, _, app_code = app_id.partition("/")
    return table.get(keys.preference_key(user_id, provider_code, app_code, msg_group)) is not None
