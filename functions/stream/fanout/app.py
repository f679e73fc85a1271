"""Stream function: new messages become inbox entries; deleted messages take theirs along."""

from postbox.logic.fanout import fan_out
from postbox.settings import (
    AttachmentSettings,
    BucketSettings,
    CursorSettings,
    LimitsSettings,
    MqttSettings,
    TableSettings,
    require,
)
from postbox.streaming import stream_entry

require(TableSettings, BucketSettings, MqttSettings, CursorSettings, LimitsSettings, AttachmentSettings)

lambda_handler = stream_entry(fan_out)
