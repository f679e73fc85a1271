"""The web inbox through the local stack: its files, config and sign-in list over HTTP, the broker's WebSocket
listener with a plain MQTT client, and the page itself in Debian's Chromium (web/test/, node's test runner
driving playwright-core). `make test` installs Chromium and the npm packages and builds web/dist first."""

import json
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import requests

from postbox_local import tokens
from postbox_local.template import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

WEB = ROOT / "web"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
BROWSER_TESTS_TIMEOUT_SECONDS = 420


def test_page_config_and_sign_in_list_are_served_locally(local_stack):
    page = requests.get(local_stack.url + "/", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert "worker-src 'self' blob:" in page.headers["Content-Security-Policy"]   # mqtt.js's timer worker
    assert page.headers["Cache-Control"] == "no-cache"
    bundle = next(part.split('"')[0] for part in page.text.split('src="/')[1:] if part.startswith("assets/"))
    script = requests.get(f"{local_stack.url}/{bundle}", timeout=10)
    assert script.status_code == 200 and script.headers["Content-Type"].startswith("text/javascript")
    assert "immutable" in script.headers["Cache-Control"]

    config = requests.get(local_stack.url + "/config.json", timeout=10).json()
    assert config["auth"]["mode"] == "local"
    assert config["mqtt"] == {"url": f"ws://127.0.0.1:{local_stack.process.ws_port}/mqtt", "topic_base": "postbox"}

    users = requests.get(local_stack.url + "/local/users", timeout=10).json()
    assert [u["id"] for u in users] == ["admin", "alice", "bob", "carol", "dave", "erin"]  # frank is inactive
    assert {"id": "bob", "name": "Bob Baraka"} in users

    # The files never shadow the API, and nothing outside web/dist is served.
    for path in ("/api/v1/inbox", "/../pyproject.toml", "/%2e%2e/pyproject.toml", "/nowhere.js"):
        response = requests.get(local_stack.url + path, timeout=10)
        assert response.status_code in (401, 404), path
        assert response.json()["detail"] in ("Authentication credentials were not provided.", "Not found.")


def test_inbox_events_reach_a_websocket_client(local_stack):
    received: list[dict] = []
    subscribed, arrived = threading.Event(), threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"ws-e2e-{time.monotonic_ns()}",
                         transport="websockets")
    client.ws_set_options(path="/mqtt")
    client.on_connect = lambda c, *_: c.subscribe("postbox/user/dave/inbox", qos=1)
    client.on_subscribe = lambda *_: subscribed.set()

    def on_message(_client, _userdata, message) -> None:
        received.append(json.loads(message.payload))
        arrived.set()

    client.on_message = on_message
    client.connect("127.0.0.1", local_stack.process.ws_port, keepalive=30)
    client.loop_start()
    try:
        assert subscribed.wait(10), "no SUBACK over WebSockets"
        message = local_stack.send("erin", "user", "dave", "Over WebSockets")
        assert arrived.wait(15), "nothing arrived over WebSockets"
        assert received[0]["event"] == "created" and received[0]["entry"]["id"] == message["id"]
    finally:
        client.loop_stop()
        client.disconnect()


def test_web_inbox_in_chromium(local_stack, tmp_path):
    """Sign in, live updates, a second tab, the recipient picker, conversations, alerts, attachments, isolation,
    reconnect and offline, the phone layout, the keyboard, archive/undo/bulk, settings, axe-core in both themes,
    infinite scroll and French: web/test/web-inbox.test.mjs (its spec report is shown on failure)."""
    missing = [what for what, ok in (("node", shutil.which("node")), (str(CHROMIUM), CHROMIUM.exists()),
                                     ("web/node_modules", (WEB / "node_modules" / "playwright-core").is_dir()),
                                     ("web/dist", (WEB / "dist" / "index.html").is_file())) if not ok]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: run `make test` (or `make web` and install chromium)")
    screenshots = os.environ.get("POSTBOX_SCREENSHOTS") or str(ROOT / "build" / "screenshots")
    env = {**os.environ, "POSTBOX_URL": local_stack.url, "POSTBOX_APP_TOKEN": tokens.app_token("acme/billing"),
           "POSTBOX_SCREENSHOTS": screenshots, "CHROMIUM": str(CHROMIUM)}
    try:
        result = subprocess.run(["node", "--test", "--test-reporter=spec", "test/"], cwd=WEB, env=env,
                                capture_output=True, text=True, timeout=BROWSER_TESTS_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"the browser tests did not finish in {BROWSER_TESTS_TIMEOUT_SECONDS}s:\n{error.stdout}")
    report = result.stdout + result.stderr
    assert result.returncode == 0, f"browser tests failed:\n{report[-12000:]}"
    assert re.search(r"^ℹ fail 0$", report, re.M) and not re.search(r"^ℹ pass 0$", report, re.M), report[-4000:]
