"""Queue function: calls an alert's backend_url (signed POST) after a receiver read or deleted it."""

from postbox.logic.callbacks import deliver
from postbox.settings import CallbackSettings, TableSettings, require
from postbox.streaming import fifo_queue_entry

require(TableSettings, CallbackSettings)

lambda_handler = fifo_queue_entry(deliver)
