"""Amazon S3: the attachments bucket. Presigned POST (upload) and GET (download), HeadObject, tags, deletes.

Every object lives under `attachments/{attachment id}`: a client's filename never becomes part of a key.
An object's `postbox-state` tag says whether it is pending (uploaded, not yet on a message) or linked; the
bucket's lifecycle rule (template.yaml) expires pending objects a day after upload.

Presigned URLs are SigV4 and regional, from the same client everywhere: in AWS they point at S3, locally at
moto server (AWS_ENDPOINT_URL; botocore falls back to path-style addressing for an IP endpoint).
"""

from dataclasses import dataclass
from functools import cache
from typing import Any

from postbox.settings import BucketSettings

PREFIX = "attachments/"
STATE_TAG = "postbox-state"
PENDING = "pending"
LINKED = "linked"
MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


@cache
def client():
    import boto3  # cold start: boto3 loads with the first call, not at import
    from botocore.config import Config  # cold start: boto3 loads with the first call, not at import

    config = Config(signature_version="s3v4", connect_timeout=2, read_timeout=10,
                    retries={"mode": "standard", "max_attempts": 3},
                    s3={"addressing_style": "virtual", "us_east_1_regional_endpoint": "regional"})
    return boto3.client("s3", config=config)


def bucket() -> str:
    return BucketSettings.get().BUCKET_NAME


def object_key(attachment_id: str) -> str:
    return f"{PREFIX}{attachment_id}"


def tagging_xml(state: str) -> str:
    """The POST form's `tagging` field (S3 takes object tags there as XML)."""
    return f"<Tagging><TagSet><Tag><Key>{STATE_TAG}</Key><Value>{state}</Value></Tag></TagSet></Tagging>"


def presigned_post(key: str, content_type: str, max_bytes: int, expires_in: int) -> dict[str, Any]:
    """{"url", "fields"}: a form whose policy fixes the key, the Content-Type, the pending tag and
    1 <= size <= max_bytes. `fields` carries every value the policy fixes; a client posts them plus `file`."""
    tagging = tagging_xml(PENDING)
    return client().generate_presigned_post(
        Bucket=bucket(), Key=key,
        Fields={"Content-Type": content_type, "tagging": tagging},
        Conditions=[{"Content-Type": content_type}, {"tagging": tagging}, ["content-length-range", 1, max_bytes]],
        ExpiresIn=expires_in,
    )


def presigned_get(key: str, *, content_disposition: str, content_type: str, expires_in: int) -> str:
    """A GET URL whose response carries the given Content-Disposition and Content-Type (signed parameters)."""
    return client().generate_presigned_url(
        "get_object", ExpiresIn=expires_in,
        Params={"Bucket": bucket(), "Key": key, "ResponseContentDisposition": content_disposition,
                "ResponseContentType": content_type},
    )


@dataclass(frozen=True)
class StoredObject:
    size: int
    content_type: str


def _error_code(error: Exception) -> str:
    return str((getattr(error, "response", None) or {}).get("Error", {}).get("Code", ""))


def head(key: str) -> StoredObject | None:
    """The stored object's size and type; None if there is none. (S3 answers 404, not 403, for a missing key
    only to callers with s3:ListBucket: the template grants it to the functions that call this.)"""
    try:
        response = client().head_object(Bucket=bucket(), Key=key)
    except Exception as error:
        if _error_code(error) in MISSING_CODES:
            return None
        raise
    return StoredObject(int(response["ContentLength"]), str(response.get("ContentType", "")))


def put(key: str, data: bytes, content_type: str) -> None:
    """Store an upload that came through the API (DHIS2's fileResources), tagged pending like a POST upload."""
    client().put_object(Bucket=bucket(), Key=key, Body=data, ContentType=content_type,
                        Tagging=f"{STATE_TAG}={PENDING}")


def mark(key: str, state: str) -> bool:
    """Set the state tag; False when the object is gone (idempotent for retried stream records)."""
    try:
        client().put_object_tagging(Bucket=bucket(), Key=key,
                                    Tagging={"TagSet": [{"Key": STATE_TAG, "Value": state}]})
    except Exception as error:
        if _error_code(error) in MISSING_CODES:
            return False
        raise
    return True


def delete(key: str) -> None:
    client().delete_object(Bucket=bucket(), Key=key)


def delete_many(keys: list[str]) -> None:
    """DeleteObjects in chunks of 1000; deleting a missing key succeeds, so retries are harmless."""
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        response = client().delete_objects(Bucket=bucket(), Delete={"Objects": [{"Key": k} for k in chunk],
                                                                     "Quiet": True})
        errors = response.get("Errors") or []
        if errors:
            raise RuntimeError(f"DeleteObjects failed for {len(errors)} keys: {errors[0]}")
