"""GameClock: this instance's view of Redis time, and its sync against a real redis-server."""

from __future__ import annotations

import time

from redis.asyncio import Redis

from service.clock import GameClock

#: Allowed distance between two readings of Redis time on a loaded machine.
CLOCK_TOLERANCE_MS = 50


def test_observe_adds_half_the_round_trip_to_the_observed_redis_time() -> None:
    clock = GameClock()
    clock.observe(1_000_000.0, 0.010)
    now = clock.now_ms()
    assert 1_000_005 <= now <= 1_000_005 + CLOCK_TOLERANCE_MS


def test_now_ms_advances_with_the_monotonic_clock() -> None:
    clock = GameClock()
    clock.observe(1_000_000.0, 0.0)
    time.sleep(0.1)
    assert 1_000_100 <= clock.now_ms() <= 1_000_100 + 1_000


def test_the_offset_shifts_now_ms() -> None:
    clock = GameClock()
    clock.observe(1_000_000.0, 0.0)
    clock.offset_ms = 60_000
    assert 1_060_000 <= clock.now_ms() <= 1_060_000 + CLOCK_TOLERANCE_MS


async def test_sync_sets_the_clock_to_redis_time(rdb: Redis) -> None:
    clock = GameClock()
    # far from any real time: only a sync can bring it back
    clock.observe(0.0, 0.0)
    assert clock.now_ms() < 60_000

    await clock.sync(rdb)

    sec, usec = await rdb.time()
    redis_ms = sec * 1000 + usec / 1000
    assert abs(clock.now_ms() - redis_ms) <= CLOCK_TOLERANCE_MS
