"""Configuration (docs/architecture.md, docs/realtime.md): environment variables parsed once into one validated
model."""

import pytest
from pydantic import ValidationError

from postbox.settings import Settings, get_settings


@pytest.fixture
def fresh_settings(monkeypatch):
    """get_settings() reading the environment this test sets, and the cache left clean afterwards."""
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_defaults():
    settings = Settings()

    assert settings.MQTT_QOS == 1
    assert settings.MQTT_RETAIN is False
    assert settings.MQTT_TOPIC_BASE == "postbox"
    assert settings.MQTT_FULL_PAYLOAD is False
    assert settings.IOT_DATA_ENDPOINT == ""
    assert settings.CURSOR_SECRET_ID == ""
    assert (settings.PAGE_SIZE_DEFAULT, settings.PAGE_SIZE_MAX) == (1000, 10000)
    assert settings.PAGE_BYTES_MAX == 5 * 1024 * 1024


@pytest.mark.parametrize("qos", [2, "2", " 2 "])
def test_qos_2_is_refused_with_a_clear_error(qos):
    with pytest.raises(ValidationError) as raised:
        Settings(MQTT_QOS=qos)
    assert "AWS IoT Core has no QoS 2; MQTT_QOS must be 0 or 1" in str(raised.value)
    assert raised.value.errors()[0]["loc"] == ("MQTT_QOS",)


@pytest.mark.parametrize("qos", [3, "-1", "one", ""])
def test_other_qos_values_are_refused(qos):
    with pytest.raises(ValidationError) as raised:
        Settings(MQTT_QOS=qos)
    assert raised.value.errors()[0]["loc"] == ("MQTT_QOS",)


@pytest.mark.parametrize(("raw", "qos"), [("0", 0), ("1", 1), (0, 0), (1, 1)])
def test_qos_0_and_1_from_the_environment(raw, qos):
    assert qos == Settings(MQTT_QOS=raw).MQTT_QOS


@pytest.mark.parametrize("base", ["a/+/b", "+", "postbox/#", "#", "$aws", "$SYS/x", "", "a" * 65, "a//b",
                                  "postbox/", "/", "a\0b"])
def test_topic_bases_with_wildcards_a_leading_dollar_or_empty_levels_are_refused(base):
    with pytest.raises(ValidationError) as raised:
        Settings(MQTT_TOPIC_BASE=base)
    assert raised.value.errors()[0]["loc"] == ("MQTT_TOPIC_BASE",)
    assert "MQTT_TOPIC_BASE must" in str(raised.value)


@pytest.mark.parametrize("base", ["postbox", "/onadata", "org/postbox", "a$b", "a" * 64])
def test_good_topic_bases(base):
    assert base == Settings(MQTT_TOPIC_BASE=base).MQTT_TOPIC_BASE


def test_get_settings_reads_the_environment_once(fresh_settings):
    fresh_settings.setenv("MQTT_QOS", "0")
    fresh_settings.setenv("MQTT_RETAIN", "true")
    fresh_settings.setenv("MQTT_TOPIC_BASE", "/onadata")
    fresh_settings.setenv("MQTT_FULL_PAYLOAD", "true")
    fresh_settings.setenv("TABLE_NAME", "other-table")

    settings = get_settings()
    assert (settings.MQTT_QOS, settings.MQTT_RETAIN, settings.MQTT_TOPIC_BASE, settings.MQTT_FULL_PAYLOAD,
            settings.TABLE_NAME) == (0, True, "/onadata", True, "other-table")

    fresh_settings.setenv("TABLE_NAME", "changed-later")
    assert get_settings() is settings


def test_unset_variables_take_the_defaults(fresh_settings):
    for name in ("MQTT_QOS", "MQTT_RETAIN", "MQTT_TOPIC_BASE", "MQTT_FULL_PAYLOAD"):
        fresh_settings.delenv(name, raising=False)
    settings = get_settings()
    assert (settings.MQTT_QOS, settings.MQTT_RETAIN, settings.MQTT_TOPIC_BASE, settings.MQTT_FULL_PAYLOAD) == (
        1, False, "postbox", False)


@pytest.mark.parametrize(("name", "value", "text"), [
    ("MQTT_QOS", "2", "no QoS 2"),
    ("MQTT_TOPIC_BASE", "$aws/things", "leading $"),
    ("MQTT_RETAIN", "perhaps", "MQTT_RETAIN"),
])
def test_a_bad_environment_value_stops_the_start_with_a_clear_error(fresh_settings, name, value, text):
    fresh_settings.setenv(name, value)
    with pytest.raises(ValidationError) as raised:
        get_settings()
    assert text in str(raised.value)


def test_the_cursor_secret_never_comes_from_the_environment():
    """Only the secret's id is a setting; its value is read from Secrets Manager at run time (postbox.cursor)."""
    assert [name for name in Settings.model_fields if "SECRET" in name] == ["CURSOR_SECRET_ID"]
