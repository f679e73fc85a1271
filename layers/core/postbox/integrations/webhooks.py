"""Outbound HTTP to application callbacks: DNS resolution, and a POST to an address already checked.

The connection goes to the address the caller checked (no second DNS lookup, so DNS rebinding cannot swap in
another address); TLS still verifies the certificate against the URL's host name (SNI). Redirects are never
followed (http.client does not follow them).
"""

import http.client
import socket
import ssl
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from functools import cache

RESPONSE_READ_MAX = 64 * 1024
_resolver_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="dns")


class Unresolved(OSError):
    """The host name did not resolve (or not in time)."""


def resolve(host: str, port: int, *, timeout: float) -> list[str]:
    """Every address the host resolves to (an IP literal resolves to itself), within `timeout` seconds."""
    future = _resolver_pool.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=timeout)
    except (OSError, UnicodeError, FutureTimeout) as error:
        raise Unresolved(f"{host} does not resolve") from error
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        self._tls = _tls_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def post(scheme: str, host: str, port: int, address: str, target: str, body: bytes, headers: dict[str, str],
         *, timeout: float) -> int:
    """POST `body` to `target` (path and query) on `address`, as `host`; returns the status code.
    Raises OSError (including timeouts) or http.client.HTTPException when the call itself fails."""
    connection_type = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
    connection = connection_type(host, port, address, timeout)
    try:
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        response.read(RESPONSE_READ_MAX)
        return response.status
    finally:
        connection.close()
