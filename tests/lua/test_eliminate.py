from __future__ import annotations

from service import keys
from tests.support.lua_harness import Harness, new_aid, player


async def test_eliminate_of_a_waiting_player_keeps_the_turn(h: Harness) -> None:
    g = await h.running_game(3)
    aid = new_aid()

    c = await h.commits(g.gid, "eliminate", h.store.eliminate(g.gid, g.host, aid, 2))

    assert [p["isEliminated"] for p in c.state["players"]] == [False, True, False]
    assert (c.state["status"], c.state["activePlayer"], c.state["winner"]) == ("running", 1, None)
    assert c.entry["d"] == {"playerId": 2}
    assert (c.entry["a"], c.entry["c"]) == (aid, g.host)


async def test_eliminate_of_the_active_player_passes_to_the_next_in_turn_order(h: Harness) -> None:
    g = await h.running_game(4)
    await h.store.switch(g.gid, g.host, new_aid(), 3)

    c = await h.commits(g.gid, "eliminate", h.store.eliminate(g.gid, g.host, new_aid(), 3))

    assert c.state["activePlayer"] == 4
    assert [p["eliminatedReason"] for p in c.state["players"]] == [None, None, "host", None]


async def test_eliminate_of_the_last_active_player_wraps_around_past_eliminated_ones(h: Harness) -> None:
    g = await h.running_game(4)
    await h.store.eliminate(g.gid, g.host, new_aid(), 1)
    await h.store.switch(g.gid, g.host, new_aid(), 4)

    c = await h.commits(g.gid, "eliminate", h.store.eliminate(g.gid, g.host, new_aid(), 4))

    assert c.state["activePlayer"] == 2


async def test_eliminate_of_the_active_player_charges_their_clock_and_starts_the_next(h: Harness) -> None:
    g = await h.running_game(3)
    started = await h.state(g.gid)
    h.clock.offset_ms = 1_500

    c = await h.commits(g.gid, "eliminate", h.store.eliminate(g.gid, g.host, new_aid(), 1))

    charged = c.state["serverTime"] - started["serverTime"]
    assert charged >= 1_500
    assert [p["timeRemaining"] for p in c.state["players"]] == [600_000 - charged, 600_000, 600_000]
    assert c.state["activePlayer"] == 2
    assert await h.due(g.gid) == c.state["serverTime"] + 600_000 - 300_000


async def test_eliminating_down_to_one_player_finishes_the_game_with_that_winner(h: Harness) -> None:
    g = await h.running_game(3)
    await h.store.eliminate(g.gid, g.host, new_aid(), 1)

    c = await h.commits(g.gid, "eliminate", h.store.eliminate(g.gid, g.host, new_aid(), 3))

    assert (c.state["status"], c.state["winner"], c.state["activePlayer"]) == ("finished", 2, None)
    assert await h.due(g.gid) is None


async def test_eliminate_while_waiting_is_allowed(h: Harness) -> None:
    g = await h.new_game(3)

    c = await h.commits(g.gid, "eliminate", h.store.eliminate(g.gid, g.host, new_aid(), 1))

    assert (c.state["status"], player(c.state, 1)["isEliminated"]) == ("waiting", True)


async def test_eliminate_of_an_eliminated_player_is_a_noop(h: Harness) -> None:
    g = await h.running_game(3)
    await h.store.eliminate(g.gid, g.host, new_aid(), 2)
    h.clock.offset_ms = 1_000

    await h.quiet(g.gid, "noop", h.store.eliminate(g.gid, g.host, new_aid(), 2))


async def test_eliminate_of_an_eliminated_player_commits_a_warning_that_came_due(h: Harness) -> None:
    g = await h.running_game(3, initial_time=10_000, thresholds=(5_000,))
    await h.store.eliminate(g.gid, g.host, new_aid(), 2)
    h.clock.offset_ms = 6_000

    c = await h.commits(g.gid, "eliminate", h.store.eliminate(g.gid, g.host, new_aid(), 2))

    assert c.events == [{"type": "warning", "data": {"playerId": 1, "threshold": 5_000}}]


async def test_eliminate_by_a_player_fails(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "alice", 1)

    await h.fails(g.gid, "NOT_OWNER_ELIMINATE", h.store.eliminate(g.gid, "alice", new_aid(), 2))


async def test_eliminate_of_a_player_that_does_not_exist_fails(h: Harness) -> None:
    g = await h.new_game()

    await h.fails(g.gid, "PLAYER_NOT_FOUND", h.store.eliminate(g.gid, g.host, new_aid(), 5))


async def test_eliminate_in_a_finished_game_fails(h: Harness) -> None:
    g = await h.running_game()
    await h.store.eliminate(g.gid, g.host, new_aid(), 2)

    await h.fails(g.gid, "GAME_FINISHED", h.store.eliminate(g.gid, g.host, new_aid(), 1))


async def test_eliminate_retried_with_the_same_action_id_applies_once(h: Harness) -> None:
    g = await h.running_game(4)
    aid = new_aid()
    first = await h.store.eliminate(g.gid, g.host, aid, 1)

    out = await h.quiet(g.gid, "dup", h.store.eliminate(g.gid, g.host, aid, 1))

    assert out.state_json == first.state_json
    assert [e["t"] for e in await h.log(g.gid)].count("eliminate") == 1


async def test_eliminate_in_a_missing_game_fails(h: Harness) -> None:
    gid = keys.new_game_id()

    await h.fails(gid, "GAME_NOT_FOUND", h.store.eliminate(gid, "host", new_aid(), 1))
