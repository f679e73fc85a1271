"""`postbox local`: the whole stack on one machine, no AWS account and no Docker.

Start order matters: moto, resources, the demo directory, broker and IoT endpoint, the stream pump, and
the API gateway last, so that a client that finds ports 3000 and 1883 open finds a ready stack.
"""

import json
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from postbox.dal import directory
from postbox.logic.directory import parse_document, upsert
from postbox_local import dataplane, docs, outbox, resources, tokens
from postbox_local.broker import EmbeddedBroker
from postbox_local.dataplane import IotDataPlane
from postbox_local.functions import FunctionRegistry
from postbox_local.gateway import Gateway, json_response
from postbox_local.pump import StreamPump
from postbox_local.state import Ports, aws_environment, state_dir
from postbox_local.template import ROOT
from postbox_local.webapp import WebApp

DEMO_DIRECTORY = ROOT / "local" / "demo-directory.json"
log = logging.getLogger("postbox.local")


def _serve(server: BaseWSGIServer, name: str) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    return thread


@dataclass
class LocalStack:
    ports: Ports = field(default_factory=Ports.from_env)
    directory_file: Path = DEMO_DIRECTORY

    def start(self) -> None:
        os.environ.update(aws_environment(self.ports))
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
        os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "postbox")
        # Alert callbacks may go to a receiver on this machine (http://127.0.0.1:PORT/...); never so in AWS.
        os.environ.setdefault("CALLBACK_ALLOW_LOOPBACK_HTTP", "true")

        from moto.server import ThreadedMotoServer  # moto is large: only `postbox local` loads it

        from postbox_local import moto_index

        moto_index.install()  # Query in O(result), one request at a time, stream retention
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.ports.moto, verbose=False)
        self.moto.start()

        created = resources.create_all()
        self.queue_url, self.stream_arn = created["queue_url"], created["stream_arn"]
        self._load_directory()

        sessions = state_dir() / f"mqtt-sessions-{self.ports.mqtt}.db"
        sessions.unlink(missing_ok=True)
        self.broker = EmbeddedBroker(self.ports.mqtt, sessions, ws_port=self.ports.ws)
        self.broker.start()
        self.dataplane = IotDataPlane(self.ports.mqtt)
        self.iot_server = dataplane.serve(self.dataplane, self.ports.iot)
        _serve(self.iot_server, "iot-data")
        self.dataplane.connect()

        self.functions = FunctionRegistry()
        self.pump = StreamPump(self.functions, self.stream_arn, self.queue_url)
        self.pump.start()

        gateway = Gateway(self.functions, self._local_routes(), static=WebApp(self.ports))
        self.api_server = make_server("127.0.0.1", self.ports.api, gateway, threaded=True)
        _serve(self.api_server, "api-gateway")

    def _load_directory(self) -> None:
        upsert(parse_document(json.loads(self.directory_file.read_text())))

    def stop(self) -> None:
        for stop in (lambda: self.api_server.shutdown(), lambda: self.pump.stop(), lambda: self.dataplane.close(),
                     lambda: self.iot_server.shutdown(), lambda: self.broker.stop(), lambda: self.moto.stop()):
            try:
                stop()
            except Exception:
                log.debug("while stopping", exc_info=True)

    # -- local-only endpoints (never in template.yaml) ------------------------------------------------

    def _local_routes(self):
        return {
            **docs.routes(),  # Swagger UI for docs/openapi.json
            ("POST", "/local/broker/stop"): self._broker_stop,
            ("POST", "/local/broker/start"): self._broker_start,
            ("GET", "/local/status"): self._status,
            ("GET", "/local/token"): self._token,
            ("GET", "/local/users"): self._users,
            ("GET", "/local/outbox"): self._outbox,
        }

    def _broker_stop(self, request: Request) -> Response:
        self.broker.stop()
        return json_response({"broker": "stopped"})

    def _broker_start(self, request: Request) -> Response:
        self.broker.start()
        self.dataplane.connected.wait(timeout=10)
        return json_response({"broker": "running"})

    def _status(self, request: Request) -> Response:
        return json_response({
            "broker": "running" if self.broker.running else "stopped",
            "iot_connected": self.dataplane.connected.is_set(),
            "published": len(self.dataplane.published),
            "stream_consumers": {c.spec.function: {"retrying": sum(len(p) for p in list(c.pending.values())),
                                                   "failed_batches": c.failed_batches}
                                 for c in self.pump.consumers},
            "queue_consumers": {c.spec.function: {"failed_messages": c.failed_messages}
                                for c in self.pump.queue_consumers},
        })

    def _token(self, request: Request) -> Response:
        user_id = request.args.get("user", "")
        user = directory.get_user(user_id) if user_id else None
        if not user or not user.get("active", True):
            return json_response({"detail": "No such active user."}, status=404)
        return json_response({"token": tokens.user_token(user_id)})

    def _users(self, request: Request) -> Response:
        """The web inbox's local sign-in form: the directory's active users (ids and names only)."""
        stored = directory.entries_of_kind(directory.LISTED_KINDS["users"])
        users = [{"id": u["id"], "name": u.get("name") or u["id"]} for u in stored if u.get("active", True)]
        return json_response(sorted(users, key=lambda u: u["id"]))

    def _outbox(self, request: Request) -> Response:
        """The emails and SMS moto recorded (local/postbox_local/outbox.py)."""
        return json_response(outbox.entries())

    def banner(self) -> str:
        api, mqtt = f"http://127.0.0.1:{self.ports.api}", f"127.0.0.1:{self.ports.mqtt}"
        return f"""
Postbox is running on this machine (Ctrl-C stops it).
  API gateway   {api}   (GET {api}/health)
  Web inbox     {api}/   (sign in as any demo user)
  API docs      {api}/docs   (Swagger UI; /docs?user=alice authorizes as alice)
  MQTT broker   mqtt://{mqtt}   ws://127.0.0.1:{self.ports.ws}/mqtt   (anonymous, like IoT Core's topics)
  AWS (moto)    http://127.0.0.1:{self.ports.moto}   table postbox-local

Get a token (demo users: alice bob carol dave erin admin; app: acme/billing):
  TOKEN=$(.venv/bin/postbox token alice)
Send bob a message:
  curl -s -X POST {api}/api/v1/messaging -H "Authorization: Bearer $TOKEN" \\
       -H 'Content-Type: application/json' -d '{{"target_type": "user", "target_id": "bob", "message": "Hello Bob"}}'
Watch bob's inbox (another terminal):
  .venv/bin/postbox listen postbox/user/bob/inbox
Bob's inbox:
  curl -s {api}/api/v1/inbox -H "Authorization: Bearer $(.venv/bin/postbox token bob)"
Emails and SMS that would have gone out (to users who turned on notify_email / notify_sms):
  curl -s {api}/local/outbox
"""
