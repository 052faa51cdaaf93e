"""Waiting in tests for what happens in other tasks: a condition to hold, or due work to run."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

WAIT = 10.0


async def eventually(check: Callable[[], bool | Awaitable[bool]], timeout: float = WAIT) -> None:
    """Poll `check` (sync or async) until it is true."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        result = check()
        if await result if inspect.isawaitable(result) else result:
            return
        if loop.time() > end:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.02)


async def settle() -> None:
    """Lets queued writes and scheduled tasks run (enough for anything already due)."""
    for _ in range(5):
        await asyncio.sleep(0.01)
