from __future__ import annotations

from service import keys
from tests.support.lua_harness import IDLE_RETENTION_MS, RETENTION_MS, Harness


async def test_join_returns_the_stored_state_without_committing(h: Harness) -> None:
    g = await h.new_game()

    out = await h.quiet(g.gid, "noop", h.store.join(g.gid))

    assert out.state["version"] == 1


async def test_join_refreshes_the_ttl_of_the_game_keys(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "p1", 1)
    for key in keys.GameKeys(g.gid).as_list()[:3]:
        await h.client.expire(key, 10)

    await h.store.join(g.gid)

    await h.assert_ttl(g.gid, RETENTION_MS)


async def test_join_of_a_game_nobody_is_seated_in_refreshes_only_the_idle_retention(h: Harness) -> None:
    g = await h.new_game()
    for key in keys.GameKeys(g.gid).as_list()[:3]:
        await h.client.expire(key, 10)

    await h.store.join(g.gid)

    await h.assert_ttl(g.gid, IDLE_RETENTION_MS)


async def test_join_of_a_missing_game_fails_and_creates_nothing(h: Harness) -> None:
    gid = keys.new_game_id()

    await h.fails(gid, "GAME_NOT_FOUND", h.store.join(gid))

    assert await h.client.dbsize() == 0
