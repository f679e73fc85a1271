"""Recording fakes of the publisher's outlets (postbox.logic.publisher.Outlets): rule tests run without moto and
assert what would have been published to MQTT and queued on SQS."""

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Published:
    topic: str
    payload: bytes
    qos: int
    retain: bool

    def json(self) -> Any:
        return json.loads(self.payload)


@dataclass
class FakePublisher:
    """Records every publish (postbox.integrations.iot.Publisher)."""

    published: list[Published] = field(default_factory=list)

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        self.published.append(Published(topic, payload, qos, retain))

    def on(self, topic: str | None = None) -> list[Any]:
        """The decoded payloads published (on `topic`, when given), in order."""
        return [p.json() for p in self.published if topic is None or p.topic == topic]

    def topics(self) -> list[str]:
        return [p.topic for p in self.published]


@dataclass(frozen=True)
class Queued:
    queue_url: str
    body: str
    group_id: str | None = None
    deduplication_id: str | None = None

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FakeJobQueue:
    """Records every job sent (postbox.integrations.queues.JobQueue)."""

    queued: list[Queued] = field(default_factory=list)
    batches: int = 0

    def send(self, queue_url: str, body: str) -> None:
        self.queued.append(Queued(queue_url, body))

    def send_batch(self, queue_url: str, bodies: list[str]) -> int:
        self.batches += 1
        self.queued.extend(Queued(queue_url, body) for body in bodies)
        return 1

    def send_fifo(self, queue_url: str, body: str, *, group_id: str, deduplication_id: str) -> None:
        self.queued.append(Queued(queue_url, body, group_id, deduplication_id))

    def jobs(self, queue_url: str | None = None) -> list[Any]:
        """The decoded jobs queued (on `queue_url`, when given), in order."""
        return [q.json() for q in self.queued if queue_url is None or q.queue_url == queue_url]
