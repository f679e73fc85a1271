"""Starts `postbox local` as a separate process on free ports (e2e tests, benchmarks)."""

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from postbox_local.template import ROOT

START_TIMEOUT_SECONDS = 90


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class StackProcess:
    api_port: int
    mqtt_port: int
    ws_port: int
    process: subprocess.Popen
    log_path: Path
    iot_port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start(log_path: Path) -> StackProcess:
    """Start the stack and return once its API port is open (it opens only when everything is ready)."""
    api, mqtt, moto, iot, ws = free_ports(5)
    env = {**os.environ, "POSTBOX_API_PORT": str(api), "POSTBOX_MQTT_PORT": str(mqtt),
           "POSTBOX_MOTO_PORT": str(moto), "POSTBOX_IOT_PORT": str(iot), "POSTBOX_WS_PORT": str(ws),
           "PYTHONUNBUFFERED": "1"}
    for name in ("TABLE_NAME", "BUCKET_NAME", "IDEMPOTENCY_TABLE_NAME", "CURSOR_SECRET_ID",
                 "AWS_ACCOUNT_ID_ENDPOINT_MODE", "AWS_ENDPOINT_URL"):
        env.pop(name, None)
    with log_path.open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "postbox_local.cli", "local"], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    stack = StackProcess(api, mqtt, ws, process, log_path, iot)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not port_open(api):
        if process.poll() is not None or time.monotonic() > deadline:
            stack.stop()
            raise RuntimeError(f"the local stack did not start:\n{stack.log()[-4000:]}")
        time.sleep(0.2)
    return stack
