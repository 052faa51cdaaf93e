"""Background loops: cadence, back-off on failure, stopping even when a call swallows the cancel, and
how loudly a failure is logged (quietly when Redis is away: the Redis watcher tells that once)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from service.errors import Conflict, ServiceError, StorageUnavailable
from service.periodic import MAX_BACKOFF_S, Periodic, redis_unavailable, unavailable_since


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


async def run_failing(exc: Exception, caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The records of a loop whose function raises `exc` a few times."""
    failed = asyncio.Event()

    async def fn() -> None:
        failed.set()
        raise exc

    caplog.set_level(logging.DEBUG, logger="service.periodic")
    loop = Periodic("probe", 0.01, fn)
    loop.start()
    await failed.wait()
    await asyncio.sleep(0.35)
    await loop.stop()
    return [r for r in caplog.records if r.name == "service.periodic"]


def translated() -> ServiceError:
    """The deadline loop's translation today: a plain ServiceError raised from the redis error."""
    try:
        raise RedisConnectionError("Connection refused")
    except RedisConnectionError as cause:
        try:
            raise ServiceError("redis unavailable: ConnectionError") from cause
        except ServiceError as exc:
            return exc


@pytest.mark.parametrize(
    "exc",
    [
        RedisConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused."),
        RedisTimeoutError("Timeout reading from socket"),
        StorageUnavailable("redis unavailable: ConnectionError"),
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError(),
        ResponseError("LOADING Redis is loading the dataset in memory"),
        translated(),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_a_loop_that_cannot_reach_redis_says_so_at_debug_only_and_still_backs_off(
    exc: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    """The Redis watcher tells an outage once; a line per loop per retry would bury it."""
    records = await run_failing(exc, caplog)
    assert records and {r.levelno for r in records} == {logging.DEBUG}
    assert all(r.exc_info is None for r in records)
    assert "redis unavailable" in records[0].getMessage()
    # the waits still double: 0.1, 0.2 within 0.35 s, not one run per 10 ms
    assert 2 <= len(records) <= 3, [r.getMessage() for r in records]
    assert unavailable_since(time.monotonic() - 1)


async def test_other_failures_stay_loud(caplog: pytest.LogCaptureFixture) -> None:
    # one of ours: a warning with its message, no traceback
    records = await run_failing(Conflict("Game is finished"), caplog)
    assert {r.levelno for r in records} == {logging.WARNING}
    assert all(r.exc_info is None for r in records)
    assert "probe failed (Game is finished)" in records[0].getMessage()
    caplog.clear()
    # a bug, or a refusal that is not an outage: with its traceback
    for exc in (ValueError("bug"), ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value")):
        records = await run_failing(exc, caplog)
        assert records and {r.levelno for r in records} == {logging.ERROR}
        assert all(r.exc_info is not None for r in records)
        caplog.clear()


def test_redis_unavailable_follows_the_cause_chain() -> None:
    assert redis_unavailable(translated())
    assert not redis_unavailable(ServiceError("Game not found"))
    assert not redis_unavailable(RuntimeError("boom"))
