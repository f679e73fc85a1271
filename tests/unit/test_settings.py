"""Configuration (docs/architecture.md, docs/realtime.md): environment variables parsed into one model per concern,
read once, with no defaults for resource names; a missing or bad variable stops the start with its name."""

import pytest
from pydantic import ValidationError

from postbox.settings import (
    CallbackQueueSettings,
    CursorSettings,
    IdempotencySettings,
    LimitsSettings,
    MqttSettings,
    SettingsError,
    TableSettings,
    require,
    reset,
    variable_names,
)


@pytest.fixture
def fresh_settings(monkeypatch):
    """Settings read from the environment this test sets, and the cache left clean afterwards."""
    reset()
    yield monkeypatch
    monkeypatch.undo()
    reset()


def test_defaults_of_the_tunables():
    mqtt = MqttSettings()
    assert (mqtt.MQTT_QOS, mqtt.MQTT_RETAIN, mqtt.MQTT_TOPIC_BASE, mqtt.MQTT_FULL_PAYLOAD, mqtt.IOT_DATA_ENDPOINT) == (
        1, False, "postbox", False, "")
    assert CursorSettings().CURSOR_SECRET_ID == ""
    limits = LimitsSettings()
    assert (limits.PAGE_SIZE_DEFAULT, limits.PAGE_SIZE_MAX, limits.PAGE_BYTES_MAX) == (1000, 10000, 5 * 1024 * 1024)


@pytest.mark.parametrize("group", [TableSettings, IdempotencySettings, CallbackQueueSettings])
def test_resource_names_have_no_default(group):
    with pytest.raises(ValidationError) as raised:
        group()
    assert raised.value.errors()[0]["type"] == "missing"


@pytest.mark.parametrize(("name", "value"), [("TABLE_NAME", ""), ("IDEMPOTENCY_TABLE_NAME", "")])
def test_an_empty_resource_name_is_refused(fresh_settings, name, value):
    fresh_settings.setenv(name, value)
    group = TableSettings if name == "TABLE_NAME" else IdempotencySettings
    with pytest.raises(SettingsError, match=f"{name}: String should have at least 1 character"):
        group.get()


def test_a_queue_url_may_be_empty_to_turn_its_feature_off(fresh_settings):
    fresh_settings.setenv("CALLBACK_QUEUE_URL", "")
    assert CallbackQueueSettings.get().CALLBACK_QUEUE_URL == ""


@pytest.mark.parametrize("qos", [2, "2", " 2 "])
def test_qos_2_is_refused_with_a_clear_error(qos):
    with pytest.raises(ValidationError) as raised:
        MqttSettings(MQTT_QOS=qos)
    assert "AWS IoT Core has no QoS 2; MQTT_QOS must be 0 or 1" in str(raised.value)
    assert raised.value.errors()[0]["loc"] == ("MQTT_QOS",)


@pytest.mark.parametrize("qos", [3, "-1", "one", ""])
def test_other_qos_values_are_refused(qos):
    with pytest.raises(ValidationError) as raised:
        MqttSettings(MQTT_QOS=qos)
    assert raised.value.errors()[0]["loc"] == ("MQTT_QOS",)


@pytest.mark.parametrize(("raw", "qos"), [("0", 0), ("1", 1), (0, 0), (1, 1)])
def test_qos_0_and_1_from_the_environment(raw, qos):
    assert qos == MqttSettings(MQTT_QOS=raw).MQTT_QOS


@pytest.mark.parametrize("base", ["a/+/b", "+", "postbox/#", "#", "$aws", "$SYS/x", "", "a" * 65, "a//b",
                                  "postbox/", "/", "a\0b"])
def test_topic_bases_with_wildcards_a_leading_dollar_or_empty_levels_are_refused(base):
    with pytest.raises(ValidationError) as raised:
        MqttSettings(MQTT_TOPIC_BASE=base)
    assert raised.value.errors()[0]["loc"] == ("MQTT_TOPIC_BASE",)
    assert "MQTT_TOPIC_BASE must" in str(raised.value)


@pytest.mark.parametrize("base", ["postbox", "/onadata", "org/postbox", "a$b", "a" * 64])
def test_good_topic_bases(base):
    assert base == MqttSettings(MQTT_TOPIC_BASE=base).MQTT_TOPIC_BASE


def test_a_group_reads_the_environment_once(fresh_settings):
    fresh_settings.setenv("MQTT_QOS", "0")
    fresh_settings.setenv("MQTT_RETAIN", "true")
    fresh_settings.setenv("MQTT_TOPIC_BASE", "/onadata")
    fresh_settings.setenv("MQTT_FULL_PAYLOAD", "true")
    fresh_settings.setenv("TABLE_NAME", "other-table")

    mqtt = MqttSettings.get()
    assert (mqtt.MQTT_QOS, mqtt.MQTT_RETAIN, mqtt.MQTT_TOPIC_BASE, mqtt.MQTT_FULL_PAYLOAD) == (0, True, "/onadata",
                                                                                               True)
    assert TableSettings.get().TABLE_NAME == "other-table"

    fresh_settings.setenv("TABLE_NAME", "changed-later")
    assert MqttSettings.get() is mqtt
    assert TableSettings.get().TABLE_NAME == "other-table"


def test_unset_tunables_take_the_defaults(fresh_settings):
    for name in ("MQTT_QOS", "MQTT_RETAIN", "MQTT_TOPIC_BASE", "MQTT_FULL_PAYLOAD"):
        fresh_settings.delenv(name, raising=False)
    mqtt = MqttSettings.get()
    assert (mqtt.MQTT_QOS, mqtt.MQTT_RETAIN, mqtt.MQTT_TOPIC_BASE, mqtt.MQTT_FULL_PAYLOAD) == (1, False, "postbox",
                                                                                               False)


@pytest.mark.parametrize(("name", "value", "text"), [
    ("MQTT_QOS", "2", "MQTT_QOS: AWS IoT Core has no QoS 2"),
    ("MQTT_TOPIC_BASE", "$aws/things", "MQTT_TOPIC_BASE: MQTT_TOPIC_BASE must be 1-64 characters"),
    ("MQTT_RETAIN", "perhaps", "MQTT_RETAIN: Input should be a valid boolean"),
])
def test_a_bad_environment_value_stops_the_start_with_a_clear_error(fresh_settings, name, value, text):
    fresh_settings.setenv(name, value)
    with pytest.raises(SettingsError) as raised:
        require(MqttSettings)
    assert str(raised.value).startswith("MqttSettings: ")
    assert text in str(raised.value)


def test_a_missing_resource_name_stops_the_start_naming_the_variable(fresh_settings):
    fresh_settings.delenv("TABLE_NAME", raising=False)
    with pytest.raises(SettingsError, match="^TableSettings: TABLE_NAME is not set$"):
        require(CursorSettings, TableSettings)


def test_the_cursor_secret_never_comes_from_the_environment():
    """Only the secret's id is a setting; its value is read from Secrets Manager at run time (postbox.cursor)."""
    assert sorted(name for name in variable_names() if "SECRET" in name) == ["CURSOR_SECRET_ID"]
