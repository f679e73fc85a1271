"""Alert callbacks without AWS: which addresses count as public, URL checks with a patched resolver, the
pinned connection (no second lookup), signatures, and the alert template renderer."""

import hashlib
import hmac
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from postbox.errors import BadRequest
from postbox.integrations import webhooks
from postbox.logic import callbacks
from postbox.logic.alert_content import render_template, with_params


@pytest.fixture
def loopback(settings):
    """Switch CALLBACK_ALLOW_LOOPBACK_HTTP on or off for one test (off at first)."""
    def apply(value: bool) -> None:
        settings(CALLBACK_ALLOW_LOOPBACK_HTTP=value)

    apply(False)
    return apply


@pytest.mark.parametrize("address", [
    "10.0.0.1", "10.255.255.254", "172.16.0.1", "172.31.255.255", "192.168.0.1", "127.0.0.1", "127.8.9.10",
    "169.254.169.254", "169.254.0.1", "0.0.0.0", "100.64.0.1", "224.0.0.1", "239.255.255.250", "240.0.0.1",
    "255.255.255.255", "192.0.2.1", "198.18.0.1", "::1", "::", "fe80::1", "fe80::1%eth0", "fc00::1", "fd12:3456::1",
    "ff02::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "2002:a00:1::1", "64:ff9b::a00:1",
    "2001:db8::1", "not an address", "",
])
def test_private_loopback_link_local_multicast_reserved_and_embedded_ones_are_not_public(address):
    assert not callbacks.is_public_address(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111",
                                     "::ffff:8.8.8.8", "2002:5db8:d822::1", "64:ff9b::808:808"])
def test_global_unicast_addresses_are_public(address):
    assert callbacks.is_public_address(address)


def test_a_public_https_url_is_checked_and_pinned_to_its_address(dns, loopback):
    checked = callbacks.check_url("https://Hooks.Acme.Example:8443/alerts/in?key=v&x=1")
    assert checked == callbacks.CheckedUrl("https", "hooks.acme.example", 8443, "/alerts/in?key=v&x=1",
                                           "93.184.216.34")
    assert callbacks.check_url("https://hooks.acme.example").target == "/"


@pytest.mark.parametrize(("url", "reason"), [
    ("http://hooks.acme.example/cb", "must use https"),
    ("ftp://hooks.acme.example/cb", "absolute https URL"),
    ("hooks.acme.example/cb", "absolute https URL"),
    ("https:///cb", "absolute https URL"),
    ("https://user:secret@hooks.acme.example/cb", "credentials"),
    ("https://hooks.acme.example:0x50/cb", "not a valid URL"),
    ("https://hooks.acme.example/" + "x" * 2048, "at most 2048"),
    ("https://10.1.2.3/cb", "non-public address (10.1.2.3)"),
    ("https://172.20.0.1/cb", "non-public"), ("https://192.168.10.10/cb", "non-public"),
    ("https://127.0.0.1/cb", "non-public"), ("https://[::1]/cb", "non-public"),
    ("https://169.254.169.254/latest/meta-data/iam/", "non-public address (169.254.169.254)"),
    ("https://[::ffff:192.168.0.1]/cb", "non-public"),
    ("https://localhost/cb", "non-public address (127.0.0.1)"),
    ("https://split.example/cb", "non-public address (10.9.8.7)"),
    ("https://nowhere.example/cb", "does not resolve"),
])
def test_refused_urls_say_why(dns, loopback, url, reason):
    dns.update({"localhost": ["127.0.0.1", "::1"], "split.example": ["93.184.216.34", "10.9.8.7"]})
    with pytest.raises(callbacks.UrlRefused, match=reason.replace("(", r"\(").replace(")", r"\)")):
        callbacks.check_url(url)


def test_an_unresolvable_host_is_retried_later_not_refused_for_good(dns, loopback):
    with pytest.raises(callbacks.HostUnresolved):
        callbacks.check_url("https://nowhere.example/cb")


def test_loopback_only_by_setting_and_only_as_a_literal_address(dns, loopback):
    dns["localhost"] = ["127.0.0.1"]
    for url in ("http://127.0.0.1:8080/cb", "https://127.0.0.1/cb", "http://[::1]:8080/cb"):
        with pytest.raises(callbacks.UrlRefused):
            callbacks.check_url(url)
    loopback(True)
    assert callbacks.check_url("http://127.0.0.1:8080/cb").address == "127.0.0.1"
    assert callbacks.check_url("http://[::1]:8080/cb").address == "::1"
    for url in ("http://localhost:8080/cb", "http://10.0.0.1/cb", "http://169.254.169.254/", "http://0.0.0.0:80/"):
        with pytest.raises(callbacks.UrlRefused):
            callbacks.check_url(url)


def test_the_real_resolver_sees_through_numeric_host_forms(loopback):
    """getaddrinfo turns 2130706433 and 0x7f.1 into 127.0.0.1: the check judges what it resolves to."""
    for url in ("https://2130706433/cb", "https://0x7f.0.0.1/cb", "https://127.1/cb", "https://[::1]/cb"):
        with pytest.raises(callbacks.UrlRefused, match="non-public"):
            callbacks.check_url(url)


def test_the_signature_is_the_hmac_sha256_of_the_body():
    body = b'{"message_id":"01ARZ","private_data":null,"action":"read","user":"bob@example.org"}'
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert callbacks.sign("s3cret", body) == f"sha256={expected}"
    assert callbacks.sign("s3cret", body + b" ") != callbacks.sign("s3cret", body)


def test_jobs_only_for_reads_and_deletes_of_alert_copies_with_a_callback():
    entry = {"kind": "alert", "callback": True, "source_id": "A1", "user_id": "bob", "app_id": "acme/billing",
             "read_at": "2026-01-01T00:00:00.000000Z"}
    read = callbacks.job_for("read", entry)
    assert (read["alert_id"], read["app_id"], read["user_id"], read["action"]) == ("A1", "acme/billing", "bob", "read")
    assert callbacks.job_for("deleted", entry)["action"] == "delete"
    assert callbacks.job_for("read", {**entry, "read_at": "2026-01-02T00:00:00.000000Z"})["delivery_id"] != read[
        "delivery_id"]
    assert callbacks.job_for("read", dict(entry))["delivery_id"] == read["delivery_id"]
    for event, other in (("created", entry), ("unread", entry), ("archived", entry), ("updated", entry),
                         ("read", {**entry, "callback": False}), ("read", {**entry, "kind": "message"})):
        assert callbacks.job_for(event, other) is None


# -- the pinned connection ------------------------------------------------------------------------------------


class _Echo(BaseHTTPRequestHandler):
    seen: list[dict] = []

    def do_POST(self) -> None:
        _Echo.seen.append({"host": self.headers["Host"], "path": self.path,
                           "body": self.rfile.read(int(self.headers["Content-Length"]))})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_the_call_connects_to_the_checked_address_without_looking_the_name_up_again(monkeypatch):
    import socket

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    real_getaddrinfo = socket.getaddrinfo
    looked_up: list[str] = []

    def getaddrinfo(host, *args, **kwargs):
        looked_up.append(host)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    try:
        port = server.server_address[1]
        status = webhooks.post("http", "hooks.acme.example", port, "127.0.0.1", "/cb?x=1", b"{}",
                               {"Content-Type": "application/json"}, timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    assert status == 204
    assert looked_up == ["127.0.0.1"]  # the numeric address only: no lookup of the name
    assert _Echo.seen[-1] == {"host": f"hooks.acme.example:{port}", "path": "/cb?x=1", "body": b"{}"}


def test_tls_is_verified_against_the_url_host_not_the_address():
    """Connecting to an address that does not serve the host's certificate fails (no blind TLS)."""
    import socket
    import ssl

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def accept_and_close():
        connection, _ = server.accept()
        connection.close()

    threading.Thread(target=accept_and_close, daemon=True).start()
    try:
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            webhooks.post("https", "hooks.acme.example", port, "127.0.0.1", "/", b"{}", {}, timeout=2)
    finally:
        server.close()


# -- templates and URLs ---------------------------------------------------------------------------------------


def test_templates_substitute_plain_keys_only():
    assert render_template("Invoice {number} due {date}", {"number": 7, "date": "Friday"}, "c") == (
        "Invoice 7 due Friday")
    assert render_template("{{literal}} {a}", {"a": True}, "c") == "{literal} true"
    assert render_template("no keys", None, "c") == "no keys"
    with pytest.raises(BadRequest) as raised:
        render_template("{user.__class__.__mro__}", {"user": "x"}, "message.content")
    assert raised.value.detail["field"] == "message.content.user.__class__.__mro__"
    with pytest.raises(BadRequest) as raised:
        render_template("{a} {b} {a}", {}, "message.content")
    assert raised.value.detail["detail"] == "message.content.a: missing key 'a', 'b' of the template"
    assert raised.value.detail["missing"] == ["a", "b"]


def test_frontend_url_parameters_replace_their_namesakes_and_keep_the_rest():
    url = with_params("https://acme.example/p?a=1&message_id=old#frag", {"message_id": "M1", "private_data": "x y&z"})
    assert url == "https://acme.example/p?a=1&message_id=M1&private_data=x+y%26z#frag"
