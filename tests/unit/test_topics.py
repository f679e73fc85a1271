"""MQTT topics, payload limits and the MQTT settings (docs/realtime.md): what IoT Core would refuse is never sent."""

import json

import pytest
from pydantic import ValidationError

from postbox.settings import MqttSettings, SettingsError
from postbox.topics import PAYLOAD_MAX_BYTES, TopicError, encode_payload, inbox_topic, target_topic

# -- topics ---------------------------------------------------------------------------------------------------


def test_default_topics(settings):
    assert target_topic("user", "bob") == "postbox/user/bob/messages/publish"
    assert target_topic("xform", "34") == "postbox/xform/34/messages/publish"
    assert inbox_topic("bob") == "postbox/user/bob/inbox"


def test_onadata_base_gives_onas_readme_topics(settings):
    settings(MQTT_TOPIC_BASE="/onadata")
    assert target_topic("user", "bob") == "/onadata/user/bob/messages/publish"
    assert target_topic("project", "12") == "/onadata/project/12/messages/publish"
    assert inbox_topic("bob") == "/onadata/user/bob/inbox"


@pytest.mark.parametrize("bad", ["a/b", "+", "#", "bob/#", "$aws", "", "x" * 65, "bob smith", "a\x00", "tab\t",
                                 "ü", "../x"])
def test_ids_that_cannot_be_a_topic_level_are_refused(settings, bad):
    with pytest.raises(TopicError):
        target_topic("user", bad)
    with pytest.raises(TopicError):
        inbox_topic(bad)
    with pytest.raises(TopicError):
        target_topic(bad, "bob")


def test_every_id_of_the_directory_pattern_is_a_topic_level(settings):
    longest = "x" * 64
    assert target_topic("user", longest) == f"postbox/user/{longest}/messages/publish"
    assert target_topic("user", "a.b@c-d_E9") == "postbox/user/a.b@c-d_E9/messages/publish"


def test_at_most_seven_slashes(settings):
    settings(MQTT_TOPIC_BASE="a/b/c/d")
    assert target_topic("user", "bob") == "a/b/c/d/user/bob/messages/publish"  # 7 slashes
    settings(MQTT_TOPIC_BASE="/a/b/c")
    assert target_topic("user", "bob") == "/a/b/c/user/bob/messages/publish"
    settings(MQTT_TOPIC_BASE="a/b/c/d/e")
    with pytest.raises(TopicError):
        target_topic("user", "bob")
    assert inbox_topic("bob") == "a/b/c/d/e/user/bob/inbox"  # the inbox topic is one level shorter
    settings(MQTT_TOPIC_BASE="a/b/c/d/e/f")
    with pytest.raises(TopicError):
        inbox_topic("bob")


def test_at_most_256_bytes(settings):
    settings(MQTT_TOPIC_BASE="€" * 64)  # 64 characters, 192 bytes
    fits = "x" * 41  # 192 + len("/user/") + 41 + len("/messages/publish") == 256
    assert len(target_topic("user", fits).encode()) == 256
    with pytest.raises(TopicError):
        target_topic("user", fits + "x")


# -- payloads -------------------------------------------------------------------------------------------------


def test_small_payloads_are_plain_utf8_json():
    payload = {"id": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "message": "Habari ✓", "n": 1}
    data = encode_payload(dict(payload), ("message",))
    assert data == json.dumps(payload, ensure_ascii=False).encode()
    assert "truncated" not in json.loads(data)


def test_a_payload_of_exactly_128_kb_is_left_alone():
    overhead = len(json.dumps({"message": ""}).encode())
    payload = {"message": "x" * (PAYLOAD_MAX_BYTES - overhead)}
    data = encode_payload(payload, ("message",))
    assert len(data) == PAYLOAD_MAX_BYTES
    assert json.loads(data) == {"message": "x" * (PAYLOAD_MAX_BYTES - overhead)}


@pytest.mark.parametrize("text", [
    "y" * 200_000,                 # ASCII
    "€" * 60_000,                  # 3 bytes a character: the cut must not split one
    "😀" * 40_000,                 # 4 bytes a character
    '"' * 100_000,                 # every character doubles when escaped
    "ab\n\\" * 40_000,
])
def test_long_text_is_cut_to_fit_and_marked_truncated(text):
    data = encode_payload({"id": "m1", "verb": "message", "message": text, "user": "alice"}, ("message",))
    assert len(data) <= PAYLOAD_MAX_BYTES
    decoded = json.loads(data.decode("utf-8"))
    assert decoded["truncated"] is True
    assert (decoded["id"], decoded["verb"], decoded["user"]) == ("m1", "message", "alice")
    assert text.startswith(decoded["message"])
    assert len(json.dumps(decoded["message"], ensure_ascii=False).encode()) > PAYLOAD_MAX_BYTES // 3  # not emptied


def test_nested_text_is_cut_where_it_is():
    payload = {"id": "m1", "time": "t", "payload": {"author": {"username": "alice"}, "message": "z" * 150_000}}
    decoded = json.loads(encode_payload(payload, ("payload", "message")))
    assert decoded["truncated"] is True
    assert decoded["payload"]["author"] == {"username": "alice"}
    assert 0 < len(decoded["payload"]["message"]) < 150_000
    assert len(json.dumps(decoded, ensure_ascii=False).encode()) <= PAYLOAD_MAX_BYTES


# -- settings --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("qos", [2, "2", " 2", "3", -1, "one"])
def test_qos_2_and_other_values_are_refused(qos):
    with pytest.raises(ValidationError):
        MqttSettings(MQTT_QOS=qos)


def test_qos_0_and_1_are_accepted_and_1_is_the_default():
    assert MqttSettings().MQTT_QOS == 1
    assert MqttSettings(MQTT_QOS="0").MQTT_QOS == 0
    assert MqttSettings(MQTT_QOS="1").MQTT_QOS == 1
    assert MqttSettings(MQTT_QOS=0).MQTT_QOS == 0


def test_qos_2_in_the_environment_stops_the_start(settings):
    settings(MQTT_QOS="2")
    with pytest.raises(SettingsError, match="MQTT_QOS: AWS IoT Core has no QoS 2"):
        MqttSettings.get()


@pytest.mark.parametrize("base", ["", "+", "a/+", "#", "a/#", "$aws", "a//b", "a/", "/", "x" * 65])
def test_topic_bases_iot_core_would_refuse_are_refused(base):
    with pytest.raises(ValidationError):
        MqttSettings(MQTT_TOPIC_BASE=base)


def test_mqtt_defaults_and_flags(settings):
    current = MqttSettings.get()
    assert (current.MQTT_TOPIC_BASE, current.MQTT_RETAIN, current.MQTT_FULL_PAYLOAD) == ("postbox", False, False)
    settings(MQTT_FULL_PAYLOAD="true", MQTT_RETAIN="true", MQTT_TOPIC_BASE="/onadata")
    current = MqttSettings.get()
    assert (current.MQTT_TOPIC_BASE, current.MQTT_RETAIN, current.MQTT_FULL_PAYLOAD) == ("/onadata", True, True)
