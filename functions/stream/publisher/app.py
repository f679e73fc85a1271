"""Stream function: messages and inbox changes are published to IoT Core MQTT topics."""

from postbox.logic.publisher import publish_change
from postbox.streaming import stream_entry

lambda_handler = stream_entry(publish_change)
