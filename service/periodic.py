"""Background loops: run a coroutine function every few seconds, backing off while it fails."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from service.errors import ServiceError

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 5.0


class Periodic:
    """`fn` every `interval` seconds (start to start). A failure is logged and the next run
    waits twice as long (up to 5 s), so a Redis outage is not hammered by every loop."""

    def __init__(self, name: str, interval: float, fn: Callable[[], Awaitable[object]]) -> None:
        self.name = name
        self.interval = interval
        self.fn = fn
        self.failures = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _run(self) -> None:
        wait = self.interval
        task = asyncio.current_task()
        while True:
            if task is not None and task.cancelling():
                # a library call swallowed our cancellation (redis-py can, on a cancelled read);
                # the request still stands, so honour it here or stop() would wait forever
                raise asyncio.CancelledError
            started = time.monotonic()
            try:
                await self.fn()
                wait = self.interval
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.failures += 1
                wait = min(max(wait * 2, 0.1), MAX_BACKOFF_S)
                if isinstance(exc, ServiceError | OSError):
                    log.warning("%s failed (%s); next run in %.1fs", self.name, exc, wait)
                else:
                    log.exception("%s failed; next run in %.1fs", self.name, wait)
            await asyncio.sleep(max(0.0, wait - (time.monotonic() - started)))
