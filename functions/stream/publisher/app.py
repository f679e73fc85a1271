"""Stream function: messages and inbox changes are published to IoT Core MQTT topics, many at once
(docs/realtime.md#publishing-concurrently)."""

from functools import partial

from postbox.integrations import iot
from postbox.logic.publisher import Outlets, publish_change
from postbox.settings import (
    AalamSettings,
    CallbackQueueSettings,
    CallbackSettings,
    ChannelQueueSettings,
    CursorSettings,
    LimitsSettings,
    MqttSettings,
    TableSettings,
    require,
)
from postbox.streaming import stream_entry

require(TableSettings, CallbackQueueSettings, ChannelQueueSettings, MqttSettings, CursorSettings, LimitsSettings,
        AalamSettings, CallbackSettings)

mqtt = iot.ConcurrentPublisher(iot.IotDataPublisher(), MqttSettings.get().MQTT_PUBLISH_CONCURRENCY)
lambda_handler = stream_entry(partial(publish_change, outlets=Outlets(mqtt=mqtt)), in_flight=mqtt)
