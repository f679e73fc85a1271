"""The embedded MQTT broker (amqtt) standing in for AWS IoT Core: anonymous clients, QoS 0/1, and
persistent sessions kept on disk, so a subscriber with a persistent session gets what was published
while it was away, even across a broker restart. Besides MQTT over TCP it listens for MQTT over
WebSockets (the web inbox's connection, as browsers reach IoT Core over WSS)."""

import asyncio
import logging
import threading
from pathlib import Path

for noisy in ("amqtt", "transitions", "aiosqlite", "sqlalchemy"):
    logging.getLogger(noisy).setLevel(logging.CRITICAL)


class EmbeddedBroker:
    def __init__(self, port: int, sessions_file: Path, host: str = "127.0.0.1", ws_port: int | None = None):
        self.port = port
        self.ws_port = ws_port
        self.host = host
        self.sessions_file = sessions_file
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="mqtt-broker", daemon=True)
        self._thread.start()
        self._broker = None

    def _config(self) -> dict:
        listeners = {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}}
        if self.ws_port:
            listeners["ws"] = {"type": "ws", "bind": f"{self.host}:{self.ws_port}"}
        return {
            "listeners": listeners,
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
                "amqtt.contrib.persistence.SessionDBPlugin": {
                    "connection": f"sqlite+aiosqlite:///{self.sessions_file}", "clear_on_shutdown": False},
            },
        }

    @property
    def running(self) -> bool:
        return self._broker is not None

    def start(self) -> None:
        if self._broker is not None:
            return
        from amqtt.broker import Broker  # amqtt is large: loaded when a broker starts, not with the stack

        async def start_fresh() -> Broker:
            # A fresh Broker each time: sessions come back from the session database, as after a restart.
            broker = Broker(self._config(), loop=self._loop)
            await broker.start()
            return broker

        self._broker = asyncio.run_coroutine_threadsafe(start_fresh(), self._loop).result(timeout=30)

    def stop(self) -> None:
        broker, self._broker = self._broker, None
        if broker is not None:
            try:
                asyncio.run_coroutine_threadsafe(broker.shutdown(), self._loop).result(timeout=30)
            except Exception:  # amqtt cancels its own tasks on shutdown
                logging.getLogger("postbox.local").debug("broker shutdown noise", exc_info=True)
