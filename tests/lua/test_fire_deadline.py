from __future__ import annotations

import json
from typing import Any

from service import keys
from service.game import Outcome
from service.protocol import TimeControl
from tests.support.lua_harness import Game, Harness, new_aid, player


async def fires_nothing(h: Harness, gid: str) -> Outcome:
    """fire_deadline answers noop and leaves everything but the deadline entry alone."""
    await h.published.drain()
    before = await h.snapshot(gid)
    out = await h.store.fire_deadline(gid)
    assert (out.status, out.state_json, out.events_json) == ("noop", "", "[]")
    assert (await h.snapshot(gid))[:3] == before[:3]
    assert await h.published.drain() == []
    return out


async def short_game(h: Harness, players: int = 2, **kw: Any) -> tuple[Game, dict[str, Any]]:
    g = await h.running_game(players, initial_time=10_000, thresholds=(5_000, 2_000), **kw)
    return g, await h.state(g.gid)


async def test_fire_deadline_before_anything_is_due_changes_nothing(h: Harness) -> None:
    g, started = await short_game(h)
    due = await h.due(g.gid)
    h.clock.offset_ms = 4_000

    await fires_nothing(h, g.gid)

    assert await h.due(g.gid) == due == started["serverTime"] + 10_000 - 5_000


async def test_fire_deadline_rewrites_a_stale_entry_to_the_true_next_due_time(h: Harness) -> None:
    g, started = await short_game(h)
    part = keys.partition_of(g.gid)
    assert part is not None
    await h.client.zadd(keys.deadline_partition(part), {g.gid: 0})
    h.clock.offset_ms = 1_000

    await fires_nothing(h, g.gid)

    assert await h.due(g.gid) == started["serverTime"] + 10_000 - 5_000


async def test_fire_deadline_fires_a_crossed_warning_and_schedules_the_next(h: Harness) -> None:
    g, _ = await short_game(h)
    acts = await h.acts(g.gid)
    h.clock.offset_ms = 6_000

    c = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))

    assert c.events == [{"type": "warning", "data": {"playerId": 1, "threshold": 5_000}}]
    rem = player(c.state, 1)["timeRemaining"]
    assert 2_000 < rem <= 4_000
    assert c.state["status"] == "running"
    assert (c.entry["a"], c.entry["c"], "d" in c.entry) == ("", "", False)
    assert await h.acts(g.gid) == acts
    assert await h.due(g.gid) == c.state["serverTime"] + rem - 2_000


async def test_fire_deadline_twice_fires_each_warning_once(h: Harness) -> None:
    g, _ = await short_game(h)
    h.clock.offset_ms = 6_000
    first = await h.store.fire_deadline(g.gid)

    await fires_nothing(h, g.gid)

    assert first.status == "ok"
    assert [e["t"] for e in await h.log(g.gid)].count("deadline") == 1


async def test_fire_deadline_fires_every_crossed_warning_highest_first(h: Harness) -> None:
    g = await h.running_game(initial_time=10_000, thresholds=(2_000, 8_000, 5_000))
    h.clock.offset_ms = 9_000

    c = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))

    assert c.events == [{"type": "warning", "data": {"playerId": 1, "threshold": t}} for t in (8_000, 5_000, 2_000)]
    assert c.state["status"] == "running"
    assert await h.due(g.gid) == c.state["serverTime"] + player(c.state, 1)["timeRemaining"]


async def test_fire_deadline_times_out_a_clock_that_reached_zero(h: Harness) -> None:
    g, _ = await short_game(h)
    h.clock.offset_ms = 6_000
    await h.store.fire_deadline(g.gid)
    h.clock.offset_ms = 11_000

    c = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))

    assert c.events == [
        {"type": "warning", "data": {"playerId": 1, "threshold": 2_000}},
        {"type": "timeout", "data": {"playerId": 1}},
    ]
    assert (c.state["status"], c.state["activePlayer"]) == ("paused", 1)
    p = player(c.state, 1)
    assert (p["timeRemaining"], p["penalties"], p["isEliminated"]) == (0, 1, False)
    assert await h.due(g.gid) is None


async def test_fire_deadline_after_a_timeout_fires_nothing_more(h: Harness) -> None:
    g, _ = await short_game(h)
    h.clock.offset_ms = 11_000
    await h.store.fire_deadline(g.gid)
    h.clock.offset_ms = 20_000

    await fires_nothing(h, g.gid)

    assert player(await h.state(g.gid), 1)["penalties"] == 1


async def test_a_game_loss_timeout_with_two_players_finishes_the_game(h: Harness) -> None:
    g, _ = await short_game(h, penalty_type="game_loss")
    h.clock.offset_ms = 11_000

    c = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))

    # the timeout, then the game it decided (HEAD's gameComplete), both before the state
    assert c.events[-2:] == [
        {"type": "timeout", "data": {"playerId": 1}},
        {
            "type": "gameComplete",
            "data": {
                "winnerId": 2,
                "winnerName": "Player 2",
                # player 1's clock ran its 10 s in turn 1; player 2 never had a turn
                "summary": [
                    {"playerId": 1, "timeUsed": 10_000, "turns": 1},
                    {"playerId": 2, "timeUsed": 0, "turns": 0},
                ],
            },
        },
    ]
    assert (c.state["status"], c.state["winner"], c.state["activePlayer"]) == ("finished", 2, None)
    # v1's timeout is a penalty of the game's type: a game_loss penalty
    assert (player(c.state, 1)["isEliminated"], player(c.state, 1)["eliminatedReason"]) == (True, "penalty")


async def test_a_game_loss_timeout_passes_the_turn_and_leaves_the_game_paused(h: Harness) -> None:
    g, _ = await short_game(h, 3, penalty_type="game_loss")
    await h.store.switch(g.gid, g.host, new_aid(), 3)
    h.clock.offset_ms = 11_000

    c = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))

    assert (c.state["status"], c.state["activePlayer"], c.state["winner"]) == ("paused", 1, None)
    assert [p["isEliminated"] for p in c.state["players"]] == [False, False, True]


async def test_a_time_deduction_timeout_leaves_the_clock_at_zero(h: Harness) -> None:
    g, _ = await short_game(h, penalty_type="time_deduction", deduction=3_000)
    h.clock.offset_ms = 11_000

    c = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))

    p = player(c.state, 1)
    assert (p["timeRemaining"], p["penalties"], c.state["status"]) == (0, 1, "paused")


async def test_fire_deadline_of_a_deleted_game_removes_its_index_entry(h: Harness) -> None:
    g, _ = await short_game(h)
    for key in keys.GameKeys(g.gid).as_list()[:3]:
        await h.client.delete(key)
    assert await h.due(g.gid) is not None

    await fires_nothing(h, g.gid)

    assert await h.due(g.gid) is None
    assert await h.client.exists(keys.game(g.gid)) == 0


async def test_fire_deadline_of_a_paused_game_removes_a_leftover_entry(h: Harness) -> None:
    g, _ = await short_game(h)
    await h.store.pause(g.gid, g.host, new_aid())
    part = keys.partition_of(g.gid)
    assert part is not None
    await h.client.zadd(keys.deadline_partition(part), {g.gid: 1})
    h.clock.offset_ms = 60_000

    await fires_nothing(h, g.gid)

    assert await h.due(g.gid) is None


async def test_fire_deadline_of_a_waiting_game_fires_nothing(h: Harness) -> None:
    g = await h.new_game(initial_time=10_000, thresholds=(5_000,))
    h.clock.offset_ms = 60_000

    await fires_nothing(h, g.gid)

    assert await h.due(g.gid) is None


async def test_fire_deadline_with_an_unknown_publish_command_is_rejected(h: Harness) -> None:
    g, _ = await short_game(h)
    h.clock.offset_ms = 6_000

    await h.raw_fails(g.gid, "INVALID_ARGUMENT", h.run_script("fire_deadline", g.gid, pub="BROADCAST"))


async def test_each_players_warnings_fire_on_their_own_clock(h: Harness) -> None:
    g, _ = await short_game(h)
    h.clock.offset_ms = 6_000
    await h.store.fire_deadline(g.gid)
    await h.store.switch(g.gid, g.host, new_aid(), 2)
    h.clock.offset_ms = 12_000

    c = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))

    assert c.events == [{"type": "warning", "data": {"playerId": 2, "threshold": 5_000}}]


async def test_a_clock_set_exactly_on_a_threshold_does_not_warn_for_it(h: Harness) -> None:
    g, _ = await short_game(h)
    # prev > T >= now: a clock standing on T has not crossed T by running
    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 1, {"time": 5_000}))
    assert await h.due(g.gid) == c.state["serverTime"] + 5_000 - 2_000
    h.clock.offset_ms = 1_000

    await fires_nothing(h, g.gid)

    h.clock.offset_ms = 3_500
    c = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))
    assert c.events == [{"type": "warning", "data": {"playerId": 1, "threshold": 2_000}}]


async def test_a_running_game_everyone_left_keeps_running_and_stops_asking_after_its_timeout(h: Harness) -> None:
    """Abandoned games cannot fill the deadline loop: each fires its warnings and its timeout
    once, the timeout stops the clock, and the game then holds no deadline entry at all."""
    g = await h.new_game(2, initial_time=10_000, thresholds=(5_000, 2_000))
    await h.claim(g, "p1", 1)
    await h.claim(g, "p2", 2)
    await h.store.start(g.gid, g.host, new_aid())
    for client in ("p1", "p2"):
        await h.store.leave(g.gid, client, new_aid(), "disconnect")
    assert (await h.state(g.gid))["status"] == "running"

    fired: list[str] = []
    for offset in range(1_000, 30_001, 1_000):
        h.clock.offset_ms = offset
        out = await h.store.fire_deadline(g.gid)
        fired += [e["type"] for e in json.loads(out.events_json)]

    assert fired == ["warning", "warning", "timeout"]
    assert (await h.state(g.gid))["status"] == "paused"
    assert await h.due(g.gid) is None


async def test_the_turn_caps_warning_and_pass_fire_once_each_however_often_the_deadline_runs(h: Harness) -> None:
    g = await h.running_game(3, time_control=TimeControl("turnCap", 8_000, 3_000))
    t0 = (await h.state(g.gid))["serverTime"]
    assert await h.due(g.gid) == t0 + 5_000
    h.clock.offset_ms = 4_900
    await fires_nothing(h, g.gid)
    h.clock.offset_ms = 5_050

    w = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))
    await fires_nothing(h, g.gid)
    h.clock.offset_ms = 8_050
    p = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))
    await fires_nothing(h, g.gid)

    assert [e["type"] for e in w.events + p.events] == ["turnCapWarning", "turnCapped"]
    assert p.events[0]["data"] == {"playerId": 1, "nextPlayerId": 2}
    assert await h.due(g.gid) == t0 + 8_000 + 5_000


async def test_a_bronstein_delay_moves_the_first_warning_out(h: Harness) -> None:
    g = await h.running_game(2, initial_time=10_000, thresholds=(5_000,), time_control=TimeControl("bronstein", 4_000))
    t0 = (await h.state(g.gid))["serverTime"]
    h.clock.offset_ms = 5_100
    await fires_nothing(h, g.gid)
    h.clock.offset_ms = 9_050

    c = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))

    assert c.events == [{"type": "warning", "data": {"playerId": 1, "threshold": 5_000}}]
    assert await h.due(g.gid) == t0 + 14_000
