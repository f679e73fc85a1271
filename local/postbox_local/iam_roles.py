"""IAM proven from the code's own calls (docs/testing.md#iam), the roles' side: each function's role as
CloudFormation sees it (template.yaml translated by aws-sam-translator, the intrinsic functions resolved to the
local stack's resources), and the verdict on the calls postbox_local.iam recorded: a call the role would deny
fails the suite; grants no call used are listed, and fail the whole suite's run (STRICT_ENV, set by `make test`)
unless tests/iam_kept.txt keeps them with a reason.
"""

import fnmatch
import hashlib
import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from postbox_local.iam import Request, secret_arn, table_arn
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

    def __init__(self, translated: dict[str, Any], parameters: tuple[tuple[str, str], ...] = ()):
        self.template = translated
        declared = translated.get("Parameters", {})
        self.parameters = {name: str(spec.get("Default", "")) for name, spec in declared.items()}
        self.parameters.update(LOCAL_PARAMETERS)
        self.parameters.update(parameters)
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


def role_statements(translated: dict[str, Any], function: str,
                    parameters: tuple[tuple[str, str], ...] = ()) -> list[dict[str, Any]]:
    """The inline policy statements of a function's role, intrinsics resolved with the template's defaults (or the
    given parameters) (managed policies grant the code nothing here: SAM attaches them for Lambda's own reads of
    streams and queues, logs and traces)."""
    resolver = Resolver(translated, parameters)
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
        by_parameters = {r.parameters for r in requests if r.parameters}
        roles = {parameters: role_statements(translated, function, parameters) for parameters in by_parameters}
        refused = sorted((r for r in requests if not allowed(roles.get(r.parameters, statements), r)),
                         key=lambda r: (r.action, r.resource))
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


# Grants kept although no call of the suite uses them, each with its reason: `function action resource  # reason`
# (function `*`: every function's such grant). A full run (STRICT_ENV=1) fails on an unused grant not listed, and
# on a line that keeps nothing (its grant is used now, or gone).
KEPT = ROOT / "tests" / "iam_kept.txt"
STRICT_ENV = "POSTBOX_IAM_STRICT"


@dataclass(frozen=True)
class Kept:
    function: str
    action: str
    resource: str
    reason: str

    def keeps(self, function: str, action: str, resource: str) -> bool:
        return self.function in ("*", function) and (self.action, self.resource) == (action, resource)


def load_kept(text: str | None = None) -> list[Kept]:
    text = KEPT.read_text() if text is None else text
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        grant, _, reason = line.partition("  # ")
        parts = grant.split()
        if len(parts) != 3 or not reason.strip():
            raise ValueError(f"{KEPT.name}:{number}: expected `function action resource  # reason`: {line!r}")
        out.append(Kept(*parts, reason.strip()))
    return out


def _reason(kept: list[Kept], function: str, action: str, resource: str) -> str | None:
    return next((k.reason for k in kept if k.keeps(function, action, resource)), None)


def unjustified(verdict: Verdict, kept: list[Kept]) -> list[str]:
    """What fails a full run besides denials: unused grants no line keeps, and lines that keep nothing."""
    out = [f"unused {function}: {action} on {resource} (neither used nor kept in tests/{KEPT.name})"
           for function, grants in verdict.unused.items() for action, resource in grants
           if _reason(kept, function, action, resource) is None]
    out += [f"STALE tests/{KEPT.name}: {k.function} {k.action} {k.resource} (no unused grant of that name)"
            for k in kept if not any(k.keeps(function, action, resource)
                                     for function, grants in verdict.unused.items() for action, resource in grants)]
    return out


def report(verdict: Verdict, kept: list[Kept] | None = None) -> str:
    kept = kept or []
    lines = []
    for function, requests in verdict.denied.items():
        for request in requests:
            keys = ", ".join(f"{k}={list(v)}" for k, v in request.context)
            lines.append(f"DENIED {function}: {request.action} on {request.resource}" + (f" ({keys})" if keys else ""))
    for function in verdict.unknown:
        lines.append(f"UNKNOWN function {function}: not in template.yaml")
    for function, grants in verdict.unused.items():
        for action, resource in grants:
            reason = _reason(kept, function, action, resource)
            lines.append(f"unused {function}: {action} on {resource}" + (f"  # kept: {reason}" if reason else ""))
    return "\n".join(lines)
