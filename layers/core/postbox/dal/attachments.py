"""Attachments (docs/attachments.md, docs/architecture.md#data-model): one item per uploaded file, `ATT#{id}` / `ATT`.

A new attachment is *pending* (uploaded or about to be, on no message; `expires_at` lets DynamoDB's TTL remove
it if it is never used). Linking makes it *linked* in the same transaction that writes the message holding it,
conditional on it still being the uploader's pending attachment, and records the holder (the message and what
decides who may read it), so a download needs one read of this item plus the permission read.
"""

from dataclasses import dataclass
from typing import Any

from postbox.dal import keys, table, transactions
from postbox.dal.table import Item

PENDING = "pending"
LINKED = "linked"


@dataclass(frozen=True)
class NewAttachment:
    id: str
    uploader_kind: str     # "user" or "app"
    uploader_id: str       # directory id, or the application's client_id
    filename: str
    content_type: str
    size: int              # declared (presigned flow) or received (fileResources) size in bytes
    s3_key: str
    created_at: str
    expires_at: int        # epoch seconds: TTL of the pending item
    via: str               # "presigned" or "fileResources"


def attachment_item(attachment: NewAttachment) -> Item:
    return {
        **keys.attachment_key(attachment.id),
        "type": "attachment", "id": attachment.id, "state": PENDING,
        "uploader_kind": attachment.uploader_kind, "uploader_id": attachment.uploader_id,
        "filename": attachment.filename, "content_type": attachment.content_type, "size": attachment.size,
        "s3_key": attachment.s3_key, "created_at": attachment.created_at, "expires_at": attachment.expires_at,
        "via": attachment.via,
    }


def put_new(item: Item) -> None:
    table.put(item, condition=table.attr("PK").not_exists())


def get(attachment_id: str) -> Item | None:
    return table.get(keys.attachment_key(attachment_id), consistent=True)


def get_many(attachment_ids: list[str]) -> dict[str, Item]:
    found = table.batch_get([keys.attachment_key(a) for a in attachment_ids], consistent=True)
    return {item["id"]: item for item in found.values()}


def link_action(item: Item, holder: dict[str, Any], linked_at: str) -> dict[str, Any]:
    """The transaction action that links a pending attachment to its holder: it holds only while the item is
    still pending and still the same uploader's (a concurrent link of the same file cancels the transaction)."""
    names = {"#state": "state", "#linked_at": "linked_at", "#expires": "expires_at"}
    values: dict[str, Any] = {":linked": LINKED, ":linked_at": linked_at}
    assignments = ["#state = :linked", "#linked_at = :linked_at"]
    for index, (name, value) in enumerate(sorted(holder.items())):
        names[f"#h{index}"], values[f":h{index}"] = name, value
        assignments.append(f"#h{index} = :h{index}")
    condition = (table.attr("state").eq(PENDING) & table.attr("uploader_kind").eq(item["uploader_kind"])
                 & table.attr("uploader_id").eq(item["uploader_id"]))
    return transactions.update_action(keys.attachment_key(item["id"]), f"SET {', '.join(assignments)} REMOVE #expires",
                                      names=names, values=values, condition=condition)


def delete_items(attachment_ids: list[str]) -> int:
    return table.batch_write(deletes=[keys.attachment_key(a) for a in attachment_ids]) if attachment_ids else 0
