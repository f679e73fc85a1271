"""IAM proven from the code's own calls (docs/testing.md#iam).

moto checks no IAM, so the suite does: every AWS API call a function's code makes while the local gateway, the
stream pump or a queue consumer runs it is recorded as the IAM request it is (action, resource, condition keys),
attributed to that function, and checked against the function's role as CloudFormation sees it — template.yaml
translated by aws-sam-translator, the intrinsic functions resolved to the local stack's resources. A call the role
would deny fails the suite; grants no call used are listed.

Recording: `install(directory)` patches botocore once per process (tests, the local stack process); each process
appends what it saw, once per distinct request, to its own JSON-lines file in `directory`.
"""

import fnmatch
import hashlib
import json
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from postbox_local.state import (
    ACCOUNT_ID,
    BUCKET_NAME,
    FAILURE_QUEUE,
    IDEMPOTENCY_TABLE_NAME,
    LOCAL_QUEUES,
    REGION,
    TABLE_NAME,
)
from postbox_local.template import ROOT

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

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "resource": self.resource, "context": [[k, list(v)] for k, v in self.context]}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> "Request":
        return cls(raw["action"], raw["resource"], tuple((k, tuple(v)) for k, v in raw.get("context", [])))


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
    return [Request(action, f"arn:aws:s3:::{bucket}/{params.get('Key', '')}")]


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
        out = [Request("iot:Publish", topic)]
        if params.get("retain"):
            out.append(Request("iot:RetainPublish", topic))
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
    prefix = {"iot-data": "iot", "sesv2": "ses"}.get(service, service)
    return [Request(f"{prefix}:{operation}", "*")]


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
    import botocore.client
    import botocore.signers

    Path(directory).mkdir(parents=True, exist_ok=True)
    _log = Path(directory) / f"calls-{os.getpid()}.jsonl"
    make_api_call = botocore.client.BaseClient._make_api_call

    def recorded(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        _record(self.meta.service_model.service_name, operation_name, api_params)
        return make_api_call(self, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = recorded
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


# -- the roles, as CloudFormation sees them --------------------------------------------------------------------------

TRANSLATE = """
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

class NoManagedPolicies:
    def load(self):
        return {}

template = yaml_parse(sys.stdin.read())
for name, resource in template.get("Resources", {}).items():  # code as `sam package` leaves it: in S3
    properties = resource.get("Properties") or {}
    for uri in ("CodeUri", "ContentUri"):
        if isinstance(properties.get(uri), str):
            properties[uri] = f"s3://postbox-artifacts/{name}.zip"
print(json.dumps(transform(template, {}, NoManagedPolicies())))
"""


def translator_python() -> Path:
    """aws-sam-translator lives with the SAM CLI in .tools (it pins a pydantic of its own)."""
    return ROOT / ".tools" / "bin" / "python"


def translate(template_text: str) -> dict[str, Any]:
    """template.yaml as CloudFormation sees it (SAM transformed), cached by content."""
    digest = hashlib.sha256(template_text.encode()).hexdigest()[:16]
    cache = ROOT / ".pytest_cache" / "sam-translated" / f"{digest}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    done = subprocess.run([str(translator_python()), "-c", TRANSLATE], input=template_text, capture_output=True,
                          text=True, check=False, env={**os.environ, "AWS_DEFAULT_REGION": REGION})
    if done.returncode != 0:
        raise RuntimeError(f"aws-sam-translator failed: {done.stderr[-2000:]}")
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(done.stdout)
    return json.loads(done.stdout)


LOCAL_PARAMETERS = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT_ID,
                    "AWS::StackName": "postbox-local", "AWS::URLSuffix": "amazonaws.com",
                    "EmailSender": "postbox@example.org", "IotDataEndpoint": "https://local-ats.iot.us-east-1.amazonaws.com",
                    "CognitoDomainPrefix": "postbox-local"}


def _local_attributes() -> dict[str, dict[str, str]]:
    queues = {"StreamFailureQueue": FAILURE_QUEUE, **LOCAL_QUEUES}
    out = {"Table": {"Ref": TABLE_NAME, "Arn": table_arn(TABLE_NAME),
                     "StreamArn": f"{table_arn(TABLE_NAME)}/stream/local"},
           "IdempotencyTable": {"Ref": IDEMPOTENCY_TABLE_NAME, "Arn": table_arn(IDEMPOTENCY_TABLE_NAME)},
           "AttachmentsBucket": {"Ref": BUCKET_NAME, "Arn": f"arn:aws:s3:::{BUCKET_NAME}"},
           "CursorSecret": {"Ref": secret_arn("postbox-local-cursor")}}
    for logical, name in queues.items():
        out[logical] = {"Ref": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{name}",
                        "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}", "QueueName": name}
    return out


class Resolver:
    """Resolves the intrinsic functions of a translated template against the local stack's names."""

    def __init__(self, translated: dict[str, Any]):
        self.template = translated
        declared = translated.get("Parameters", {})
        self.parameters = {name: str(spec.get("Default", "")) for name, spec in declared.items()}
        self.parameters.update(LOCAL_PARAMETERS)
        self.attributes = _local_attributes()

    def condition(self, name: str) -> bool:
        return bool(self.value(self.template.get("Conditions", {})[name]))

    def ref(self, name: str) -> Any:
        if name in self.parameters:
            return self.parameters[name]
        if name in self.attributes:
            return self.attributes[name]["Ref"]
        return f"unresolved:{name}"

    def getatt(self, resource: str, attribute: str) -> str:
        return self.attributes.get(resource, {}).get(attribute, f"unresolved:{resource}.{attribute}")

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.value(n) for n in node]
        if not isinstance(node, dict):
            return node
        if len(node) != 1:
            return {k: self.value(v) for k, v in node.items()}
        (name, arg), = node.items()
        if name == "Ref":
            return self.ref(arg)
        if name == "Fn::GetAtt":
            resource, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            return self.getatt(resource, attribute)
        if name == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.value(arg[1]))
            return self._sub(text, variables)
        if name == "Fn::If":
            return self.value(arg[1] if self.condition(arg[0]) else arg[2])
        if name == "Fn::Equals":
            left, right = self.value(arg)
            return str(left) == str(right)
        if name == "Fn::Not":
            return not self.value(arg[0])
        if name == "Fn::And":
            return all(self.value(a) for a in arg)
        if name == "Fn::Or":
            return any(self.value(a) for a in arg)
        if name == "Condition":
            return self.condition(arg)
        if name == "Fn::Join":
            return arg[0].join(str(v) for v in self.value(arg[1]))
        if name == "Fn::Select":
            return self.value(arg[1])[int(self.value(arg[0]))]
        if name == "Fn::Split":
            return str(self.value(arg[1])).split(arg[0])
        return {k: self.value(v) for k, v in node.items()}

    def _sub(self, text: str, variables: dict[str, Any]) -> str:
        def one(match: "re.Match[str]") -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name:
                return self.getatt(*name.split(".", 1))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}!]+)\}", one, text)


@dataclass
class Grant:
    """One (action pattern, resource pattern) of an Allow statement of a function's role."""

    action: str
    resource: str
    statement: dict[str, Any] = field(repr=False, hash=False, compare=False)

    def __hash__(self) -> int:
        return hash((self.action, self.resource))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_statements(translated: dict[str, Any], function: str) -> list[dict[str, Any]]:
    """The inline policy statements of a function's role, intrinsics resolved (managed policies grant the code
    nothing here: SAM attaches them for Lambda's own reads of streams and queues, logs and traces)."""
    resolver = Resolver(translated)
    role_name = translated["Resources"][function]["Properties"]["Role"]
    role_logical = role_name["Fn::GetAtt"][0] if isinstance(role_name, dict) and "Fn::GetAtt" in role_name else None
    if role_logical is None:
        return []
    statements: list[dict[str, Any]] = []
    for policy in translated["Resources"][role_logical]["Properties"].get("Policies", []):
        for statement in _as_list(resolver.value(policy["PolicyDocument"]).get("Statement", [])):
            statements.append(statement)
    return statements


def _matches(pattern: str, value: str, *, case: bool = True) -> bool:
    if not case:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def _condition_holds(condition: dict[str, Any], request: Request) -> bool:
    context = dict(request.context)
    for operator, tests in condition.items():
        for key, wanted in tests.items():
            wanted = [str(w) for w in _as_list(wanted)]
            values = context.get(key)
            if operator == "ForAllValues:StringLike":
                # IAM: true for an absent key (no values); the recorder gives the keys of every keyed request.
                if not all(any(_matches(w, v) for w in wanted) for v in values):
                    return False
            elif operator in ("StringEquals", "StringLike"):
                if not values or not any(_matches(w, v) if operator == "StringLike" else w == v
                                         for w in wanted for v in values):
                    return False
            else:
                return False
    return True


def statement_matches(statement: dict[str, Any], request: Request) -> bool:
    actions = [str(a) for a in _as_list(statement.get("Action", []))]
    resources = [str(r) for r in _as_list(statement.get("Resource", []))]
    if not any(_matches(a, request.action, case=False) for a in actions):
        return False
    if not any(_matches(r, request.resource) for r in resources):
        return False
    return _condition_holds(statement.get("Condition", {}), request)


def allowed(statements: list[dict[str, Any]], request: Request) -> bool:
    if any(s.get("Effect") == "Deny" and statement_matches(s, request) for s in statements):
        return False
    return any(s.get("Effect") == "Allow" and statement_matches(s, request) for s in statements)


@dataclass
class Verdict:
    denied: dict[str, list[Request]]            # function -> requests its role would deny
    unused: dict[str, list[tuple[str, str]]]    # function -> (action, resource) grants no request used
    unknown: list[str]                          # recorded functions the template does not have


def check(calls: dict[str, set[Request]], template_text: str | None = None,
          functions: list[str] | None = None) -> Verdict:
    """Each recorded request against its function's role; `functions` limits the unused-grant listing."""
    text = template_text if template_text is not None else (ROOT / "template.yaml").read_text()
    translated = translate(text)
    denied: dict[str, list[Request]] = {}
    unused: dict[str, list[tuple[str, str]]] = {}
    unknown = sorted(f for f in calls if f not in translated["Resources"])
    names = functions if functions is not None else sorted(
        name for name, spec in translated["Resources"].items() if spec["Type"] == "AWS::Lambda::Function")
    for function in sorted(set(calls) | set(names)):
        if function not in translated["Resources"]:
            continue
        statements = role_statements(translated, function)
        requests = calls.get(function, set())
        refused = sorted((r for r in requests if not allowed(statements, r)), key=lambda r: (r.action, r.resource))
        if refused:
            denied[function] = refused
        if function in names:
            for statement in statements:
                if statement.get("Effect") != "Allow":
                    continue
                for action in _as_list(statement.get("Action", [])):
                    for resource in _as_list(statement.get("Resource", [])):
                        single = {**statement, "Action": action, "Resource": resource}
                        if not any(statement_matches(single, r) for r in requests):
                            unused.setdefault(function, []).append((str(action), str(resource)))
    return Verdict(denied, unused, unknown)


def report(verdict: Verdict) -> str:
    lines = []
    for function, requests in verdict.denied.items():
        for request in requests:
            keys = ", ".join(f"{k}={list(v)}" for k, v in request.context)
            lines.append(f"DENIED {function}: {request.action} on {request.resource}" + (f" ({keys})" if keys else ""))
    for function in verdict.unknown:
        lines.append(f"UNKNOWN function {function}: not in template.yaml")
    for function, grants in verdict.unused.items():
        for action, resource in grants:
            lines.append(f"unused {function}: {action} on {resource}")
    return "\n".join(lines)
