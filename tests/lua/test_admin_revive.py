from __future__ import annotations

from service import keys
from service.formats import LossRules
from tests.support.formats import format_game
from tests.support.lua_harness import Harness, new_aid, player


async def test_revive_brings_an_eliminated_player_back_with_their_time_and_life(h: Harness) -> None:
    g = await h.running_game(3)
    await h.store.update_player(g.gid, g.host, new_aid(), 3, {"time": 42_000, "life": 7})
    await h.store.eliminate(g.gid, g.host, new_aid(), 3)
    aid = new_aid()

    c = await h.commits(g.gid, "adminRevive", h.store.admin_revive(g.gid, g.host, aid, 3))

    p = player(c.state, 3)
    assert (p["isEliminated"], p["timeRemaining"], p["life"]) == (False, 42_000, 7)
    assert (c.state["status"], c.state["activePlayer"]) == ("running", 1)
    assert c.entry["d"] == {"playerId": 3}
    assert (c.entry["a"], c.entry["c"]) == (aid, g.host)


async def test_revive_restores_a_clock_at_zero_to_the_initial_time_and_a_life_at_zero_to_twenty(h: Harness) -> None:
    g = await h.running_game(3, initial_time=300_000)
    await h.store.update_player(g.gid, g.host, new_aid(), 2, {"time": 0, "life": -4})
    await h.store.eliminate(g.gid, g.host, new_aid(), 2)

    c = await h.commits(g.gid, "adminRevive", h.store.admin_revive(g.gid, g.host, new_aid(), 2))

    p = player(c.state, 2)
    assert (p["isEliminated"], p["timeRemaining"], p["life"]) == (False, 300_000, 20)


async def test_revive_of_the_player_whose_elimination_finished_the_game_pauses_it_without_a_winner(
    h: Harness,
) -> None:
    g = await h.running_game(2)
    await h.store.eliminate(g.gid, g.host, new_aid(), 1)

    c = await h.commits(g.gid, "adminRevive", h.store.admin_revive(g.gid, g.host, new_aid(), 1))

    assert (c.state["status"], c.state["winner"]) == ("paused", None)
    assert await h.due(g.gid) is None
    resumed = await h.store.start(g.gid, g.host, new_aid())
    assert (resumed.state["status"], resumed.state["activePlayer"]) == ("running", 1)
    assert await h.due(g.gid) == resumed.state["serverTime"] + player(resumed.state, 1)["timeRemaining"] - 300_000


async def test_revive_after_a_game_loss_timeout_gives_back_the_initial_time(h: Harness) -> None:
    g = await h.running_game(2, initial_time=1_000, thresholds=(500,), penalty_type="game_loss")
    h.clock.offset_ms = 1_500
    out = await h.store.fire_deadline(g.gid)
    assert (out.state["status"], out.state["winner"], player(out.state, 1)["timeRemaining"]) == ("finished", 2, 0)

    c = await h.commits(g.gid, "adminRevive", h.store.admin_revive(g.gid, g.host, new_aid(), 1))

    assert (c.state["status"], c.state["winner"]) == ("paused", None)
    assert (player(c.state, 1)["isEliminated"], player(c.state, 1)["timeRemaining"]) == (False, 1_000)


async def test_revive_while_waiting_keeps_the_game_waiting(h: Harness) -> None:
    g = await h.new_game(3)
    await h.store.eliminate(g.gid, g.host, new_aid(), 1)

    c = await h.commits(g.gid, "adminRevive", h.store.admin_revive(g.gid, g.host, new_aid(), 1))

    assert (c.state["status"], player(c.state, 1)["isEliminated"]) == ("waiting", False)


async def test_revive_of_a_player_still_in_fails(h: Harness) -> None:
    g = await h.running_game(2)

    await h.fails(g.gid, "PLAYER_NOT_ELIMINATED", h.store.admin_revive(g.gid, g.host, new_aid(), 2))


async def test_revive_by_a_seated_player_fails(h: Harness) -> None:
    g = await h.new_game(3)
    await h.claim(g, "alice", 1)
    await h.store.eliminate(g.gid, g.host, new_aid(), 2)

    await h.fails(g.gid, "NOT_OWNER_ADMIN", h.store.admin_revive(g.gid, "alice", new_aid(), 2))


async def test_revive_by_a_spectator_fails(h: Harness) -> None:
    g = await h.new_game(3)
    await h.store.eliminate(g.gid, g.host, new_aid(), 2)

    await h.fails(g.gid, "NOT_OWNER_ADMIN", h.store.admin_revive(g.gid, "watcher", new_aid(), 2))


async def test_revive_of_a_player_that_does_not_exist_fails(h: Harness) -> None:
    g = await h.new_game()

    await h.fails(g.gid, "PLAYER_NOT_FOUND", h.store.admin_revive(g.gid, g.host, new_aid(), 3))


async def test_revive_in_a_missing_game_fails(h: Harness) -> None:
    gid = keys.new_game_id()

    await h.fails(gid, "GAME_NOT_FOUND", h.store.admin_revive(gid, "host", new_aid(), 1))


async def test_revive_retried_with_the_same_action_id_applies_once(h: Harness) -> None:
    g = await h.running_game(3)
    await h.store.eliminate(g.gid, g.host, new_aid(), 2)
    aid = new_aid()
    first = await h.store.admin_revive(g.gid, g.host, aid, 2)

    out = await h.quiet(g.gid, "dup", h.store.admin_revive(g.gid, g.host, aid, 2))

    assert out.state_json == first.state_json
    assert [e["t"] for e in await h.log(g.gid)].count("adminRevive") == 1


# -- reasons and counters (lib/formats.lua below_limits) ------------------------------------


async def test_revive_clears_the_reason(h: Harness) -> None:
    g = await h.running_game(3)
    await h.store.eliminate(g.gid, g.host, new_aid(), 2)

    c = await h.commits(g.gid, "adminRevive", h.store.admin_revive(g.gid, g.host, new_aid(), 2))

    assert (player(c.state, 2)["isEliminated"], player(c.state, 2)["eliminatedReason"]) == (False, None)


async def test_revive_after_poison_brings_it_one_below_the_limit_so_the_next_tap_is_safe(h: Harness) -> None:
    g = await h.running_game(3)
    await h.store.update_player(g.gid, g.host, new_aid(), 2, {"poison": 12})

    c = await h.commits(g.gid, "adminRevive", h.store.admin_revive(g.gid, g.host, new_aid(), 2))

    assert (player(c.state, 2)["poison"], player(c.state, 2)["life"]) == (9, 20)
    after = await h.store.update_player(g.gid, g.host, new_aid(), 2, {"life": 15})
    assert player(after.state, 2)["isEliminated"] is False


async def test_revive_after_commander_damage_brings_each_cell_to_twenty(h: Harness) -> None:
    g = await format_game(h, "commander", 3, started=True)
    await h.store.commander_damage(g.gid, g.host, new_aid(), 1, 2, False, 25)

    c = await h.commits(g.gid, "adminRevive", h.store.admin_revive(g.gid, g.host, new_aid(), 1))

    p = player(c.state, 1)
    assert (p["isEliminated"], p["commanderDamage"], p["life"]) == (False, [[0, 0], [20, 0], [0, 0]], 15)


async def test_revive_leaves_a_counter_alone_when_its_rule_is_off(h: Harness) -> None:
    g = await format_game(h, "custom", 3, rules=LossRules(poison=False), started=True)
    await h.store.update_player(g.gid, g.host, new_aid(), 1, {"poison": 30})
    await h.store.eliminate(g.gid, g.host, new_aid(), 1)

    c = await h.commits(g.gid, "adminRevive", h.store.admin_revive(g.gid, g.host, new_aid(), 1))

    assert player(c.state, 1)["poison"] == 30


async def test_revive_restores_a_life_at_zero_to_the_games_starting_life(h: Harness) -> None:
    g = await format_game(h, "brawl", 3, started=True)
    await h.store.update_player(g.gid, g.host, new_aid(), 3, {"life": 0})

    c = await h.commits(g.gid, "adminRevive", h.store.admin_revive(g.gid, g.host, new_aid(), 3))

    assert player(c.state, 3)["life"] == 25


async def test_revive_in_two_headed_giant_brings_the_team_back_and_reopens_the_game(h: Harness) -> None:
    g = await format_game(h, "twoHeadedGiant", 4, started=True)
    await h.store.update_player(g.gid, g.host, new_aid(), 3, {"poison": 15})

    c = await h.commits(g.gid, "adminRevive", h.store.admin_revive(g.gid, g.host, new_aid(), 4))

    assert [(p["isEliminated"], p["poison"], p["eliminatedReason"]) for p in c.state["players"]] == [
        (False, 0, None),
        (False, 0, None),
        (False, 14, None),
        (False, 14, None),
    ]
    assert (c.state["status"], c.state["winner"]) == ("paused", None)
