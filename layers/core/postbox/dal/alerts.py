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

from postbox.dal import directory, keys, table
from postbox.dal.feed import FeedQuery
from postbox.dal.inbox import NewEntry, entry_item
from postbox.dal.table import ConditionFailed, Item, Key

ALERT_TYPE = "alert"
RECEIVERS_TYPE = "alert_receivers"
PREFERENCE_TYPE = "preference"
ENTRY_KIND = "alert"
RECEIVERS_PER_CHUNK = 1000
# With 1000 ids of at most 64 characters a chunk stays under 70 KB; 50 chunks and the alert stay under the
# 4 MB and 100 items of one transaction.
MAX_RECEIVERS = 50 * RECEIVERS_PER_CHUNK
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
    """The alert and its receivers, all or nothing (one TransactWriteItems), each a new key."""
    table.transact_write([table.put_action(item, condition=table.attr("PK").not_exists()) for item in items])


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


def get_users(user_ids: list[str]) -> dict[str, Item]:
    """Directory users by id: BatchGetItem calls of 100 keys, several at once for a large set of receivers."""
    chunks = [user_ids[i : i + table.BATCH_GET_MAX] for i in range(0, len(user_ids), table.BATCH_GET_MAX)]
    if len(chunks) <= 1:
        return directory.get_users(user_ids) if user_ids else {}
    found: dict[str, Item] = {}
    with ThreadPoolExecutor(max_workers=min(PARALLEL_UPDATES, len(chunks))) as pool:
        for users in pool.map(directory.get_users, chunks):
            found.update(users)
    return found


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


def unfollowers(app_id: str, msg_group: str) -> set[str]:
    """Users who unfollowed an app's message group ("" = its ungrouped alerts): one Query, paged."""
    rows = table.query_all(table.key_attr("GSI4PK").eq(keys.unfollow_feed(app_id, msg_group)),
                           index=keys.BY_SOURCE_INDEX)
    return {keys.user_of(row["GSI4SK"]) for row in rows}


def unfollows(user_id: str, app_id: str, msg_group: str) -> bool:
    """Whether the user unfollowed the app's message group ("" = its ungrouped alerts): one GetItem."""
    provider_code, _, app_code = app_id.partition("/")
    return table.get(keys.preference_key(user_id, provider_code, app_code, msg_group)) is not None
