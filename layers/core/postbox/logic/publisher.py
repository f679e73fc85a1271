"""Publisher: table changes become MQTT messages on IoT Core (docs/realtime.md).

Target messages go to their target topic; every inbox entry change goes to its user's inbox topic with
the user's unread count. Delivery is at-least-once; payloads carry the source id for de-duplication.

The publisher acts through `Outlets` (MQTT, the job queues, the unread count it reads): IoT Core, SQS and the
table in Lambda and in the local stack, recording fakes in the rule tests (docs/testing.md). The stream function
gives it a concurrent MQTT outlet (docs/realtime.md#publishing-concurrently): an inbox payload is then built, and
its unread count read, when its turn on its topic comes.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from postbox.dal import alerts as alert_store
from postbox.dal.table import Item
from postbox.integrations import iot
from postbox.integrations.queues import JobQueue, SqsJobQueue
from postbox.logic import callbacks, channels, inbox
from postbox.logic.alert_stream import transient_messages
from postbox.logic.changes import Change
from postbox.logic.inbox import render_entry
from postbox.models.ona import render_target_id
from postbox.settings import MqttSettings
from postbox.topics import encode_payload, inbox_topic, target_topic


@dataclass(frozen=True)
class Outlets:
    """Where the publisher's effects go, and the one read it makes; the defaults are the AWS services (their
    clients built on first use)."""

    mqtt: iot.Publisher | iot.ConcurrentPublisher = field(default_factory=iot.IotDataPublisher)
    queue: JobQueue = field(default_factory=SqsJobQueue)
    unread_count: Callable[[str], int] = inbox.unread_count
    # Removes a notify-only alert's receiver chunk once it is published.
    forget_chunk: Callable[[Item], None] = alert_store.delete_receivers


def publish_change(change: Change, outlets: Outlets | None = None) -> str | None:
    """Publish what the change means to subscribers; returns the topic used (None if nothing to say)."""
    outlets = outlets or Outlets()
    kind = change.item_type()
    if kind == "message" and change.event == "INSERT" and change.new:
        topic, payload = target_topic(change.new["target_type"], change.new["target_id"]), message_payload(change.new)
        iot.publish(topic, payload, outlets.mqtt)
        return topic
    if kind == "inbox":
        channels.enqueue_for(change, outlets.queue)  # email and SMS: a new (or newly bumped) unread entry
        event = inbox_event(change)
        if event is None:
            return None
        entry = change.new if change.event != "REMOVE" else change.old
        assert entry is not None  # an inbox change has the image its event names
        topic = inbox_topic(entry["user_id"])
        body = {"event": event, "entry": render_entry(entry)}
        user_id = entry["user_id"]
        iot.publish(topic, lambda: encode_payload({**body, "unread": outlets.unread_count(user_id)}, ("entry", "text")),
                    outlets.mqtt)
        if entry.get("kind") == alert_store.ENTRY_KIND:
            callbacks.enqueue_for(change, event, outlets.queue)  # Aalam: a read or a delete calls the backend_url
        return topic
    if kind == alert_store.RECEIVERS_TYPE and change.event == "INSERT" and change.new and change.new.get("transient"):
        # Aalam persist=false: MQTT only, then the item is deleted; the email and SMS jobs carry the alert.
        channels.enqueue_for_transient(change.new, outlets.queue)
        messages = transient_messages(change.new, outlets.unread_count)
        for receiver_topic, receiver_payload in messages:
            iot.publish(receiver_topic, receiver_payload, outlets.mqtt)
        iot.settle(outlets.mqtt)  # the chunk is the only record of a notify-only alert: kept until it has gone out
        outlets.forget_chunk(change.new)
        return messages[-1][0] if messages else None
    return None


def inbox_event(change: Change) -> str | None:
    if change.event == "INSERT":
        return "created"
    if change.event == "REMOVE":
        return "deleted"
    old, new = change.old or {}, change.new or {}
    if old.get("read") != new.get("read"):
        return "read" if new.get("read") else "unread"
    if old.get("archived") != new.get("archived"):
        return "archived" if new.get("archived") else "unarchived"
    if (old.get("text"), old.get("from")) != (new.get("text"), new.get("from")):
        return "updated"
    return None


def _decoded(message: Item) -> Any:
    """Ona decodes event messages that are JSON; free text of verb `message` stays text, and so does text
    that only Python reads as JSON (NaN, Infinity, 1e999): re-encoded, no subscriber could parse it."""
    if message["verb"] == "message":
        return message["message"]
    try:
        decoded = json.loads(message["message"])
        json.dumps(decoded, allow_nan=False)
    except ValueError:
        return message["message"]
    return decoded


TARGET_METADATA_FIELDS = {"user": ("id", "name"), "xform": ("id", "name", "form_id"), "project": ("id", "name")}


def message_payload(message: Item) -> bytes:
    if not MqttSettings.get().MQTT_FULL_PAYLOAD:
        flat = {"id": message["id"], "verb": message["verb"], "message": _decoded(message),
                "user": message["user"], "timestamp": message["timestamp"]}
        return encode_payload(flat, ("message",))
    available = {"id": render_target_id(message["target_id"]), "name": message.get("target_name", ""),
                 "form_id": message.get("target_name", "")}
    metadata = {name: available[name] for name in TARGET_METADATA_FIELDS.get(message["target_type"], ("id",))}
    full = {"id": message["id"], "time": message["timestamp"],
            "payload": {"author": {"username": message["user"], "real_name": message.get("sender_name", "")},
                        "context": {"type": message["target_type"], "metadata": metadata, "verb": message["verb"]},
                        "message": _decoded(message)}}
    return encode_payload(full, ("payload", "message"))
