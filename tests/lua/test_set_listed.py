from __future__ import annotations

import pytest

from service import keys
from tests.support.lua_harness import Harness, new_aid


async def test_unlisting_takes_the_game_out_of_the_lobby_index(h: Harness) -> None:
    g = await h.new_game()
    assert await h.listed_at(g.gid) is not None
    aid = new_aid()

    c = await h.commits(g.gid, "setListed", h.store.set_listed(g.gid, g.host, aid, False))

    assert c.state["listed"] is False
    assert await h.listed_at(g.gid) is None
    assert (c.entry["a"], c.entry["d"]) == (aid, {"listed": False})


async def test_an_unlisted_game_stays_out_of_the_index_through_its_other_commits(h: Harness) -> None:
    g = await h.new_game(listed=False)
    await h.claim(g, "p1", 1)
    await h.store.start(g.gid, g.host, new_aid())
    await h.store.switch(g.gid, g.host, new_aid(), 2)

    assert await h.listed_at(g.gid) is None
    part = keys.partition_of(g.gid)
    assert part is not None
    assert await h.client.zcard(keys.lobby_partition(part)) == 0


async def test_relisting_puts_the_game_back_at_its_last_activity(h: Harness) -> None:
    g = await h.new_game(listed=False)
    h.clock.offset_ms = 2_000

    c = await h.commits(g.gid, "setListed", h.store.set_listed(g.gid, g.host, new_aid(), True))

    assert c.state["listed"] is True
    assert await h.listed_at(g.gid) == c.state["lastActivity"]


@pytest.mark.parametrize("listed", [True, False])
async def test_setting_the_listing_it_already_has_is_a_noop(h: Harness, listed: bool) -> None:
    g = await h.new_game(listed=listed)

    await h.quiet(g.gid, "noop", h.store.set_listed(g.gid, g.host, new_aid(), listed))


async def test_a_game_from_before_the_flag_counts_as_listed(h: Harness) -> None:
    g = await h.new_game()
    st = await h.state(g.gid)
    del st["listed"]
    await h.client.hset(keys.game(g.gid), "state", __import__("json").dumps(st))

    await h.quiet(g.gid, "noop", h.store.set_listed(g.gid, g.host, new_aid(), True))
    c = await h.commits(g.gid, "setListed", h.store.set_listed(g.gid, g.host, new_aid(), False))
    assert c.state["listed"] is False


async def test_set_listed_retried_with_the_same_action_id_is_a_dup(h: Harness) -> None:
    g = await h.new_game()
    aid = new_aid()
    await h.store.set_listed(g.gid, g.host, aid, False)

    await h.quiet(g.gid, "dup", h.store.set_listed(g.gid, g.host, aid, False))


@pytest.mark.parametrize("who", ["spectator", "p1"])
async def test_only_the_host_may_list_or_unlist(h: Harness, who: str) -> None:
    g = await h.new_game()
    await h.claim(g, "p1", 1)

    await h.fails(g.gid, "NOT_OWNER_LISTING", h.store.set_listed(g.gid, who, new_aid(), False))


async def test_set_listed_of_a_missing_game_is_game_not_found(h: Harness) -> None:
    g = await h.new_game()
    await h.client.delete(*g.keys[:3])

    await h.fails(g.gid, "GAME_NOT_FOUND", h.store.set_listed(g.gid, g.host, new_aid(), False))


@pytest.mark.parametrize("flag", ["", "true", "2", "yes"])
async def test_set_listed_refuses_a_flag_that_is_not_1_or_0(h: Harness, flag: str) -> None:
    g = await h.new_game()

    await h.raw_fails(
        g.gid, "INVALID_ARGUMENT", h.run_script("set_listed", g.gid, flag, action_id=new_aid(), client_id=g.host)
    )


# -- the index through commit() ------------------------------------------------------------


def same_partition_id(gid: str, n: int = 0) -> str:
    """Another issuable id in `gid`'s partition (so in its slot)."""
    part = keys.partition_of(gid)
    i = 0
    while True:
        other = keys.new_game_id(f"{gid}-{n}-{i}".encode())
        if other != gid and keys.partition_of(other) == part:
            return other
        i += 1


async def test_a_commit_drops_entries_older_than_the_retention_from_its_partition(h: Harness) -> None:
    g = await h.new_game()
    part = keys.partition_of(g.gid)
    assert part is not None
    now = await h.redis_now()
    stale, recent = same_partition_id(g.gid, 1), same_partition_id(g.gid, 2)
    retention_ms = h.store.retention_s * 1000
    await h.client.zadd(keys.lobby_partition(part), {stale: now - retention_ms - 60_000, recent: now - 60_000})

    await h.store.rename_game(g.gid, g.host, new_aid(), "Trim")

    assert await h.client.zscore(keys.lobby_partition(part), stale) is None
    assert await h.client.zscore(keys.lobby_partition(part), recent) == now - 60_000
