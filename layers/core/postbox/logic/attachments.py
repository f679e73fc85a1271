"""Attachments (docs/attachments.md): presigned upload, linking to a message, permission-checked download, DHIS2's
fileResources upload, and what the stream does when a message holding attachments is created or deleted.

Lifecycle of a file: `create_upload` (one PutItem) hands out a presigned POST for `attachments/{id}`; the
object is tagged `postbox-state=pending` by the POST policy, and the bucket's lifecycle rule expires pending
objects after a day, as DynamoDB's TTL expires the pending item. Creating a message with `attachments` checks
every file (`linkable`: the caller's own pending upload, present in S3 with the declared size and type) and
then writes the message and every attachment's pending → linked change in one TransactWriteItems (`link`),
so a 4xx changes nothing. The fan-out function then tags the objects `linked` (retried by the stream until it
succeeds, so the lifecycle rule never takes a linked file), and deletes objects and items when the message
is deleted.

Conflict texts are DHIS2's where DHIS2 has one, so the DHIS2 face can use these functions unchanged.
"""

import hashlib
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from postbox.auth import Caller
from postbox.dal import attachments as store
from postbox.dal import messages as messages_store
from postbox.dal import transactions
from postbox.dal.table import Item
from postbox.dal.transactions import TransactionCancelled
from postbox.errors import NOT_FOUND, BadRequest, Conflict, NotFound
from postbox.ids import is_uid, new_uid
from postbox.integrations import s3
from postbox.logic.permissions import is_uploader, may_read_attachment
from postbox.models.attachments import (
    AttachmentUploadOut,
    CreateAttachmentIn,
    FileResourceOut,
    UploadFormOut,
    filename_problem,
)
from postbox.settings import AttachmentSettings
from postbox.timefmt import iso, utcnow

if TYPE_CHECKING:
    from postbox.http.multipart import FilePart

UNKNOWN = "Attachment '{id}' not found."
USED = "Attachment '{id}' is already used or not a valid attachment."
NOT_UPLOADED = "Attachment '{id}' has not been uploaded yet: POST the upload form first."
MISMATCH = ("Attachment '{id}' was uploaded as {size} bytes of type {type}, not the declared {declared_size} bytes of "
            "type {declared_type}; the upload was deleted, upload the file again.")
OVER_LIMIT = "Attachment '{id}' is {size} bytes, over the limit of {limit} bytes; the upload was deleted."
TOO_MANY = "At most {max} attachments per message."
# DHIS2's FileResourceDomain values.
FILE_RESOURCE_DOMAINS = ("DATA_VALUE", "PUSH_ANALYSIS", "DOCUMENT", "MESSAGE_ATTACHMENT", "USER_AVATAR", "ORG_UNIT",
                         "ICON", "JOB_DATA")
MESSAGE_ATTACHMENT = "MESSAGE_ATTACHMENT"
# Uploads through the API (docs/attachments.md): a Lambda event holds at most 6 MB and the body arrives
# base64-encoded, so a file resource is at most 4 MB, whatever ATTACHMENT_MAX_BYTES allows the presigned flow; a
# body larger than the file limit plus room for the multipart framing is refused before it is parsed.
FILE_RESOURCE_MAX_BYTES = 4 * 1024 * 1024
FILE_RESOURCE_BODY_MAX_BYTES = FILE_RESOURCE_MAX_BYTES + 64 * 1024


def file_resource_too_large(size: int) -> Conflict:
    return Conflict(f"File size can't be bigger than {FILE_RESOURCE_MAX_BYTES}, current file size {size}.")
RFC5987_SAFE = "!#$&+^`|"  # attr-chars besides letters, digits and -._~ (which quote() never escapes)


def _size_text(n: int) -> str:
    mib = n / (1024 * 1024)
    return f"{n} bytes ({mib:g} MiB)" if n >= 1024 * 1024 else f"{n} bytes"


def _expires_at(now_epoch: int) -> int:
    return now_epoch + AttachmentSettings.get().ATTACHMENT_PENDING_SECONDS


# -- upload ------------------------------------------------------------------------------------------------------


def create_upload(caller: Caller, request: CreateAttachmentIn) -> AttachmentUploadOut:
    """POST /api/v1/attachments: a pending attachment and its presigned POST. One PutItem, no reads (presigning
    is local computation). Anyone authenticated may upload; only an active caller can link (message create)."""
    settings = AttachmentSettings.get()
    if request.content_type not in settings.ATTACHMENT_CONTENT_TYPES:
        raise BadRequest(f"content_type: '{request.content_type}' is not allowed; allowed types: "
                         f"{', '.join(settings.ATTACHMENT_CONTENT_TYPES)}")
    if request.size > settings.ATTACHMENT_MAX_BYTES:
        raise BadRequest(f"size: {request.size} bytes is over the limit of "
                         f"{_size_text(settings.ATTACHMENT_MAX_BYTES)}; larger files cannot be attached")
    now = utcnow()
    attachment_id = new_uid()
    key = s3.object_key(attachment_id)
    form = s3.presigned_post(key, request.content_type, settings.ATTACHMENT_MAX_BYTES,
                             settings.ATTACHMENT_UPLOAD_EXPIRES_SECONDS)
    store.put_new(store.attachment_item(store.NewAttachment(
        id=attachment_id, uploader_kind=caller.kind, uploader_id=caller.id, filename=request.filename,
        content_type=request.content_type, size=request.size, s3_key=key, created_at=iso(now),
        expires_at=_expires_at(int(now.timestamp())), via="presigned")))
    return AttachmentUploadOut(id=attachment_id, upload=UploadFormOut(url=form["url"], fields=form["fields"]),
                               expires_in=settings.ATTACHMENT_UPLOAD_EXPIRES_SECONDS)


def store_file_resource(caller: Caller, domain: str, files: "list[FilePart]") -> FileResourceOut:
    """DHIS2's POST /api/fileResources?domain=MESSAGE_ATTACHMENT (multipart `file`): the bytes go to S3 (tagged
    pending) and a pending attachment owned by the caller is created, linkable like a presigned upload.
    Errors as DHIS2 words them where it has words: 400 for a missing part or an unknown domain, 409 otherwise.
    One PutObject and one PutItem."""
    if not files:
        raise BadRequest("Required request part 'file' is not present")
    if domain not in FILE_RESOURCE_DOMAINS:
        raise BadRequest(f"Value '{domain}' is not valid for parameter domain. Valid values are: "
                         f"[{', '.join(FILE_RESOURCE_DOMAINS)}]")
    if domain != MESSAGE_ATTACHMENT:
        raise Conflict(f"Domain {domain} is not supported: Postbox stores message attachments only "
                       f"(domain={MESSAGE_ATTACHMENT}).")
    upload = files[0]
    settings = AttachmentSettings.get()
    # DHIS2 keeps the base name of what the client sent (FilenameUtils.getName), "untitled" when there is none.
    name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1] or "untitled"
    problem = filename_problem(name)
    if problem:
        raise Conflict(f"The file name {problem}.")
    # DHIS2 takes files of any type (browsers send application/octet-stream for extensions they do not know);
    # nothing uploaded is ever served to render in a browser (download_type).
    content_type = str(upload.content_type or "").split(";")[0].strip().lower()
    if not MEDIA_TYPE.fullmatch(content_type):
        content_type = OCTET_STREAM
    size = len(upload.content)
    if size == 0:
        raise Conflict("Could not read file or file is empty.")
    if size > min(settings.ATTACHMENT_MAX_BYTES, FILE_RESOURCE_MAX_BYTES):
        if size > FILE_RESOURCE_MAX_BYTES:
            raise file_resource_too_large(size)
        raise Conflict(f"File size can't be bigger than {settings.ATTACHMENT_MAX_BYTES}, current file size {size}.")
    now = utcnow()
    attachment_id = new_uid()
    key = s3.object_key(attachment_id)
    s3.put(key, upload.content, content_type)  # first: an item never points at bytes that were not stored
    store.put_new(store.attachment_item(store.NewAttachment(
        id=attachment_id, uploader_kind=caller.kind, uploader_id=caller.id, filename=name, content_type=content_type,
        size=size, s3_key=key, created_at=iso(now), expires_at=_expires_at(int(now.timestamp())),
        via="fileResources")))
    md5 = hashlib.md5(upload.content, usedforsecurity=False).hexdigest()
    return FileResourceOut(id=attachment_id, name=name, displayName=name, contentType=content_type,
                           contentLength=size, contentMd5=md5, domain=MESSAGE_ATTACHMENT, storageStatus="STORED")


# -- linking -----------------------------------------------------------------------------------------------------


def _expired(item: Item, now_epoch: int) -> bool:
    return item.get("state") == store.PENDING and int(item.get("expires_at", now_epoch + 1)) <= now_epoch


def linkable(caller: Caller, attachment_ids: list[str]) -> list[Item]:
    """The caller's pending attachments, in the order given (duplicates merged), each checked against its
    object: 409 naming the first that cannot be linked. Another caller's attachment is "not found" (no existence
    oracle). An object that breaks its declaration (moto does not enforce the POST policy; S3 does, but this
    does not rely on it) is deleted before the 409. Changes nothing else."""
    ids = list(dict.fromkeys(attachment_ids))
    limit = AttachmentSettings.get().ATTACHMENTS_PER_MESSAGE_MAX
    if len(ids) > limit:
        raise BadRequest(TOO_MANY.format(max=limit))
    found = store.get_many([a for a in ids if is_uid(a)]) if ids else {}
    now_epoch = int(utcnow().timestamp())
    items = []
    for attachment_id in ids:
        item = found.get(attachment_id)
        if item is None or not is_uploader(caller, item) or _expired(item, now_epoch):
            raise Conflict(UNKNOWN.format(id=attachment_id))
        if item.get("state") != store.PENDING:
            raise Conflict(USED.format(id=attachment_id))
        items.append(item)
    for item in items:
        _check_object(item)
    return items


def _check_object(item: Item) -> None:
    stored = s3.head(item["s3_key"])
    if stored is None:
        raise Conflict(NOT_UPLOADED.format(id=item["id"]))
    limit = AttachmentSettings.get().ATTACHMENT_MAX_BYTES
    stored_type = stored.content_type.strip().lower()
    if stored.size > limit:
        s3.delete(item["s3_key"])
        raise Conflict(OVER_LIMIT.format(id=item["id"], size=stored.size, limit=limit))
    if stored.size != item["size"] or stored_type != item["content_type"]:
        s3.delete(item["s3_key"])
        raise Conflict(MISMATCH.format(id=item["id"], size=stored.size, type=stored_type or "(none)",
                                       declared_size=item["size"], declared_type=item["content_type"]))


def summaries(items: list[Item]) -> list[dict[str, Any]]:
    """What a holder stores about its attachments (and GET .../attachments lists)."""
    return [{"id": i["id"], "filename": i["filename"], "content_type": i["content_type"], "size": i["size"]}
            for i in items]


def link(items: list[Item], holder: dict[str, Any], *, with_actions: list[dict[str, Any]] | None = None) -> None:
    """One TransactWriteItems: `with_actions` (e.g. the holder's Put) plus every attachment's pending → linked
    change, each conditional on the attachment still being its uploader's pending one. A concurrent link of the
    same file (or any condition that no longer holds) → 409 naming it, and nothing is written."""
    before = list(with_actions or [])
    fields = {name: value for name, value in holder.items() if value is not None}
    now = iso(utcnow())
    try:
        transactions.transact_write([*before, *(store.link_action(item, fields, now) for item in items)])
    except TransactionCancelled as cancelled:
        for item, reason in zip(items, cancelled.reasons[len(before):], strict=False):
            if reason in ("ConditionalCheckFailed", "TransactionConflict"):
                raise Conflict(USED.format(id=item["id"])) from None
        raise


def message_holder(message: Item) -> dict[str, Any]:
    """What a linked attachment records about an Ona message: enough to decide who may read it."""
    return {"holder": "message", "message_id": message["id"], "target_type": message["target_type"],
            "target_id": message["target_id"]}


def create_message_with_attachments(caller: Caller, message: Item, attachment_ids: list[str]) -> None:
    """Ona create with `attachments`: check every file, then write the message (with the files' summaries) and
    link them, all or nothing. DynamoDB: one BatchGetItem and one TransactWriteItems; S3: one HeadObject each."""
    items = linkable(caller, attachment_ids)
    message["attachments"] = summaries(items)
    link(items, message_holder(message), with_actions=messages_store.put_new_actions(message))


def link_for_conversation(caller: Caller, attachment_ids: list[str], *, conversation_id: str | None = None,
                          message_id: str | None = None) -> list[dict[str, Any]]:
    """For the DHIS2 face: check and link the caller's files to a conversation message in a transaction of their
    own, returning their summaries. Prefer `linkable` + `link(..., with_actions=[<the message's Put>])` so the
    message and the links are written together."""
    items = linkable(caller, attachment_ids)
    if items:
        link(items, {"holder": "conversation", "conversation_id": conversation_id, "message_id": message_id})
    return summaries(items)


# -- download ----------------------------------------------------------------------------------------------------


def content_disposition(filename: str) -> str:
    """`attachment; filename="..."` with an ASCII fallback (quotes, backslashes, control and non-ASCII
    characters replaced), plus RFC 6266 / 5987 `filename*=UTF-8''...` whenever the fallback differs."""
    fallback = "".join(ch if " " <= ch <= "~" and ch not in '"\\' else "_" for ch in filename)
    value = f'attachment; filename="{fallback}"'
    if fallback != filename:
        value += "; filename*=UTF-8''" + quote(filename, safe=RFC5987_SAFE)
    return value


OCTET_STREAM = "application/octet-stream"
MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
# Types a browser runs or renders as a page, whatever the allowed-types setting says.
ACTIVE_CONTENT = frozenset({"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml",
                            "text/javascript", "application/javascript", "application/x-javascript",
                            "text/xsl", "application/pdf+html"})


def download_type(content_type: str) -> str:
    """The type a download is served with: the declared one when it is an allowed attachment type
    (ATTACHMENT_CONTENT_TYPES) and no active content, else application/octet-stream."""
    allowed = content_type in AttachmentSettings.get().ATTACHMENT_CONTENT_TYPES and content_type not in ACTIVE_CONTENT
    return content_type if allowed else OCTET_STREAM


def presigned_download(item: Item) -> str:
    """A presigned GET (valid ATTACHMENT_DOWNLOAD_EXPIRES_SECONDS, at most 5 minutes) that downloads the file
    under its name (always `Content-Disposition: attachment`), with its declared type when that is a safe one."""
    return s3.presigned_get(item["s3_key"], content_disposition=content_disposition(item["filename"]),
                            content_type=download_type(item["content_type"]),
                            expires_in=AttachmentSettings.get().ATTACHMENT_DOWNLOAD_EXPIRES_SECONDS)


def download_url(caller: Caller, attachment_id: str) -> str:
    """GET /api/v1/attachments/{id}: where to download it, if the caller may read it (permissions.
    may_read_attachment). Unknown, expired and unreadable ids are the same 404. One GetItem plus the
    permission read."""
    item = store.get(attachment_id) if is_uid(attachment_id) else None
    if item is None or _expired(item, int(utcnow().timestamp())) or not may_read_attachment(caller, item):
        raise NotFound(NOT_FOUND)
    return presigned_download(item)


def attachment_on_message(message_id: str, attachment_id: str) -> Item | None:
    """The attachment linked to that message (any holder kind), or None: for a face that has already checked
    the caller's access to the message in its own order (DHIS2's download: then `presigned_download`)."""
    item = store.get(attachment_id) if is_uid(attachment_id) else None
    if item is None or item.get("state") != store.LINKED or item.get("message_id") != message_id:
        return None
    return item


# -- stream: the fan-out function ------------------------------------------------------------------------------------


def attachment_ids_of(message: Item) -> list[str]:
    return [summary["id"] for summary in message.get("attachments") or []]


def mark_linked(attachment_ids: list[str]) -> int:
    """Tag the objects `linked`, so the pending-uploads lifecycle rule leaves them alone. Idempotent."""
    return sum(s3.mark(s3.object_key(a), s3.LINKED) for a in attachment_ids)


def forget(attachment_ids: list[str]) -> None:
    """Delete the objects and the items (a deleted message's files). Idempotent."""
    if attachment_ids:
        s3.delete_many([s3.object_key(a) for a in attachment_ids])
        store.delete_items(attachment_ids)
