"""Every function's environment in template.yaml covers the settings it declares (postbox.settings.require at the
top of its handler), and a function whose environment lacks one of them does not start: importing its handler
fails with a message naming the variable."""

import importlib.util
from pathlib import Path

import pytest

from postbox import settings
from postbox_local import template

ROOT = Path(__file__).resolve().parents[2]
SETTING_NAMES = settings.variable_names()
FUNCTIONS = sorted(name for name, spec in template.resources().items() if spec["Type"] == "AWS::Serverless::Function")


def _environment(function: str) -> dict[str, str]:
    """The function's environment as AWS gives it (example values), restricted to the settings' variables."""
    return {name: value for name, value in template.example_environment(function).items() if name in SETTING_NAMES}


def _cold_start(function: str, environment: dict[str, str], monkeypatch) -> list[type[settings.EnvSettings]]:
    """Import the function's handler as Lambda would, in exactly this environment; the groups it declared."""
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    declared: list[type[settings.EnvSettings]] = []
    original = settings.require
    monkeypatch.setattr(settings, "require", lambda *groups: (declared.extend(groups), original(*groups)))
    settings.reset()
    code_dir = ROOT / template.resources()[function]["Properties"]["CodeUri"]
    spec = importlib.util.spec_from_file_location(f"cold_start_{function}", code_dir / "app.py")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    finally:
        settings.reset()
    return declared


@pytest.fixture(autouse=True)
def _settings_restored():
    yield
    settings.reset()


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_template_environment_covers_the_settings_the_function_declares(function, monkeypatch):
    declared = _cold_start(function, _environment(function), monkeypatch)  # raises, naming a missing variable
    required = {name for group in declared for name, field in group.model_fields.items() if field.is_required()}
    assert required <= set(_environment(function))


def _required_variables() -> list[tuple[str, str]]:
    cases = []
    with pytest.MonkeyPatch.context() as monkeypatch:
        for function in FUNCTIONS:
            try:
                declared = _cold_start(function, _environment(function), monkeypatch)
            except settings.SettingsError:
                continue  # the test above names what the template lacks
            cases += [(function, name) for group in declared
                      for name, field in group.model_fields.items() if field.is_required()]
    return sorted(set(cases))


REQUIRED = _required_variables()


def test_functions_declare_the_resources_they_use():
    """A sample of what the cases below cover: the API's table, the publisher's queues, the authorizer's pool."""
    assert {("CreateMessageFunction", "TABLE_NAME"), ("CreateAttachmentFunction", "BUCKET_NAME"),
            ("CreateMessageFunction", "IDEMPOTENCY_TABLE_NAME"), ("PublisherFunction", "CALLBACK_QUEUE_URL"),
            ("PublisherFunction", "CHANNEL_QUEUE_URL"), ("IotAuthorizerFunction", "COGNITO_ISSUER")} <= set(REQUIRED)


@pytest.mark.parametrize(("function", "variable"), REQUIRED, ids=[f"{f}-{v}" for f, v in REQUIRED])
def test_a_function_without_a_required_variable_does_not_start(function, variable, monkeypatch):
    environment = {name: value for name, value in _environment(function).items() if name != variable}
    with pytest.raises(settings.SettingsError, match=rf"\b{variable} is not set\b"):
        _cold_start(function, environment, monkeypatch)
