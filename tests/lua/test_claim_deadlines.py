from __future__ import annotations

from typing import cast

import pytest
from redis.exceptions import ResponseError

from service import keys
from service.errors import InvalidInput
from tests.support.lua_harness import Harness

PART = 7
ZKEY = keys.deadline_partition(PART)
LEASE = 30_000


async def claim_raw(h: Harness, limit: int | str = 10, lease: int | str = LEASE) -> list[str]:
    reply: list[str] = await h.store.scripts["claim_deadlines"](keys=[ZKEY], args=[h.clock.offset_ms, limit, lease])
    return reply


async def scores(h: Harness) -> dict[str, float]:
    return dict(cast(list[tuple[str, float]], await h.client.zrange(ZKEY, 0, -1, withscores=True)))


async def test_claim_deadlines_returns_the_due_entries_and_leases_them(h: Harness) -> None:
    far = await h.redis_now() + 10**9
    await h.client.zadd(ZKEY, {"AAAAAA": 1, "BBBBBB": 2, "CCCCCC": far})

    t0 = await h.redis_now()
    reply = await claim_raw(h)
    t1 = await h.redis_now()

    assert reply == ["AAAAAA", "1", "BBBBBB", "2"]
    after = await scores(h)
    assert after["CCCCCC"] == far
    for gid in ("AAAAAA", "BBBBBB"):
        assert t0 + LEASE <= after[gid] <= t1 + LEASE


async def test_leased_entries_are_skipped_until_the_lease_runs_out(h: Harness) -> None:
    await h.client.zadd(ZKEY, {"AAAAAA": 1})
    await claim_raw(h)

    assert await claim_raw(h) == []

    h.clock.offset_ms = LEASE + 1_000
    assert [gid for gid in (await claim_raw(h))[0::2]] == ["AAAAAA"]


async def test_claim_deadlines_respects_the_limit_in_due_order(h: Harness) -> None:
    await h.client.zadd(ZKEY, {"E": 5, "A": 1, "D": 4, "B": 2, "C": 3})

    reply = await claim_raw(h, limit=2)

    assert reply == ["A", "1", "B", "2"]
    after = await scores(h)
    assert (after["C"], after["D"], after["E"]) == (3, 4, 5)
    assert after["A"] > 10**12 and after["B"] > 10**12


async def test_claim_deadlines_uses_the_clock_offset(h: Harness) -> None:
    due = await h.redis_now() + 60_000
    await h.client.zadd(ZKEY, {"AAAAAA": due})

    assert await claim_raw(h) == []
    h.clock.offset_ms = 61_000
    assert (await claim_raw(h))[0::2] == ["AAAAAA"]


async def test_claim_deadlines_of_an_empty_partition_returns_nothing(h: Harness) -> None:
    assert await claim_raw(h) == []
    assert await h.client.exists(ZKEY) == 0


async def test_store_claim_deadlines_returns_due_games_with_their_due_times(h: Harness) -> None:
    g = await h.running_game(initial_time=10_000, thresholds=(5_000,))
    part = keys.partition_of(g.gid)
    assert part is not None
    due = await h.client.zscore(keys.deadline_partition(part), g.gid)
    assert due is not None

    assert await h.store.claim_deadlines(part, 100, LEASE) == []
    h.clock.offset_ms = 5_000
    assert await h.store.claim_deadlines(part, 100, LEASE) == [(g.gid, int(due))]
    assert await h.store.claim_deadlines(part, 100, LEASE) == []


@pytest.mark.parametrize("limit, lease", [(0, LEASE), (1001, LEASE), (10, 0), (10, -5)])
async def test_claim_deadlines_rejects_a_limit_or_lease_out_of_range(h: Harness, limit: int, lease: int) -> None:
    await h.client.zadd(ZKEY, {"AAAAAA": 1})

    with pytest.raises(InvalidInput) as info:
        await h.store.claim_deadlines(PART, limit, lease)

    assert (info.value.code, info.value.message) == ("INVALID_ARGUMENT", "Invalid request")
    assert await scores(h) == {"AAAAAA": 1}


@pytest.mark.parametrize("limit, lease", [("many", LEASE), (10, "long")])
async def test_claim_deadlines_rejects_a_limit_or_lease_that_is_not_a_number(
    h: Harness, limit: int | str, lease: int | str
) -> None:
    await h.client.zadd(ZKEY, {"AAAAAA": 1})

    with pytest.raises(ResponseError) as info:
        await claim_raw(h, limit, lease)

    assert str(info.value) == "INVALID_ARGUMENT"
    assert await scores(h) == {"AAAAAA": 1}


async def test_claim_deadlines_accepts_the_largest_limit(h: Harness) -> None:
    await h.client.zadd(ZKEY, {"AAAAAA": 1})

    assert await claim_raw(h, limit=1000, lease=1) == ["AAAAAA", "1"]
