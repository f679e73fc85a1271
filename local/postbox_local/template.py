"""template.yaml read as data: the route table, the table definition and the stream consumers.

The local stack uses the same template that `sam deploy` does, so routes and resources cannot drift.
"""

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !Sub, ...) as {"Fn::X": value} mappings."""


def _tag(loader: yaml.Loader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        return {name: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {name: loader.construct_sequence(node, deep=True)}
    return {name: loader.construct_mapping(node, deep=True)}


_CfnLoader.add_multi_constructor("!", _tag)


@dataclass(frozen=True)
class Route:
    method: str
    path: str              # API Gateway form, e.g. /api/v1/messaging/{message_id}
    function: str          # logical id
    code_dir: Path
    authorized: bool
    authorizer: str = "CognitoAuthorizer"

    @property
    def regex(self) -> re.Pattern[str]:
        pattern = re.sub(r"\{(\w+)\+\}", r"(?P<\1>.+)", self.path)
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)
        # API Gateway (REST) routes `/x/` to the resource `/x`; each face's handlers decide whether a trailing
        # slash is accepted (DHIS2's are, docs/dhis2.md).
        return re.compile(f"^{pattern}/?$")

    @property
    def specificity(self) -> tuple[int, int]:
        """API Gateway prefers literal path segments over variables."""
        segments = self.path.strip("/").split("/")
        return (sum(not s.startswith("{") for s in segments), len(segments))


@dataclass(frozen=True)
class StreamConsumer:
    function: str
    code_dir: Path
    batch_size: int
    max_retries: int
    bisect: bool
    filters: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class GatewayResponse:
    status: int
    body: str
    headers: dict[str, str]


@cache
def load() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(), Loader=_CfnLoader)


def resources() -> dict[str, Any]:
    return load()["Resources"]


def _functions() -> dict[str, dict[str, Any]]:
    return {name: spec for name, spec in resources().items() if spec["Type"] == "AWS::Serverless::Function"}


def routes() -> list[Route]:
    found = []
    for name, spec in _functions().items():
        props = spec["Properties"]
        for event in (props.get("Events") or {}).values():
            if event["Type"] != "Api":
                continue
            auth = (event["Properties"].get("Auth") or {}).get("Authorizer")
            found.append(Route(event["Properties"]["Method"].upper(), event["Properties"]["Path"], name,
                               ROOT / props["CodeUri"], authorized=auth != "NONE",
                               authorizer=auth or "CognitoAuthorizer"))
    return sorted(found, key=lambda r: r.specificity, reverse=True)


def stream_consumers() -> list[StreamConsumer]:
    found = []
    for name, spec in _functions().items():
        props = spec["Properties"]
        for event in (props.get("Events") or {}).values():
            if event["Type"] != "DynamoDB":
                continue
            p = event["Properties"]
            filters = [json.loads(f["Pattern"]) for f in (p.get("FilterCriteria") or {}).get("Filters", [])]
            found.append(StreamConsumer(name, ROOT / props["CodeUri"], int(p.get("BatchSize", 100)),
                                        int(p.get("MaximumRetryAttempts", -1)),
                                        bool(p.get("BisectBatchOnFunctionError", False)), filters))
    return found


@dataclass(frozen=True)
class QueueConsumer:
    """An SQS event source mapping of a function."""

    function: str
    code_dir: Path
    queue: str             # logical id of the queue
    batch_size: int


def queue_consumers() -> list[QueueConsumer]:
    found = []
    for name, spec in _functions().items():
        props = spec["Properties"]
        for event in (props.get("Events") or {}).values():
            if event["Type"] != "SQS":
                continue
            queue = event["Properties"]["Queue"]["Fn::GetAtt"]
            logical_id = queue.split(".")[0] if isinstance(queue, str) else queue[0]
            found.append(QueueConsumer(name, ROOT / props["CodeUri"], logical_id,
                                       int(event["Properties"].get("BatchSize", 10))))
    return found


def queue_definition(logical_id: str) -> dict[str, Any]:
    return resources()[logical_id]["Properties"]


def table_definition() -> dict[str, Any]:
    return resources()["Table"]["Properties"]


def parameter_default(name: str) -> Any:
    """A parameter's default, as CloudFormation would pass it (a CommaDelimitedList becomes a list)."""
    spec = load()["Parameters"][name]
    default = spec.get("Default")
    return [item.strip() for item in str(default).split(",")] if spec["Type"] == "CommaDelimitedList" else default


def resolve(value: Any) -> Any:
    """Replace {"Ref": <parameter>} with the parameter's default, recursively."""
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in load().get("Parameters", {}):
            return parameter_default(value["Ref"])
        return {k: resolve(v) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v) for v in value]
    return value


def bucket_definition() -> dict[str, Any]:
    """The attachments bucket's properties, parameters resolved to their defaults."""
    return resolve(resources()["AttachmentsBucket"]["Properties"])


def gateway_responses() -> dict[str, GatewayResponse]:
    api = resources()["Api"]["Properties"]
    out = {}
    for kind, spec in (api.get("GatewayResponses") or {}).items():
        headers = {name: value.strip("'") for name, value in
                   ((spec.get("ResponseParameters") or {}).get("Headers") or {}).items()}
        out[kind] = GatewayResponse(int(spec["StatusCode"]), spec["ResponseTemplates"]["application/json"], headers)
    return out


def authorization_scopes() -> list[str]:
    authorizers = resources()["Api"]["Properties"]["Auth"]["Authorizers"]
    return authorizers["CognitoAuthorizer"]["AuthorizationScopes"]


def global_environment_names() -> list[str]:
    return list(load()["Globals"]["Function"]["Environment"]["Variables"])


def function_environment(function: str) -> dict[str, Any]:
    """A function's environment in AWS, as the template writes it: the Globals' variables and its own."""
    own = (_functions()[function]["Properties"].get("Environment") or {}).get("Variables") or {}
    return {**load()["Globals"]["Function"]["Environment"]["Variables"], **own}


# Valid stand-ins for the template's references (resource names, parameters), where a handler must be imported
# without a stack: the OpenAPI document, the cold-import benchmark, the settings tests.
EXAMPLE_VALUES = {
    "IOT_DATA_ENDPOINT": "https://example-ats.iot.us-east-1.amazonaws.com", "MQTT_QOS": "1", "MQTT_RETAIN": "false",
    "MQTT_TOPIC_BASE": "postbox", "MQTT_FULL_PAYLOAD": "false", "MQTT_PUBLISH_CONCURRENCY": "16",
    "AALAM_DATE_FORMAT": "iso8601",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "CALLBACK_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/callbacks.fifo",
    "CHANNEL_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/channels",
    "COGNITO_ISSUER": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_example", "AWS_ACCOUNT_ID": "123456789012",
    "EMAIL_SENDER": "Postbox <postbox@example.org>", "SMS_SENDER_ID": "Postbox", "WEB_URL": "https://inbox.example.org/",
}
# What Lambda itself adds to every function's environment (among the variables Postbox reads).
LAMBDA_ENVIRONMENT = {"AWS_REGION": "us-east-1"}


def example_environment(function: str | None = None) -> dict[str, str]:
    """A function's environment (every function's, without one) with example values, plus what Lambda adds."""
    written = function_environment(function) if function else \
        {name: value for each in _functions() for name, value in function_environment(each).items()}
    return {**LAMBDA_ENVIRONMENT, **{name: value if isinstance(value, str) else
                                     EXAMPLE_VALUES.get(name, f"example-{name.lower().replace('_', '-')}")
                                     for name, value in written.items()}}
