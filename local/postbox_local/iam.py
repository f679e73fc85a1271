"""IAM proven from the code's own calls (docs/testing.md#iam).

moto checks no IAM, so the suite does: every AWS API call a function's code makes while the local gateway, the
stream pump or a queue consumer runs it is recorded as the IAM request it is (action, resource, condition keys),
attributed to that function, and checked against the function's role (postbox_local.iam_roles).

Recording: `install(directory)` patches botocore once per process (tests, the local stack process); each process
appends what it saw, once per distinct request, to its own JSON-lines file in `directory`.
"""

import json
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from postbox_local.state import (
    ACCOUNT_ID,
    REGION,
)

ENV = "POSTBOX_IAM_LOG"
_function: ContextVar[str | None] = ContextVar("postbox_iam_function", default=None)
_lock = threading.Lock()
_seen: set[str] = set()
_log: Path | None = None


@contextmanager
def acting_as(function: str) -> Iterator[None]:
    """AWS calls made inside are the function's (its code, or Lambda acting for it: an on-failure destination)."""
    token = _function.set(function)
    try:
        yield
    finally:
        _function.reset(token)


# -- what a call asks IAM for -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    action: str                     # service:Action as IAM names it
    resource: str                   # the ARN IAM evaluates (or "*" where the action has no resource)
    context: tuple[tuple[str, tuple[str, ...]], ...] = ()   # condition keys, e.g. dynamodb:LeadingKeys
    # The template parameters the call's settings stand for (e.g. a test's MQTT_TOPIC_BASE), checked against the
    # role as a stack deployed with those parameters would have it.
    parameters: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "resource": self.resource, "context": [[k, list(v)] for k, v in self.context],
                "parameters": [list(pair) for pair in self.parameters]}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> "Request":
        return cls(raw["action"], raw["resource"], tuple((k, tuple(v)) for k, v in raw.get("context", [])),
                   tuple((k, v) for k, v in raw.get("parameters", [])))


def table_arn(name: str, index: str | None = None) -> str:
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"
    return f"{arn}/index/{index}" if index else arn


def _leading_keys(keys: list[dict[str, Any]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """dynamodb:LeadingKeys, each key's last segment (an id) as "~": `DIR#user#~` still matches `DIR#user#*`, and
    the record stays one line per kind of key, not per item."""
    values = sorted({re.sub(r"#[^#]*$", "#~", str(next(iter(k["PK"].values()))))
                     for k in keys if isinstance(k, dict) and isinstance(k.get("PK"), dict)})
    return (("dynamodb:LeadingKeys", tuple(values)),) if values else ()


TRANSACT_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck":
                    "ConditionCheckItem", "Get": "GetItem"}


def dynamodb_requests(operation: str, params: dict[str, Any]) -> list[Request]:
    if operation in ("TransactWriteItems", "TransactGetItems"):
        out = []
        for item in params.get("TransactItems", []):
            (kind, spec), = item.items()
            key = spec.get("Key") or {"PK": spec.get("Item", {}).get("PK")}
            out.append(Request(f"dynamodb:{TRANSACT_ACTIONS[kind]}", table_arn(spec["TableName"]),
                               _leading_keys([key])))
        return out
    if operation in ("BatchGetItem", "BatchWriteItem"):
        out = []
        for name, spec in params.get("RequestItems", {}).items():
            if operation == "BatchGetItem":
                keys = spec.get("Keys", [])
            else:
                keys = [(r.get("PutRequest") or {}).get("Item") or (r.get("DeleteRequest") or {}).get("Key") or {}
                        for r in spec]
            out.append(Request(f"dynamodb:{operation}", table_arn(name), _leading_keys(keys)))
        return out
    key = params.get("Key") or params.get("Item")
    context = _leading_keys([key]) if key else ()
    if operation == "Query":  # the partition key's value, from the key condition (PK, or an index's GSInPK)
        names, values = params.get("ExpressionAttributeNames", {}), params.get("ExpressionAttributeValues", {})
        for name, value in re.findall(r"(#\w+)\s*=\s*(:\w+)", params.get("KeyConditionExpression", "")):
            if names.get(name, "").endswith("PK") and value in values:
                context = _leading_keys([{"PK": values[value]}])
    return [Request(f"dynamodb:{operation}", table_arn(params["TableName"], params.get("IndexName")), context)]


S3_ACTIONS = {"HeadObject": "GetObject", "GetObject": "GetObject", "PutObject": "PutObject",
              "PutObjectTagging": "PutObjectTagging", "GetObjectTagging": "GetObjectTagging",
              "DeleteObject": "DeleteObject", "DeleteObjects": "DeleteObject", "ListObjectsV2": "ListBucket",
              "CopyObject": "PutObject"}


def s3_requests(operation: str, params: dict[str, Any]) -> list[Request]:
    bucket = params.get("Bucket", "")
    action = f"s3:{S3_ACTIONS.get(operation, operation)}"
    if operation == "ListObjectsV2":
        return [Request(action, f"arn:aws:s3:::{bucket}")]
    if operation == "DeleteObjects":
        objects = params.get("Delete", {}).get("Objects", [])
        return [Request(action, f"arn:aws:s3:::{bucket}/{o['Key']}") for o in objects]
    out = [Request(action, f"arn:aws:s3:::{bucket}/{params.get('Key', '')}")]
    if operation in ("PutObject", "CopyObject") and params.get("Tagging"):  # tags set with the object need their own
        out.append(Request("s3:PutObjectTagging", out[0].resource))
    return out


# S3 answers a request for a missing object with 404 only to a caller that may list the bucket (403 otherwise).
S3_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
S3_OBJECT_READS = frozenset({"HeadObject", "GetObject", "GetObjectTagging", "PutObjectTagging"})


def queue_arn(url: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{url.rstrip('/').rsplit('/', 1)[-1]}"


def requests_of(service: str, operation: str, params: dict[str, Any]) -> list[Request]:
    """The IAM requests one API call makes."""
    if service == "dynamodb":
        return dynamodb_requests(operation, params)
    if service == "s3":
        return s3_requests(operation, params)
    if service == "sqs":
        action = "SendMessage" if operation == "SendMessageBatch" else "DeleteMessage" \
            if operation == "DeleteMessageBatch" else operation
        return [Request(f"sqs:{action}", queue_arn(params.get("QueueUrl", "")))]
    if service == "iot-data" and operation == "Publish":
        topic = f"arn:aws:iot:{REGION}:{ACCOUNT_ID}:topic/{params.get('topic', '')}"
        mqtt = (("MqttTopicBase", os.environ.get("MQTT_TOPIC_BASE", "postbox")),
                ("MqttRetain", os.environ.get("MQTT_RETAIN", "false").strip().lower()))
        out = [Request("iot:Publish", topic, parameters=mqtt)]
        if params.get("retain"):
            out.append(Request("iot:RetainPublish", topic, parameters=mqtt))
        return out
    if service == "sesv2" and operation == "SendEmail":
        sender = params.get("FromEmailAddress", "").rsplit("<", 1)[-1].rstrip(">").strip()
        return [Request("ses:SendEmail", f"arn:aws:ses:{REGION}:{ACCOUNT_ID}:identity/{sender}")]
    if service == "sns" and operation == "Publish":
        if params.get("PhoneNumber"):
            return [Request("sns:Publish", "*")]  # an SMS to a number: no resource ARN
        return [Request("sns:Publish", params.get("TopicArn") or params.get("TargetArn") or "*")]
    if service == "secretsmanager":
        return [Request(f"secretsmanager:{operation}", secret_arn(params.get("SecretId", "")))]
    if service == "ssm" and operation in ("GetParameter", "GetParameters"):
        names = params.get("Names") or [params.get("Name", "")]
        return [Request(f"ssm:{operation}", parameter_arn(name)) for name in names]
    prefix = {"iot-data": "iot", "sesv2": "ses"}.get(service, service)
    return [Request(f"{prefix}:{operation}", "*")]


def parameter_arn(name: str) -> str:
    if name.startswith("arn:"):
        return name
    return f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:parameter/{name.lstrip('/')}"


def secret_arn(secret_id: str) -> str:
    if secret_id.startswith("arn:"):
        return secret_id.rsplit("-", 1)[0] if secret_id.count(":") >= 6 else secret_id
    return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:{secret_id}"


# -- recording ------------------------------------------------------------------------------------------------------


_captures: list[dict[str, set[Request]]] = []


@contextmanager
def capture() -> Iterator[dict[str, set[Request]]]:
    """The requests functions make inside the block, by function (besides the run's record)."""
    calls: dict[str, set[Request]] = {}
    _captures.append(calls)
    try:
        yield calls
    finally:
        _captures.remove(calls)


def _record(service: str, operation: str, params: dict[str, Any]) -> None:
    function = _function.get()
    if function is None or (_log is None and not _captures):
        return
    try:
        found = requests_of(service, operation, params)
    except Exception as error:  # a call we cannot read is a call we cannot prove: record it as such
        found = [Request(f"{service}:{operation}", f"unreadable:{error}")]
    lines = []
    with _lock:
        for calls in _captures:
            calls.setdefault(function, set()).update(found)
        if _log is None:
            return
        for request in found:
            line = json.dumps({"function": function, **request.to_json()}, sort_keys=True)
            if line not in _seen:
                _seen.add(line)
                lines.append(line)
        if lines:
            with _log.open("a") as out:
                out.write("".join(f"{line}\n" for line in lines))


def install(directory: str | Path) -> None:
    """Record the calls of this process's functions into `directory` (idempotent)."""
    global _log
    if _log is not None:
        return
    # botocore is patched only where recording is installed (the tests, the local stack)
    import concurrent.futures

    import botocore.client
    import botocore.signers

    Path(directory).mkdir(parents=True, exist_ok=True)
    _log = Path(directory) / f"calls-{os.getpid()}.jsonl"
    make_api_call = botocore.client.BaseClient._make_api_call

    def recorded(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        service = self.meta.service_model.service_name
        _record(service, operation_name, api_params)
        try:
            return make_api_call(self, operation_name, api_params)
        except Exception as error:
            code = str((getattr(error, "response", None) or {}).get("Error", {}).get("Code", ""))
            if service == "s3" and operation_name in S3_OBJECT_READS and code in S3_MISSING_CODES:
                _record("s3", "ListObjectsV2", {"Bucket": api_params.get("Bucket", "")})  # what made it a 404
            raise

    botocore.client.BaseClient._make_api_call = recorded
    # A function's worker threads act for it (a new thread starts with no context of its own).
    submit = concurrent.futures.ThreadPoolExecutor.submit

    def submit_acting(self: Any, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        function = _function.get()
        if function is None:
            return submit(self, fn, *args, **kwargs)

        def run(*a: Any, **k: Any) -> Any:
            with acting_as(function):
                return fn(*a, **k)

        return submit(self, run, *args, **kwargs)

    concurrent.futures.ThreadPoolExecutor.submit = submit_acting  # type: ignore[method-assign]
    presign_url = botocore.signers.generate_presigned_url
    presign_post = botocore.signers.generate_presigned_post

    def presigned_url(self: Any, ClientMethod: str, Params: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        # Whoever follows the URL acts with this role's credentials: the role needs what the URL does.
        operation = self.meta.method_to_api_mapping.get(ClientMethod, ClientMethod)
        _record(self.meta.service_model.service_name, operation, Params or {})
        return presign_url(self, ClientMethod, Params=Params, **kwargs)

    def presigned_post(self: Any, Bucket: str, Key: str, Fields: dict[str, Any] | None = None,
                       Conditions: list[Any] | None = None, **kwargs: Any) -> Any:
        _record("s3", "PutObject", {"Bucket": Bucket, "Key": Key})
        if "tagging" in (Fields or {}):
            _record("s3", "PutObjectTagging", {"Bucket": Bucket, "Key": Key})
        return presign_post(self, Bucket, Key, Fields=Fields, Conditions=Conditions, **kwargs)

    botocore.signers.generate_presigned_url = presigned_url
    botocore.signers.generate_presigned_post = presigned_post


def install_from_env() -> None:
    if os.environ.get(ENV):
        install(os.environ[ENV])


def recorded(directory: str | Path) -> dict[str, set[Request]]:
    """Every request recorded in `directory`, by function."""
    out: dict[str, set[Request]] = {}
    for path in sorted(Path(directory).glob("calls-*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                raw = json.loads(line)
                out.setdefault(raw["function"], set()).add(Request.from_json(raw))
    return out
