"""A local AWS IoT data-plane endpoint: receives the publisher's unchanged boto3 `iot-data` Publish
calls (POST /topics/{topic}?qos=&retain=) and forwards them to the embedded broker.

It answers like IoT Core: 200 once the broker has the message (PUBACK for QoS 1), 503 while the broker
is unreachable, so the publisher's stream batch fails and is retried. Connections are kept alive between
publishes (HTTP/1.1), as IoT Core's HTTPS endpoint does; werkzeug's server always closes them, so this uses
the standard library's.
"""

import json
import socket
import ssl
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import paho.mqtt.client as mqtt

ACK_TIMEOUT_SECONDS = 2.0

Answer = tuple[int, dict[str, Any], dict[str, str]]   # status, JSON body, extra headers


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

    def handle(self, method: str, target: str, body: bytes) -> Answer:
        url = urlsplit(target)
        if method != "POST" or not url.path.startswith("/topics/"):
            return 404, {"message": "Not found"}, {}
        query = parse_qs(url.query)
        qos = query.get("qos", ["0"])[0]
        retain = query.get("retain", ["false"])[0].lower() == "true"
        return self.publish(unquote(url.path[len("/topics/"):]), body, int(qos) if qos.isdigit() else -1, retain)

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool) -> Answer:
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
        return 200, {}, {}


def _error(status: int, code: str, message: str) -> Answer:
    return status, {"message": message}, {"x-amzn-ErrorType": code}


def serve(dataplane: IotDataPlane, port: int, ssl_context: tuple[str, str] | None = None) -> ThreadingHTTPServer:
    """The data plane's HTTP(S) server (not yet serving: call serve_forever; shutdown stops it)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            if isinstance(self.request, ssl.SSLSocket):
                self.request.do_handshake()  # here, in the connection's thread: the accepting one never waits on it
            super().setup()
            # Headers and body are two writes: without this, delayed ACKs stall every kept-alive response.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._answer(*dataplane.handle("POST", self.path, body))

        def do_GET(self) -> None:
            self._answer(*dataplane.handle("GET", self.path, b""))

        def _answer(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    if ssl_context:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*ssl_context)
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    return server
