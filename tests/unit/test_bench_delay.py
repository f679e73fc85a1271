"""The benchmark's delaying TCP proxy (bench/delay.py, docs/benchmarks.md): a round trip through it costs the
injected round trip, a new connection one more (its handshake), and bytes sent back to back stay in order and are
not serialized round trip by round trip."""

import socket
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RTT_MS = 60


@pytest.fixture
def echo_port():
    """A local echo server's port."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=echo, args=(connection,), daemon=True).start()

    def echo(connection: socket.socket) -> None:
        with connection:
            while data := connection.recv(4096):
                connection.sendall(data)

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1]
    server.close()


@pytest.fixture
def delayed():
    sys.path.insert(0, str(ROOT))
    try:
        from bench.delay import delayed
    finally:
        sys.path.remove(str(ROOT))
    return delayed


def receive(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        assert chunk, "the proxy closed the connection"
        data += chunk
    return data


def test_a_round_trip_through_the_proxy_costs_the_injected_round_trip(echo_port, delayed):
    with delayed(echo_port, RTT_MS) as proxy, socket.create_connection(("127.0.0.1", proxy.port)) as connection:
        connection.settimeout(5)
        started = time.monotonic()
        connection.sendall(b"first")
        assert receive(connection, 5) == b"first"
        first_ms = (time.monotonic() - started) * 1000
        trips = []
        for n in range(3):
            started = time.monotonic()
            connection.sendall(b"again%d" % n)
            assert receive(connection, 6) == b"again%d" % n
            trips.append((time.monotonic() - started) * 1000)

    assert first_ms >= 2 * RTT_MS  # the handshake's round trip, then the request's
    assert all(RTT_MS <= trip < 3 * RTT_MS for trip in trips), trips
    assert proxy.connections == 1


def test_bytes_sent_back_to_back_arrive_in_order_within_one_round_trip(echo_port, delayed):
    with delayed(echo_port, RTT_MS) as proxy, socket.create_connection(("127.0.0.1", proxy.port)) as connection:
        connection.settimeout(5)
        connection.sendall(b"warm")
        receive(connection, 4)
        started = time.monotonic()
        parts = [b"%03d" % n for n in range(20)]
        for part in parts:
            connection.sendall(part)
        assert receive(connection, 60) == b"".join(parts)
        elapsed_ms = (time.monotonic() - started) * 1000

    assert RTT_MS <= elapsed_ms < 3 * RTT_MS  # pipelined: not 20 round trips
