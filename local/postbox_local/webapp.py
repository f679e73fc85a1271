"""The web inbox on the local gateway: web/dist's files at `/`, and `/config.json`, which tells the page how
to sign in (the local directory's users and `/local/token`) and where the broker's WebSocket listener is.

In AWS the same files are served by CloudFront from the web bucket, with a config.json built from the stack's
`WebConfig` output (docs/deploy.md). Nothing here is in template.yaml.
"""

import json
import mimetypes
from pathlib import Path

from werkzeug.wrappers import Request, Response

from postbox_local import template
from postbox_local.state import Ports

WEB_DIST = template.ROOT / "web" / "dist"
NOT_BUILT = """<!doctype html><html lang="en"><meta charset="utf-8"><title>Postbox</title>
<body style="font: 16px system-ui, sans-serif; margin: 3rem auto; max-width: 40rem">
<h1>The web inbox is not built</h1>
<p>Run <code>make web</code> (or <code>make run</code>, which builds it) and reload this page.</p>
<p>The API works without it: <a href="/health">/health</a>.</p></body></html>"""
# The faces the page offers, each present when its route is in template.yaml (the page degrades without it).
FEATURE_ROUTES = {
    "attachments": ("POST", "/api/v1/attachments"),
    "conversations": ("GET", "/api/messageConversations/{conversation_id}"),
    "alerts": ("GET", "/aalam/base/messages"),
}


def _security_headers(ports: Ports) -> dict[str, str]:
    # The page fetches the API (same origin), the broker's WebSocket and, for attachments, moto's S3; mqtt.js keeps
    # its timers in a worker made from a blob: URL (so a background tab still sends its keepalives).
    connect = f"'self' ws://127.0.0.1:{ports.ws} ws://localhost:{ports.ws} http://127.0.0.1:{ports.moto}"
    return {
        "Content-Security-Policy": (f"default-src 'self'; connect-src {connect}; img-src 'self' data:; "
                                    "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
                                    "frame-ancestors 'none'; form-action 'self'"),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


class WebApp:
    def __init__(self, ports: Ports, dist: Path = WEB_DIST):
        self.ports = ports
        self.dist = dist.resolve()
        self.headers = _security_headers(ports)

    def features(self) -> dict[str, bool]:
        routes = {(route.method, route.path) for route in template.routes()}
        return {name: route in routes for name, route in FEATURE_ROUTES.items()}

    def config(self, request: Request) -> Response:
        host = request.host.split(":")[0] or "127.0.0.1"
        body = {
            "auth": {"mode": "local", "users_url": "/local/users", "token_url": "/local/token"},
            "api_base": "",
            "mqtt": {"url": f"ws://{host}:{self.ports.ws}/mqtt", "topic_base": "postbox"},
            "features": self.features(),
        }
        return Response(json.dumps(body), content_type="application/json", headers={"Cache-Control": "no-store"})

    def __call__(self, request: Request) -> Response | None:
        """A file of web/dist for GET/HEAD, or None (the gateway then answers its own 404)."""
        if request.method not in ("GET", "HEAD"):
            return None
        if request.path == "/config.json":
            return self.config(request)
        name = "index.html" if request.path in ("/", "/index.html") else request.path.lstrip("/")
        if not (self.dist / "index.html").is_file():
            if name != "index.html":
                return None
            return Response(NOT_BUILT, status=503, content_type="text/html; charset=utf-8", headers=self.headers)
        try:
            path = (self.dist / name).resolve()
        except (OSError, ValueError):  # e.g. a NUL in the path
            return None
        if not path.is_relative_to(self.dist) or not path.is_file():
            return None
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type in ("application/javascript", "image/svg+xml"):
            content_type += "; charset=utf-8"
        # Bundles carry a content hash in their names; the page itself is always revalidated.
        cache = "public, max-age=31536000, immutable" if name.startswith("assets/") else "no-cache"
        data = b"" if request.method == "HEAD" else path.read_bytes()
        return Response(data, content_type=content_type, headers={**self.headers, "Cache-Control": cache})
