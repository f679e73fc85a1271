"""Aalam alerts' stream side (docs/aalam.md): expansion jobs become receiver chunks, receiver chunks become inbox
entries, edits reach the entries, notify-only alerts are published and removed."""

import json
from collections.abc import Callable

from postbox.dal import alerts as store
from postbox.dal import directory
from postbox.dal.table import Item
from postbox.logic.changes import Change
from postbox.logic.entries import preview, write_missing
from postbox.logic.inbox import render_entry
from postbox.topics import encode_payload, inbox_topic

# Members one expansion step reads (one Query page) and writes as one receiver chunk.
MEMBERS_PER_STEP = store.RECEIVERS_PER_CHUNK


def fan_out_alert(change: Change) -> None:
    """Fan-out: an expansion step becomes a receiver chunk (and the next step); a receiver chunk becomes inbox
    entries; an edit of the alert reaches the entries."""
    kind = change.item_type()
    if kind == store.JOB_TYPE and change.event == "INSERT" and change.new:
        expand_step(change.new)
    elif kind == store.RECEIVERS_TYPE and change.event == "INSERT" and change.new and not change.new.get("transient"):
        deliver_receivers(change.new)
    elif kind == store.ALERT_TYPE and change.event == "MODIFY" and change.new and change.old and (
            (change.old.get("from"), change.old.get("text")) != (change.new.get("from"), change.new.get("text"))):
        propagate_edit(change.new)


def deliver_receivers(chunk: Item) -> int:
    """Write the missing entries of one chunk (idempotent: existing entries keep their state)."""
    alert = store.get_alert(chunk["alert_id"], consistent=True)
    if alert is None:
        return 0
    text, truncated = preview(alert["text"])
    return write_missing([store.entry(user_id, alert, text, truncated) for user_id in chunk["users"]])


def expand_step(job: Item) -> int:
    """One step of a large alert's receiver expansion (docs/aalam.md#large-alerts): one page of a group's or
    authority's members (or a list of users), filtered to the active users who follow the app's message group,
    written as one receiver chunk together with the next step, in one transaction. Every step is bounded; a
    re-delivered step writes nothing twice. Returns the receivers the chunk holds."""
    following = None
    if job["kind"] == "users":
        candidates = list(job.get("users") or [])
        if job.get("emails") or job.get("phones"):
            found = store.get_many(store.lookup_keys(job.get("emails") or [], job.get("phones") or [], []))
            candidates += [entry["user_id"] for entry in found.values()]
        candidates = list(dict.fromkeys(candidates))
    else:
        candidates, last = directory.member_page(job["kind"], job["container"], limit=MEMBERS_PER_STEP,
                                                 start_key=job.get("start"))
        following = store.next_step(job, last) if last else None
    active, unfollowed = store.receiving(candidates, job["app_id"], job.get("msg_group") or None)
    users = [uid for uid in candidates if uid in active and uid not in unfollowed]
    if users and job.get("transient"):
        users = store.claim(job, users)  # a user in two groups gets one notice
    chunk = store.step_chunk(job, users) if users else None
    return len(users) if store.finish_step(job, chunk, following) else 0


def propagate_edit(alert: Item) -> int:
    text, truncated = preview(alert["text"])
    return store.update_entries(alert["id"], store.receiver_ids(alert["id"]), alert["from"], text, truncated)


def transient_messages(chunk: Item, unread_count: Callable[[str], int]) -> list[tuple[str, Callable[[], bytes]]]:
    """Publisher: what a notify-only alert's chunk sends, (topic, payload) for each receiver's inbox topic; each
    payload is built, and its receiver's unread count read, when it is called (postbox.integrations.iot.Payload).
    Payload: the inbox event shape (`entry` as an inbox item would be) plus the alert in Aalam's shape."""
    notice = json.loads(chunk["notice"])
    text, truncated = preview(notice["content"] if isinstance(notice["content"], str)
                              else json.dumps(notice["content"], ensure_ascii=False))
    entry = {"id": notice["id"], "kind": store.ENTRY_KIND, "source_id": notice["id"], "from": notice["from"],
             "text": text, "truncated": truncated, "created_at": chunk["created_at"],
             "read": False, "read_at": None, "archived": False}
    body = {"event": "created", "entry": render_entry(entry), "alert": notice, "transient": True}

    def payload(user_id: str) -> Callable[[], bytes]:
        # A copy each: encode_payload cuts an overlong text in place, and the payloads are built in parallel.
        return lambda: encode_payload({**body, "entry": dict(body["entry"]), "unread": unread_count(user_id)},
                                      ("entry", "text"))

    return [(inbox_topic(user_id), payload(user_id)) for user_id in chunk["users"]]
