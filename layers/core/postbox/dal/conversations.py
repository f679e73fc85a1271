"""DHIS2 conversations: one partition per conversation holding its header, its messages and one row per
participant. A participant row is also that user's inbox entry (kind "conversation"): it carries the
inbox indexes, plus a per-user conversation feed (FeedByVerb index, CONVS#{user}) with the fields the
DHIS2 list filters on copied onto it, so a list page is one Query.

Everything a request changes is written in the request (read-your-writes); the stream only publishes.
"""

from dataclasses import dataclass
from typing import Any

from postbox.dal import counters, keys, table
from postbox.dal.feed import FeedQuery
from postbox.dal.table import Item, Key

HEADER = "conversation"
MESSAGE = "conversation_message"
# Copied from the header onto every participant row, so list filters are key/filter expressions.
DENORMALIZED = ("subject", "messageType", "status", "priority", "assignee")
SEARCH_MAX_CHARS = 20000


def header_key(conversation_id: str) -> Key:
    return {"PK": keys.conversation_pk(conversation_id), "SK": "CONV"}


def participant_key(conversation_id: str, user_id: str) -> Key:
    return keys.inbox_key(user_id, conversation_id)


def message_item(conversation_id: str, message: dict[str, Any]) -> Item:
    return {"PK": keys.conversation_pk(conversation_id), "SK": f"MSG#{message['created']}#{message['id']}",
            "type": MESSAGE, **message}


def header_item(header: dict[str, Any]) -> Item:
    return {**header_key(header["id"]), "type": HEADER, **header}


@dataclass(frozen=True)
class Visible:
    """What one participant sees of the conversation's latest activity (internal notes only for managers)."""

    sender: str
    text: str
    at: str


def participant_item(header: dict[str, Any], user_id: str, *, read: bool, follow_up: bool, archived: bool,
                     visible: Visible, search: str, preview_chars: int) -> Item:
    conversation_id = header["id"]
    sort = keys.sort_key(visible.at, conversation_id)
    if len(search) > SEARCH_MAX_CHARS:     # keep the subject (at the head) and the newest text
        head = header["subject"].lower()[:255]
        search = f"{head} {search[-(SEARCH_MAX_CHARS - len(head) - 1):]}"
    item: Item = {
        **participant_key(conversation_id, user_id),
        "type": "inbox", "kind": "conversation", "id": conversation_id, "source_id": conversation_id,
        "user_id": user_id, "from": visible.sender, "text": visible.text[:preview_chars],
        "truncated": len(visible.text) > preview_chars, "created_at": visible.at, "read": read,
        "archived": archived, "followUp": follow_up, "sort": sort, "search": search,
        "GSI1PK": keys.inbox_feed(user_id, archived=archived), "GSI1SK": sort,
        "GSI2PK": keys.conversation_feed(user_id), "GSI2SK": sort,
        "GSI4PK": keys.source_feed(conversation_id, user_id), "GSI4SK": keys.user_pk(user_id),
        **{name: header.get(name) for name in DENORMALIZED},
        # DynamoDB stores no nulls: "" stands for no assignee, so `assignee.id:ne:x` also finds unassigned ones.
        "assignee": header.get("assignee") or "",
        "subjectSearch": header["subject"].lower(),     # DHIS2's query= (name:like)
    }
    if not read and not archived:
        item.update(GSI3PK=keys.unread_feed(user_id), GSI3SK=sort)
    return item


def load_for(conversation_id: str, user_id: str, *extra: Key) -> dict[tuple[str, str], Item]:
    """One BatchGetItem: the header, the user's participant row, and any extra keys (e.g. the user)."""
    return table.batch_get([header_key(conversation_id), participant_key(conversation_id, user_id), *extra],
                           consistent=True)


def get_headers(conversation_ids: list[str]) -> dict[str, Item]:
    return load_headers(conversation_ids)[0]


def load_headers(conversation_ids: list[str], *extra: Key) -> tuple[dict[str, Item], dict[tuple[str, str], Item]]:
    """One BatchGetItem: the conversations' headers by id, and any extra keys (e.g. the caller) by (PK, SK)."""
    found = table.batch_get([*(header_key(cid) for cid in conversation_ids), *extra], consistent=True)
    headers = {item["id"]: item for item in found.values() if item.get("type") == HEADER}
    return headers, {key: item for key, item in found.items() if item.get("type") != HEADER}


def participants(conversation_id: str) -> list[Item]:
    return table.query_all(table.key_attr("PK").eq(keys.conversation_pk(conversation_id)) &
                           table.key_attr("SK").begins_with("PART#"),
                           consistent=True)


def messages(conversation_id: str) -> list[Item]:
    """Oldest first."""
    return table.query_all(table.key_attr("PK").eq(keys.conversation_pk(conversation_id)) &
                           table.key_attr("SK").begins_with("MSG#"),
                           consistent=True)


def message(conversation_id: str, message_id: str) -> Item | None:
    """One message of the conversation by id (one Query over its messages)."""
    found = table.query_all(table.key_attr("PK").eq(keys.conversation_pk(conversation_id)) &
                            table.key_attr("SK").begins_with("MSG#"),
                            filter=table.attr("id").eq(message_id), consistent=True)
    return found[0] if found else None


def everything(conversation_id: str) -> list[Item]:
    return table.query_all(table.key_attr("PK").eq(keys.conversation_pk(conversation_id)), consistent=True)


def _is_row(key: Key) -> bool:
    return key["SK"].startswith("PART#")


def write(items: list[Item]) -> int:
    """Header and messages in BatchWriteItem calls; participant rows (inbox entries) counted, each against the row
    it replaces (dal/counters.py). Returns the number of requests."""
    rows = [item for item in items if _is_row(item)]
    calls = table.batch_write([item for item in items if not _is_row(item)]) if len(rows) < len(items) else 0
    if rows:
        calls += counters.apply([counters.put(row) for row in rows]).transactions + 1
    return calls


def delete_keys(item_keys: list[Key]) -> int:
    rows = [key for key in item_keys if _is_row(key)]
    calls = table.batch_write(deletes=[key for key in item_keys if not _is_row(key)]) if len(rows) < len(item_keys) \
        else 0
    if rows:
        calls += counters.apply([counters.remove(key, key["SK"].removeprefix("PART#")) for key in rows]).transactions
    return calls


def put_message(conversation_id: str, message: dict[str, Any]) -> None:
    table.put(message_item(conversation_id, message))


def record_reply(conversation_id: str, *, sender: str | None, sender_name: str, at: str, internal: bool) -> Item:
    """The header after a reply. It keeps two summaries (docs/dhis2.md#tickets-and-internal-notes): over every
    message (`lastSender`, `lastMessage`, `lastUpdated`; `messageCount` + `noteCount`), for ticket managers, and
    over the messages everyone sees (`public*`, `messageCount`), which an internal note leaves alone."""
    if internal:
        expression = "SET lastSender = :sender, lastSenderName = :name, lastMessage = :at, lastUpdated = :at " \
                     "ADD noteCount :one"
    else:
        expression = "SET lastSender = :sender, lastSenderName = :name, lastMessage = :at, lastUpdated = :at, " \
                     "publicSender = :sender, publicSenderName = :name, publicMessage = :at, publicUpdated = :at " \
                     "ADD messageCount :one"
    values = {":sender": sender, ":name": sender_name, ":at": at, ":one": 1}
    return table.update(header_key(conversation_id), expression, values=values,
                        condition=table.attr("PK").exists())


def _set_or_remove(fields: dict[str, Any]) -> tuple[str, dict[str, str], dict[str, Any], str]:
    """`SET #f0 = :v0 ... REMOVE #f1` (a None value removes the attribute: DynamoDB stores no nulls)."""
    names = {f"#f{i}": name for i, name in enumerate(fields)}
    values = {f":v{i}": value for i, value in enumerate(fields.values()) if value is not None}
    sets = [f"#f{i} = :v{i}" for i, value in enumerate(fields.values()) if value is not None]
    removes = [f"#f{i}" for i, value in enumerate(fields.values()) if value is None]
    return ", ".join(sets), names, values, ", ".join(removes)


def set_fields(conversation_id: str, fields: dict[str, Any], at: str) -> Item:
    """Update header fields (status, priority, assignee...); the caller copies them onto participant rows."""
    sets, names, values, removes = _set_or_remove(fields)
    expression = f"SET {sets + ', ' if sets else ''}lastUpdated = :at, publicUpdated = :at" + \
        (f" REMOVE {removes}" if removes else "")
    return table.update(header_key(conversation_id), expression, names=names, values={**values, ":at": at},
                        condition=table.attr("PK").exists())


def copy_fields(conversation_id: str, user_id: str, fields: dict[str, Any]) -> bool:
    """Copy header fields onto a participant row with one conditional UpdateItem (other attributes, e.g. a
    read flag changed meanwhile, stay as they are); False if the user is no participant (any more)."""
    sets, names, values, removes = _set_or_remove(fields)
    expression = " ".join(part for part in (f"SET {sets}" if sets else "", f"REMOVE {removes}" if removes else "")
                          if part)
    try:
        table.update(participant_key(conversation_id, user_id), expression, names=names, values=values or None,
                     condition=table.attr("PK").exists())
    except table.ConditionFailed:
        return False
    return True


def delete_row(conversation_id: str, user_id: str) -> bool:
    return bool(counters.apply([counters.remove(participant_key(conversation_id, user_id), user_id)]).after)


def user_feed(user_id: str, *, where: tuple = (), newest_first: bool = True) -> FeedQuery:
    return FeedQuery(keys.FEED_BY_VERB_INDEX, keys.conversation_feed(user_id), where=where, newest_first=newest_first)


def messages_at(conversation_id: str, created: str) -> list[Item]:
    """The conversation's messages created at this instant (one Query on the sort key's prefix): the message a
    participant row shows, from the row's `created_at`."""
    return table.query_all(table.key_attr("PK").eq(keys.conversation_pk(conversation_id)) &
                           table.key_attr("SK").begins_with(f"MSG#{created}#"),
                           consistent=True)
