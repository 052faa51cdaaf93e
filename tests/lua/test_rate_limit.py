"""lua/rate_limit.lua on both engines: GCRA bursts, all-or-nothing charging, refill, errors."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from service import keys
from service.limits import Limit
from service.scripts import Scripts

IP = "203.0.113.7"


@pytest.fixture
def script(engine: Redis) -> Any:
    return Scripts(engine)["rate_limit"]


async def attempt(script: Any, *limits: Limit, ip: str = IP) -> tuple[int, int]:
    allowed, retry_ms = await script(
        keys=[keys.rate_limit(ip, lim.kind) for lim in limits], args=[n for lim in limits for n in lim.argv()]
    )
    return int(allowed), int(retry_ms)


async def test_a_burst_gets_exactly_the_limit_through_then_refusals_with_a_retry_time(script: Any) -> None:
    limit = Limit("ip", 5, 10.0)
    results = [await attempt(script, limit) for _ in range(8)]
    assert [allowed for allowed, _ in results] == [1] * 5 + [0] * 3
    assert [retry for _, retry in results[:5]] == [0] * 5
    # one unit frees every period/count = 2 s
    assert all(0 < retry <= 2000 for _, retry in results[5:])


async def test_a_refused_attempt_costs_nothing_and_one_unit_comes_back_after_its_interval(script: Any) -> None:
    limit = Limit("ip", 1, 0.3)
    assert await attempt(script, limit) == (1, 0)
    allowed, retry = await attempt(script, limit)
    assert allowed == 0
    # refusals do not push the next unit further away (the original counted them)
    for _ in range(5):
        assert (await attempt(script, limit))[0] == 0
    await asyncio.sleep(retry / 1000 + 0.03)
    # only one unit per 300 ms refills, so even a late wake-up lets exactly one through
    assert [(await attempt(script, limit))[0] for _ in range(3)] == [1, 0, 0]


async def test_all_limits_must_allow_or_none_is_charged(script: Any, engine: Redis) -> None:
    # a long period: no unit of the loose budget may come back while the test runs, however slow
    tight, loose = Limit("create", 1, 60.0), Limit("ip", 100, 3600.0)
    assert await attempt(script, tight, loose) == (1, 0)
    before = await engine.get(keys.rate_limit(IP, "ip"))
    allowed, retry = await attempt(script, tight, loose)
    assert (allowed, 0 < retry <= 60_000) == (0, True)
    assert await engine.get(keys.rate_limit(IP, "ip")) == before
    # the loose limit alone still has its budget: 99 more
    assert [(await attempt(script, loose))[0] for _ in range(100)] == [1] * 99 + [0]


async def test_addresses_and_kinds_have_separate_budgets(script: Any) -> None:
    limit = Limit("connection", 2, 60.0)
    assert [(await attempt(script, limit))[0] for _ in range(3)] == [1, 1, 0]
    assert [(await attempt(script, limit, ip="2001:db8::1"))[0] for _ in range(3)] == [1, 1, 0]
    assert (await attempt(script, Limit("ip", 2, 60.0)))[0] == 1


async def test_keys_expire_once_their_budget_is_whole_again(script: Any, engine: Redis) -> None:
    await attempt(script, Limit("ip", 10, 1.0))
    ttl = await engine.pttl(keys.rate_limit(IP, "ip"))
    # one unit of a 10/s limit is held for 100 ms
    assert 0 < ttl <= 101


async def test_a_stale_arrival_time_reads_as_no_history(script: Any, engine: Redis) -> None:
    # a TAT far in the past (e.g. a key restored without its TTL) must not grant extra units
    await engine.set(keys.rate_limit(IP, "ip"), "1000")
    assert [(await attempt(script, Limit("ip", 2, 60.0)))[0] for _ in range(3)] == [1, 1, 0]


@pytest.mark.parametrize(
    "key_count, argv",
    [(0, []), (1, []), (1, [1000]), (1, [0, 1000]), (1, [2000, 1000]), (1, ["x", 1000]), (2, [10, 1000])],
)
async def test_malformed_arguments_are_refused(script: Any, key_count: int, argv: list[Any]) -> None:
    with pytest.raises(ResponseError, match="INVALID_ARGUMENT"):
        await script(keys=[keys.rate_limit(IP, f"k{i}") for i in range(key_count)], args=argv)
