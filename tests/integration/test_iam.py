"""IAM proven from the code's own calls (docs/testing.md#iam): the AWS calls a function makes are checked against
its role in template.yaml as CloudFormation sees it (postbox_local.iam). The whole run is checked when it ends
(tests/conftest.py); these tests show the check itself refuses what IAM would refuse, and that a grant no call uses
fails a whole-suite run unless tests/iam_kept.txt keeps it with a reason."""

import re
from pathlib import Path

import pytest

from postbox_local import iam, iam_roles

TEMPLATE = (Path(__file__).resolve().parents[2] / "template.yaml").read_text()
pytestmark = pytest.mark.skipif(not iam_roles.translator_python().exists(),
                                reason="aws-sam-translator comes with the SAM CLI (make sam-validate installs it)")


def without(text: str, function: str, line: str) -> str:
    """A copy of the template with one line of one function's block removed."""
    start = text.index(f"\n  {function}:\n")
    following = re.search(r"\n  [A-Za-z#]", text[start + 1:])   # the next resource, or a section's comment
    end = start + 1 + following.start() if following else len(text)
    block = text[start:end]
    assert line in block, (function, line)
    return text[:start] + block.replace(line, "", 1) + text[end:]


def with_line(text: str, function: str, before: str, line: str) -> str:
    """A copy of the template with one line added to one function's block, before the line given."""
    start = text.index(f"\n  {function}:\n")
    following = re.search(r"\n  [A-Za-z#]", text[start + 1:])   # the next resource, or a section's comment
    end = start + 1 + following.start() if following else len(text)
    block = text[start:end]
    assert block.count(before) == 1, (function, before)
    return text[:start] + block.replace(before, line + before) + text[end:]


def test_a_message_create_is_allowed_and_dropping_its_put_grant_fails_the_check(api):
    with iam.capture() as calls:
        response = api.post("/api/v1/messaging", user="alice",
                            json={"target_type": "xform", "target_id": "34", "message": "hi"})
    assert response.status_code == 201
    assert {r.action for r in calls["CreateMessageFunction"]} >= {"dynamodb:BatchGetItem", "dynamodb:PutItem"}
    assert iam_roles.check(calls, TEMPLATE, functions=[]).denied == {}

    copy = without(TEMPLATE, "CreateMessageFunction", "                - dynamodb:PutItem\n")
    denied = iam_roles.check(calls, copy, functions=[]).denied
    assert [(r.action, r.resource) for r in denied["CreateMessageFunction"]] == [
        ("dynamodb:PutItem", iam.table_arn("postbox-local"))]


def test_an_extra_grant_is_unused_and_fails_a_full_run_unless_kept_with_a_reason(api):
    """The mirror of the test above: a grant no call uses is listed, and fails the strict (whole-suite) check until a
    line of tests/iam_kept.txt keeps it; a line that keeps nothing fails too."""
    with iam.capture() as calls:
        response = api.post("/api/v1/messaging", user="alice",
                            json={"target_type": "xform", "target_id": "34", "message": "hi"})
    assert response.status_code == 201
    function, table = "CreateMessageFunction", iam.table_arn("postbox-local")
    before = iam_roles.check(calls, TEMPLATE, functions=[function])
    # what this one create leaves unused (its attachment and idempotency grants), kept for the sake of the test
    kept = [iam_roles.Kept(function, action, resource, "not this test's")
            for action, resource in before.unused[function]]
    assert iam_roles.unjustified(before, kept) == []

    item = "                - dynamodb:{}\n"
    copy = with_line(TEMPLATE, function, item.format("PutItem"), item.format("DeleteItem"))
    after = iam_roles.check(calls, copy, functions=[function])
    assert after.denied == {}
    assert set(after.unused[function]) - set(before.unused[function]) == {("dynamodb:DeleteItem", table)}
    assert iam_roles.unjustified(after, kept) == [
        f"unused {function}: dynamodb:DeleteItem on {table} (neither used nor kept in tests/iam_kept.txt)"]
    reason = iam_roles.load_kept(f"{function} dynamodb:DeleteItem {table}  # a reason\n")
    assert iam_roles.unjustified(after, kept + reason) == []
    assert f"unused {function}: dynamodb:DeleteItem on {table}  # kept: a reason" in \
        iam_roles.report(after, kept + reason).splitlines()
    used = iam_roles.Kept("*", "dynamodb:PutItem", table, "keeps nothing: the create uses it")
    assert iam_roles.unjustified(after, [*kept, *reason, used]) == [
        f"STALE tests/iam_kept.txt: * dynamodb:PutItem {table} (no unused grant of that name)"]
    with pytest.raises(ValueError, match="reason"):
        iam_roles.load_kept(f"{function} dynamodb:DeleteItem {table}\n")


def test_the_committed_kept_grants_each_have_a_reason():
    kept = iam_roles.load_kept()
    assert kept and all(k.reason for k in kept)


def test_an_index_query_needs_the_index_arn(api, stream):
    """The table's ARN does not cover its indexes: DirectoryDeleteFunction's Feed query needs index/Feed."""
    with iam.capture() as calls:
        assert api.post("/api/v1/directory/delete", user="admin", json={"users": ["erin"]}).status_code == 200
    assert iam_roles.check(calls, TEMPLATE, functions=[]).denied == {}
    copy = without(TEMPLATE, "DirectoryDeleteFunction", '              Resource: !Sub "${Table.Arn}/index/Feed"\n')
    copy = copy.replace("              Action: dynamodb:Query           # a deleted entry's listing and feed rows "
                        "(the Feed index)\n", "              Action: dynamodb:Query\n              Resource: "
                        "!GetAtt Table.Arn\n", 1)
    denied = iam_roles.check(calls, copy, functions=[]).denied
    assert any(r.resource.endswith("/index/Feed") for r in denied["DirectoryDeleteFunction"])


def test_leading_key_conditions_and_denies_are_honoured():
    translated = iam_roles.translate(TEMPLATE)
    me = iam_roles.role_statements(translated, "MeSettingsFunction")
    table = iam.table_arn("postbox-local")
    own = iam.Request("dynamodb:UpdateItem", table, (("dynamodb:LeadingKeys", ("DIR#user#~",)),))
    other = iam.Request("dynamodb:UpdateItem", table, (("dynamodb:LeadingKeys", ("USER#~",)),))
    assert iam_roles.allowed(me, own) and not iam_roles.allowed(me, other)
    channel = iam_roles.role_statements(translated, "ChannelFunction")
    assert iam_roles.allowed(channel, iam.Request("sns:Publish", "*"))                      # an SMS
    assert not iam_roles.allowed(channel, iam.Request("sns:Publish", "arn:aws:sns:us-east-1:123456789012:topic"))


def test_the_cursor_secret_is_readable_by_the_paginating_functions_only():
    translated = iam_roles.translate(TEMPLATE)
    read = iam.Request("secretsmanager:GetSecretValue", iam.secret_arn("postbox-local-cursor"))
    readers = sorted(name for name, spec in translated["Resources"].items()
                     if spec["Type"] == "AWS::Lambda::Function"
                     and iam_roles.allowed(iam_roles.role_statements(translated, name), read))
    assert readers == ["DirectoryListFunction", "ListInboxFunction", "ListMessagesFunction"]
    environments = {name: spec["Properties"].get("Environment", {}).get("Variables", {})
                    for name, spec in translated["Resources"].items() if spec["Type"] == "AWS::Lambda::Function"}
    assert sorted(name for name, env in environments.items() if "CURSOR_SECRET_ID" in env) == readers
    assert not any(re.search(r"resolve:secretsmanager", str(env)) for env in environments.values())
