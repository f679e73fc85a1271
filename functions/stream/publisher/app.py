"""Stream function: messages and inbox changes are published to IoT Core MQTT topics."""

from postbox.logic.publisher import publish_change
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

lambda_handler = stream_entry(publish_change)
