"""DHIS2 message attachments (docs/attachments.md, docs/dhis2.md): upload through /api/fileResources or the older
/api/messageConversations/attachments, link on create ([{"id"}]) and reply (?attachments=a,b), download through
/{mc}/{msg}/attachments/{file} with DHIS2's check order, and no side door."""

import io
from urllib.parse import parse_qs, urlparse

import requests
from support.dhis2 import MC, TEXT, assert_web_message, uid_of

CONTENT = b"district,cases\nD1,4\n"


def upload(api, user: str = "alice", *, path: str = "/api/fileResources", data: bytes = CONTENT,
           name: str = "cases.csv", content_type: str = "text/csv") -> str:
    query = {"domain": "MESSAGE_ATTACHMENT"} if path == "/api/fileResources" else None
    response = api.post(path, user=user, query_string=query, data={"file": (io.BytesIO(data), name, content_type)},
                        content_type="multipart/form-data")
    assert response.status_code in (200, 202), response.get_json()
    body = response.get_json()
    return body["response"]["fileResource"]["id"] if response.status_code == 202 else body["id"]


def conversation_with(api, files: list[str], *, sender: str = "alice", to: str = "bob") -> str:
    return uid_of(api.post(MC, user=sender, json={"subject": "Cases", "text": "see the file",
                                                  "users": [{"id": to}], "attachments": [{"id": f} for f in files]}))


def first_message(api, conversation: str, user: str = "bob") -> dict:
    body = api.get(f"{MC}/{conversation}", user=user, query_string={"fields": "messages[id,attachments]"}).get_json()
    return body["messages"][0]


def download(api, conversation: str, message: str, file: str, user: str):
    return api.get(f"{MC}/{conversation}/{message}/attachments/{file}", user=user)


def test_upload_link_on_create_and_download_the_same_bytes(api, stream):
    file = upload(api)
    conversation = conversation_with(api, [file])
    message = first_message(api, conversation)
    assert message["attachments"] == [{"id": file, "name": "cases.csv", "displayName": "cases.csv",
                                       "contentType": "text/csv", "contentLength": len(CONTENT)}]

    response = download(api, conversation, message["id"], file, "bob")
    assert response.status_code == 302
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    url = response.headers["Location"]
    query = parse_qs(urlparse(url).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"] and int(query["X-Amz-Expires"][0]) <= 300
    fetched = requests.get(url, timeout=10)
    assert fetched.content == CONTENT
    assert fetched.headers["Content-Disposition"] == 'attachment; filename="cases.csv"'

    stream.drain()   # the file is tagged linked, so the pending-upload lifecycle rule leaves it alone
    from postbox.integrations import s3

    tags = s3.client().get_object_tagging(Bucket=s3.bucket(), Key=s3.object_key(file))["TagSet"]
    assert {"Key": s3.STATE_TAG, "Value": s3.LINKED} in tags


def test_download_checks_run_in_dhis2s_order(api):
    file, other = upload(api), upload(api)
    conversation = conversation_with(api, [file])
    message = first_message(api, conversation)["id"]

    assert_web_message(download(api, "abcdefghijk", message, file, "bob"), 404,
                       "No message conversation with uid 'abcdefghijk'")
    assert_web_message(download(api, conversation, message, file, "dave"), 403,
                       "Not authorized to access this conversation.")
    assert_web_message(download(api, conversation, "Zzzzzzzzzzz", file, "bob"), 404,
                       f"No message with uid 'Zzzzzzzzzzz' in messageConversation '{conversation}")
    assert_web_message(download(api, conversation, message, other, "bob"), 404,
                       f"No messageattachment found with id '{other}'")
    assert download(api, conversation, message, file, "admin").status_code == 302   # a superuser may read


def test_an_internal_notes_file_is_for_ticket_managers_only(api):
    from postbox.logic.directory import parse_document, upsert

    ticket = uid_of(api.post(f"{MC}/feedback", user="bob", query_string={"subject": "Broken"}, data="help",
                             headers=TEXT))
    file = upload(api, "carol")                                  # carol: support group, F_MANAGE_TICKETS
    note = api.post(f"{MC}/{ticket}", user="carol", query_string={"internal": "true", "attachments": file},
                    data="checked the logs", headers=TEXT)
    assert note.status_code == 201
    messages = api.get(f"{MC}/{ticket}", user="carol", query_string={"fields": "messages[id,internal]"}).get_json()
    internal = next(m["id"] for m in messages["messages"] if m["internal"])

    assert download(api, ticket, internal, file, "carol").status_code == 302
    # Ticket managers are the same everywhere (docs/dhis2.md): ALL is enough (DHIS2 wants the feedback group here).
    assert download(api, ticket, internal, file, "admin").status_code == 302
    assert_web_message(download(api, ticket, internal, file, "bob"), 409, "Not authorized to access this message")
    assert api.get(f"/api/v1/attachments/{file}", user="bob").status_code == 404      # no side door either
    upsert(parse_document({"users": [{"id": "bob", "username": "bob", "groups": ["field-team", "support"]}]}))
    assert download(api, ticket, internal, file, "bob").status_code == 302


def test_link_errors_are_dhis2s_409s_and_change_nothing(api):
    file = upload(api)
    conversation_with(api, [file])

    reused = api.post(MC, user="alice", json={"subject": "Again", "text": "t", "users": [{"id": "bob"}],
                                             "attachments": [file]})
    assert_web_message(reused, 409, f"Attachment '{file}' is already used or not a valid attachment.")
    unknown = api.post(f"{MC}/{conversation_with(api, [])}", user="alice", query_string={"attachments": "xyz"},
                       data="The message", headers=TEXT)
    assert_web_message(unknown, 409, "Attachment 'xyz' not found.")            # DHIS2's own test #6
    foreign = upload(api, "carol")
    stolen = api.post(MC, user="alice", json={"subject": "S", "text": "t", "users": [{"id": "bob"}],
                                             "attachments": [{"id": foreign}]})
    assert_web_message(stolen, 409, f"Attachment '{foreign}' not found.")      # no existence oracle
    titles = [c["displayName"] for c in api.get(MC, user="bob").get_json()["messageConversations"]]
    assert "Again" not in titles and "S" not in titles
    # A reply cannot take a file another message holds either, and adds no message.
    conversation = conversation_with(api, [])
    taken = api.post(f"{MC}/{conversation}", user="alice", query_string={"attachments": file},
                     data="The same file again", headers=TEXT)
    assert_web_message(taken, 409, f"Attachment '{file}' is already used or not a valid attachment.")
    messages = api.get(f"{MC}/{conversation}", user="alice", query_string={"fields": "messages[text]"}).get_json()
    assert [m["text"] for m in messages["messages"]] == ["see the file"]


def test_create_and_reply_check_each_upload_as_onas_create_does(api):
    """A file announced but never uploaded is a 409; an object that is not what was declared (moto does not enforce
    the presigned POST's policy) is deleted before the 409. Nothing is written either way."""
    from test_attachments_on_moto import TEXT as REGISTER
    from test_attachments_on_moto import announce, post_form, stored

    conversation = conversation_with(api, [])

    def create(file: str):
        return api.post(MC, user="alice", json={"subject": "Files", "text": "t", "users": [{"id": "bob"}],
                                                "attachments": [{"id": file}]})

    def reply(file: str):
        return api.post(f"{MC}/{conversation}", user="alice", query_string={"attachments": file}, data="a reply",
                        headers=TEXT)

    for send in (create, reply):
        never = announce(api)["id"]
        assert_web_message(send(never), 409, f"Attachment '{never}' has not been uploaded yet: POST the upload "
                                             "form first.")
        broken = announce(api, size=5)
        assert post_form(broken, REGISTER).status_code == 204   # 28 bytes under a policy for 5
        assert_web_message(send(broken["id"]), 409, (
            f"Attachment '{broken['id']}' was uploaded as {len(REGISTER)} bytes of type text/plain, not the declared 5 "
            "bytes of type text/plain; the upload was deleted, upload the file again."))
        assert stored(broken["id"]) is None
    assert "Files" not in [c["displayName"] for c in api.get(MC, user="bob").get_json()["messageConversations"]]
    messages = api.get(f"{MC}/{conversation}", user="alice", query_string={"fields": "messages[text]"}).get_json()
    assert [m["text"] for m in messages["messages"]] == ["see the file"]


def test_reply_links_files_and_the_native_download_follows_conversation_access(api):
    conversation = conversation_with(api, [])
    first, second = upload(api, "bob"), upload(api, "bob", path=f"{MC}/attachments", name="b.csv")
    reply = api.post(f"{MC}/{conversation}", user="bob", query_string={"attachments": f"{first},{second}"},
                     data="both files", headers=TEXT)
    assert reply.status_code == 201
    messages = api.get(f"{MC}/{conversation}", user="alice", query_string={"fields": "messages[attachments]"})
    assert [a["id"] for a in messages.get_json()["messages"][1]["attachments"]] == [first, second]
    assert api.get(f"/api/v1/attachments/{first}", user="alice").status_code == 302   # a participant
    assert api.get(f"/api/v1/attachments/{first}", user="dave").status_code == 404    # a stranger


def test_hard_delete_removes_the_files(api, stream):
    from postbox.logic.directory import parse_document, upsert

    upsert(parse_document({"users": [{"id": "alice", "username": "alice", "authorities": ["F_METADATA_IMPORT"]}]}))
    file = upload(api)
    conversation = conversation_with(api, [file])
    stream.drain()
    assert api.request("DELETE", f"{MC}/{conversation}", user="alice").status_code == 200
    stream.drain()
    from postbox.integrations import s3

    assert s3.head(s3.object_key(file)) is None
    assert api.get(f"/api/v1/attachments/{file}", user="alice").status_code == 404
