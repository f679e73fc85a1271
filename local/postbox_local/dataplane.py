"""A local AWS IoT data-plane endpoint: receives the publisher's unchanged boto3 `iot-data` Publish
calls (POST /topics/{topic}?qos=&retain=) and forwards them to the embedded broker.

It answers like IoT Core: 200 once the broker has the message (PUBACK for QoS 1), 503 while the broker
is unreachable, so the publisher's stream batch fails and is retried.
"""

import json
import threading
from collections import deque
from typing import Any
from urllib.parse import unquote

import paho.mqtt.client as mqtt
from werkzeug.wrappers import Request, Response

ACK_TIMEOUT_SECONDS = 2.0


class IotDataPlane:
    def __init__(self, broker_port: int):
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="postbox-local-iot-data",
                                  clean_session=True)
        self.client.reconnect_delay_set(min_delay=1, max_delay=2)
        self.connected = threading.Event()
        self.client.on_connect = lambda *args: self.connected.set()
        self.client.on_disconnect = lambda *args: self.connected.clear()
        self.broker_port = broker_port
        self.published: deque[dict[str, Any]] = deque(maxlen=1000)
        self._lock = threading.Lock()

    def connect(self) -> None:
        self.client.connect_async("127.0.0.1", self.broker_port, keepalive=30)
        self.client.loop_start()
        self.connected.wait(timeout=10)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()

    def __call__(self, environ: dict[str, Any], start_response) -> Any:
        request = Request(environ)
        raw_path = environ.get("RAW_URI") or environ.get("REQUEST_URI") or request.path
        path = raw_path.split("?", 1)[0]
        if request.method != "POST" or not path.startswith("/topics/"):
            response = Response(json.dumps({"message": "Not found"}), status=404, content_type="application/json")
            return response(environ, start_response)
        topic = unquote(path[len("/topics/"):])
        qos = int(request.args.get("qos", "0"))
        retain = request.args.get("retain", "false").lower() == "true"
        return self.publish(topic, request.get_data(), qos, retain)(environ, start_response)

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool) -> Response:
        if qos not in (0, 1):
            return _error(400, "InvalidRequestException", "QoS must be 0 or 1")
        if not (self.connected.is_set() and self.client.is_connected()):
            return _error(503, "ServiceUnavailableException", "broker unavailable")
        with self._lock:
            info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            return _error(503, "ServiceUnavailableException", "broker unavailable")
        if qos == 1:
            try:
                info.wait_for_publish(timeout=ACK_TIMEOUT_SECONDS)
            except (RuntimeError, ValueError):
                return _error(503, "ServiceUnavailableException", "broker unavailable")
            if not info.is_published():
                return _error(503, "ServiceUnavailableException", "no PUBACK from the broker")
        self.published.append({"topic": topic, "payload": payload.decode("utf-8", errors="replace")})
        return Response("{}", status=200, content_type="application/json")


def _error(status: int, code: str, message: str) -> Response:
    return Response(json.dumps({"message": message}), status=status, content_type="application/json",
                    headers={"x-amzn-ErrorType": code})
