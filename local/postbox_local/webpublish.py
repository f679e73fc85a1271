"""`postbox web publish --stack NAME`: put the built web inbox (web/dist) and its config.json (the stack's
`WebConfig` output) in the stack's web bucket, then have CloudFront drop its copies of the page and config.

Hashed bundles are cached for a year; index.html and config.json are revalidated on every load.
"""

import json
import mimetypes
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from postbox_local.webapp import WEB_DIST

REVALIDATE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"
REQUIRED_OUTPUTS = ("WebBucketName", "WebDistributionId", "WebConfig")


class PublishError(Exception):
    pass


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    try:
        described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    except Exception as error:
        raise PublishError(f"cannot read stack {stack!r}: {error}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    missing = [name for name in REQUIRED_OUTPUTS if name not in outputs]
    if missing:
        raise PublishError(f"stack {stack!r} has no output {', '.join(missing)} (deploy the current template.yaml)")
    return outputs


def files(dist: Path) -> list[tuple[Path, str]]:
    """(file, key) pairs, the page last so that it never names a bundle that is not there yet."""
    if not (dist / "index.html").is_file():
        raise PublishError(f"{dist} is not built: run `make web` first")
    found = sorted((p, p.relative_to(dist).as_posix()) for p in dist.rglob("*") if p.is_file())
    return sorted(found, key=lambda pair: pair[1] == "index.html")


def _content_type(key: str) -> str:
    content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    return f"{content_type}; charset=utf-8" if content_type.startswith("text/") or key.endswith(".js") else content_type


def publish(outputs: dict[str, str], s3: Any, cloudfront: Any, dist: Path = WEB_DIST,
            progress: Callable[[str], None] = print) -> int:
    """Uploads the files and config.json; returns how many objects were written."""
    bucket = outputs["WebBucketName"]
    uploads = files(dist)
    try:
        config = json.loads(outputs["WebConfig"])
    except ValueError as error:
        raise PublishError(f"the WebConfig output is not JSON: {error}") from None
    s3.put_object(Bucket=bucket, Key="config.json", Body=json.dumps(config, indent=2).encode(),
                  ContentType="application/json", CacheControl=REVALIDATE)
    written = 1
    for path, key in uploads:
        cache = IMMUTABLE if key.startswith("assets/") else REVALIDATE
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=_content_type(key),
                      CacheControl=cache)
        written += 1
    progress(f"uploaded {written} objects to s3://{bucket}")
    cloudfront.create_invalidation(DistributionId=outputs["WebDistributionId"], InvalidationBatch={
        "Paths": {"Quantity": 3, "Items": ["/", "/index.html", "/config.json"]},
        "CallerReference": f"postbox-web-{time.time_ns()}"})
    progress(f"invalidated /, /index.html and /config.json on {outputs['WebDistributionId']}"
             + (f"; open {outputs['WebUrl']}" if outputs.get("WebUrl") else ""))
    return written
