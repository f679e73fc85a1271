"""Stream function: new messages become inbox entries; deleted messages take theirs along."""

from postbox.logic.fanout import fan_out
from postbox.streaming import stream_entry

lambda_handler = stream_entry(fan_out)
