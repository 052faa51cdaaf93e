"""Background loops: run a coroutine function every few seconds, backing off while it fails.

A loop that fails because Redis cannot be reached says so at DEBUG only: the Redis watcher
(service/app.py check_redis) logs one WARNING when Redis goes away and one INFO when it is
back, and a line per loop per retry would bury those two under dozens of identical ones.
Any other failure is a bug or a surprise, and is logged at WARNING (with its traceback
unless it is one of our own ServiceErrors).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from service.errors import ServiceError, StorageUnavailable, is_unavailable

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 5.0

#: what a failure looks like when Redis is down or out of reach, raw or already translated
#: (GameStore and the loops built on it raise StorageUnavailable from the raw error)
UNAVAILABLE = (StorageUnavailable, RedisConnectionError, RedisTimeoutError, TimeoutError, OSError)


#: when a loop of this process last failed for want of Redis (monotonic; 0: never)
_last_unavailable = 0.0


def _note_unavailable() -> None:
    global _last_unavailable
    _last_unavailable = time.monotonic()


def unavailable_since(t: float) -> bool:
    """Whether a loop has failed for want of Redis since monotonic time `t`: the Redis
    watcher then checks at once instead of at its next 5-s round, so that the outage a loop
    kept to DEBUG is told at WARNING within a second, even a short one."""
    return _last_unavailable >= t


def redis_unavailable(exc: BaseException) -> bool:
    """Whether `exc`, or an error it was raised from, means "Redis cannot be reached now"
    (including the refusals GameStore also treats so: LOADING, READONLY, CLUSTERDOWN, ...)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, UNAVAILABLE) or isinstance(seen, ResponseError) and is_unavailable(str(seen)):
            return True
        seen = seen.__cause__
    return False


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
                if redis_unavailable(exc):
                    _note_unavailable()
                    log.debug(
                        "%s failed, redis unavailable (%s: %s); next run in %.1fs",
                        self.name,
                        type(exc).__name__,
                        exc,
                        wait,
                    )
                elif isinstance(exc, ServiceError):
                    log.warning("%s failed (%s); next run in %.1fs", self.name, exc, wait)
                else:
                    log.exception("%s failed; next run in %.1fs", self.name, wait)
            await asyncio.sleep(max(0.0, wait - (time.monotonic() - started)))
