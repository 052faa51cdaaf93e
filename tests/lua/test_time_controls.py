"""lib/clocks.lua and its rules in lib/rules.lua: the time controls (Fischer increment,
Bronstein delay, turn cap), the turn and round counters (begin_turn), each player's time used
and turns, and gameComplete's summary. Each rule through the scripts that apply it; h.commits
checks the deadline index against tests/support/lua_harness.py expected_due every time."""

from __future__ import annotations

import json
from typing import Any

from service import keys
from service.protocol import TimeControl
from tests.support.lua_harness import Game, Harness, new_aid, player, summary_of

CAP = 20_000
LEAD = 5_000


async def seated(h: Harness, players: int = 3, control: TimeControl | None = None, **kw: Any) -> Game:
    """A waiting game with seat i held by client "p{i}"."""
    g = await h.new_game(players, time_control=control, **kw)
    for pid in range(1, players + 1):
        await h.claim(g, f"p{pid}", pid)
    return g


async def started(h: Harness, players: int = 3, control: TimeControl | None = None, **kw: Any) -> Game:
    g = await seated(h, players, control, **kw)
    await h.store.start(g.gid, g.host, new_aid())
    return g


def counters(st: dict[str, Any]) -> tuple[int, int, int]:
    return st["turn"], st["round"], st["activePlayer"]


async def pass_turn(h: Harness, g: Game) -> dict[str, Any]:
    return (await h.commits(g.gid, "switch", h.store.switch(g.gid, g.host, new_aid(), "next"))).state


# -- turns and rounds -------------------------------------------------------------------------


async def test_start_begins_turn_one_of_round_one_for_the_first_player(h: Harness) -> None:
    g = await seated(h)

    c = await h.commits(g.gid, "start", h.store.start(g.gid, g.host, new_aid()))

    assert (counters(c.state), c.state["turnTime"], c.state["firstPlayer"]) == ((1, 1, 1), 0, 1)
    assert [p["turns"] for p in c.state["players"]] == [1, 0, 0]


async def test_each_pass_begins_a_turn_and_the_wrap_to_the_first_player_a_round(h: Harness) -> None:
    g = await started(h)

    seen = [counters(await pass_turn(h, g)) for _ in range(4)]

    assert seen == [(2, 1, 2), (3, 1, 3), (4, 2, 1), (5, 2, 2)]
    assert [p["turns"] for p in (await h.state(g.gid))["players"]] == [2, 2, 1]


async def test_rounds_count_from_whoever_started(h: Harness) -> None:
    g = await seated(h)
    await h.store.switch(g.gid, g.host, new_aid(), 3)
    await h.commits(g.gid, "start", h.store.start(g.gid, g.host, new_aid()))

    seen = [counters(await pass_turn(h, g)) for _ in range(3)]

    # choosing who starts while waiting is no turn; the round wraps when player 3 is back
    assert seen == [(2, 1, 1), (3, 1, 2), (4, 2, 3)]


async def test_a_wrap_past_the_first_player_eliminated_still_begins_a_round(h: Harness) -> None:
    g = await started(h)
    await pass_turn(h, g)
    await h.store.eliminate(g.gid, g.host, new_aid(), 1)

    st = await pass_turn(h, g)
    assert counters(st) == (3, 1, 3)
    assert counters(await pass_turn(h, g)) == (4, 2, 2)


async def test_the_active_player_eliminated_hands_on_a_new_turn(h: Harness) -> None:
    g = await started(h)
    h.clock.offset_ms = 3_000

    c = await h.commits(g.gid, "eliminate", h.store.eliminate(g.gid, g.host, new_aid(), 1))

    assert (counters(c.state), c.state["turnTime"]) == ((2, 1, 2), 0)
    assert [p["turns"] for p in c.state["players"]] == [1, 1, 0]


async def test_eliminating_a_waiting_player_or_one_whose_turn_it_is_not_begins_no_turn(h: Harness) -> None:
    g = await seated(h, 4)
    w = await h.commits(g.gid, "eliminate", h.store.eliminate(g.gid, g.host, new_aid(), 1))
    assert (w.state["turn"], w.state["activePlayer"]) == (0, None)
    await h.store.start(g.gid, g.host, new_aid())

    c = await h.commits(g.gid, "eliminate", h.store.eliminate(g.gid, g.host, new_aid(), 3))

    assert counters(c.state) == (1, 1, 2)


async def test_switch_while_waiting_and_to_oneself_begin_no_turn(h: Harness) -> None:
    g = await seated(h)
    w = await h.commits(g.gid, "switch", h.store.switch(g.gid, g.host, new_aid(), 2))
    assert (w.state["turn"], w.state["round"], [p["turns"] for p in w.state["players"]]) == (0, 0, [0, 0, 0])
    await h.store.start(g.gid, g.host, new_aid())

    await h.quiet(g.gid, "noop", h.store.switch(g.gid, g.host, new_aid(), 2))


async def test_a_host_switch_backwards_wraps_into_a_new_round(h: Harness) -> None:
    g = await started(h)
    await pass_turn(h, g)
    await pass_turn(h, g)

    c = await h.commits(g.gid, "switch", h.store.switch(g.gid, g.host, new_aid(), 2))

    assert counters(c.state) == (4, 2, 2)


async def test_reset_clears_the_counters(h: Harness) -> None:
    g = await started(h)
    h.clock.offset_ms = 2_000
    await pass_turn(h, g)

    c = await h.commits(g.gid, "reset", h.store.reset(g.gid, g.host, new_aid()))

    st = c.state
    assert (st["turn"], st["round"], st["turnTime"], st["firstPlayer"]) == (0, 0, 0, None)
    assert [(p["timeUsed"], p["turns"]) for p in st["players"]] == [(0, 0)] * 3


async def test_a_state_stored_before_the_counters_reads_them_as_zero(h: Harness) -> None:
    g = await started(h)
    st = await h.state(g.gid)
    for k in ("turn", "round", "turnTime", "firstPlayer"):
        del st[k]
    for p in st["players"]:
        del p["timeUsed"], p["turns"]
    await h.client.hset(keys.game(g.gid), "state", json.dumps(st))
    h.clock.offset_ms = 1_000

    c = await h.commits(g.gid, "switch", h.store.switch(g.gid, g.host, new_aid(), "next"))

    # the first turn counted is the one that begins now
    assert (counters(c.state), c.state["firstPlayer"]) == ((1, 1, 2), 2)
    assert [p.get("turns") for p in c.state["players"]] == [None, 1, None]
    assert 1_000 <= player(c.state, 1)["timeUsed"] < 2_000


# -- time used and the summary ----------------------------------------------------------------


async def test_time_used_counts_every_charge_interrupts_included_and_the_summary_reports_it(h: Harness) -> None:
    g = await started(h, 2)
    h.clock.offset_ms = 4_000
    await h.store.interrupt(g.gid, "p2", new_aid())
    h.clock.offset_ms = 7_000
    await h.store.pass_priority(g.gid, "p2", new_aid())
    h.clock.offset_ms = 8_000

    c = await h.commits(g.gid, "eliminate", h.store.eliminate(g.gid, g.host, new_aid(), 2))

    p1, p2 = c.state["players"]
    assert 5_000 <= p1["timeUsed"] < 5_500 and p1["timeUsed"] == 600_000 - p1["timeRemaining"]
    assert 3_000 - 500 < p2["timeUsed"] <= 3_000 + 500 and p2["timeUsed"] == 600_000 - p2["timeRemaining"]
    summary = summary_of(c.state)
    assert c.events == [{"type": "gameComplete", "data": {"winnerId": 1, "winnerName": "Player 1", "summary": summary}}]
    assert [s["turns"] for s in summary] == [1, 0]


# -- Fischer ----------------------------------------------------------------------------------


async def test_fischer_adds_the_increment_to_the_player_who_passed(h: Harness) -> None:
    g = await started(h, control=TimeControl("fischer", 5_000))
    h.clock.offset_ms = 2_000

    c = await h.commits(g.gid, "switch", h.store.switch(g.gid, "p1", new_aid(), "next"))

    p1 = player(c.state, 1)
    assert p1["timeRemaining"] == 600_000 - p1["timeUsed"] + 5_000
    assert player(c.state, 2)["timeRemaining"] == 600_000
    assert c.entry["d"] == {"playerId": 2, "increment": 5_000}


async def test_fischer_is_capped_at_24_hours(h: Harness) -> None:
    g = await started(h, control=TimeControl("fischer", 3_600_000), initial_time=86_000_000)

    c = await h.commits(g.gid, "switch", h.store.switch(g.gid, g.host, new_aid(), 2))

    assert player(c.state, 1)["timeRemaining"] == 86_400_000
    assert c.entry["d"]["increment"] == 86_400_000 - (86_000_000 - player(c.state, 1)["timeUsed"])


async def test_fischer_gives_nothing_while_waiting_or_paused_nor_when_the_turn_moves_by_elimination(
    h: Harness,
) -> None:
    g = await seated(h, control=TimeControl("fischer", 5_000))
    w = await h.commits(g.gid, "switch", h.store.switch(g.gid, g.host, new_aid(), 2))
    assert w.entry["d"] == {"playerId": 2}
    await h.store.start(g.gid, g.host, new_aid())
    await h.store.pause(g.gid, g.host, new_aid())
    p = await h.commits(g.gid, "switch", h.store.switch(g.gid, g.host, new_aid(), 3))
    assert p.entry["d"] == {"playerId": 3}
    await h.store.start(g.gid, g.host, new_aid())

    c = await h.commits(g.gid, "eliminate", h.store.eliminate(g.gid, g.host, new_aid(), 3))

    assert [q["timeRemaining"] for q in c.state["players"]] == [
        600_000,
        600_000 - player(c.state, 2)["timeUsed"],
        600_000 - player(c.state, 3)["timeUsed"],
    ]


async def test_fischer_moves_the_timeout_out_by_the_increment(h: Harness) -> None:
    g = await started(h, 2, control=TimeControl("fischer", 4_000), initial_time=10_000, thresholds=(1_000,))
    await h.store.switch(g.gid, "p1", new_aid(), "next")
    back = await h.store.switch(g.gid, "p2", new_aid(), "next")

    # player 1 runs again with the increment on the clock: its warning comes that much later
    p1 = player(back.state, 1)
    assert p1["timeRemaining"] == 14_000 - p1["timeUsed"]
    assert await h.due(g.gid) == back.state["serverTime"] + p1["timeRemaining"] - 1_000


# -- Bronstein --------------------------------------------------------------------------------


async def test_bronstein_charges_nothing_for_the_turns_first_ms(h: Harness) -> None:
    g = await started(h, 2, control=TimeControl("bronstein", 5_000), initial_time=10_000, thresholds=(2_000,))
    start = await h.state(g.gid)
    assert await h.due(g.gid) == start["serverTime"] + 5_000 + 10_000 - 2_000
    h.clock.offset_ms = 3_000

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 2, {"life": 19}))

    p1 = player(c.state, 1)
    assert (p1["timeRemaining"], p1["timeUsed"]) == (10_000, 0)
    assert c.state["turnTime"] == c.state["serverTime"] - start["serverTime"]
    # what is left of the delay comes before the warning
    assert await h.due(g.gid) == start["serverTime"] + 5_000 + 10_000 - 2_000


async def test_bronstein_charges_what_runs_past_the_delay_and_warns_and_times_out_shifted(h: Harness) -> None:
    g = await started(h, 2, control=TimeControl("bronstein", 5_000), initial_time=10_000, thresholds=(2_000,))
    t0 = (await h.state(g.gid))["serverTime"]
    h.clock.offset_ms = 13_500

    c = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))

    assert c.events == [{"type": "warning", "data": {"playerId": 1, "threshold": 2_000}}]
    p1 = player(c.state, 1)
    assert p1["timeUsed"] == c.state["serverTime"] - t0 - 5_000 == 10_000 - p1["timeRemaining"]
    assert await h.due(g.gid) == t0 + 15_000
    h.clock.offset_ms = 15_100
    t = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))
    assert t.events == [{"type": "timeout", "data": {"playerId": 1}}]


async def test_bronstein_delay_is_only_the_active_players_own_clock_and_starts_again_each_turn(h: Harness) -> None:
    g = await started(h, 2, control=TimeControl("bronstein", 5_000))
    h.clock.offset_ms = 2_000
    await h.store.interrupt(g.gid, "p2", new_aid())
    h.clock.offset_ms = 6_000
    back = await h.store.pass_priority(g.gid, "p2", new_aid())
    # the interrupter paid its 4 s; the turn's time stood still meanwhile
    assert 3_500 < player(back.state, 2)["timeUsed"] <= 4_500
    assert 1_500 < back.state["turnTime"] <= 2_500
    h.clock.offset_ms = 10_000

    c = await h.commits(g.gid, "switch", h.store.switch(g.gid, "p1", new_aid(), "next"))

    p1 = player(c.state, 1)
    # 2 s + 4 s of the turn's own clock: the first 5 s were free
    assert 500 < p1["timeUsed"] <= 1_500
    p2 = player(c.state, 2)
    assert (c.state["turnTime"], await h.due(g.gid)) == (
        0,
        c.state["serverTime"] + 5_000 + p2["timeRemaining"] - 300_000,
    )


# -- turn cap ---------------------------------------------------------------------------------


async def capped(h: Harness, players: int = 3, lead: int = LEAD, **kw: Any) -> tuple[Game, int]:
    g = await started(h, players, control=TimeControl("turnCap", CAP, lead), **kw)
    return g, (await h.state(g.gid))["serverTime"]


async def test_the_cap_warns_once_at_its_lead(h: Harness) -> None:
    g, t0 = await capped(h)
    assert await h.due(g.gid) == t0 + CAP - LEAD
    h.clock.offset_ms = CAP - LEAD + 100

    c = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))

    assert c.events == [{"type": "turnCapWarning", "data": {"playerId": 1, "remaining": CAP - c.state["turnTime"]}}]
    assert LEAD - 300 < c.events[0]["data"]["remaining"] <= LEAD - 100
    assert await h.due(g.gid) == t0 + CAP
    # once
    again = await h.store.fire_deadline(g.gid)
    assert again.status == "noop"


async def test_the_cap_passes_the_turn_when_turn_time_reaches_it(h: Harness) -> None:
    g, t0 = await capped(h)
    h.clock.offset_ms = CAP - LEAD + 100
    await h.store.fire_deadline(g.gid)
    h.clock.offset_ms = CAP + 50

    c = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))

    assert c.events == [{"type": "turnCapped", "data": {"playerId": 1, "nextPlayerId": 2}}]
    st = c.state
    assert counters(st) == (2, 1, 2)
    assert st["turnTime"] == st["serverTime"] - (t0 + CAP)
    assert player(st, 1)["timeUsed"] == CAP and player(st, 1)["timeRemaining"] == 600_000 - CAP
    assert player(st, 2)["timeUsed"] == st["turnTime"]
    assert await h.due(g.gid) == t0 + 2 * CAP - LEAD


async def test_a_late_fire_passes_every_cap_it_crossed_and_charges_each_in_turn(h: Harness) -> None:
    g, t0 = await capped(h, lead=0)
    assert await h.due(g.gid) == t0 + CAP
    h.clock.offset_ms = 2 * CAP + CAP // 2

    c = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))

    assert c.events == [
        {"type": "turnCapped", "data": {"playerId": 1, "nextPlayerId": 2}},
        {"type": "turnCapped", "data": {"playerId": 2, "nextPlayerId": 3}},
    ]
    st = c.state
    assert counters(st) == (3, 1, 3)
    assert [p["timeUsed"] for p in st["players"]] == [CAP, CAP, st["turnTime"]]
    assert st["turnTime"] == st["serverTime"] - t0 - 2 * CAP


async def test_no_more_than_sixteen_caps_pass_in_one_stretch(h: Harness) -> None:
    g, t0 = await capped(h, 2, lead=0)
    h.clock.offset_ms = 20 * CAP + 100

    c = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))

    assert [e["type"] for e in c.events] == ["turnCapped"] * 16
    st = c.state
    assert (st["turn"], st["round"], st["turnTime"]) == (17, 9, 0)
    assert [p["timeUsed"] for p in st["players"]] == [8 * CAP, 8 * CAP]
    # the rest of the stretch is not charged: the next cap counts from now
    assert await h.due(g.gid) == st["serverTime"] + CAP


async def test_the_cap_stands_while_an_interrupter_or_targets_hold_priority(h: Harness) -> None:
    g, t0 = await capped(h)
    h.clock.offset_ms = 5_000
    i = await h.commits(g.gid, "interrupt", h.store.interrupt(g.gid, "p2", new_aid()))
    # only the interrupter's clock is due: no cap point while it holds priority
    assert await h.due(g.gid) == i.state["serverTime"] + 600_000 - 300_000
    h.clock.offset_ms = 5_000 + 3 * CAP
    await h.store.pass_priority(g.gid, "p2", new_aid())
    st = await h.state(g.gid)
    assert counters(st) == (1, 1, 1)
    assert st["turnTime"] == i.state["turnTime"]
    await h.store.toggle_target(g.gid, "p1", new_aid(), 3)
    confirmed = await h.store.confirm_targets(g.gid, "p1", new_aid())
    h.clock.offset_ms = 5_000 + 6 * CAP

    c = await h.commits(g.gid, "passTargetPriority", h.store.pass_target_priority(g.gid, "p3", new_aid()))

    assert counters(c.state) == (1, 1, 1)
    assert c.state["turnTime"] == confirmed.state["turnTime"] < CAP - LEAD


async def test_the_cap_ends_a_selection_being_picked(h: Harness) -> None:
    g, t0 = await capped(h, lead=0)
    await h.store.toggle_target(g.gid, "p1", new_aid(), 3)
    h.clock.offset_ms = CAP + 100

    c = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))

    assert c.events == [
        {"type": "turnCapped", "data": {"playerId": 1, "nextPlayerId": 2}},
        {"type": "targetingCanceled", "data": {"activePlayer": 2}},
    ]
    assert (c.state["targetingState"], c.state["targetedPlayers"]) == ("none", [])


async def test_the_cap_passes_over_eliminated_players_and_gives_the_turn_bonus(h: Harness) -> None:
    g, t0 = await capped(h, lead=0)
    await h.store.eliminate(g.gid, g.host, new_aid(), 2)
    await h.store.update_settings(g.gid, g.host, new_aid(), {"bonusTime": 7_000})
    h.clock.offset_ms = CAP + 100

    c = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))

    assert c.events == [{"type": "turnCapped", "data": {"playerId": 1, "nextPlayerId": 3}}]
    assert player(c.state, 3)["timeRemaining"] == 607_000 - player(c.state, 3)["timeUsed"]


async def test_a_pass_that_arrives_after_the_cap_passed_the_turn_is_refused(h: Harness) -> None:
    g, t0 = await capped(h, lead=0)
    h.clock.offset_ms = CAP + 100

    await h.fails(g.gid, "TURN_MOVED_ON", h.store.switch(g.gid, "p1", new_aid(), "next"))

    # the host's switch is a repair, and goes through: the cap's pass first, then the switch
    c = await h.commits(g.gid, "switch", h.store.switch(g.gid, g.host, new_aid(), "next"))
    assert c.events == [{"type": "turnCapped", "data": {"playerId": 1, "nextPlayerId": 2}}]
    assert counters(c.state) == (3, 1, 3)


async def test_a_cap_reached_as_the_clock_times_out_pauses_without_passing(h: Harness) -> None:
    g, t0 = await capped(h, 2, lead=0, initial_time=CAP - 5_000, thresholds=(1_000,))
    h.clock.offset_ms = CAP + 100

    c = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))

    # v1's timeout pauses the game: the turn stays; it passes as the game runs again, in the
    # resume itself (lib/rules.lua pass_capped), not at whatever action next finds time gone by
    assert [e["type"] for e in c.events] == ["warning", "timeout"]
    assert (c.state["status"], counters(c.state)) == ("paused", (1, 1, 1))
    await h.store.update_player(g.gid, g.host, new_aid(), 1, {"time": 60_000})
    d = await h.commits(g.gid, "start", h.store.start(g.gid, g.host, new_aid()))
    assert d.events == [{"type": "turnCapped", "data": {"playerId": 1, "nextPlayerId": 2}}]
    assert (d.state["status"], counters(d.state), d.state["turnTime"]) == ("running", (2, 1, 2), 0)


async def test_a_resume_by_pause_passes_a_turn_whose_cap_was_reached_as_the_game_paused(h: Harness) -> None:
    g, t0 = await capped(h, 2, lead=0, initial_time=CAP - 5_000, thresholds=(1_000,))
    h.clock.offset_ms = CAP + 100
    await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))
    await h.store.update_player(g.gid, g.host, new_aid(), 1, {"time": 60_000})

    d = await h.commits(g.gid, "resume", h.store.pause(g.gid, g.host, new_aid()))

    assert d.events == [{"type": "turnCapped", "data": {"playerId": 1, "nextPlayerId": 2}}]
    assert counters(d.state) == (2, 1, 2)
