from __future__ import annotations

from service import keys
from tests.support.lua_harness import RETENTION_MS, Harness


async def test_join_returns_the_stored_state_without_committing(h: Harness) -> None:
    g = await h.new_game()

    out = await h.quiet(g.gid, "noop", h.store.join(g.gid))

    assert out.state["version"] == 1


async def test_join_refreshes_the_ttl_of_the_game_keys(h: Harness) -> None:
    g = await h.new_game()
    for key in keys.GameKeys(g.gid).as_list()[:3]:
        await h.client.expire(key, 10)

    await h.store.join(g.gid)

    assert all(RETENTION_MS - 5_000 < t <= RETENTION_MS for t in await h.pttls(g.gid))


async def test_join_of_a_missing_game_fails_and_creates_nothing(h: Harness) -> None:
    gid = keys.new_game_id()

    await h.fails(gid, "GAME_NOT_FOUND", h.store.join(gid))

    assert await h.client.dbsize() == 0
