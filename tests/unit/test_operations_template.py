"""The operations choices of template.yaml (docs/runbook.md), read from the template as CloudFormation sees it
(SAM translated): every alarm reaches a person, the alarms a careful operator expects exist, logs are kept a
bounded time, the API logs its access and has no stray stage, the cursor secret is not in any environment."""

from pathlib import Path

import pytest

from postbox_local import iam_roles

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not iam_roles.translator_python().exists(),
                                reason="aws-sam-translator comes with the SAM CLI (make sam-validate installs it)")


@pytest.fixture(scope="module")
def translated() -> dict:
    return iam_roles.translate((ROOT / "template.yaml").read_text())


def of_type(translated: dict, kind: str) -> dict[str, dict]:
    return {name: spec for name, spec in translated["Resources"].items() if spec["Type"] == kind}


def alarm_metrics(translated: dict) -> set[tuple[str, str, str]]:
    """(namespace, metric, the Ref of its first dimension's value or the value) of every alarm."""
    out = set()
    for spec in of_type(translated, "AWS::CloudWatch::Alarm").values():
        props = spec["Properties"]
        value = props["Dimensions"][0]["Value"]
        ref = value.get("Ref") or str(value.get("Fn::GetAtt", [""])[0]) if isinstance(value, dict) else value
        out.add((props["Namespace"], props["MetricName"], ref))
    return out


def test_every_alarm_notifies_the_alarm_topic(translated):
    alarms = of_type(translated, "AWS::CloudWatch::Alarm")
    assert len(alarms) >= 10
    for name, spec in alarms.items():
        assert spec["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert spec["Properties"]["OKActions"] == [{"Ref": "AlarmTopic"}], name
        assert "docs/runbook.md#" in spec["Properties"]["AlarmDescription"], name   # what to do, for whom


def test_an_optional_email_subscribes_to_the_alarms(translated):
    assert translated["Parameters"]["AlarmEmail"]["Default"] == ""
    subscription = translated["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Protocol"] == "email"
    assert translated["Conditions"]["HasAlarmEmail"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}


def test_the_expected_alarms_exist(translated):
    metrics = alarm_metrics(translated)
    for queue in ("StreamFailureQueue", "CallbackFailureQueue", "ChannelFailureQueue"):
        assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", queue) in metrics, queue
    for function in ("FanoutFunction", "PublisherFunction"):
        assert ("AWS/Lambda", "IteratorAge", function) in metrics, function
    for function in ("FanoutFunction", "PublisherFunction", "CallbackFunction", "ChannelFunction",
                     "IotAuthorizerFunction"):
        assert ("AWS/Lambda", "Errors", function) in metrics, function
        assert ("AWS/Lambda", "Throttles", function) in metrics, function
    api = {(m, spec["Properties"].get("ExtendedStatistic")) for spec in of_type(
        translated, "AWS::CloudWatch::Alarm").values() for m in [spec["Properties"]["MetricName"]]
        if spec["Properties"]["Namespace"] == "AWS/ApiGateway"}
    assert api == {("5XXError", None), ("Latency", "p99")}


def test_a_dashboard_shows_the_same(translated):
    body = translated["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
    for metric in ("5XXError", "Latency", "IteratorAge", "ApproximateNumberOfMessagesVisible", "Errors", "Throttles"):
        assert metric in body, metric


def test_logs_are_kept_a_bounded_time_and_every_function_writes_to_them(translated):
    assert translated["Parameters"]["LogRetentionDays"]["Default"] == 30
    groups = of_type(translated, "AWS::Logs::LogGroup")
    assert groups and all(g["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"} for g in groups.values())
    for name, spec in of_type(translated, "AWS::Lambda::Function").items():
        assert spec["Properties"]["LoggingConfig"]["LogGroup"] == {"Ref": "FunctionLogGroup"}, name


def test_the_api_logs_access_and_has_one_throttled_traced_stage(translated):
    stages = of_type(translated, "AWS::ApiGateway::Stage")
    assert list(stages) == ["ApiStage"]     # no "Stage" stage that SAM adds without an OpenApiVersion
    props = stages["ApiStage"]["Properties"]
    assert props["AccessLogSetting"]["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    assert props["TracingEnabled"] is True
    assert props["MethodSettings"][0]["ThrottlingRateLimit"] == {"Ref": "ApiThrottleRate"}


def test_no_secret_is_resolved_into_an_environment():
    text = (ROOT / "template.yaml").read_text()
    assert "resolve:secretsmanager" not in text


def test_the_iot_authorizer_has_reserved_concurrency(translated):
    props = translated["Resources"]["IotAuthorizerFunction"]["Properties"]
    assert props["ReservedConcurrentExecutions"] == {"Ref": "IotAuthorizerConcurrency"}
    assert translated["Parameters"]["IotAuthorizerConcurrency"]["Default"] == 20
