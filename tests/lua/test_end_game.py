from __future__ import annotations

import json

import pytest

from service import keys
from service.errors import GameError
from tests.support.lua_harness import Harness, new_aid


async def test_end_game_deletes_every_key_and_index_entry_of_the_game_and_publishes_game_ended(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "p1", 1)
    await h.store.start(g.gid, g.host, new_aid())
    assert await h.due(g.gid) is not None
    assert await h.listed_at(g.gid) is not None
    before = await h.state(g.gid)
    await h.published.drain()

    status = await h.store.end_game(g.gid, g.host, new_aid())

    assert status == "ok"
    for key in g.keys[:3]:
        assert await h.client.exists(key) == 0
    assert await h.due(g.gid) is None
    assert await h.listed_at(g.gid) is None
    [(channel, payload)] = await h.published.drain()
    head, events, state = payload.split("\n", 2)
    assert channel == keys.channel(g.gid)
    assert int(head) == before["version"] + 1
    assert json.loads(events) == [{"type": "gameEnded", "data": {"gameId": g.gid}}]
    last = json.loads(state)
    assert (last["version"], last["status"], last["players"]) == (before["version"] + 1, "finished", before["players"])


async def test_end_game_leaves_the_other_games_of_its_partition_listed(h: Harness) -> None:
    g = await h.new_game()
    other = await h.new_game()

    await h.store.end_game(g.gid, g.host, new_aid())

    assert await h.listed_at(other.gid) is not None
    assert await h.state(other.gid)


async def test_after_end_game_join_and_reconnect_say_game_not_found(h: Harness) -> None:
    g = await h.new_game()
    token = await h.claim(g, "p1", 1)
    await h.store.end_game(g.gid, g.host, new_aid())

    for action in (
        h.store.join(g.gid),
        h.store.reconnect(g.gid, "p1-again", new_aid(), 1, token, None),
        h.store.reconnect(g.gid, "host-again", new_aid(), None, None, g.host_token),
    ):
        with pytest.raises(GameError) as info:
            await action
        assert info.value.code == "GAME_NOT_FOUND"


async def test_end_game_retried_after_it_ran_answers_noop_and_touches_nothing(h: Harness) -> None:
    g = await h.new_game()
    aid = new_aid()
    await h.store.end_game(g.gid, g.host, aid)
    await h.published.drain()

    # the actions hash went with the game: the retry finds nothing left to delete
    assert await h.store.end_game(g.gid, g.host, aid) == "noop"
    assert await h.run_script("end_game", g.gid, action_id=aid, client_id=g.host) == ["noop", "", "[]"]
    assert await h.client.dbsize() == 0
    assert await h.published.drain() == []


@pytest.mark.parametrize("who", ["spectator", "p1", ""])
async def test_only_the_host_may_end_the_game(h: Harness, who: str) -> None:
    g = await h.new_game()
    await h.claim(g, "p1", 1)
    await h.store.start(g.gid, g.host, new_aid())

    await h.fails(g.gid, "NOT_OWNER_END", h.store.end_game(g.gid, who, new_aid()))
