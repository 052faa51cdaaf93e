from __future__ import annotations

from service import keys
from tests.support.lua_harness import Harness, new_aid, player


async def test_a_warning_penalty_only_counts(h: Harness) -> None:
    g = await h.running_game()
    aid = new_aid()

    c = await h.commits(g.gid, "addPenalty", h.store.add_penalty(g.gid, g.host, aid, 2))

    assert c.before is not None
    assert player(c.state, 2) == {**player(c.before, 2), "penalties": 1}
    assert (c.state["status"], c.state["activePlayer"]) == ("running", 1)
    assert c.entry["d"] == {"playerId": 2}
    assert (c.entry["a"], c.entry["c"]) == (aid, g.host)


async def test_penalties_accumulate(h: Harness) -> None:
    g = await h.new_game()
    await h.store.add_penalty(g.gid, g.host, new_aid(), 1)

    c = await h.commits(g.gid, "addPenalty", h.store.add_penalty(g.gid, g.host, new_aid(), 1))

    assert player(c.state, 1)["penalties"] == 2


async def test_a_time_deduction_penalty_takes_the_deduction_off_the_clock(h: Harness) -> None:
    g = await h.running_game(penalty_type="time_deduction", deduction=45_000)

    c = await h.commits(g.gid, "addPenalty", h.store.add_penalty(g.gid, g.host, new_aid(), 2))

    p = player(c.state, 2)
    assert (p["timeRemaining"], p["penalties"]) == (600_000 - 45_000, 1)


async def test_a_time_deduction_never_takes_the_clock_below_zero(h: Harness) -> None:
    g = await h.new_game(initial_time=30_000, penalty_type="time_deduction", deduction=45_000)

    c = await h.commits(g.gid, "addPenalty", h.store.add_penalty(g.gid, g.host, new_aid(), 1))

    assert player(c.state, 1)["timeRemaining"] == 0


async def test_a_time_deduction_on_the_running_player_charges_the_clock_first(h: Harness) -> None:
    g = await h.running_game(penalty_type="time_deduction", deduction=10_000)
    started = await h.state(g.gid)
    h.clock.offset_ms = 2_000

    c = await h.commits(g.gid, "addPenalty", h.store.add_penalty(g.gid, g.host, new_aid(), 1))

    charged = c.state["serverTime"] - started["serverTime"]
    assert charged >= 2_000
    assert player(c.state, 1)["timeRemaining"] == 600_000 - charged - 10_000
    assert await h.due(g.gid) == c.state["serverTime"] + 600_000 - charged - 10_000 - 300_000


async def test_a_game_loss_penalty_eliminates_the_player_and_passes_the_turn_in_turn_order(h: Harness) -> None:
    g = await h.running_game(4, penalty_type="game_loss")
    await h.store.switch(g.gid, g.host, new_aid(), 3)

    c = await h.commits(g.gid, "addPenalty", h.store.add_penalty(g.gid, g.host, new_aid(), 3))

    p = player(c.state, 3)
    assert (p["isEliminated"], p["penalties"], p["eliminatedReason"]) == (True, 1, "penalty")
    assert (c.state["status"], c.state["activePlayer"], c.state["winner"]) == ("running", 4, None)


async def test_a_game_loss_penalty_on_the_second_to_last_player_finishes_the_game(h: Harness) -> None:
    g = await h.running_game(3, penalty_type="game_loss")
    await h.store.eliminate(g.gid, g.host, new_aid(), 2)

    c = await h.commits(g.gid, "addPenalty", h.store.add_penalty(g.gid, g.host, new_aid(), 1))

    assert (c.state["status"], c.state["winner"], c.state["activePlayer"]) == ("finished", 3, None)
    assert [p["isEliminated"] for p in c.state["players"]] == [True, True, False]
    assert await h.due(g.gid) is None


async def test_a_game_loss_penalty_on_an_eliminated_player_only_counts(h: Harness) -> None:
    g = await h.running_game(3, penalty_type="game_loss")
    await h.store.eliminate(g.gid, g.host, new_aid(), 2)

    c = await h.commits(g.gid, "addPenalty", h.store.add_penalty(g.gid, g.host, new_aid(), 2))

    assert c.before is not None
    assert player(c.state, 2) == {**player(c.before, 2), "penalties": 1}
    assert (c.state["status"], c.state["activePlayer"]) == ("running", 1)


async def test_add_penalty_by_a_player_fails(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "alice", 1)

    await h.fails(g.gid, "NOT_OWNER_PENALTY", h.store.add_penalty(g.gid, "alice", new_aid(), 2))


async def test_add_penalty_to_a_player_that_does_not_exist_fails(h: Harness) -> None:
    g = await h.new_game()

    await h.fails(g.gid, "PLAYER_NOT_FOUND", h.store.add_penalty(g.gid, g.host, new_aid(), 3))


async def test_add_penalty_in_a_finished_game_fails(h: Harness) -> None:
    g = await h.running_game()
    await h.store.eliminate(g.gid, g.host, new_aid(), 2)

    await h.fails(g.gid, "GAME_FINISHED", h.store.add_penalty(g.gid, g.host, new_aid(), 1))


async def test_add_penalty_retried_with_the_same_action_id_applies_once(h: Harness) -> None:
    g = await h.new_game()
    aid = new_aid()
    first = await h.store.add_penalty(g.gid, g.host, aid, 1)

    out = await h.quiet(g.gid, "dup", h.store.add_penalty(g.gid, g.host, aid, 1))

    assert out.state_json == first.state_json
    assert player(out.state, 1)["penalties"] == 1


async def test_add_penalty_in_a_missing_game_fails(h: Harness) -> None:
    gid = keys.new_game_id()

    await h.fails(gid, "GAME_NOT_FOUND", h.store.add_penalty(gid, "host", new_aid(), 1))
