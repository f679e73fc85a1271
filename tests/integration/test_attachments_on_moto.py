"""Attachments on moto (docs/attachments.md): the presigned upload, linking on the Ona create (every 409, and the
object that
breaks its declaration: moto accepts it, Postbox deletes it), listing, the permission-checked download, DHIS2's
fileResources upload, the stream's tagging and deletion, and the request budget."""

import base64
import json
import re
import time
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from postbox_local.metering import dynamodb_requests

ATTACHMENTS = "/api/v1/attachments"
MESSAGING = "/api/v1/messaging"
FILE_RESOURCES = "/api/fileResources"
UID = re.compile(r"[A-Za-z][A-Za-z0-9]{10}")
NOT_FOUND = {"detail": "Not found."}
INACTIVE = {"detail": "This user account is inactive."}  # whatever the id: no oracle
TEXT = b"Household register, week 47\n"


# -- helpers ---------------------------------------------------------------------------------------------------


def announce(api, user: str = "alice", *, filename: str = "register.txt", content_type: str = "text/plain",
             size: int = len(TEXT), **who) -> dict:
    response = api.post(ATTACHMENTS, **(who or {"user": user}),
                        json={"filename": filename, "content_type": content_type, "size": size})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def post_form(created: dict, data: bytes, **field_changes: str) -> requests.Response:
    """What a client does with the form: every field as given (or changed, to break the policy), then `file`."""
    fields = {**created["upload"]["fields"], **field_changes}
    return requests.post(created["upload"]["url"], data=fields, files={"file": ("ignored-name.txt", data)}, timeout=10)


def uploaded(api, user: str = "alice", data: bytes = TEXT, **announce_args) -> str:
    created = announce(api, user, size=len(data), **announce_args)
    assert post_form(created, data).status_code == 204
    return created["id"]


def create(api, user: str, attachments: list, *, target_type: str = "xform", target_id: str = "34", **who):
    return api.post(MESSAGING, **(who or {"user": user}), json={
        "target_type": target_type, "target_id": target_id, "message": "see the file", "attachments": attachments})


def item(attachment_id: str) -> dict | None:
    from postbox.dal import keys, table

    return table.get(keys.attachment_key(attachment_id), consistent=True)


def message_count() -> int:
    from postbox.dal import table

    pages = table.client().get_paginator("scan").paginate(
        TableName=table.table_name(), FilterExpression="SK = :msg", ExpressionAttributeValues={":msg": {"S": "MSG"}})
    return sum(page["Count"] for page in pages)


def s3_client():
    from postbox.integrations import s3

    return s3.client()


def stored(attachment_id: str) -> bytes | None:
    from postbox.integrations import s3

    try:
        return s3_client().get_object(Bucket=s3.bucket(), Key=s3.object_key(attachment_id))["Body"].read()
    except s3_client().exceptions.NoSuchKey:
        return None


def state_tag(attachment_id: str) -> str | None:
    from postbox.integrations import s3

    tags = s3_client().get_object_tagging(Bucket=s3.bucket(), Key=s3.object_key(attachment_id))["TagSet"]
    return next((t["Value"] for t in tags if t["Key"] == s3.STATE_TAG), None)


def conflict(text: str) -> dict:
    return {"detail": text}


def not_found_text(attachment_id: str) -> dict:
    return conflict(f"Attachment '{attachment_id}' not found.")


def used_text(attachment_id: str) -> dict:
    return conflict(f"Attachment '{attachment_id}' is already used or not a valid attachment.")


# -- POST /api/v1/attachments ----------------------------------------------------------------------------------


def test_create_answers_a_presigned_post_and_writes_one_pending_item(api):
    with dynamodb_requests() as calls:
        response = api.post(ATTACHMENTS, user="alice",
                            json={"filename": "Register week 47.txt", "content_type": "text/plain", "size": 28})
    assert response.status_code == 201
    assert calls == {"BatchGetItem": 1, "PutItem": 1}  # the caller's entry (inactive check) before the write
    body = response.get_json()
    assert list(body) == ["id", "upload", "expires_in"] and list(body["upload"]) == ["url", "fields"]
    assert UID.fullmatch(body["id"]) and body["expires_in"] == 900
    fields = body["upload"]["fields"]
    assert fields["key"] == f"attachments/{body['id']}"
    assert fields["Content-Type"] == "text/plain"
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert "Register" not in json.dumps(fields)  # the filename is never part of the key, nor of the form
    stored_item = item(body["id"])
    assert {k: stored_item[k] for k in ("state", "uploader_kind", "uploader_id", "filename", "content_type", "size",
                                        "s3_key")} == {
        "state": "pending", "uploader_kind": "user", "uploader_id": "alice", "filename": "Register week 47.txt",
        "content_type": "text/plain", "size": 28, "s3_key": f"attachments/{body['id']}"}
    assert abs(stored_item["expires_at"] - (time.time() + 86400)) < 60


def test_the_form_uploads_to_the_bucket(api):
    created = announce(api)
    assert post_form(created, TEXT).status_code == 204
    assert stored(created["id"]) == TEXT


def test_an_application_may_upload(api):
    created = announce(api, app="acme/billing")
    assert item(created["id"])["uploader_kind"] == "app"


@pytest.mark.parametrize(("body", "detail"), [
    ({"content_type": "text/plain", "size": 3}, "Invalid request: filename: Field required"),
    ({"filename": "", "content_type": "text/plain", "size": 3}, "Invalid request: filename: must not be blank"),
    ({"filename": "a" * 256, "content_type": "text/plain", "size": 3},
     "Invalid request: filename: must be at most 255 characters"),
    ({"filename": "../etc/passwd", "content_type": "text/plain", "size": 3},
     "Invalid request: filename: must be a file name without path separators (/ or \\)"),
    ({"filename": "c:\\x.txt", "content_type": "text/plain", "size": 3},
     "Invalid request: filename: must be a file name without path separators (/ or \\)"),
    ({"filename": "a\nb.txt", "content_type": "text/plain", "size": 3},
     "Invalid request: filename: must not contain control characters"),
    ({"filename": "..", "content_type": "text/plain", "size": 3},
     "Invalid request: filename: must be a file name, not . or .."),
    ({"filename": 7, "content_type": "text/plain", "size": 3}, "Invalid request: filename: must be a string"),
    ({"filename": "a.txt", "content_type": "text/plain", "size": 0}, "Invalid request: size: must be at least 1 byte"),
    ({"filename": "a.txt", "content_type": "text/plain", "size": -5},
     "Invalid request: size: must be at least 1 byte"),
    ({"filename": "a.txt", "content_type": "text/plain", "size": "12"},
     "Invalid request: size: must be a whole number of bytes"),
    ({"filename": "a.txt", "content_type": "text/plain", "size": 1.5},
     "Invalid request: size: must be a whole number of bytes"),
    ({"filename": "a.txt", "content_type": "text/plain", "size": True},
     "Invalid request: size: must be a whole number of bytes"),
    ({"filename": "a.txt", "content_type": "text/plain", "size": 25 * 1024 * 1024 + 1},
     "size: 26214401 bytes is over the limit of 26214400 bytes (25 MiB); larger files cannot be attached"),
    ({"filename": "a.html", "content_type": "text/html", "size": 3},
     "content_type: 'text/html' is not allowed; allowed types: text/plain, text/csv, application/json, "
     "application/pdf, image/png, image/jpeg, image/gif, application/zip, "
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document, "
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet, "
     "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    ({"filename": "a.txt", "content_type": "text/plain; charset=utf-8", "size": 3},
     "Invalid request: content_type: must be a media type such as text/plain, without parameters"),
    ({"filename": "a.txt", "content_type": "plain", "size": 3},
     "Invalid request: content_type: must be a media type such as text/plain, without parameters"),
    ({"filename": "a.txt", "content_type": "text/plain", "size": 3, "key": "attachments/mine"},
     "Invalid request: key: unknown key 'key'"),
])
def test_bad_declarations_are_400_and_write_nothing(api, body, detail):
    with dynamodb_requests() as calls:
        response = api.post(ATTACHMENTS, user="alice", json=body)
    assert response.status_code == 400
    assert response.get_json()["detail"] == detail
    assert "PutItem" not in calls


def test_a_body_that_is_not_an_object_is_400(api):
    for data in ("[]", "not json", '"text"'):
        response = api.post(ATTACHMENTS, user="alice", data=data, content_type="application/json")
        assert response.status_code == 400, data
        assert response.get_json()["detail"].startswith("Invalid request")


def test_limits_and_types_are_settings(api, settings):
    settings(ATTACHMENT_MAX_BYTES=1000, ATTACHMENT_CONTENT_TYPES="text/html, text/plain",
                 ATTACHMENT_UPLOAD_EXPIRES_SECONDS=120)
    response = api.post(ATTACHMENTS, user="alice", json={"filename": "a.txt", "content_type": "text/plain",
                                                         "size": 1001})
    assert response.get_json() == {"detail": "size: 1001 bytes is over the limit of 1000 bytes; larger files "
                                             "cannot be attached"}
    created = announce(api, filename="page.html", content_type="text/html", size=1000)
    assert created["expires_in"] == 120
    policy = json.loads(base64.b64decode(created["upload"]["fields"]["policy"]))
    assert ["content-length-range", 1, 1000] in policy["conditions"]
    refused = api.post(ATTACHMENTS, user="alice", json={"filename": "a.pdf", "content_type": "application/pdf",
                                                        "size": 3})
    assert refused.get_json()["detail"] == "content_type: 'application/pdf' is not allowed; allowed types: " \
                                           "text/html, text/plain"


# -- linking on the Ona create -------------------------------------------------------------------------------------


def test_linking_on_create_keeps_onas_response_and_links_in_one_transaction(api):
    first = uploaded(api, filename="register.txt")
    second = uploaded(api, data=b'{"rows": 2}', filename="rows.json", content_type="application/json")
    with dynamodb_requests() as calls:
        response = create(api, "alice", [first, second])
    assert response.status_code == 201, response.get_json()
    assert calls == {"BatchGetItem": 2, "TransactWriteItems": 1}
    body = response.get_json()
    assert list(body) == ["id", "verb", "message", "user", "target_id", "target_type", "timestamp"]
    for attachment_id in (first, second):
        linked = item(attachment_id)
        assert (linked["state"], linked["message_id"], linked["holder"], linked["target_type"], linked["target_id"]) \
            == ("linked", body["id"], "message", "xform", "34")
        assert "expires_at" not in linked and linked["linked_at"]
    listing = api.get(f"{MESSAGING}/{body['id']}/attachments", user="bob")
    assert listing.status_code == 200
    assert listing.get_json() == [
        {"id": first, "filename": "register.txt", "content_type": "text/plain", "size": len(TEXT)},
        {"id": second, "filename": "rows.json", "content_type": "application/json", "size": 11}]
    message = api.get(f"{MESSAGING}/{body['id']}", user="bob").get_json()
    assert list(message) == ["id", "verb", "message", "user", "timestamp"]


def test_form_encoded_create_links_too(api):
    attachment_id = uploaded(api)
    response = api.post(MESSAGING, user="alice", data={"target_type": "user", "target_id": "bob", "message": "file",
                                                       "attachments": [attachment_id]})
    assert response.status_code == 201
    assert item(attachment_id)["state"] == "linked"


def test_duplicate_ids_link_once(api):
    attachment_id = uploaded(api)
    response = create(api, "alice", [attachment_id, attachment_id])
    assert response.status_code == 201
    assert [a["id"] for a in api.get(f"{MESSAGING}/{response.get_json()['id']}/attachments",
                                     user="bob").get_json()] == [attachment_id]


def test_a_message_without_attachments_lists_none(api):
    response = api.post(MESSAGING, user="alice", json={"target_type": "user", "target_id": "bob", "message": "x"})
    assert api.get(f"{MESSAGING}/{response.get_json()['id']}/attachments", user="bob").get_json() == []


def _unchanged(before: int, *pending: str) -> None:
    """Nothing was written: no message, and every attachment still pending."""
    assert message_count() == before
    for attachment_id in pending:
        assert item(attachment_id)["state"] == "pending"


def test_unknown_attachment_is_409(api):
    good = uploaded(api)
    before = message_count()
    response = create(api, "alice", [good, "Abcdefghijk"])
    assert (response.status_code, response.get_json()) == (409, not_found_text("Abcdefghijk"))
    _unchanged(before, good)


def test_another_users_attachment_is_409_not_found(api):
    bobs = uploaded(api, "bob")
    before = message_count()
    response = create(api, "carol", [bobs])
    assert (response.status_code, response.get_json()) == (409, not_found_text(bobs))
    _unchanged(before, bobs)
    assert create(api, "bob", [bobs], target_type="user", target_id="alice").status_code == 201


def test_an_application_cannot_link_a_users_upload(api):
    alices = uploaded(api)
    response = api.post(MESSAGING, app="acme/billing", json={
        "target_type": "xform", "target_id": "34", "message": "{}", "verb": "submission_created",
        "attachments": [alices]})
    assert (response.status_code, response.get_json()) == (409, not_found_text(alices))


def test_a_second_link_is_409(api):
    attachment_id = uploaded(api)
    assert create(api, "alice", [attachment_id]).status_code == 201
    before = message_count()
    response = create(api, "alice", [attachment_id], target_type="user", target_id="bob")
    assert (response.status_code, response.get_json()) == (409, used_text(attachment_id))
    assert message_count() == before


def test_an_upload_that_never_arrived_is_409(api):
    created = announce(api)
    before = message_count()
    response = create(api, "alice", [created["id"]])
    assert (response.status_code, response.get_json()) == (409, conflict(
        f"Attachment '{created['id']}' has not been uploaded yet: POST the upload form first."))
    _unchanged(before, created["id"])


def test_an_expired_pending_upload_is_409_not_found(api):
    from postbox.dal import keys, table

    attachment_id = uploaded(api)
    table.update(keys.attachment_key(attachment_id), "SET expires_at = :past", values={":past": int(time.time()) - 1})
    response = create(api, "alice", [attachment_id])
    assert (response.status_code, response.get_json()) == (409, not_found_text(attachment_id))


def test_an_object_larger_than_declared_is_409_and_deleted(api):
    """moto accepts an upload that breaks content-length-range (S3 refuses it): linking must not trust it."""
    created = announce(api, size=5)
    assert post_form(created, TEXT).status_code == 204  # 28 bytes under a policy for 5 declared
    good = uploaded(api)
    before = message_count()
    response = create(api, "alice", [good, created["id"]])
    assert (response.status_code, response.get_json()) == (409, conflict(
        f"Attachment '{created['id']}' was uploaded as {len(TEXT)} bytes of type text/plain, not the declared 5 "
        "bytes of type text/plain; the upload was deleted, upload the file again."))
    assert stored(created["id"]) is None
    assert stored(good) == TEXT
    _unchanged(before, good, created["id"])


def test_an_object_of_another_type_is_409_and_deleted(api):
    created = announce(api)
    assert post_form(created, TEXT, **{"Content-Type": "text/html"}).status_code == 204
    response = create(api, "alice", [created["id"]])
    assert response.status_code == 409
    assert "of type text/html, not the declared" in response.get_json()["detail"]
    assert stored(created["id"]) is None
    assert item(created["id"])["state"] == "pending"


def test_an_object_over_the_limit_is_409_and_deleted(api, settings):
    settings(ATTACHMENT_MAX_BYTES=16)
    created = announce(api, size=16)
    assert post_form(created, TEXT).status_code == 204
    response = create(api, "alice", [created["id"]])
    assert (response.status_code, response.get_json()) == (409, conflict(
        f"Attachment '{created['id']}' is {len(TEXT)} bytes, over the limit of 16 bytes; the upload was deleted."))
    assert stored(created["id"]) is None


def test_a_link_that_loses_a_race_is_409_and_writes_nothing(api, monkeypatch):
    """Both requests read the attachment as pending; the transaction's condition lets only one link it."""
    from postbox.dal import attachments as store

    attachment_id = uploaded(api)
    stale = item(attachment_id)
    assert create(api, "alice", [attachment_id]).status_code == 201
    monkeypatch.setattr(store, "get_many", lambda ids: {attachment_id: stale})
    before = message_count()
    response = create(api, "alice", [attachment_id], target_type="user", target_id="bob")
    assert (response.status_code, response.get_json()) == (409, used_text(attachment_id))
    assert message_count() == before


@pytest.mark.parametrize(("attachments", "errors"), [
    (["not an id"], {"attachments": ['"not an id" is not a valid attachment id.']}),
    ([7], {"attachments": ["Not a valid string."]}),
    ("Abcdefghijk", {"attachments": ['Expected a list of items but got type "str".']}),
    (None, {"attachments": ["This field may not be null."]}),
    ([f"A{n:010d}" for n in range(11)], {"attachments": ["Ensure this field has no more than 10 elements."]}),
])
def test_malformed_attachment_lists_are_400_in_drfs_shape(api, attachments, errors):
    before = message_count()
    response = create(api, "alice", attachments)
    assert (response.status_code, response.get_json()) == (400, errors)
    assert message_count() == before


def test_permission_is_checked_before_attachments(api):
    attachment_id = uploaded(api, "dave")
    response = create(api, "dave", [attachment_id])
    assert response.status_code == 403
    assert item(attachment_id)["state"] == "pending"


# -- GET /api/v1/messaging/{id}/attachments ------------------------------------------------------------------------


def test_listing_follows_the_message_rules(api):
    attachment_id = uploaded(api)
    message_id = create(api, "alice", [attachment_id], target_type="user", target_id="bob").get_json()["id"]
    for user, status in (("dave", 403), ("alice", 403), ("admin", 403), ("bob", 200)):
        assert api.get(f"{MESSAGING}/{message_id}/attachments", user=user).status_code == status, user
    for missing in ("01JD5Q7Y3K2M4N6P8R0S2T4V6X", "nope"):
        response = api.get(f"{MESSAGING}/{missing}/attachments", user="bob")
        assert (response.status_code, response.get_json()) == (404, NOT_FOUND)


# -- GET /api/v1/attachments/{id} ----------------------------------------------------------------------------------


def test_download_redirects_to_a_short_presigned_get_of_the_same_bytes(api):
    attachment_id = uploaded(api, filename='Régistre "final".txt')
    create(api, "alice", [attachment_id])
    response = api.get(f"{ATTACHMENTS}/{attachment_id}", user="bob")
    assert response.status_code == 302
    assert response.headers["Cache-Control"] == "no-store"
    location = urlparse(response.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert location.path.endswith(f"/attachments/{attachment_id}")
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert int(query["X-Amz-Expires"]) <= 300
    disposition = """attachment; filename="R_gistre _final_.txt"; filename*=UTF-8''R%C3%A9gistre%20%22final%22.txt"""
    assert query["response-content-disposition"] == disposition
    download = requests.get(response.headers["Location"], timeout=10)
    assert download.status_code == 200
    assert download.content == TEXT
    assert download.headers["Content-Disposition"] == disposition


def test_who_may_download_a_linked_file(api):
    on_form = uploaded(api)
    create(api, "alice", [on_form])                                      # xform 34
    to_bob = uploaded(api, "carol")
    create(api, "carol", [to_bob], target_type="user", target_id="bob")  # bob's alone
    on_project = uploaded(api)
    create(api, "alice", [on_project], target_type="project", target_id="12")
    cases = [
        (on_form, {"bob": 302, "erin": 302, "alice": 302, "admin": 302, "dave": 404, "ghost": 404, "frank": 403}),
        (to_bob, {"bob": 302, "carol": 302, "alice": 404, "admin": 404, "dave": 404}),
        (on_project, {"erin": 302, "alice": 302, "bob": 404, "carol": 404}),  # bob and carol: form roles only
    ]
    for attachment_id, expected in cases:
        for user, status in expected.items():
            response = api.get(f"{ATTACHMENTS}/{attachment_id}", user=user)
            assert response.status_code == status, (attachment_id, user)
            if status != 302:
                assert response.get_json() == {403: INACTIVE, 404: NOT_FOUND}[status], (attachment_id, user)
    assert api.get(f"{ATTACHMENTS}/{on_form}", app="acme/billing").status_code == 404


def test_a_pending_file_is_its_uploaders_alone(api):
    attachment_id = uploaded(api, "bob")
    assert api.get(f"{ATTACHMENTS}/{attachment_id}", user="bob").status_code == 302
    for user in ("alice", "admin", "dave"):
        response = api.get(f"{ATTACHMENTS}/{attachment_id}", user=user)
        assert (response.status_code, response.get_json()) == (404, NOT_FOUND), user


def test_unknown_malformed_and_expired_ids_are_the_same_404(api):
    from postbox.dal import keys, table

    expired = uploaded(api)
    table.update(keys.attachment_key(expired), "SET expires_at = :past", values={":past": int(time.time()) - 1})
    for attachment_id in ("Abcdefghijk", "nope", "1bcdefghijk", expired):
        response = api.get(f"{ATTACHMENTS}/{attachment_id}", user="alice")
        assert (response.status_code, response.get_json()) == (404, NOT_FOUND), attachment_id


def test_an_inactive_uploader_cannot_download_their_pending_file(api):
    from postbox.logic.directory import parse_document, upsert

    attachment_id = uploaded(api, "erin")
    upsert(parse_document({"users": [{"id": "erin", "username": "erin", "active": False}]}))
    response = api.get(f"{ATTACHMENTS}/{attachment_id}", user="erin")
    assert (response.status_code, response.get_json()) == (403, INACTIVE)


def test_download_costs_one_get_and_the_permission_read(api):
    attachment_id = uploaded(api)
    pending = uploaded(api)
    create(api, "alice", [attachment_id])
    for user, wanted in (("bob", attachment_id), ("alice", pending)):
        with dynamodb_requests() as calls:
            assert api.get(f"{ATTACHMENTS}/{wanted}", user=user).status_code == 302
        assert calls == {"GetItem": 1, "BatchGetItem": 1}


# -- the stream: linked tags, deletion with the message ---------------------------------------------------------------


def test_the_fan_out_tags_a_new_messages_files_linked(api, stream):
    attachment_id = uploaded(api)
    kept_pending = uploaded(api)
    create(api, "alice", [attachment_id])
    stream.drain()
    assert state_tag(attachment_id) == "linked"
    assert state_tag(kept_pending) is None  # moto ignores the POST form's tagging field (S3 applies it)


def test_a_new_message_whose_file_is_already_gone_fans_out_without_a_failure(api, stream, monkeypatch):
    """A late or retried record may find the object deleted (its message deleted meanwhile): the tag is skipped,
    the record does not fail. (S3 says "no such key", not "access denied", only to a role that may list the bucket.)"""
    from postbox.integrations import s3

    attachment_id = uploaded(api)
    message_id = create(api, "alice", [attachment_id], target_type="user", target_id="bob").get_json()["id"]
    s3_client().delete_object(Bucket=s3.bucket(), Key=s3.object_key(attachment_id))
    invocations = stream.invocations("FanoutFunction", monkeypatch)
    stream.drain()
    assert invocations and all(response == {"batchItemFailures": []} for _, response in invocations)
    assert [entry["id"] for entry in api.get("/api/v1/inbox", user="bob").get_json()["items"]] == [message_id]
    assert stored(attachment_id) is None


def test_deleting_a_message_deletes_its_objects_and_items(api, stream):
    gone = [uploaded(api), uploaded(api, data=b"second file")]
    kept = uploaded(api)
    message_id = create(api, "alice", gone).get_json()["id"]
    create(api, "alice", [kept])
    stream.drain()
    assert api.delete(f"{MESSAGING}/{message_id}", user="alice").status_code == 204
    stream.drain()
    for attachment_id in gone:
        assert stored(attachment_id) is None and item(attachment_id) is None
        assert api.get(f"{ATTACHMENTS}/{attachment_id}", user="alice").status_code == 404
    assert stored(kept) == TEXT and item(kept)["state"] == "linked"


def test_a_redelivered_remove_is_harmless(api, stream):
    from postbox.logic import attachments
    from postbox.logic.changes import Change
    from postbox.logic.fanout import fan_out

    attachment_id = uploaded(api)
    message_id = create(api, "alice", [attachment_id]).get_json()["id"]
    stream.drain()
    from postbox.dal import messages

    old = messages.get(message_id)
    api.delete(f"{MESSAGING}/{message_id}", user="alice")
    stream.drain()
    fan_out(Change("REMOVE", None, old))
    assert stored(attachment_id) is None and item(attachment_id) is None
    assert attachments.mark_linked([attachment_id]) == 0  # a late tagging retry finds nothing to tag


# -- DHIS2: POST /api/fileResources -------------------------------------------------------------------------------


def upload_resource(api, user: str = "alice", data: bytes = TEXT, filename: str = "register.txt",
                    content_type: str = "text/plain", domain: str | None = "MESSAGE_ATTACHMENT", **kwargs):
    import io

    query = {"domain": domain} if domain else {}
    return api.post(FILE_RESOURCES, user=user, query_string=query,
                    data={"file": (io.BytesIO(data), filename, content_type)}, **kwargs)


def web_message(status: int, reason: str, message: str) -> dict:
    return {"httpStatus": reason, "httpStatusCode": status, "status": "ERROR", "message": message}


def test_file_resource_upload_is_a_202_web_message_and_a_pending_attachment(api):
    import hashlib

    with dynamodb_requests() as calls:
        response = upload_resource(api, filename="C:\\Users\\alice\\register.txt")
    assert response.status_code == 202
    assert calls == {"BatchGetItem": 1, "PutItem": 1}  # the caller's entry (inactive check) before the write
    body = response.get_json()
    resource = body["response"]["fileResource"]
    assert body == {"httpStatus": "Accepted", "httpStatusCode": 202, "status": "OK",
                    "message": "File resource created",
                    "response": {"responseType": "FileResource", "fileResource": {
                        "id": resource["id"], "name": "register.txt", "displayName": "register.txt",
                        "contentType": "text/plain", "contentLength": len(TEXT),
                        "contentMd5": hashlib.md5(TEXT).hexdigest(), "domain": "MESSAGE_ATTACHMENT",
                        "storageStatus": "STORED"}}}
    assert UID.fullmatch(resource["id"])
    assert stored(resource["id"]) == TEXT
    assert state_tag(resource["id"]) == "pending"
    assert (item(resource["id"])["state"], item(resource["id"])["via"]) == ("pending", "fileResources")
    # It links like a presigned upload, and downloads as the same bytes.
    assert create(api, "alice", [resource["id"]]).status_code == 201
    location = api.get(f"{ATTACHMENTS}/{resource['id']}", user="bob").headers["Location"]
    assert requests.get(location, timeout=10).content == TEXT


def test_binary_content_survives_the_gateway(api):
    data = bytes(range(256)) * 40 + b"\r\n--boundary\r\n"
    response = upload_resource(api, data=data, filename="photo.png", content_type="image/png")
    assert response.status_code == 202
    assert stored(response.get_json()["response"]["fileResource"]["id"]) == data


@pytest.mark.parametrize(("kwargs", "status", "reason", "message"), [
    ({"domain": None}, 409, "Conflict",
     "Domain DATA_VALUE is not supported: Postbox stores message attachments only (domain=MESSAGE_ATTACHMENT)."),
    ({"domain": "DOCUMENT"}, 409, "Conflict",
     "Domain DOCUMENT is not supported: Postbox stores message attachments only (domain=MESSAGE_ATTACHMENT)."),
    ({"domain": "FOO"}, 400, "Bad Request",
     "Value 'FOO' is not valid for parameter domain. Valid values are: [DATA_VALUE, PUSH_ANALYSIS, DOCUMENT, "
     "MESSAGE_ATTACHMENT, USER_AVATAR, ORG_UNIT, ICON, JOB_DATA]"),
    ({"data": b""}, 409, "Conflict", "Could not read file or file is empty."),
    ({"filename": "x" * 256 + ".txt"}, 409, "Conflict", "The file name must be at most 255 characters."),
])
def test_file_resource_errors(api, kwargs, status, reason, message):
    response = upload_resource(api, **kwargs)
    assert (response.status_code, response.get_json()) == (status, web_message(status, reason, message))


@pytest.mark.parametrize(("sent_type", "stored_type", "served_type"), [
    ("application/octet-stream", "application/octet-stream", "application/octet-stream"),
    ("text/html", "text/html", "application/octet-stream"),
    ("image/svg+xml", "image/svg+xml", "application/octet-stream"),
    ("application/x-unknown; charset=binary", "application/x-unknown", "application/octet-stream"),
    ("not a type", "application/octet-stream", "application/octet-stream"),
    ("image/png", "image/png", "image/png"),
])
def test_file_resources_take_any_type_and_nothing_downloads_to_render(api, sent_type, stored_type, served_type):
    """DHIS2 takes files of any type; every download is an attachment of a type no browser runs
    (docs/dhis2.md#differences-from-dhis2)."""
    response = upload_resource(api, filename="page.html", content_type=sent_type)
    assert response.status_code == 202, response.get_json()
    resource = response.get_json()["response"]["fileResource"]
    assert resource["contentType"] == stored_type
    assert create(api, "alice", [resource["id"]]).status_code == 201
    redirect = api.get(f"{ATTACHMENTS}/{resource['id']}", user="bob")
    assert redirect.status_code == 302
    assert redirect.headers["X-Content-Type-Options"] == "nosniff"
    download = requests.get(redirect.headers["Location"], timeout=10)
    assert download.content == TEXT
    assert download.headers["Content-Type"] == served_type
    assert download.headers["Content-Disposition"] == 'attachment; filename="page.html"'


def test_file_resources_on_the_versioned_path(api):
    import io

    response = api.post("/api/40/fileResources/", user="alice", query_string={"domain": "MESSAGE_ATTACHMENT"},
                        data={"file": (io.BytesIO(TEXT), "r.txt", "text/plain")})
    assert response.status_code == 202
    assert stored(response.get_json()["response"]["fileResource"]["id"]) == TEXT


def test_file_resource_size_limit(api, settings):
    settings(ATTACHMENT_MAX_BYTES=10)
    response = upload_resource(api)
    assert (response.status_code, response.get_json()) == (409, web_message(
        409, "Conflict", f"File size can't be bigger than 10, current file size {len(TEXT)}."))


def test_file_resource_without_a_file_part_is_400(api):
    import io

    from urllib3 import encode_multipart_formdata

    text_field, text_type = encode_multipart_formdata({"file": "a text field, not a file"})
    for kwargs in ({"data": {"other": (io.BytesIO(TEXT), "x.txt", "text/plain")}},
                   {"data": text_field, "content_type": text_type}):
        response = api.post(FILE_RESOURCES, user="alice", query_string={"domain": "MESSAGE_ATTACHMENT"}, **kwargs)
        assert (response.status_code, response.get_json()) == (400, web_message(
            400, "Bad Request", "Required request part 'file' is not present"))
    for body, content_type in (('{"file": "x"}', "application/json"), ("x", "multipart/form-data")):
        response = api.post(FILE_RESOURCES, user="alice", query_string={"domain": "MESSAGE_ATTACHMENT"}, data=body,
                            content_type=content_type)
        assert (response.status_code, response.get_json()) == (400, web_message(
            400, "Bad Request", "The request must be multipart/form-data with a boundary."))


# -- the bucket and the permissions in template.yaml ---------------------------------------------------------------


def test_the_lifecycle_rule_expires_what_uploads_are_tagged_pending(aws):
    """moto never runs lifecycle rules: check that the rule, the POST policy's tag and the local bucket agree."""
    from postbox.integrations import s3
    from postbox.settings import AttachmentSettings
    from postbox_local import template

    [rule] = template.bucket_definition()["LifecycleConfiguration"]["Rules"]
    assert rule == {"Id": "ExpirePendingUploads", "Status": "Enabled", "Prefix": s3.PREFIX,
                    "TagFilters": [{"Key": s3.STATE_TAG, "Value": s3.PENDING}], "ExpirationInDays": 1}
    assert f"<Tag><Key>{s3.STATE_TAG}</Key><Value>{s3.PENDING}</Value></Tag>" in s3.tagging_xml(s3.PENDING)
    assert rule["ExpirationInDays"] * 86400 == AttachmentSettings().ATTACHMENT_PENDING_SECONDS
    local = s3_client().get_bucket_lifecycle_configuration(Bucket=s3.bucket())["Rules"]
    assert local == [{"ID": "ExpirePendingUploads", "Status": "Enabled", "Expiration": {"Days": 1},
                      "Filter": {"And": {"Prefix": "attachments/",
                                         "Tags": [{"Key": "postbox-state", "Value": "pending"}]}}}]


def test_the_bucket_lets_browsers_post_forms_and_follow_downloads(aws):
    from postbox.integrations import s3

    [rule] = s3_client().get_bucket_cors(Bucket=s3.bucket())["CORSRules"]
    assert set(rule["AllowedMethods"]) == {"GET", "HEAD", "POST"}
    assert rule["AllowedOrigins"] == ["*"]  # locally any origin; on AWS the AttachmentAllowedOrigins listed
    assert "Content-Disposition" in rule["ExposeHeaders"]


def test_the_api_passes_multipart_bodies_through_as_binary():
    from postbox_local import template

    assert "multipart~1form-data" in template.resources()["Api"]["Properties"]["BinaryMediaTypes"]


def _s3_statements(props: dict) -> list[dict]:
    statements = [s for policy in props.get("Policies") or [] if isinstance(policy, dict)
                  for s in policy.get("Statement", [])]
    return [s for s in statements if any(str(a).startswith("s3:") for a in
                                         (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]))]


def test_s3_permissions_are_least_privilege():
    from postbox.integrations import s3
    from postbox_local import template

    objects = {"Fn::Sub": f"${{AttachmentsBucket.Arn}}/{s3.PREFIX}*"}
    bucket = {"Fn::GetAtt": "AttachmentsBucket.Arn"}
    expected = {
        "CreateAttachmentFunction": {"s3:PutObject", "s3:PutObjectTagging"},      # signs the upload form
        "UploadFileResourceFunction": {"s3:PutObject", "s3:PutObjectTagging"},
        "GetAttachmentFunction": {"s3:GetObject"},                                # signs the download URL
        "CreateMessageFunction": {"s3:GetObject", "s3:DeleteObject", "s3:ListBucket"},
        "FanoutFunction": {"s3:PutObjectTagging", "s3:DeleteObject", "s3:ListBucket"},
    }
    granted: dict[str, set[str]] = {}
    for name, spec in template.resources().items():
        if spec["Type"] != "AWS::Serverless::Function":
            continue
        for statement in _s3_statements(spec["Properties"]):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert "s3:*" not in actions and statement["Effect"] == "Allow", name
            wanted = bucket if actions == ["s3:ListBucket"] else objects
            assert statement["Resource"] == wanted, (name, actions)
            granted.setdefault(name, set()).update(actions)
    assert {name: granted.get(name, set()) for name in expected} == expected
