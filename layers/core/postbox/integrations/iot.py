"""AWS IoT Core data plane: publish with boto3 `iot-data` (locally, the same calls reach the local endpoint)."""

from functools import cache

from postbox.settings import MqttSettings


@cache
def client():
    import boto3  # cold start: boto3 loads with the first call, not at import
    from botocore.config import Config  # cold start: boto3 loads with the first call, not at import

    # Fail a publish fast: the stream retries the record, which beats holding the whole batch for a minute.
    config = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 2})
    return boto3.client("iot-data", endpoint_url=MqttSettings.get().IOT_DATA_ENDPOINT or None, config=config)


def publish(topic: str, payload: bytes) -> None:
    settings = MqttSettings.get()
    client().publish(topic=topic, qos=settings.MQTT_QOS, retain=settings.MQTT_RETAIN, payload=payload)
