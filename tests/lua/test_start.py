from __future__ import annotations

import json

from service import keys
from tests.support.lua_harness import Harness, new_aid, player


async def test_start_by_the_host_runs_the_first_player_clock_and_schedules_the_first_warning(
    h: Harness,
) -> None:
    g = await h.new_game(3)
    aid = new_aid()

    c = await h.commits(g.gid, "start", h.store.start(g.gid, g.host, aid))

    assert (c.state["status"], c.state["activePlayer"]) == ("running", 1)
    assert [p["timeRemaining"] for p in c.state["players"]] == [600_000] * 3
    assert (c.entry["a"], c.entry["c"]) == (aid, g.host)
    assert await h.due(g.gid) == c.state["serverTime"] + 600_000 - 300_000


async def test_start_by_a_seat_holder_is_allowed(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "alice", 2)

    c = await h.commits(g.gid, "start", h.store.start(g.gid, "alice", new_aid()))

    assert c.state["status"] == "running"


async def test_start_by_a_client_without_seat_or_host_rights_fails(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "alice", 2)

    await h.fails(g.gid, "NOT_AUTHORIZED_START", h.store.start(g.gid, "mallory", new_aid()))
    await h.fails(g.gid, "NOT_AUTHORIZED_START", h.store.start(g.gid, "", new_aid()))


async def test_start_keeps_the_active_player_chosen_while_waiting(h: Harness) -> None:
    g = await h.new_game(3)
    await h.store.switch(g.gid, "anyone", new_aid(), 3)

    c = await h.commits(g.gid, "start", h.store.start(g.gid, g.host, new_aid()))

    assert c.state["activePlayer"] == 3


async def test_start_never_picks_an_eliminated_player(h: Harness) -> None:
    g = await h.new_game(4)
    await h.store.eliminate(g.gid, g.host, new_aid(), 1)
    await h.store.eliminate(g.gid, g.host, new_aid(), 2)

    c = await h.commits(g.gid, "start", h.store.start(g.gid, g.host, new_aid()))

    assert c.state["activePlayer"] == 3


async def test_start_passes_over_an_active_player_that_is_eliminated(h: Harness) -> None:
    g = await h.new_game(3)
    await h.store.switch(g.gid, g.host, new_aid(), 2)
    # no action leaves an eliminated player active; write such a state by hand to check the guard
    st = await h.state(g.gid)
    player(st, 2)["isEliminated"] = True
    await h.client.hset(keys.game(g.gid), "state", json.dumps(st))

    c = await h.commits(g.gid, "start", h.store.start(g.gid, g.host, new_aid()))

    assert c.state["activePlayer"] == 3


async def test_start_of_a_paused_game_resumes_the_active_player_without_charging_the_pause(
    h: Harness,
) -> None:
    g = await h.running_game(3)
    await h.store.switch(g.gid, g.host, new_aid(), 2)
    paused = await h.store.pause(g.gid, g.host, new_aid())
    h.clock.offset_ms = 10_000

    c = await h.commits(g.gid, "start", h.store.start(g.gid, g.host, new_aid()))

    assert (c.state["status"], c.state["activePlayer"]) == ("running", 2)
    assert c.state["players"] == paused.state["players"]
    assert c.state["serverTime"] >= paused.state["serverTime"] + 10_000


async def test_start_of_a_running_game_is_a_noop(h: Harness) -> None:
    g = await h.running_game()

    await h.quiet(g.gid, "noop", h.store.start(g.gid, g.host, new_aid()))


async def test_start_of_a_finished_game_fails(h: Harness) -> None:
    g = await h.running_game()
    await h.store.eliminate(g.gid, g.host, new_aid(), 2)

    await h.fails(g.gid, "GAME_FINISHED", h.store.start(g.gid, g.host, new_aid()))


async def test_start_retried_with_the_same_action_id_applies_once(h: Harness) -> None:
    g = await h.new_game()
    aid = new_aid()
    first = await h.store.start(g.gid, g.host, aid)
    await h.store.pause(g.gid, g.host, new_aid())

    out = await h.quiet(g.gid, "dup", h.store.start(g.gid, g.host, aid))

    assert out.state["status"] == "paused"
    assert out.version == first.version + 1


async def test_start_of_a_missing_game_fails(h: Harness) -> None:
    gid = keys.new_game_id()

    await h.fails(gid, "GAME_NOT_FOUND", h.store.start(gid, "host", new_aid()))


async def test_start_with_a_short_first_clock_schedules_the_timeout_when_no_warning_is_below(
    h: Harness,
) -> None:
    g = await h.new_game(initial_time=20_000, thresholds=(30_000,))

    c = await h.commits(g.gid, "start", h.store.start(g.gid, g.host, new_aid()))

    assert player(c.state, 1)["timeRemaining"] == 20_000
    assert await h.due(g.gid) == c.state["serverTime"] + 20_000


async def test_start_from_waiting_begins_turn_one_and_a_resume_begins_none(h: Harness) -> None:
    g = await h.new_game(3)
    await h.store.switch(g.gid, g.host, new_aid(), 2)

    c = await h.commits(g.gid, "start", h.store.start(g.gid, g.host, new_aid()))

    assert (c.state["turn"], c.state["round"], c.state["firstPlayer"], c.state["turnTime"]) == (1, 1, 2, 0)
    assert [p["turns"] for p in c.state["players"]] == [0, 1, 0]
    h.clock.offset_ms = 2_000
    await h.store.pause(g.gid, g.host, new_aid())
    r = await h.commits(g.gid, "start", h.store.start(g.gid, g.host, new_aid()))
    assert (r.state["turn"], [p["turns"] for p in r.state["players"]]) == (1, [0, 1, 0])
    assert 2_000 <= r.state["turnTime"] < 3_000
