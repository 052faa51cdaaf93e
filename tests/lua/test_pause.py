from __future__ import annotations

import time

from service import keys
from tests.support.lua_harness import Harness, new_aid, player


async def test_pause_of_a_running_game_charges_the_active_clock_and_drops_the_deadline(h: Harness) -> None:
    g = await h.new_game()
    t0 = time.monotonic()
    started = await h.store.start(g.gid, g.host, new_aid())
    h.clock.offset_ms = 1_500

    c = await h.commits(g.gid, "pause", h.store.pause(g.gid, g.host, new_aid()))

    charged = c.state["serverTime"] - started.state["serverTime"]
    # 1.5 s of game time plus the real time the two calls took, to the ms
    assert 1_500 <= charged <= 1_500 + (time.monotonic() - t0) * 1000 + 2
    assert c.state["status"] == "paused"
    assert c.state["activePlayer"] == 1
    assert [p["timeRemaining"] for p in c.state["players"]] == [600_000 - charged, 600_000]
    assert c.events == []
    assert await h.due(g.gid) is None


async def test_pause_of_a_paused_game_resumes_it_without_charging_the_pause(h: Harness) -> None:
    g = await h.running_game()
    paused = await h.store.pause(g.gid, g.host, new_aid())
    h.clock.offset_ms = 60_000

    c = await h.commits(g.gid, "resume", h.store.pause(g.gid, g.host, new_aid()))

    assert (c.state["status"], c.state["activePlayer"]) == ("running", 1)
    assert c.state["players"] == paused.state["players"]
    rem = player(c.state, 1)["timeRemaining"]
    assert await h.due(g.gid) == c.state["serverTime"] + rem - 300_000


async def test_pause_by_a_seat_holder_is_allowed(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "bob", 2)
    await h.store.start(g.gid, g.host, new_aid())

    c = await h.commits(g.gid, "pause", h.store.pause(g.gid, "bob", new_aid()))

    assert c.state["status"] == "paused"


async def test_pause_by_a_client_without_seat_or_host_rights_fails(h: Harness) -> None:
    g = await h.running_game()

    await h.fails(g.gid, "NOT_AUTHORIZED_PAUSE", h.store.pause(g.gid, "mallory", new_aid()))


async def test_pause_while_waiting_is_a_noop(h: Harness) -> None:
    g = await h.new_game()

    await h.quiet(g.gid, "noop", h.store.pause(g.gid, g.host, new_aid()))


async def test_pause_of_a_finished_game_is_a_noop(h: Harness) -> None:
    g = await h.running_game()
    await h.store.eliminate(g.gid, g.host, new_aid(), 1)

    await h.quiet(g.gid, "noop", h.store.pause(g.gid, g.host, new_aid()))


async def test_pause_after_the_clock_ran_out_commits_the_timeout_and_stays_paused(h: Harness) -> None:
    g = await h.running_game(initial_time=10_000, thresholds=(5_000,))
    h.clock.offset_ms = 20_000

    c = await h.commits(g.gid, "timeout", h.store.pause(g.gid, g.host, new_aid()))

    assert c.state["status"] == "paused"
    assert player(c.state, 1)["timeRemaining"] == 0
    assert player(c.state, 1)["penalties"] == 1
    assert c.events == [
        {"type": "warning", "data": {"playerId": 1, "threshold": 5_000}},
        {"type": "timeout", "data": {"playerId": 1}},
    ]


async def test_resume_with_the_active_clock_at_zero_does_not_time_out_again(h: Harness) -> None:
    g = await h.running_game(initial_time=10_000, thresholds=(5_000,))
    h.clock.offset_ms = 20_000
    await h.store.fire_deadline(g.gid)

    c = await h.commits(g.gid, "resume", h.store.pause(g.gid, g.host, new_aid()))
    h.clock.offset_ms = 40_000
    fired = await h.store.fire_deadline(g.gid)

    assert c.state["status"] == "running"
    assert c.events == []
    assert await h.due(g.gid) is None
    assert (fired.status, fired.events_json) == ("noop", "[]")
    st = await h.state(g.gid)
    assert (st["status"], player(st, 1)["penalties"], st["version"]) == ("running", 1, c.state["version"])


async def test_pause_retried_with_the_same_action_id_toggles_only_once(h: Harness) -> None:
    g = await h.running_game()
    aid = new_aid()
    first = await h.store.pause(g.gid, g.host, aid)

    out = await h.quiet(g.gid, "dup", h.store.pause(g.gid, g.host, aid))

    assert out.state_json == first.state_json
    assert out.state["status"] == "paused"


async def test_pause_of_a_missing_game_fails(h: Harness) -> None:
    gid = keys.new_game_id()

    await h.fails(gid, "GAME_NOT_FOUND", h.store.pause(gid, "host", new_aid()))
