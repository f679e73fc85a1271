"""A TCP proxy that puts a network round trip between a client and a local server (asyncio, in its own thread).

Every chunk of bytes, in either direction, is delivered half a round trip after it arrived, in order, so
requests can still be pipelined on one connection. A new connection's first bytes towards the server wait one
round trip more: the TCP handshake's, which a real network charges before the client can send anything (here the
client's connect returns at once). TLS and MQTT pass through untouched.
"""

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class DelayProxy:
    def __init__(self, upstream_port: int, rtt_seconds: float):
        self.upstream_port = upstream_port
        self.rtt = rtt_seconds
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="delay-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self.port = 0

    def start(self) -> "DelayProxy":
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._accept, "127.0.0.1", 0), self._loop).result(timeout=10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        async def close() -> None:
            assert self._server is not None
            self._server.close()
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        accepted = time.monotonic()
        self.connections += 1
        writers = [client_writer]
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
            writers.append(server_writer)
            # Towards the server: not before the handshake's round trip plus the half trip; back: the half trip.
            await asyncio.gather(self._pipe(client_reader, server_writer, not_before=accepted + 1.5 * self.rtt),
                                 self._pipe(server_reader, client_writer, not_before=0.0), return_exceptions=True)
        except (OSError, asyncio.CancelledError):
            pass  # the server is gone, or the proxy stops
        finally:
            for writer in writers:
                writer.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, not_before: float) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    break
                pause = due - time.monotonic()
                if pause > 0:
                    await asyncio.sleep(pause)
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()

        sender = asyncio.ensure_future(deliver())
        try:
            while True:
                data = await reader.read(65536)
                await queue.put((max(time.monotonic() + self.rtt / 2, not_before), data))
                if not data:
                    break
            await sender
        finally:
            sender.cancel()


@contextmanager
def delayed(upstream_port: int, rtt_ms: float) -> Iterator[DelayProxy]:
    """A running proxy to `upstream_port` with a round trip of `rtt_ms`; its port is `.port`."""
    proxy = DelayProxy(upstream_port, rtt_ms / 1000).start()
    try:
        yield proxy
    finally:
        proxy.stop()
