"""A fault-injecting TCP proxy between instances and Redis, in the scenario's own event loop.

Used where the kernel's tools need privileges the machine may not grant (network namespaces,
`tc netem`, `iptables`): each instance gets its own proxy, so one instance's link can be slowed
or cut while the others' stay whole.

- `delay_ms`/`jitter_ms`: every chunk, in each direction, is held for delay ± jitter (uniform)
  before it is written on. Order is kept: a chunk never overtakes the one before it, as on a
  real TCP link whose latency varies.
- `cut()`: a black hole, as a partition looks from either side: nothing more is forwarded on
  the open connections and new ones are accepted but never answered, so the instance learns
  only from its own timeouts. `heal()` resets whatever was cut (its byte streams lost data)
  and lets new connections through again.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket


class FaultProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.delay_ms = 0.0
        self.jitter_ms = 0.0
        self._healed = asyncio.Event()
        self._healed.set()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def is_cut(self) -> bool:
        return not self._healed.is_set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> FaultProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        sock: socket.socket = self._server.sockets[0]
        self.port = int(sock.getsockname()[1])
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self._healed.set()
        self._reset_all()
        for task in list(self._handlers):
            task.cancel()
        for task in list(self._handlers):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def cut(self) -> None:
        self._healed.clear()

    def heal(self) -> None:
        self._healed.set()
        self._reset_all()

    def _reset_all(self) -> None:
        for w in list(self._writers):
            with contextlib.suppress(Exception):
                w.transport.abort()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        self._writers.add(writer)
        try:
            if self.is_cut:
                # held open and silent until healed: the instance learns only from its timeout
                await self._healed.wait()
                return
            try:
                up_reader, up_writer = await asyncio.open_connection(*self.target)
            except OSError:
                return
            self._writers.add(up_writer)
            try:
                await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))
            finally:
                self._writers.discard(up_writer)
                up_writer.transport.abort()
        except (OSError, asyncio.IncompleteReadError, asyncio.CancelledError):
            # a link ends however it ends; the proxy's own stop cancels it
            pass
        finally:
            if task is not None:
                self._handlers.discard(task)
            self._writers.discard(writer)
            writer.transport.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Copies one direction. Reading never waits on the delay: each chunk is queued with
        the time it is due, and the sender writes each in turn, no earlier (and never ahead of
        the one before it). While cut, what arrives is dropped."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def send() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if self.is_cut:
                    continue
                writer.write(data)
                await writer.drain()

        sender = asyncio.create_task(send())
        last_due = 0.0
        try:
            while True:
                data = await reader.read(65536)
                delay = 0.0
                if self.delay_ms or self.jitter_ms:
                    delay = max(0.0, self.delay_ms + random.uniform(-self.jitter_ms, self.jitter_ms)) / 1000
                last_due = max(last_due, loop.time() + delay)
                queue.put_nowait((last_due, data))
                if not data:
                    break
            await sender
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender
