"""Attachments end to end (docs/attachments.md): real HTTP to the gateway, uploads straight to moto server's S3 with the
presigned form a client gets, downloads by following the redirect, the stream tagging and deleting objects."""

import os
import time
from urllib.parse import urlparse

import boto3
import pytest
import requests

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

PDF = b"%PDF-1.4\n" + os.urandom(3000) + b"\n%%EOF\n"


def announce(stack, user: str, *, filename: str = "minutes.pdf", content_type: str = "application/pdf",
             size: int = len(PDF)) -> requests.Response:
    return stack.call("POST", "/api/v1/attachments", user=user,
                      json={"filename": filename, "content_type": content_type, "size": size})


def upload(stack, user: str, data: bytes = PDF, **declared) -> dict:
    created = announce(stack, user, size=len(data), **declared)
    assert created.status_code == 201, created.text
    form = created.json()
    posted = requests.post(form["upload"]["url"], data=form["upload"]["fields"],
                           files={"file": ("whatever.bin", data)}, timeout=30)
    assert posted.status_code == 204, posted.text
    return form


def send(stack, user: str, attachments: list[str], target_type: str = "xform", target_id: str = "34"):
    return stack.call("POST", "/api/v1/messaging", user=user, json={
        "target_type": target_type, "target_id": target_id, "message": "Minutes attached", "attachments": attachments})


def moto_s3(form: dict):
    """A client for the moto server the stack's presigned URLs point at (the URL names it)."""
    url = urlparse(form["upload"]["url"])
    return boto3.client("s3", endpoint_url=f"{url.scheme}://{url.netloc}", region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def wait_for(predicate, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return result


def test_upload_link_list_and_download_the_same_bytes(local_stack):
    form = upload(local_stack, "alice", filename="Minutes – week 47.pdf")
    assert urlparse(form["upload"]["url"]).hostname == "127.0.0.1"  # moto server, not AWS
    created = send(local_stack, "alice", [form["id"]])
    assert created.status_code == 201, created.text
    message = created.json()
    assert list(message) == ["id", "verb", "message", "user", "target_id", "target_type", "timestamp"]

    listing = local_stack.call("GET", f"/api/v1/messaging/{message['id']}/attachments", user="bob")
    assert listing.json() == [{"id": form["id"], "filename": "Minutes – week 47.pdf",
                               "content_type": "application/pdf", "size": len(PDF)}]

    redirect = local_stack.call("GET", f"/api/v1/attachments/{form['id']}", user="bob", allow_redirects=False)
    assert redirect.status_code == 302
    assert "X-Amz-Expires=300" in redirect.headers["Location"]
    download = local_stack.call("GET", f"/api/v1/attachments/{form['id']}", user="bob")  # follows the redirect
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"] == (
        "attachment; filename=\"Minutes _ week 47.pdf\"; filename*=UTF-8''Minutes%20%E2%80%93%20week%2047.pdf")

    s3 = moto_s3(form)
    bucket, key = "postbox-local-attachments", f"attachments/{form['id']}"
    wait_for(lambda: s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
             == [{"Key": "postbox-state", "Value": "linked"}])


def test_strangers_wrong_roles_and_non_uploaders_are_refused(local_stack):
    on_project = upload(local_stack, "alice")
    assert send(local_stack, "alice", [on_project["id"]], "project", "12").status_code == 201
    pending = upload(local_stack, "carol")

    def status(user: str, attachment_id: str) -> int:
        response = local_stack.call("GET", f"/api/v1/attachments/{attachment_id}", user=user, allow_redirects=False)
        if response.status_code == 404:
            assert response.json() == {"detail": "Not found."}
        return response.status_code

    assert status("dave", on_project["id"]) == 404       # a stranger
    assert status("bob", on_project["id"]) == 404        # a role on the project's form, none on the project
    assert status("erin", on_project["id"]) == 302       # readonly on the project
    assert status("alice", pending["id"]) == 404         # not the uploader of a pending file
    assert status("admin", pending["id"]) == 404         # not even a superuser
    assert status("carol", pending["id"]) == 302
    assert status("alice", "Abcdefghijk") == 404         # unknown: the same answer


@pytest.mark.parametrize(("declared", "detail"), [
    ({"size": 25 * 1024 * 1024 + 1}, "size: 26214401 bytes is over the limit of 26214400 bytes (25 MiB); larger "
                                     "files cannot be attached"),
    ({"size": -1}, "Invalid request: size: must be at least 1 byte"),
    ({"content_type": "application/x-msdownload", "filename": "setup.exe"},
     "content_type: 'application/x-msdownload' is not allowed; allowed types: text/plain, text/csv, "
     "application/json, application/pdf, image/png, image/jpeg, image/gif, application/zip, "
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document, "
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet, "
     "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
])
def test_oversize_negative_and_disallowed_uploads_are_400(local_stack, declared, detail):
    response = announce(local_stack, "alice", **declared)
    assert response.status_code == 400
    assert response.json()["detail"] == detail


def test_a_second_link_is_409(local_stack):
    form = upload(local_stack, "alice")
    assert send(local_stack, "alice", [form["id"]]).status_code == 201
    again = send(local_stack, "alice", [form["id"]], "user", "bob")
    assert (again.status_code, again.json()) == (
        409, {"detail": f"Attachment '{form['id']}' is already used or not a valid attachment."})


def test_dhis2_upload_through_the_gateway_and_deletion_with_the_message(local_stack):
    image = bytes(range(256)) * 64
    uploaded = local_stack.call("POST", "/api/fileResources", user="carol", params={"domain": "MESSAGE_ATTACHMENT"},
                                files={"file": ("chart.png", image, "image/png")})
    assert uploaded.status_code == 202, uploaded.text
    resource = uploaded.json()["response"]["fileResource"]
    assert (resource["name"], resource["contentType"], resource["contentLength"]) == ("chart.png", "image/png",
                                                                                      len(image))
    message = send(local_stack, "carol", [resource["id"]], "user", "bob").json()
    redirect = local_stack.call("GET", f"/api/v1/attachments/{resource['id']}", user="bob", allow_redirects=False)
    assert requests.get(redirect.headers["Location"], timeout=30).content == image

    assert local_stack.call("DELETE", f"/api/v1/messaging/{message['id']}", user="bob").status_code == 204
    wait_for(lambda: local_stack.call("GET", f"/api/v1/attachments/{resource['id']}", user="carol",
                                      allow_redirects=False).status_code == 404)
    gone = requests.get(redirect.headers["Location"], timeout=30)  # the object is gone too: S3 (and moto) answer
    assert gone.status_code in (403, 404) and gone.content != image  # 403 to a signer who may not list the bucket
