"""Background loops: cadence, back-off on failure, and stopping even when a call swallows the cancel."""

from __future__ import annotations

import asyncio
import contextlib

from service.periodic import MAX_BACKOFF_S, Periodic


async def test_a_loop_runs_its_function_repeatedly_until_stopped() -> None:
    calls = 0

    async def fn() -> None:
        nonlocal calls
        calls += 1

    loop = Periodic("count", 0.01, fn)
    loop.start()
    await asyncio.sleep(0.2)
    await loop.stop()
    seen = calls
    await asyncio.sleep(0.05)
    assert seen >= 3 and calls == seen


async def test_failures_are_counted_and_back_off() -> None:
    starts: list[float] = []

    async def fn() -> None:
        starts.append(asyncio.get_running_loop().time())
        raise OSError("redis down")

    loop = Periodic("failing", 0.01, fn)
    loop.start()
    await asyncio.sleep(0.9)
    await loop.stop()
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert loop.failures == len(starts) >= 3
    # each wait doubles from 0.1 s: the loop does not hammer a failing dependency
    assert all(later >= earlier for earlier, later in zip(gaps, gaps[1:], strict=False))
    assert gaps[0] >= 0.09 and max(gaps) <= MAX_BACKOFF_S + 0.5


async def test_stop_returns_even_when_the_function_swallows_the_cancellation() -> None:
    """Regression: redis-py can swallow a cancellation that lands during a read; app cleanup
    then waited forever for the loop."""
    entered = asyncio.Event()

    async def swallowing() -> None:
        entered.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(10)

    loop = Periodic("swallow", 0.01, swallowing)
    loop.start()
    await entered.wait()
    await asyncio.wait_for(loop.stop(), timeout=2.0)
    assert loop._task is not None and loop._task.done()
