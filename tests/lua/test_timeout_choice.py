"""HEAD's timeout choice (B4, B6.3) in lib/rules.lua and timeout_choice.lua: a clock run out
offers a penalty and a choice within a grace that runs only while the game runs (C18); the
choice's effects, its refusals, expiry as "die" exactly once, and v1 games left as they were."""

from __future__ import annotations

from typing import Any

from service.protocol import GameSettings, TimeoutRules
from tests.lua.test_fire_deadline import fires_nothing
from tests.support.lua_harness import Game, Harness, new_aid, player, summary_of

INITIAL = 10_000
GRACE = 30_000
BONUS = 60_000


async def choice_game(
    h: Harness,
    players: int = 2,
    *,
    lives: int = 2,
    drunk: int = 2,
    grace: int = GRACE,
    bonus: int = BONUS,
    penalty_type: str = "warning",
) -> tuple[Game, dict[str, Any]]:
    """A running game created with the timeout choice, client pN holding seat N, and its state at start."""
    rules = TimeoutRules(lives, drunk, grace, bonus)
    settings = GameSettings(players, INITIAL, (5_000,), penalty_type, 0, timeout=rules)
    gid, token, out = await h.store.create("host", settings, new_aid())
    assert out.state["settings"]["timeoutGracePeriod"] == grace
    g = Game(gid, token)
    for pid in range(1, players + 1):
        await h.claim(g, f"p{pid}", pid)
    started = await h.store.start(g.gid, g.host, new_aid())
    assert started.state["status"] == "running"
    return g, started.state


async def timed_out(h: Harness, g: Game, start: dict[str, Any], late: int = 500) -> dict[str, Any]:
    """Player 1's clock ran out `late` ms ago (measured from the start); the deadline loop fired."""
    h.clock.offset_ms = INITIAL + late
    c = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))
    assert player(c.state, 1)["timeoutPending"] is True
    return c.state


def zero_at(start: dict[str, Any]) -> int:
    """When player 1's clock, running from the start, reached zero."""
    return int(start["serverTime"]) + INITIAL


def offer(pid: int, deadline: int, lives: int = 2, drunk: int = 2) -> dict[str, Any]:
    """The timeoutChoice event offering player `pid` the choice until `deadline`."""
    return {
        "type": "timeoutChoice",
        "data": {"playerId": pid, "options": {"livesLoss": lives, "drunkGain": drunk}, "deadline": deadline},
    }


def pending(state: dict[str, Any], pid: int) -> tuple[Any, Any, Any]:
    p = player(state, pid)
    return p["timeoutPending"], p["timeoutChoiceDeadline"], p["timeoutGraceLeft"]


# -- the timeout --------------------------------------------------------------------------


async def test_a_clock_run_out_offers_the_choice_and_the_game_keeps_running(h: Harness) -> None:
    g, start = await choice_game(h, penalty_type="game_loss")
    h.clock.offset_ms = INITIAL + 500

    c = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))

    deadline = zero_at(start) + GRACE
    assert c.events == [
        {"type": "warning", "data": {"playerId": 1, "threshold": 5_000}},
        offer(1, deadline),
    ]
    p = player(c.state, 1)
    # the choice is the penalty: no pause, no `timeout`, and the game_loss type not applied
    assert (c.state["status"], c.state["activePlayer"], c.state["winner"]) == ("running", 1, None)
    assert (p["timeRemaining"], p["penalties"], p["isEliminated"]) == (0, 1, False)
    assert pending(c.state, 1) == (True, deadline, deadline - c.state["serverTime"])
    assert pending(c.state, 2) == (False, None, None)
    # nothing else runs: the deadline index points at the end of the grace
    assert await h.due(g.gid) == deadline


async def test_the_grace_counts_from_the_moment_the_clock_reached_zero_not_from_a_late_firing(h: Harness) -> None:
    g, start = await choice_game(h)
    h.clock.offset_ms = INITIAL + 7_000

    c = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))

    assert c.events[-1]["data"]["deadline"] == zero_at(start) + GRACE
    assert player(c.state, 1)["timeoutGraceLeft"] == zero_at(start) + GRACE - c.state["serverTime"]
    assert player(c.state, 1)["timeoutGraceLeft"] < GRACE - 6_000


async def test_nothing_fires_while_the_choice_is_pending_and_the_grace_lasts(h: Harness) -> None:
    g, start = await choice_game(h)
    st = await timed_out(h, g, start)
    h.clock.offset_ms = INITIAL + GRACE - 1_000

    await fires_nothing(h, g.gid)

    assert await h.state(g.gid) == st
    assert await h.due(g.gid) == zero_at(start) + GRACE


async def test_a_pending_players_clock_given_time_runs_down_again_without_a_second_penalty(h: Harness) -> None:
    g, start = await choice_game(h)
    await timed_out(h, g, start)
    await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 1, {"time": 2_000}))
    h.clock.offset_ms = INITIAL + 5_000

    # the clock reached zero again: the state holds nothing new to commit (HEAD's step 1)
    await fires_nothing(h, g.gid)

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 2, {"name": "B"}))
    assert (player(c.state, 1)["timeRemaining"], player(c.state, 1)["penalties"]) == (0, 1)
    assert c.events == []
    assert pending(c.state, 1)[0] is True


# -- the choices --------------------------------------------------------------------------


async def test_lose_lives_costs_the_lives_and_restarts_the_clock_from_the_bonus(h: Harness) -> None:
    g, start = await choice_game(h)
    await timed_out(h, g, start)
    aid = new_aid()

    c = await h.commits(g.gid, "timeoutChoice", h.store.timeout_choice(g.gid, "p1", aid, "loseLives"))

    p = player(c.state, 1)
    assert (p["life"], p["drunkCounter"], p["timeRemaining"], p["isEliminated"]) == (18, 0, BONUS, False)
    assert pending(c.state, 1) == (False, None, None)
    assert (c.entry["d"], c.entry["a"], c.entry["c"]) == ({"playerId": 1, "choice": "loseLives"}, aid, "p1")
    assert c.events == []
    assert c.state["status"] == "running"
    # the clock runs again: the next thing due is its warning
    assert await h.due(g.gid) == c.state["serverTime"] + BONUS - 5_000


async def test_gain_drunk_adds_the_drunk_counter_and_restarts_the_clock_from_the_bonus(h: Harness) -> None:
    g, start = await choice_game(h, drunk=5, bonus=45_000)
    await timed_out(h, g, start)

    c = await h.commits(g.gid, "timeoutChoice", h.store.timeout_choice(g.gid, "p1", new_aid(), "gainDrunk"))

    p = player(c.state, 1)
    assert (p["life"], p["drunkCounter"], p["timeRemaining"]) == (20, 5, 45_000)
    assert pending(c.state, 1) == (False, None, None)


async def test_gain_drunk_never_takes_the_counter_past_999(h: Harness) -> None:
    g, start = await choice_game(h, drunk=20)
    await h.store.update_player(g.gid, g.host, new_aid(), 1, {"drunkCounter": 990})
    await timed_out(h, g, start)

    c = await h.commits(g.gid, "timeoutChoice", h.store.timeout_choice(g.gid, "p1", new_aid(), "gainDrunk"))

    assert player(c.state, 1)["drunkCounter"] == 999


async def test_die_eliminates_and_finishes_a_two_player_game(h: Harness) -> None:
    g, start = await choice_game(h)
    await timed_out(h, g, start)

    c = await h.commits(g.gid, "timeoutChoice", h.store.timeout_choice(g.gid, "p1", new_aid(), "die"))

    done = {"winnerId": 2, "winnerName": "Player 2", "summary": summary_of(c.state)}
    assert c.events == [{"type": "gameComplete", "data": done}]
    assert (c.state["status"], c.state["winner"]) == ("finished", 2)
    assert (player(c.state, 1)["isEliminated"], player(c.state, 1)["eliminatedReason"]) == (True, "timeout")
    assert pending(c.state, 1) == (False, None, None)
    assert await h.due(g.gid) is None


async def test_lose_lives_to_zero_eliminates_and_finishes_a_two_player_game(h: Harness) -> None:
    g, start = await choice_game(h, lives=3)
    await h.store.update_player(g.gid, g.host, new_aid(), 1, {"life": 3})
    await timed_out(h, g, start)

    c = await h.commits(g.gid, "timeoutChoice", h.store.timeout_choice(g.gid, "p1", new_aid(), "loseLives"))

    done = {"winnerId": 2, "winnerName": "Player 2", "summary": summary_of(c.state)}
    assert c.events == [{"type": "gameComplete", "data": done}]
    p = player(c.state, 1)
    assert (p["life"], p["isEliminated"], p["timeoutPending"], p["eliminatedReason"]) == (0, True, False, "life")
    assert (c.state["status"], c.state["winner"], c.state["activePlayer"]) == ("finished", 2, None)


async def test_lose_lives_below_zero_in_a_larger_game_passes_the_turn(h: Harness) -> None:
    g, start = await choice_game(h, 3, lives=5)
    await h.store.update_player(g.gid, g.host, new_aid(), 1, {"life": 2})
    await timed_out(h, g, start)

    c = await h.commits(g.gid, "timeoutChoice", h.store.timeout_choice(g.gid, "p1", new_aid(), "loseLives"))

    assert c.events == []
    assert (player(c.state, 1)["life"], player(c.state, 1)["isEliminated"]) == (-3, True)
    assert (c.state["status"], c.state["activePlayer"]) == ("running", 2)
    assert await h.due(g.gid) == c.state["serverTime"] + INITIAL - 5_000


async def test_a_choice_with_no_bonus_time_times_out_again_at_once(h: Harness) -> None:
    g, start = await choice_game(h, bonus=0)
    await timed_out(h, g, start)

    c = await h.commits(g.gid, "timeoutChoice", h.store.timeout_choice(g.gid, "p1", new_aid(), "loseLives"))

    deadline = c.state["serverTime"] + GRACE
    assert c.events == [offer(1, deadline)]
    p = player(c.state, 1)
    assert (p["life"], p["timeRemaining"], p["penalties"]) == (18, 0, 2)
    assert pending(c.state, 1) == (True, deadline, GRACE)


async def test_a_choice_while_paused_applies_and_the_clock_waits_for_the_resume(h: Harness) -> None:
    g, start = await choice_game(h)
    await timed_out(h, g, start)
    await h.store.pause(g.gid, g.host, new_aid())

    c = await h.commits(g.gid, "timeoutChoice", h.store.timeout_choice(g.gid, "p1", new_aid(), "gainDrunk"))

    assert (c.state["status"], player(c.state, 1)["timeRemaining"]) == ("paused", BONUS)
    assert await h.due(g.gid) is None


# -- refusals -----------------------------------------------------------------------------


async def test_a_choice_that_is_not_one_of_the_three_is_refused(h: Harness) -> None:
    g, start = await choice_game(h)
    await timed_out(h, g, start)

    for bad in ("", "explode", "LOSELIVES"):
        await h.raw_fails(
            g.gid, "INVALID_ARGUMENT", h.run_script("timeout_choice", g.gid, bad, action_id=new_aid(), client_id="p1")
        )


async def test_a_choice_without_a_seat_is_refused(h: Harness) -> None:
    g, start = await choice_game(h)
    await timed_out(h, g, start)

    await h.fails(g.gid, "NOT_AUTHORIZED_TIMEOUT_CHOICE", h.store.timeout_choice(g.gid, "stranger", new_aid(), "die"))
    # the host holds no seat: the choice is the timed-out player's alone
    await h.fails(g.gid, "NOT_AUTHORIZED_TIMEOUT_CHOICE", h.store.timeout_choice(g.gid, g.host, new_aid(), "die"))


async def test_a_choice_with_none_pending_is_refused(h: Harness) -> None:
    g, start = await choice_game(h)
    await h.fails(g.gid, "NO_TIMEOUT_PENDING", h.store.timeout_choice(g.gid, "p1", new_aid(), "die"))
    await timed_out(h, g, start)

    await h.fails(g.gid, "NO_TIMEOUT_PENDING", h.store.timeout_choice(g.gid, "p2", new_aid(), "loseLives"))
    await h.store.timeout_choice(g.gid, "p1", new_aid(), "gainDrunk")
    await h.fails(g.gid, "NO_TIMEOUT_PENDING", h.store.timeout_choice(g.gid, "p1", new_aid(), "gainDrunk"))


async def test_a_choice_after_the_grace_ran_out_is_refused_and_the_deadline_loop_resolves_it(h: Harness) -> None:
    g, start = await choice_game(h, 3)
    await timed_out(h, g, start)
    h.clock.offset_ms = INITIAL + GRACE + 100

    await h.fails(g.gid, "NO_TIMEOUT_PENDING", h.store.timeout_choice(g.gid, "p1", new_aid(), "loseLives"))

    c = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))
    assert player(c.state, 1)["isEliminated"] is True


async def test_a_choice_in_a_finished_game_is_refused(h: Harness) -> None:
    g, start = await choice_game(h)
    await timed_out(h, g, start)
    # the other player is out: player 1 has won while choosing
    out = await h.store.eliminate(g.gid, g.host, new_aid(), 2)
    assert (out.state["status"], out.state["winner"], pending(out.state, 1)[0]) == ("finished", 1, True)

    await h.fails(g.gid, "GAME_FINISHED", h.store.timeout_choice(g.gid, "p1", new_aid(), "die"))


async def test_a_choice_in_a_missing_game_fails(h: Harness) -> None:
    g, start = await choice_game(h)
    await timed_out(h, g, start)
    await h.client.delete(*g.keys[:3])

    await h.fails(g.gid, "GAME_NOT_FOUND", h.store.timeout_choice(g.gid, "p1", new_aid(), "die"))


async def test_a_choice_retried_with_the_same_action_id_applies_once(h: Harness) -> None:
    g, start = await choice_game(h)
    await timed_out(h, g, start)
    aid = new_aid()
    first = await h.store.timeout_choice(g.gid, "p1", aid, "loseLives")

    again = await h.quiet(g.gid, "dup", h.store.timeout_choice(g.gid, "p1", aid, "loseLives"))

    assert again.state == await h.state(g.gid)
    assert player(again.state, 1)["life"] == player(first.state, 1)["life"] == 18


# -- expiry -------------------------------------------------------------------------------


async def test_a_grace_run_out_resolves_as_die_exactly_once_through_the_deadline_loop(h: Harness) -> None:
    g, start = await choice_game(h, 3)
    await timed_out(h, g, start)
    h.clock.offset_ms = INITIAL + GRACE + 50

    # three players: the expiry decides nothing and appends no event, and still commits
    c = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))

    assert c.events == []
    assert (player(c.state, 1)["isEliminated"], pending(c.state, 1)) == (True, (False, None, None))
    assert (c.state["status"], c.state["activePlayer"]) == ("running", 2)
    assert await h.due(g.gid) == c.state["serverTime"] + INITIAL - 5_000
    await fires_nothing(h, g.gid)
    h.clock.offset_ms = INITIAL + GRACE + 2_000
    await fires_nothing(h, g.gid)
    assert [e["t"] for e in await h.log(g.gid)].count("deadline") == 2


async def test_a_grace_run_out_in_a_two_player_game_finishes_it(h: Harness) -> None:
    g, start = await choice_game(h)
    await timed_out(h, g, start)
    h.clock.offset_ms = INITIAL + GRACE + 50

    c = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))

    done = {"winnerId": 2, "winnerName": "Player 2", "summary": summary_of(c.state)}
    assert c.events == [{"type": "gameComplete", "data": done}]
    assert (c.state["status"], c.state["winner"]) == ("finished", 2)
    assert player(c.state, 1)["eliminatedReason"] == "timeout"
    await fires_nothing(h, g.gid)


async def test_any_action_after_the_grace_resolves_the_choice_with_it(h: Harness) -> None:
    g, start = await choice_game(h, 3)
    await timed_out(h, g, start)
    h.clock.offset_ms = INITIAL + GRACE + 50

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 3, {"name": "C"}))

    assert (player(c.state, 1)["isEliminated"], c.state["activePlayer"]) == (True, 2)
    await fires_nothing(h, g.gid)


async def test_a_clock_and_its_grace_both_run_out_unseen_resolve_in_one_step(h: Harness) -> None:
    g, start = await choice_game(h)
    h.clock.offset_ms = INITIAL + GRACE + 1_000

    c = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))

    # the choice was due at zero + grace, which has passed: offered and resolved together
    assert [e["type"] for e in c.events] == ["warning", "timeoutChoice", "gameComplete"]
    assert c.events[1]["data"]["deadline"] == zero_at(start) + GRACE
    assert (player(c.state, 1)["penalties"], player(c.state, 1)["isEliminated"]) == (1, True)


async def test_the_deadline_index_points_at_the_grace_while_another_clock_runs(h: Harness) -> None:
    g, start = await choice_game(h, 3)
    await h.store.update_player(g.gid, g.host, new_aid(), 2, {"time": 600_000})
    await timed_out(h, g, start)

    # the player choosing passes the turn (allowed, as in HEAD): the next clock runs meanwhile
    c = await h.commits(g.gid, "switch", h.store.switch(g.gid, "p1", new_aid(), "next"))

    assert c.state["activePlayer"] == 2
    assert await h.due(g.gid) == zero_at(start) + GRACE
    h.clock.offset_ms = INITIAL + GRACE + 50
    d = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))
    assert player(d.state, 1)["isEliminated"] is True
    assert d.state["activePlayer"] == 2
    assert player(d.state, 2)["timeRemaining"] == 600_000 - (d.state["serverTime"] - c.state["serverTime"])


# -- pause and resume (C18) ---------------------------------------------------------------


async def test_a_pause_freezes_the_grace_and_the_resume_gives_back_what_was_left(h: Harness) -> None:
    """C18: HEAD kept the absolute deadline through a pause, so every choice pending at a long
    pause resolved as "die" the moment the game resumed. Here the grace stands still."""
    g, start = await choice_game(h, 3)
    await timed_out(h, g, start)
    h.clock.offset_ms = INITIAL + 10_000
    paused = await h.commits(g.gid, "pause", h.store.pause(g.gid, g.host, new_aid()))
    left = zero_at(start) + GRACE - paused.state["serverTime"]
    assert pending(paused.state, 1) == (True, None, left)
    assert await h.due(g.gid) is None

    # far past the old deadline: nothing resolves while the game is paused
    h.clock.offset_ms = 600_000
    await fires_nothing(h, g.gid)
    r = await h.commits(g.gid, "resume", h.store.pause(g.gid, g.host, new_aid()))

    deadline = r.state["serverTime"] + left
    assert pending(r.state, 1) == (True, deadline, left)
    assert player(r.state, 1)["isEliminated"] is False
    # told again, with the deadline that moved
    assert r.events == [offer(1, deadline)]
    assert await h.due(g.gid) == deadline
    h.clock.offset_ms = 600_000 + left - 1_000
    await fires_nothing(h, g.gid)
    h.clock.offset_ms = 600_000 + left + 1_000
    d = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))
    assert player(d.state, 1)["isEliminated"] is True


async def test_start_after_a_pause_resumes_the_grace_too(h: Harness) -> None:
    g, start = await choice_game(h)
    await timed_out(h, g, start)
    paused = await h.store.pause(g.gid, g.host, new_aid())
    left = player(paused.state, 1)["timeoutGraceLeft"]
    h.clock.offset_ms = 300_000

    c = await h.commits(g.gid, "start", h.store.start(g.gid, g.host, new_aid()))

    assert [e["type"] for e in c.events] == ["timeoutChoice"]
    assert pending(c.state, 1) == (True, c.state["serverTime"] + left, left)


# -- what ends a pending choice -----------------------------------------------------------


async def test_eliminating_a_player_who_is_choosing_ends_the_choice(h: Harness) -> None:
    g, start = await choice_game(h, 3)
    await timed_out(h, g, start)

    c = await h.commits(g.gid, "eliminate", h.store.eliminate(g.gid, g.host, new_aid(), 1))

    assert pending(c.state, 1) == (False, None, None)
    assert await h.due(g.gid) == c.state["serverTime"] + INITIAL - 5_000


async def test_a_kicked_player_who_is_choosing_loses_the_choice(h: Harness) -> None:
    g, start = await choice_game(h, 3)
    await timed_out(h, g, start)

    c = await h.commits(g.gid, "adminKick", h.store.admin_kick(g.gid, g.host, new_aid(), 1))

    assert (player(c.state, 1)["isEliminated"], pending(c.state, 1)) == (True, (False, None, None))


async def test_a_revived_player_has_no_choice_pending_and_a_fresh_clock(h: Harness) -> None:
    g, start = await choice_game(h, 3)
    await timed_out(h, g, start)
    await h.store.eliminate(g.gid, g.host, new_aid(), 1)

    c = await h.commits(g.gid, "adminRevive", h.store.admin_revive(g.gid, g.host, new_aid(), 1))

    p = player(c.state, 1)
    assert (p["isEliminated"], p["timeRemaining"], p["penalties"]) == (False, INITIAL, 1)
    assert pending(c.state, 1) == (False, None, None)


async def test_reset_clears_every_pending_choice(h: Harness) -> None:
    g, start = await choice_game(h)
    await timed_out(h, g, start)

    c = await h.commits(g.gid, "reset", h.store.reset(g.gid, g.host, new_aid()))

    assert [pending(c.state, pid) for pid in (1, 2)] == [(False, None, None)] * 2
    assert player(c.state, 1)["penalties"] == 0


# -- v1 games -----------------------------------------------------------------------------


async def test_a_v1_game_times_out_as_v1_and_has_no_choice(h: Harness) -> None:
    g = await h.new_game(2, initial_time=INITIAL, thresholds=(5_000,))
    await h.claim(g, "p1", 1)
    await h.store.start(g.gid, g.host, new_aid())
    h.clock.offset_ms = INITIAL + 500

    c = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))

    assert [e["type"] for e in c.events] == ["warning", "timeout"]
    assert c.state["status"] == "paused"
    assert all("timeoutPending" not in p and "timeoutGraceLeft" not in p for p in c.state["players"])
    assert "timeoutGracePeriod" not in c.state["settings"]
    await h.fails(g.gid, "NO_TIMEOUT_PENDING", h.store.timeout_choice(g.gid, "p1", new_aid(), "die"))
