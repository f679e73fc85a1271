"""The local stack as a separate process (what `make run` starts), on free ports, reached over real HTTP
and a real MQTT subscriber (AWSIoTPythonSDK)."""

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from postbox_local import launcher
from postbox_local.launcher import StackProcess


class LocalStack:
    """The stack process plus helpers to call it as a user or an app."""

    def __init__(self, process: StackProcess):
        self.process = process
        self.url = process.url
        self.mqtt_port = process.mqtt_port

    def headers(self, user: str | None = None, app: str | None = None) -> dict[str, str]:
        from postbox_local import tokens

        token = tokens.user_token(user) if user else tokens.app_token(app) if app else None
        return {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, *, user: str | None = None, app: str | None = None,
             **kwargs: Any) -> requests.Response:
        return requests.request(method, self.url + path, headers=self.headers(user, app), timeout=30, **kwargs)

    def send(self, sender: str, target_type: str, target_id: str, text: str) -> dict[str, Any]:
        response = self.call("POST", "/api/v1/messaging", user=sender,
                             json={"target_type": target_type, "target_id": target_id, "message": text})
        assert response.status_code == 201, response.text
        return response.json()

    def inbox_ids(self, user: str, expect: str | None = None, timeout: float = 10.0) -> list[str]:
        """The ids in a user's inbox; with `expect`, waits for the fan-out to deliver that id first."""
        deadline = time.monotonic() + timeout
        while True:
            response = self.call("GET", "/api/v1/inbox", user=user, params={"limit": 100})
            assert response.status_code == 200, response.text
            ids = [item["id"] for item in response.json()["items"]]
            if expect is None or expect in ids or time.monotonic() > deadline:
                return ids
            time.sleep(0.1)

@pytest.fixture(scope="session")
def local_stack(tmp_path_factory) -> Iterator[LocalStack]:
    try:
        process = launcher.start(tmp_path_factory.mktemp("stack") / "stack.log")
    except RuntimeError as error:
        pytest.fail(str(error))
    try:
        yield LocalStack(process)
    finally:
        process.stop()


@dataclass
class Subscriber:
    """An AWSIoTPythonSDK client collecting what arrives on its subscriptions."""

    port: int
    client_id: str
    persistent: bool = False
    messages: list[tuple[str, Any]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        from AWSIoTPythonSDK.MQTTLib import AWSIoTMQTTClient

        self.client = AWSIoTMQTTClient(self.client_id, cleanSession=not self.persistent)
        self.client.configureEndpoint("127.0.0.1", self.port)
        self.client.configureAutoReconnectBackoffTime(1, 2, 5)
        self.client.configureConnectDisconnectTimeout(10)
        self.client.configureMQTTOperationTimeout(10)
        assert self.client.connect()

    def subscribe(self, *topics: str) -> "Subscriber":
        for topic in topics:
            assert self.client.subscribe(topic, 1, self._on_message)
        return self

    def _on_message(self, _client, _userdata, message) -> None:
        with self.arrived:
            self.messages.append((message.topic, json.loads(message.payload)))
            self.arrived.notify_all()

    def on(self, topic: str) -> list[Any]:
        with self.arrived:
            return [payload for t, payload in self.messages if t == topic]

    def wait_for(self, predicate, timeout: float = 15.0) -> list[tuple[str, Any]]:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while not predicate(self.messages):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"not received within {timeout}s; got {self.messages}")
                self.arrived.wait(remaining)
            return list(self.messages)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.disconnect()


@pytest.fixture
def subscriber(local_stack) -> Iterator[Any]:
    created: list[Subscriber] = []

    def make(*topics: str, persistent: bool = False) -> Subscriber:
        sub = Subscriber(local_stack.mqtt_port, f"e2e-{len(created)}-{time.monotonic_ns()}", persistent)
        created.append(sub)
        return sub.subscribe(*topics)

    yield make
    for sub in created:
        sub.close()
