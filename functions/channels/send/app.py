"""Queue function: sends a new item's email (SES) and SMS (SNS) to one recipient who opted in, at most once."""

from postbox.logic.channels import deliver
from postbox.settings import AalamSettings, ChannelSettings, TableSettings, require
from postbox.streaming import queue_entry

require(TableSettings, AalamSettings, ChannelSettings)

lambda_handler = queue_entry(deliver)
