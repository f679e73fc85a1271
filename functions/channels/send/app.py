"""Queue function: sends a new item's email (SES) and SMS (SNS) to one recipient who opted in, at most once."""

from postbox.logic.channels import deliver
from postbox.streaming import queue_entry

lambda_handler = queue_entry(deliver)
