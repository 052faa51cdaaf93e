from __future__ import annotations

import pytest
from redis.exceptions import ResponseError

from service import keys
from tests.support.lua_harness import Harness


async def due(h: Harness, partitions: list[int]) -> list[int]:
    key_list = [keys.deadline_partition(p) for p in partitions]
    reply: list[int] = await h.store.scripts["due_partitions"](keys=key_list, args=[h.clock.offset_ms])
    return reply


async def test_only_partitions_with_an_entry_due_are_named_by_their_position(h: Harness) -> None:
    now = await h.redis_now()
    await h.client.zadd(keys.deadline_partition(3), {"AAAAAA": now - 10})
    await h.client.zadd(keys.deadline_partition(5), {"BBBBBB": now + 60_000})
    await h.client.zadd(keys.deadline_partition(9), {"CCCCCC": now + 60_000, "DDDDDD": 1})

    assert await due(h, [1, 3, 5, 9]) == [2, 4]


async def test_nothing_due_is_an_empty_list(h: Harness) -> None:
    await h.client.zadd(keys.deadline_partition(2), {"AAAAAA": await h.redis_now() + 60_000})

    assert await due(h, list(range(keys.PARTITIONS))) == []


async def test_the_clock_offset_moves_now_as_for_the_claim(h: Harness) -> None:
    await h.client.zadd(keys.deadline_partition(4), {"AAAAAA": await h.redis_now() + 30_000})
    assert await due(h, [4]) == []

    h.clock.offset_ms = 31_000
    assert await due(h, [4]) == [1]


@pytest.mark.parametrize("partitions", [[], list(range(keys.PARTITIONS)) + [0]])
async def test_no_partition_or_more_than_there_are_is_refused(h: Harness, partitions: list[int]) -> None:
    with pytest.raises(ResponseError) as info:
        await due(h, partitions)

    assert str(info.value) == "INVALID_ARGUMENT"


async def test_the_store_names_the_due_partitions_by_number(h: Harness) -> None:
    g = await h.running_game(initial_time=10_000, thresholds=(5_000,))
    part = keys.partition_of(g.gid)
    assert part is not None

    assert await h.store.due_partitions() == []
    h.clock.offset_ms = 5_000
    assert await h.store.due_partitions() == [part]
