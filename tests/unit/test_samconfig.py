"""A deploy that starts (docs/deploy.md#3-deploy): every parameter the committed samconfig.toml sets passes the
template's own rules, and the parameters it leaves to `sam deploy --guided` are the account's own."""

import re
import shlex
import tomllib
from pathlib import Path

from postbox_local import template

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / "samconfig.toml").read_text())
ACCOUNT_OWN = {"CognitoDomainPrefix", "IotDataEndpoint", "EmailSender"}   # asked by the guided deploy


def overrides(environment: str) -> dict[str, str]:
    text = CONFIG[environment]["deploy"]["parameters"].get("parameter_overrides", "")
    return dict(pair.split("=", 1) for pair in shlex.split(text))


def problems(name: str, value: str) -> list[str]:
    spec = template.load()["Parameters"].get(name)
    if spec is None:
        return [f"{name} is not a parameter of template.yaml"]
    found = []
    values = value.split(",") if spec["Type"] == "CommaDelimitedList" else [value]
    for one in values:
        if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], one):
            found.append(f"{name}={one!r} does not match {spec['AllowedPattern']}")
        if "AllowedValues" in spec and one not in [str(v) for v in spec["AllowedValues"]]:
            found.append(f"{name}={one!r} is not one of {spec['AllowedValues']}")
        if spec["Type"] == "Number":
            number = float(one)
            if "MinValue" in spec and number < spec["MinValue"] or "MaxValue" in spec and number > spec["MaxValue"]:
                found.append(f"{name}={one!r} is out of range")
    if "MaxLength" in spec and len(value) > spec["MaxLength"]:
        found.append(f"{name} is longer than {spec['MaxLength']}")
    return found


def test_every_committed_parameter_passes_the_templates_rules():
    environments = [name for name, section in CONFIG.items() if isinstance(section, dict) and "deploy" in section]
    assert {"default", "dev", "prod"} <= set(environments)
    for environment in environments:
        for name, value in overrides(environment).items():
            assert problems(name, value) == [], environment


def test_the_parameters_left_to_the_guided_deploy_are_the_accounts_own():
    required = {name for name, spec in template.load()["Parameters"].items() if "Default" not in spec}
    assert required == ACCOUNT_OWN
    for environment in ("default", "dev", "prod"):
        assert not ACCOUNT_OWN & set(overrides(environment)), environment


def test_defaults_pass_the_rules_too_and_no_origin_is_a_wildcard():
    for name, spec in template.load()["Parameters"].items():
        if "Default" in spec:
            assert problems(name, str(spec["Default"])) == [], name
    assert "*" not in str(template.load()["Parameters"]["AttachmentAllowedOrigins"]["Default"])
