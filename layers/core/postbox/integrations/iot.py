"""AWS IoT Core data plane: publish with boto3 `iot-data` (locally, the same calls reach the local endpoint).

The stream publisher takes a `Publisher` (docs/testing.md): this module's `IotDataPublisher` in Lambda and in
the local stack, a recording fake in the rule tests."""

from functools import cache
from typing import Protocol

from postbox.settings import MqttSettings


class Publisher(Protocol):
    """Where MQTT messages go: one call per message, at the given QoS and retain flag."""

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool) -> None: ...


@cache
def client():
    import boto3  # cold start: boto3 loads with the first call, not at import
    from botocore.config import Config  # cold start: boto3 loads with the first call, not at import

    # Fail a publish fast: the stream retries the record, which beats holding the whole batch for a minute.
    config = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 2})
    return boto3.client("iot-data", endpoint_url=MqttSettings.get().IOT_DATA_ENDPOINT or None, config=config)


class IotDataPublisher:
    """IoT Core's Publish API; the boto3 client is built on the first publish, not at import."""

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        client().publish(topic=topic, qos=qos, retain=retain, payload=payload)


def publish(topic: str, payload: bytes, publisher: Publisher) -> None:
    """One message through `publisher` at the configured QoS and retain flag (MQTT_QOS, MQTT_RETAIN)."""
    settings = MqttSettings.get()
    publisher.publish(topic, payload, settings.MQTT_QOS, settings.MQTT_RETAIN)
