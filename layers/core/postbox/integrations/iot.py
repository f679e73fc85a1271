"""AWS IoT Core data plane: publish with boto3 `iot-data` (locally, the same calls reach the local endpoint).

The stream publisher takes a `Publisher` (docs/testing.md): this module's `IotDataPublisher` in Lambda and in
the local stack, a recording fake in the rule tests. In Lambda it is wrapped in a `ConcurrentPublisher`, which
keeps several publishes in flight and each topic's publishes in order (docs/realtime.md#publishing-concurrently)."""

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextvars import copy_context
from typing import Protocol

from postbox.integrations import aws_client, built_once
from postbox.settings import MqttSettings

# A payload, or what builds it once its turn on its topic has come (the unread count it carries is read then).
Payload = bytes | Callable[[], bytes]


class Publisher(Protocol):
    """Where MQTT messages go: one call per message, at the given QoS and retain flag."""

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool) -> None: ...


@built_once
def client():
    from botocore.config import Config  # cold start: boto3 loads with the first call, not at import

    settings = MqttSettings.get()
    # Fail a publish fast: the stream retries the record, which beats holding the whole batch for a minute. Standard
    # retries back off on throttling (IoT Core's publish quota). One pooled connection per publish in flight.
    config = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 2},
                    max_pool_connections=max(10, settings.MQTT_PUBLISH_CONCURRENCY))
    return aws_client("iot-data", endpoint_url=settings.IOT_DATA_ENDPOINT or None, config=config)


class IotDataPublisher:
    """IoT Core's Publish API; the boto3 client is built on the first publish, not at import."""

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        client().publish(topic=topic, qos=qos, retain=retain, payload=payload)


class _Publish:
    def __init__(self, topic: str, payload: Payload, qos: int, retain: bool):
        self.topic, self.payload, self.qos, self.retain = topic, payload, qos, retain
        self.future: Future[None] = Future()
        self.context = copy_context()  # the worker sends it in the context it was given in, as the caller would


class ConcurrentPublisher:
    """Up to `limit` publishes of `publisher` in flight at once; the publishes to one topic leave one at a time, in
    the order they were given, whatever happens to each (a failed one does not hold back the next).

    `publish` returns at once. `take()` hands over the futures of the publishes given since the last `take()`: the
    stream entry waits for a record's publishes before it counts the record as done (postbox.streaming). Worker
    threads start with the first publish, not at import."""

    def __init__(self, publisher: Publisher, limit: int):
        self.publisher = publisher
        self.limit = max(1, limit)
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._lanes: dict[str, deque[_Publish]] = {}  # a topic with a publish in flight: those waiting behind it
        self._given: list[Future[None]] = []

    def publish(self, topic: str, payload: Payload, qos: int, retain: bool) -> None:
        job = _Publish(topic, payload, qos, retain)
        self._given.append(job.future)
        with self._lock:
            lane = self._lanes.get(topic)
            if lane is not None:
                lane.append(job)  # the topic's worker sends it after those before it
                return
            self._lanes[topic] = deque()
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.limit, thread_name_prefix="publish")
            pool = self._pool
        pool.submit(self._drain, job)

    def _drain(self, job: _Publish | None) -> None:
        """Send `job`, then every publish queued behind it on its topic."""
        while job is not None:
            try:
                job.context.run(self._send, job)
            except BaseException as error:  # reported on the record's future; the topic's next publish still goes
                job.future.set_exception(error)
            else:
                job.future.set_result(None)
            with self._lock:
                lane = self._lanes[job.topic]
                if lane:
                    job = lane.popleft()
                else:
                    del self._lanes[job.topic]
                    job = None

    def _send(self, job: _Publish) -> None:
        payload = job.payload() if callable(job.payload) else job.payload
        self.publisher.publish(job.topic, payload, job.qos, job.retain)

    def take(self) -> list[Future[None]]:
        """The futures of the publishes given since the last call."""
        given, self._given = self._given, []
        return given

    def settle(self) -> None:
        """Wait for the publishes given since the last `take()`; raise the first that failed."""
        wait(self._given)
        for future in self._given:
            future.result()


def publish(topic: str, payload: Payload, publisher: Publisher | ConcurrentPublisher) -> None:
    """One message through `publisher` at the configured QoS and retain flag (MQTT_QOS, MQTT_RETAIN)."""
    settings = MqttSettings.get()
    if isinstance(publisher, ConcurrentPublisher):
        publisher.publish(topic, payload, settings.MQTT_QOS, settings.MQTT_RETAIN)
    else:
        publisher.publish(topic, payload() if callable(payload) else payload, settings.MQTT_QOS, settings.MQTT_RETAIN)


def settle(publisher: Publisher | ConcurrentPublisher) -> None:
    """Return once the publishes given to `publisher` so far have gone out; raise the first that failed."""
    if isinstance(publisher, ConcurrentPublisher):
        publisher.settle()
