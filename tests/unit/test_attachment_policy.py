"""Attachments without AWS (docs/attachments.md): the presigned POST's policy conditions and signature, the presigned
GET,
Content-Disposition, multipart parsing and the attachment settings. moto enforces none of the policy, so the
policy is read back and checked here exactly as S3 would see it."""

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse

import pytest
from pydantic import ValidationError

from postbox.errors import BadRequest
from postbox.settings import DEFAULT_ATTACHMENT_CONTENT_TYPES, AttachmentSettings

KEY = "attachments/Abcdefghijk"


@pytest.fixture
def s3(monkeypatch):
    """The S3 integration with a fresh client (test credentials from conftest; presigning is local)."""
    from postbox.integrations import s3

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    s3.client.cache_clear()
    yield s3
    s3.client.cache_clear()


def policy_of(fields: dict) -> dict:
    return json.loads(base64.b64decode(fields["policy"]))


def equalities(policy: dict) -> dict:
    return {name: value for condition in policy["conditions"] if isinstance(condition, dict)
            for name, value in condition.items()}


def test_the_policy_fixes_key_type_tag_and_size_range(s3):
    form = s3.presigned_post(KEY, "application/pdf", 26214400, 900)
    policy = policy_of(form["fields"])
    fixed = equalities(policy)
    assert fixed["bucket"] == "postbox-local-attachments"
    assert fixed["key"] == KEY
    assert fixed["Content-Type"] == "application/pdf"
    assert fixed["tagging"] == ("<Tagging><TagSet><Tag><Key>postbox-state</Key><Value>pending</Value></Tag>"
                                "</TagSet></Tagging>")
    assert fixed["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert fixed["x-amz-credential"].endswith("/us-east-1/s3/aws4_request")
    assert ["content-length-range", 1, 26214400] in policy["conditions"]
    # Only exact matches and the size range: no starts-with condition leaves the key or the type open.
    assert all(isinstance(c, dict) or c[0] == "content-length-range" for c in policy["conditions"])


def test_the_fields_carry_every_value_the_policy_fixes(s3):
    form = s3.presigned_post(KEY, "text/csv", 1000, 900)
    fixed = equalities(policy_of(form["fields"]))
    assert {name: form["fields"][name] for name in fixed if name != "bucket"} == {
        name: value for name, value in fixed.items() if name != "bucket"}
    assert set(form["fields"]) == {*fixed} - {"bucket"} | {"policy", "x-amz-signature"}


def test_the_policy_expires_when_the_form_says(s3):
    before = datetime.now(UTC).replace(microsecond=0)
    form = s3.presigned_post(KEY, "text/plain", 10, 900)
    after = datetime.now(UTC)
    expiration = datetime.strptime(policy_of(form["fields"])["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before + timedelta(seconds=900) <= expiration <= after + timedelta(seconds=900)


def test_the_signature_is_sigv4_over_the_policy(s3):
    """What S3 verifies: HMAC-SHA256 of the base64 policy under the date/region/service signing key."""
    form = s3.presigned_post(KEY, "text/plain", 10, 900)
    fields = form["fields"]
    _, date, region, service, _ = fields["x-amz-credential"].split("/")

    def sign(key: bytes, text: str) -> bytes:
        return hmac.new(key, text.encode(), hashlib.sha256).digest()

    signing_key = sign(sign(sign(sign(b"AWS4testing", date), region), service), "aws4_request")
    assert fields["x-amz-signature"] == hmac.new(signing_key, fields["policy"].encode(), hashlib.sha256).hexdigest()


def test_urls_are_regional_in_aws_and_point_at_the_endpoint_locally(s3, monkeypatch):
    assert s3.presigned_post(KEY, "text/plain", 10, 900)["url"] == (
        "https://postbox-local-attachments.s3.us-east-1.amazonaws.com/")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")  # what the local stack's functions see
    s3.client.cache_clear()
    assert s3.presigned_post(KEY, "text/plain", 10, 900)["url"] == "http://127.0.0.1:5000/postbox-local-attachments"
    assert s3.presigned_get(KEY, content_disposition="attachment", content_type="text/plain", expires_in=60) \
        .startswith(f"http://127.0.0.1:5000/postbox-local-attachments/{KEY}?")


def test_the_download_url_is_short_lived_and_signs_its_response_headers(s3):
    url = urlparse(s3.presigned_get(KEY, content_disposition='attachment; filename="a.pdf"',
                                    content_type="application/pdf", expires_in=300))
    query = {name: values[0] for name, values in parse_qs(url.query).items()}
    assert url.path == f"/{KEY}"
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Expires"] == "300"
    assert query["response-content-disposition"] == 'attachment; filename="a.pdf"'
    assert query["response-content-type"] == "application/pdf"
    assert query["X-Amz-Signature"]


@pytest.mark.parametrize(("filename", "header"), [
    ("report.pdf", 'attachment; filename="report.pdf"'),
    ("my report (v2); final.pdf", 'attachment; filename="my report (v2); final.pdf"'),
    ('say "hi".txt', """attachment; filename="say _hi_.txt"; filename*=UTF-8''say%20%22hi%22.txt"""),
    ("back\\slash.txt", """attachment; filename="back_slash.txt"; filename*=UTF-8''back%5Cslash.txt"""),
    ("Régistre.csv", """attachment; filename="R_gistre.csv"; filename*=UTF-8''R%C3%A9gistre.csv"""),
    ("数据.xlsx", """attachment; filename="__.xlsx"; filename*=UTF-8''%E6%95%B0%E6%8D%AE.xlsx"""),
    ("100%.txt", 'attachment; filename="100%.txt"'),
    ("tab\there.txt", """attachment; filename="tab_here.txt"; filename*=UTF-8''tab%09here.txt"""),
])
def test_content_disposition_is_safe_for_any_filename(filename, header):
    from postbox.logic.attachments import content_disposition

    assert content_disposition(filename) == header
    assert header.isascii() and "\n" not in header and "\r" not in header


# -- multipart bodies (DHIS2's fileResources upload) --------------------------------------------------------------

BOUNDARY = "----testBoundary"


def multipart_event(disposition: str, content: bytes, *, part_type: str | None = "text/plain",
                    encode: bool = True) -> SimpleNamespace:
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
    if part_type:
        head += f"Content-Type: {part_type}\r\n"
    body = head.encode("utf-8") + b"\r\n" + content + f"\r\n--{BOUNDARY}--\r\n".encode()
    return SimpleNamespace(body=base64.b64encode(body).decode() if encode else body.decode("latin-1"),
                           is_base64_encoded=encode,
                           headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"})


@pytest.mark.parametrize(("disposition", "filename"), [
    ('form-data; name="file"; filename="plain.txt"', "plain.txt"),
    ('form-data; name="file"; filename="héllo wörld.txt"', "héllo wörld.txt"),           # raw UTF-8, as browsers send
    ('form-data; name="file"; filename="C:\\Users\\alice\\r.txt"', "C:\\Users\\alice\\r.txt"),  # old IE: a full path
    ('form-data; name="file"; filename="say \\"hi\\".txt"', 'say "hi".txt'),
    ("form-data; name=\"file\"; filename*=UTF-8''na%C3%AFve%20file.txt", "naïve file.txt"),
    ("form-data; name=file; filename=token.txt", "token.txt"),
])
def test_file_parts_keep_bytes_and_filenames(disposition, filename):
    from postbox.http.multipart import file_parts

    content = bytes(range(256)) + b"\r\n--" + BOUNDARY.encode()[:-1] + b"\r\n\r\n"
    [part] = file_parts(multipart_event(disposition, content), "file")
    assert (part.filename, part.content_type, part.content) == (filename, "text/plain", content)


def test_file_parts_skip_other_fields_and_plain_values():
    from postbox.http.multipart import file_parts

    assert file_parts(multipart_event('form-data; name="other"; filename="a.txt"', b"x"), "file") == []
    assert file_parts(multipart_event('form-data; name="file"', b"just a value", part_type=None), "file") == []


@pytest.mark.parametrize("event", [
    SimpleNamespace(body="x", is_base64_encoded=False, headers={"content-type": "multipart/form-data"}),
    SimpleNamespace(body="{}", is_base64_encoded=False, headers={"content-type": "application/json"}),
    SimpleNamespace(body="!!not base64!!", is_base64_encoded=True,
                    headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"}),
    SimpleNamespace(body=None, is_base64_encoded=False, headers={}),
])
def test_bodies_that_are_not_multipart_are_400(event):
    from postbox.http.multipart import file_parts

    with pytest.raises(BadRequest):
        file_parts(event, "file")


# -- settings --------------------------------------------------------------------------------------------------------


def test_attachment_defaults():
    settings = AttachmentSettings()
    assert settings.ATTACHMENT_MAX_BYTES == 25 * 1024 * 1024
    assert settings.ATTACHMENT_CONTENT_TYPES == DEFAULT_ATTACHMENT_CONTENT_TYPES
    assert {"text/plain", "text/csv", "application/json", "application/pdf", "image/png", "image/jpeg", "image/gif",
            "application/zip"} < set(settings.ATTACHMENT_CONTENT_TYPES)
    assert sum("openxmlformats" in t for t in settings.ATTACHMENT_CONTENT_TYPES) == 3
    assert (settings.ATTACHMENT_UPLOAD_EXPIRES_SECONDS, settings.ATTACHMENT_DOWNLOAD_EXPIRES_SECONDS,
            settings.ATTACHMENT_PENDING_SECONDS, settings.ATTACHMENTS_PER_MESSAGE_MAX) == (900, 300, 86400, 10)


def test_content_types_come_from_a_comma_separated_variable():
    settings = AttachmentSettings(ATTACHMENT_CONTENT_TYPES=" Text/Plain, image/png,,text/plain ")
    assert settings.ATTACHMENT_CONTENT_TYPES == ("text/plain", "image/png")


@pytest.mark.parametrize(("name", "value"), [
    ("ATTACHMENT_CONTENT_TYPES", "text"), ("ATTACHMENT_CONTENT_TYPES", "text/plain; charset=utf-8"),
    ("ATTACHMENT_CONTENT_TYPES", " , "), ("ATTACHMENT_DOWNLOAD_EXPIRES_SECONDS", "301"),
    ("ATTACHMENT_MAX_BYTES", "0"), ("ATTACHMENTS_PER_MESSAGE_MAX", "51"),
])
def test_bad_attachment_settings_stop_the_start(name, value):
    with pytest.raises(ValidationError) as raised:
        AttachmentSettings(**{name: value})
    assert raised.value.errors()[0]["loc"] == (name,)


def test_attachment_ids_are_dhis2_uids():
    from postbox.ids import is_uid, new_uid

    ids = {new_uid() for _ in range(500)}
    assert len(ids) == 500 and all(is_uid(i) and len(i) == 11 and i[0].isalpha() for i in ids)
