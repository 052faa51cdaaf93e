"""GameClock: this instance's view of Redis time, and its sync against a real redis-server."""

from __future__ import annotations

import itertools
import random
import time

import pytest
from redis.asyncio import Redis

from service import clock as clock_module
from service.clock import GameClock
from tests.support.fakes import FakeTime

#: Allowed distance between two readings of Redis time on a loaded machine.
CLOCK_TOLERANCE_MS = 50


def test_observe_puts_the_estimate_within_the_round_trip_after_the_observed_redis_time() -> None:
    clock = GameClock()
    clock.observe(1_000_000.0, 0.010)
    now = clock.now_ms()
    assert 1_000_000 <= now <= 1_000_010 + CLOCK_TOLERANCE_MS


def lagged_probes(fake: FakeTime, clock: GameClock, seed: int) -> list[tuple[int, float]]:
    """Probes of Redis time as an instance under load makes them: the event loop's lag (up to
    60 ms) before the request leaves and after the reply arrives, both inside the measured
    round trip. Between probes the clock is read every 7 ms: (reading, true Redis time)."""
    rng = random.Random(seed)
    redis_at = 5_000_000.0 - fake.mono * 1000  # true Redis ms = redis_at + monotonic ms
    readings = []
    for _ in range(200):
        t0 = fake.mono
        fake.mono += rng.uniform(0, 0.060) + 0.0001
        seen = redis_at + fake.mono * 1000
        fake.mono += rng.uniform(0, 0.060) + 0.0001
        clock.observe(seen, fake.mono - t0)
        for _ in range(rng.randint(1, 20)):
            fake.mono += 0.007
            readings.append((clock.now_ms(), redis_at + fake.mono * 1000))
    return readings


@pytest.mark.parametrize("seed", range(5))
def test_now_ms_never_goes_back_however_the_round_trips_of_its_probes_vary(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeTime()
    monkeypatch.setattr(clock_module, "time", fake)
    clock = GameClock()
    readings = lagged_probes(fake, clock, seed)
    backwards = [(a, b) for (a, _), (b, _) in itertools.pairwise(readings) if b < a]
    assert backwards == []
    # and it stays within the largest round trip of the truth
    assert max(abs(now - truth) for now, truth in readings[20:]) <= 121


def test_a_large_correction_backwards_is_taken_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTime()
    monkeypatch.setattr(clock_module, "time", fake)
    clock = GameClock()
    assert clock.now_ms() == 1_700_000_000_000
    clock.observe(1_600_000_000_000.0, 0.001)
    assert 1_600_000_000_000 <= clock.now_ms() <= 1_600_000_000_001


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
