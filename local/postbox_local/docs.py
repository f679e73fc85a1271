"""Swagger UI for docs/openapi.json on the local gateway (local only, never in template.yaml).

`GET /docs` is the page; `GET /docs/openapi.json` the checked-in document with its server set to the address the
page was loaded from, so "Try it out" calls this stack; the page's script and style are the Swagger UI build that
Powertools ships (nothing comes from a CDN). Authorize with a local token (`postbox token alice`, or
`GET /local/token?user=alice`); `GET /docs?user=alice` authorizes as that demo user on load.
"""

import json
from functools import cache

from werkzeug.wrappers import Request, Response

from postbox.http.powertools import swagger_ui_assets
from postbox_local import openapi

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Postbox API (local)</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <style>body { margin: 0 } .postbox-note { font: 14px system-ui, sans-serif; padding: .6rem 1.2rem;
    background: #fdf6e3; border-bottom: 1px solid #e5d9b6 } .postbox-note code { font-size: 13px }</style>
</head>
<body>
  <div class="postbox-note">Local stack. <b>Authorize</b> with a local access token:
    <code>.venv/bin/postbox token alice</code>, or open <a href="/docs?user=alice">/docs?user=alice</a>
    (demo users: alice bob carol dave erin admin; an application: <code>postbox token --app acme/billing</code>).
  </div>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
"""

INIT = """(function () {
  var ui = SwaggerUIBundle({
    url: "/docs/openapi.json", dom_id: "#swagger-ui", deepLinking: true, docExpansion: "none", filter: true,
    persistAuthorization: true, tryItOutEnabled: true,
    presets: [SwaggerUIBundle.presets.apis], layout: "BaseLayout",
    onComplete: function () {
      var user = new URLSearchParams(window.location.search).get("user");
      if (!user) { return; }
      fetch("/local/token?user=" + encodeURIComponent(user)).then(function (r) { return r.json(); })
        .then(function (body) { if (body.token) { ui.preauthorizeApiKey("cognito", body.token); } });
    }
  });
  window.ui = ui;
})();
"""

ASSETS = {"swagger-ui-bundle.js": "application/javascript", "swagger-ui.css": "text/css"}


@cache
def _asset(name: str) -> bytes:
    suffix = ".min.js" if name.endswith(".js") else ".min.css"
    return (swagger_ui_assets() / (name.rsplit(".", 1)[0] + suffix)).read_bytes()


def page(request: Request) -> Response:
    return Response(PAGE, content_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"})


def init_script(request: Request) -> Response:
    return Response(INIT, content_type="application/javascript", headers={"Cache-Control": "no-store"})


def spec(request: Request) -> Response:
    """The checked-in document, served by the address it was asked from (any port the stack runs on)."""
    document = json.loads(openapi.OUTPUT.read_text())
    document["servers"] = [{"url": request.host_url.rstrip("/"), "description": "this local stack"}]
    return Response(json.dumps(document), content_type="application/json", headers={"Cache-Control": "no-store"})


def asset(name: str):
    def serve(request: Request) -> Response:
        return Response(_asset(name), content_type=ASSETS[name], headers={"Cache-Control": "max-age=3600"})

    return serve


def routes() -> dict[tuple[str, str], object]:
    """The local gateway's routes for the docs (stack.LocalStack._local_routes)."""
    return {("GET", "/docs"): page, ("GET", "/docs/"): page, ("GET", "/docs/openapi.json"): spec,
            ("GET", "/docs/init.js"): init_script,
            **{("GET", f"/docs/{name}"): asset(name) for name in ASSETS}}
