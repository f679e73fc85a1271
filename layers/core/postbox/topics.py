"""MQTT topics and payload limits (Ona's topic scheme; AWS IoT Core's limits)."""

import json
from typing import Any

from postbox.ids import is_directory_id
from postbox.settings import MqttSettings

TOPIC_MAX_BYTES = 256
TOPIC_MAX_SLASHES = 7
PAYLOAD_MAX_BYTES = 128 * 1024


class TopicError(ValueError):
    """A topic that IoT Core would refuse; never sent."""


def _checked(topic: str, *ids: str) -> str:
    for value in ids:
        if not is_directory_id(value):
            raise TopicError(f"id {value!r} cannot be a topic level")
    if len(topic.encode()) > TOPIC_MAX_BYTES or topic.count("/") > TOPIC_MAX_SLASHES:
        raise TopicError(f"topic {topic!r} exceeds IoT Core's limits")
    return topic


def target_topic(target_type: str, target_id: str) -> str:
    """`{base}/{type}/{id}/messages/publish`: Ona's README scheme, for every target type."""
    base = MqttSettings.get().MQTT_TOPIC_BASE
    return _checked(f"{base}/{target_type}/{target_id}/messages/publish", target_type, target_id)


def inbox_topic(user_id: str) -> str:
    base = MqttSettings.get().MQTT_TOPIC_BASE
    return _checked(f"{base}/user/{user_id}/inbox", user_id)


def encode_payload(payload: dict[str, Any], text_path: tuple[str, ...]) -> bytes:
    """JSON bytes within IoT Core's 128 KB; the text at `text_path` is cut and `truncated` set if needed."""
    data = json.dumps(payload, ensure_ascii=False).encode()
    if len(data) <= PAYLOAD_MAX_BYTES:
        return data
    holder = payload
    for part in text_path[:-1]:
        holder = holder[part]
    text = str(holder[text_path[-1]])
    excess = len(data) - PAYLOAD_MAX_BYTES + 64
    cut = text.encode()[: max(0, len(text.encode()) - excess)].decode(errors="ignore")
    holder[text_path[-1]] = cut
    payload["truncated"] = True
    return json.dumps(payload, ensure_ascii=False).encode()
