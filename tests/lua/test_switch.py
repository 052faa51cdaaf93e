from __future__ import annotations

import time

from service import keys
from service.protocol import TimeControl
from tests.support.lua_harness import Harness, new_aid, player


async def test_switch_while_waiting_is_allowed_to_anyone_and_charges_nothing(h: Harness) -> None:
    g = await h.new_game(3)
    aid = new_aid()
    h.clock.offset_ms = 5_000

    c = await h.commits(g.gid, "switch", h.store.switch(g.gid, "stranger", aid, 2))

    assert (c.state["status"], c.state["activePlayer"]) == ("waiting", 2)
    assert [p["timeRemaining"] for p in c.state["players"]] == [600_000] * 3
    assert c.entry["d"] == {"playerId": 2}
    assert (c.entry["a"], c.entry["c"]) == (aid, "stranger")


async def test_switch_by_the_host_charges_the_running_clock_and_starts_the_target(h: Harness) -> None:
    g = await h.new_game(3)
    t0 = time.monotonic()
    started = await h.store.start(g.gid, g.host, new_aid())
    h.clock.offset_ms = 1_500

    c = await h.commits(g.gid, "switch", h.store.switch(g.gid, g.host, new_aid(), 3))

    charged = c.state["serverTime"] - started.state["serverTime"]
    # 1.5 s of game time plus the real time the two calls took, to the ms
    assert 1_500 <= charged <= 1_500 + (time.monotonic() - t0) * 1000 + 2
    assert c.state["activePlayer"] == 3
    assert [p["timeRemaining"] for p in c.state["players"]] == [600_000 - charged, 600_000, 600_000]
    assert await h.due(g.gid) == c.state["serverTime"] + 600_000 - 300_000


async def test_switch_by_the_holder_of_the_active_seat_is_allowed(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "alice", 1)
    await h.store.start(g.gid, g.host, new_aid())

    c = await h.commits(g.gid, "switch", h.store.switch(g.gid, "alice", new_aid(), 2))

    assert c.state["activePlayer"] == 2


async def test_switch_by_the_holder_of_another_seat_fails_once_started(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "bob", 2)
    await h.store.start(g.gid, g.host, new_aid())

    await h.fails(g.gid, "NOT_AUTHORIZED_SWITCH", h.store.switch(g.gid, "bob", new_aid(), 2))
    # pass-turn's refusal is HEAD's own string
    await h.fails(g.gid, "NOT_AUTHORIZED_PASS", h.store.switch(g.gid, "mallory", new_aid(), "next"))


async def test_switch_while_paused_is_refused_to_a_stranger(h: Harness) -> None:
    g = await h.running_game()
    await h.store.pause(g.gid, g.host, new_aid())

    await h.fails(g.gid, "NOT_AUTHORIZED_SWITCH", h.store.switch(g.gid, "mallory", new_aid(), 2))


async def test_switch_while_paused_moves_the_turn_without_running_the_clock(h: Harness) -> None:
    g = await h.running_game()
    paused = await h.store.pause(g.gid, g.host, new_aid())
    h.clock.offset_ms = 4_000

    c = await h.commits(g.gid, "switch", h.store.switch(g.gid, g.host, new_aid(), 2))

    assert (c.state["status"], c.state["activePlayer"]) == ("paused", 2)
    # a new turn (lib/clocks.lua begin_turn), its clock still standing
    assert (c.state["turn"], c.state["round"], c.state["turnTime"]) == (2, 1, 0)
    assert [p["timeRemaining"] for p in c.state["players"]] == [p["timeRemaining"] for p in paused.state["players"]]
    assert [p["turns"] for p in c.state["players"]] == [1, 1]


async def test_switch_to_the_active_player_is_a_noop(h: Harness) -> None:
    g = await h.running_game()
    h.clock.offset_ms = 1_000

    await h.quiet(g.gid, "noop", h.store.switch(g.gid, g.host, new_aid(), 1))


async def test_switch_to_the_active_player_after_a_warning_came_due_commits_the_warning(h: Harness) -> None:
    g = await h.running_game(initial_time=10_000, thresholds=(5_000,))
    h.clock.offset_ms = 6_000

    c = await h.commits(g.gid, "switch", h.store.switch(g.gid, g.host, new_aid(), 1))

    assert c.state["activePlayer"] == 1
    assert c.events == [{"type": "warning", "data": {"playerId": 1, "threshold": 5_000}}]


async def test_switch_next_passes_the_turn_in_turn_order(h: Harness) -> None:
    g = await h.running_game(3)

    c = await h.commits(g.gid, "switch", h.store.switch(g.gid, g.host, new_aid(), "next"))

    assert c.state["activePlayer"] == 2
    assert c.entry["d"] == {"playerId": 2}


async def test_switch_next_wraps_around_and_skips_eliminated_players(h: Harness) -> None:
    g = await h.running_game(4)
    await h.store.switch(g.gid, g.host, new_aid(), 3)
    await h.store.eliminate(g.gid, g.host, new_aid(), 4)
    await h.store.eliminate(g.gid, g.host, new_aid(), 1)

    c = await h.commits(g.gid, "switch", h.store.switch(g.gid, g.host, new_aid(), "next"))

    assert c.state["activePlayer"] == 2


async def test_pass_turn_is_refused_unless_the_game_runs(h: Harness) -> None:
    # HEAD passed the turn while waiting or paused (C17); a switch by name still may
    g = await h.new_game(3)
    await h.claim(g, "alice", 1)

    await h.fails(g.gid, "GAME_NOT_RUNNING", h.store.switch(g.gid, g.host, new_aid(), "next"))
    await h.store.start(g.gid, g.host, new_aid())
    await h.store.pause(g.gid, g.host, new_aid())
    await h.fails(g.gid, "GAME_NOT_RUNNING", h.store.switch(g.gid, "alice", new_aid(), "next"))

    c = await h.commits(g.gid, "switch", h.store.switch(g.gid, "alice", new_aid(), 2))
    assert (c.state["status"], c.state["activePlayer"]) == ("paused", 2)


async def test_switch_to_an_eliminated_player_fails(h: Harness) -> None:
    g = await h.running_game(3)
    await h.store.eliminate(g.gid, g.host, new_aid(), 3)

    await h.fails(g.gid, "PLAYER_ELIMINATED", h.store.switch(g.gid, g.host, new_aid(), 3))


async def test_switch_to_a_player_that_does_not_exist_fails(h: Harness) -> None:
    g = await h.running_game()

    await h.fails(g.gid, "PLAYER_NOT_FOUND", h.store.switch(g.gid, g.host, new_aid(), 3))


async def test_switch_with_a_target_that_is_not_a_number_is_rejected(h: Harness) -> None:
    g = await h.running_game()

    await h.raw_fails(
        g.gid, "INVALID_ARGUMENT", h.run_script("switch", g.gid, "two", action_id=new_aid(), client_id=g.host)
    )


async def test_switch_in_a_finished_game_fails(h: Harness) -> None:
    g = await h.running_game()
    await h.store.eliminate(g.gid, g.host, new_aid(), 2)

    await h.fails(g.gid, "GAME_FINISHED", h.store.switch(g.gid, g.host, new_aid(), 1))


async def test_switch_retried_with_the_same_action_id_applies_once(h: Harness) -> None:
    g = await h.running_game(3)
    aid = new_aid()
    first = await h.store.switch(g.gid, g.host, aid, "next")

    out = await h.quiet(g.gid, "dup", h.store.switch(g.gid, g.host, aid, "next"))

    assert out.state_json == first.state_json
    assert out.state["activePlayer"] == 2


async def test_switch_in_a_missing_game_fails(h: Harness) -> None:
    gid = keys.new_game_id()

    await h.fails(gid, "GAME_NOT_FOUND", h.store.switch(gid, "host", new_aid(), 1))


async def test_switch_leaves_the_new_active_players_time_untouched(h: Harness) -> None:
    g = await h.running_game()
    h.clock.offset_ms = 3_000
    await h.store.switch(g.gid, g.host, new_aid(), 2)
    h.clock.offset_ms = 5_000

    c = await h.commits(g.gid, "switch", h.store.switch(g.gid, g.host, new_aid(), 1))

    assert c.before is not None
    charged = c.state["serverTime"] - c.before["serverTime"]
    assert charged >= 2_000
    assert player(c.state, 2)["timeRemaining"] == 600_000 - charged
    assert player(c.state, 1)["timeRemaining"] == player(c.before, 1)["timeRemaining"]


async def test_a_turn_pass_begins_a_turn_and_a_fischer_game_pays_the_increment_to_the_passer(h: Harness) -> None:
    g = await h.new_game(2, time_control=TimeControl("fischer", 10_000))
    await h.claim(g, "alice", 1)
    await h.store.start(g.gid, g.host, new_aid())
    h.clock.offset_ms = 3_000

    c = await h.commits(g.gid, "switch", h.store.switch(g.gid, "alice", new_aid(), "next"))

    p1 = player(c.state, 1)
    assert p1["timeRemaining"] == 610_000 - p1["timeUsed"]
    assert (c.state["turn"], c.state["round"], c.state["activePlayer"], c.state["turnTime"]) == (2, 1, 2, 0)
    assert c.entry["d"] == {"playerId": 2, "increment": 10_000}


async def test_the_active_players_switch_after_the_turn_moved_on_is_refused(h: Harness) -> None:
    g = await h.new_game(3, time_control=TimeControl("turnCap", 5_000, 0))
    await h.claim(g, "alice", 1)
    await h.store.start(g.gid, g.host, new_aid())
    h.clock.offset_ms = 5_100

    await h.fails(g.gid, "TURN_MOVED_ON", h.store.switch(g.gid, "alice", new_aid(), "next"))
    await h.fails(g.gid, "TURN_MOVED_ON", h.store.switch(g.gid, "alice", new_aid(), 3))
