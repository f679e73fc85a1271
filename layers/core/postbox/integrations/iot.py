"""AWS IoT Core data plane: publish with boto3 `iot-data` (locally, the same calls reach the local endpoint)."""

from functools import cache

from postbox.settings import get_settings


@cache
def client():
    import boto3

    endpoint = get_settings().IOT_DATA_ENDPOINT or None
    return boto3.client("iot-data", endpoint_url=endpoint)


def publish(topic: str, payload: bytes) -> None:
    settings = get_settings()
    client().publish(topic=topic, qos=settings.MQTT_QOS, retain=settings.MQTT_RETAIN, payload=payload)
