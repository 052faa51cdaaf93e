"""Targeting across the other rules (HEAD B6.2, B4 tick accounting; C17, C18): the targets'
clocks running together, an interrupt overriding them, eliminations by every path while
picking or responding, the turn held while targets respond, reset and a decided game."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tests.support.lua_harness import Commit, Game, Harness, new_aid, player
from tests.support.targeting import NONE, fields, resolve, seated_game, select, times

# -- the clocks -----------------------------------------------------------------------------


async def test_every_targets_clock_is_charged_the_same_stretch_and_the_originals_stands(h: Harness) -> None:
    g = await seated_game(h, 4)
    confirmed = await resolve(h, g, 2, 3)
    h.clock.offset_ms = 7_000

    # any action settles every running clock: here the host's pause
    p = await h.commits(g.gid, "pause", h.store.pause(g.gid, g.host, new_aid()))

    charged = p.state["serverTime"] - confirmed["serverTime"]
    assert charged >= 7_000
    first = times(confirmed)
    assert times(p.state) == [first[0], first[1] - charged, first[2] - charged, first[3]]


async def test_a_target_that_passed_stops_and_completion_resumes_the_original(h: Harness) -> None:
    g = await seated_game(h, 3)
    confirmed = await resolve(h, g, 2, 3)
    h.clock.offset_ms = 2_000
    one = (await h.store.pass_target_priority(g.gid, "p2", new_aid())).state
    h.clock.offset_ms = 5_000
    two = (await h.store.pass_target_priority(g.gid, "p3", new_aid())).state
    h.clock.offset_ms = 9_000
    p = (await h.store.pause(g.gid, g.host, new_aid())).state

    a = one["serverTime"] - confirmed["serverTime"]
    b = two["serverTime"] - one["serverTime"]
    c = p["serverTime"] - two["serverTime"]
    first = times(confirmed)
    # player 2 ran until its pass, player 3 until its own, player 1 only after completion
    assert times(p) == [first[0] - c, first[1] - a, first[2] - a - b]


async def test_an_interrupt_overrides_the_targets_clocks_until_it_is_passed(h: Harness) -> None:
    g = await seated_game(h, 4)
    confirmed = await resolve(h, g, 2, 3)
    h.clock.offset_ms = 1_000
    i = await h.commits(g.gid, "interrupt", h.store.interrupt(g.gid, "p4", new_aid()))
    # only the interrupter's clock is in the deadline index now
    assert await h.due(g.gid) == i.state["serverTime"] + 600_000 - 300_000
    h.clock.offset_ms = 4_000
    passed = await h.commits(g.gid, "passPriority", h.store.pass_priority(g.gid, "p4", new_aid()))
    # back with the targets
    assert await h.due(g.gid) == passed.state["serverTime"] + times(passed.state)[1] - 300_000
    h.clock.offset_ms = 6_000
    p = (await h.store.pause(g.gid, g.host, new_aid())).state

    a = i.state["serverTime"] - confirmed["serverTime"]
    b = passed.state["serverTime"] - i.state["serverTime"]
    c = p["serverTime"] - passed.state["serverTime"]
    first = times(confirmed)
    assert times(p) == [first[0], first[1] - a - c, first[2] - a - c, first[3] - b]


async def test_each_targets_warnings_fire_once_and_the_index_follows_the_earliest(h: Harness) -> None:
    g = await seated_game(h, 3, initial_time=100_000, thresholds=(50_000, 10_000))
    await h.store.update_player(g.gid, g.host, new_aid(), 3, {"time": 70_000})
    await select(h, g, 2, 3)
    c = await h.commits(g.gid, "confirmTargets", h.store.confirm_targets(g.gid, "p1", new_aid()))
    t0 = c.state["serverTime"]
    p2, p3 = times(c.state)[1], times(c.state)[2]
    # player 3 crosses 50 s first (in 20 s), then player 2 (in 50 s), then player 3 10 s (in 60 s)
    assert await h.due(g.gid) == t0 + p3 - 50_000

    h.clock.offset_ms += p3 - 50_000 + 100
    w = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))
    assert w.events == [{"type": "warning", "data": {"playerId": 3, "threshold": 50_000}}]
    assert (await h.store.fire_deadline(g.gid)).status == "noop"
    assert await h.due(g.gid) == t0 + p2 - 50_000

    h.clock.offset_ms += p2 - p3 + 100
    x = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))
    assert x.events == [{"type": "warning", "data": {"playerId": 2, "threshold": 50_000}}]
    assert (await h.store.fire_deadline(g.gid)).status == "noop"
    # next: player 3's 10 s warning
    assert await h.due(g.gid) == t0 + p3 - 10_000


# -- eliminations ---------------------------------------------------------------------------

TakeOut = Callable[[Harness, Game, int], Awaitable[Commit]]


async def by_eliminate(h: Harness, g: Game, pid: int) -> Commit:
    return await h.commits(g.gid, "eliminate", h.store.eliminate(g.gid, g.host, new_aid(), pid))


async def by_life(h: Harness, g: Game, pid: int) -> Commit:
    return await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), pid, {"life": 0}))


async def by_kick(h: Harness, g: Game, pid: int) -> Commit:
    return await h.commits(g.gid, "adminKick", h.store.admin_kick(g.gid, g.host, new_aid(), pid))


async def by_penalty(h: Harness, g: Game, pid: int) -> Commit:
    return await h.commits(g.gid, "addPenalty", h.store.add_penalty(g.gid, g.host, new_aid(), pid))


async def by_timeout(h: Harness, g: Game, pid: int) -> Commit:
    """The player's clock (which must be running) runs out: a game_loss timeout."""
    await h.store.update_player(g.gid, g.host, new_aid(), pid, {"time": 1_000})
    h.clock.offset_ms += 2_000
    return await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))


STANDING = [by_eliminate, by_life, by_kick, by_penalty]
PATHS = pytest.mark.parametrize("take_out", [*STANDING, by_timeout], ids=lambda f: f.__name__)
#: for a player whose clock stands (a picked target, the original player while targets
#: respond), which cannot run out
STANDING_PATHS = pytest.mark.parametrize("take_out", STANDING, ids=lambda f: f.__name__)


async def table(h: Harness, players: int) -> Game:
    return await seated_game(h, players, penalty_type="game_loss")


def targeting_events(c: Commit) -> list[dict[str, object]]:
    return [e for e in c.events if str(e["type"]).startswith("targeting")]


@PATHS
async def test_the_active_player_taken_out_while_picking_ends_the_selection(h: Harness, take_out: TakeOut) -> None:
    """C18: HEAD left the selection standing for a player no longer in the game."""
    g = await table(h, 3)
    await select(h, g, 3)

    c = await take_out(h, g, 1)

    assert (fields(c.state), c.state["activePlayer"]) == (NONE, 2)
    assert targeting_events(c) == [{"type": "targetingCanceled", "data": {"activePlayer": 2}}]


@STANDING_PATHS
async def test_a_target_taken_out_while_picking_leaves_the_selection(h: Harness, take_out: TakeOut) -> None:
    g = await table(h, 4)
    await select(h, g, 2, 3)

    c = await take_out(h, g, 3)

    assert (fields(c.state), targeting_events(c)) == (("selecting", [2], [], None), [])


@PATHS
async def test_a_target_taken_out_while_responding_leaves_both_lists(h: Harness, take_out: TakeOut) -> None:
    g = await table(h, 4)
    await resolve(h, g, 2, 3)

    c = await take_out(h, g, 3)

    assert (fields(c.state), c.state["activePlayer"], targeting_events(c)) == (("resolving", [2], [2], 1), 1, [])
    assert await h.due(g.gid) == (
        None if c.state["status"] != "running" else c.state["serverTime"] + times(c.state)[1] - 300_000
    )


@PATHS
async def test_the_last_target_taken_out_completes_targeting(h: Harness, take_out: TakeOut) -> None:
    g = await table(h, 3)
    await resolve(h, g, 2)

    c = await take_out(h, g, 2)

    assert (fields(c.state), c.state["activePlayer"]) == (NONE, 1)
    assert targeting_events(c) == [{"type": "targetingComplete", "data": {"activePlayer": 1}}]
    if c.state["status"] == "running":
        assert await h.due(g.gid) == c.state["serverTime"] + times(c.state)[0] - 300_000


@STANDING_PATHS
async def test_the_original_player_taken_out_while_targets_respond_hands_the_turn_on(
    h: Harness, take_out: TakeOut
) -> None:
    """C18: HEAD's completion gave the turn back to the eliminated player, and the game stalled."""
    g = await table(h, 4)
    await resolve(h, g, 3)

    c = await take_out(h, g, 1)

    assert (fields(c.state), c.state["activePlayer"]) == (("resolving", [3], [3], 2), 2)
    assert targeting_events(c) == []
    # the target's clock still runs; its pass gives the turn to the new original player
    done = await h.commits(g.gid, "passTargetPriority", h.store.pass_target_priority(g.gid, "p3", new_aid()))
    assert (fields(done.state), done.state["activePlayer"]) == (NONE, 2)
    assert done.events == [{"type": "targetingComplete", "data": {"activePlayer": 2}}]
    assert await h.due(g.gid) == done.state["serverTime"] + times(done.state)[1] - 300_000


async def test_the_original_taken_out_may_hand_the_turn_to_a_target_which_then_may_cancel(h: Harness) -> None:
    g = await table(h, 3)
    await resolve(h, g, 2, 3)

    c = await by_eliminate(h, g, 1)

    assert (fields(c.state), c.state["activePlayer"]) == (("resolving", [2, 3], [2, 3], 2), 2)
    done = await h.commits(g.gid, "cancelTargeting", h.store.cancel_targeting(g.gid, "p2", new_aid()))
    assert (fields(done.state), done.state["activePlayer"]) == (NONE, 2)


async def test_an_elimination_that_decides_the_game_clears_targeting_and_sends_only_game_complete(
    h: Harness,
) -> None:
    g = await table(h, 3)
    await resolve(h, g, 2)
    await by_eliminate(h, g, 3)

    c = await by_eliminate(h, g, 2)

    assert (c.state["status"], c.state["winner"], fields(c.state)) == ("finished", 1, NONE)
    assert [e["type"] for e in c.events] == ["gameComplete"]


async def test_a_game_decided_while_picking_clears_the_selection(h: Harness) -> None:
    g = await table(h, 2)
    await select(h, g, 2)

    c = await by_eliminate(h, g, 1)

    assert (c.state["status"], c.state["winner"], fields(c.state)) == ("finished", 2, NONE)
    assert [e["type"] for e in c.events] == ["gameComplete"]


async def test_a_revived_target_does_not_come_back_to_the_lists(h: Harness) -> None:
    g = await table(h, 4)
    await resolve(h, g, 2, 3)
    await by_eliminate(h, g, 3)

    c = await h.commits(g.gid, "adminRevive", h.store.admin_revive(g.gid, g.host, new_aid(), 3))

    assert fields(c.state) == ("resolving", [2], [2], 1)


# -- reset, pause -----------------------------------------------------------------------------


@pytest.mark.parametrize("confirm", [False, True], ids=["selecting", "resolving"])
async def test_reset_clears_targeting(h: Harness, confirm: bool) -> None:
    g = await seated_game(h)
    await (resolve if confirm else select)(h, g, 2)

    c = await h.commits(g.gid, "reset", h.store.reset(g.gid, g.host, new_aid()))

    assert fields(c.state) == NONE


async def test_pause_and_resume_keep_targeting_and_resume_runs_the_targets(h: Harness) -> None:
    g = await seated_game(h)
    await resolve(h, g, 2, 3)
    p = await h.commits(g.gid, "pause", h.store.pause(g.gid, g.host, new_aid()))
    assert (fields(p.state), await h.due(g.gid)) == (("resolving", [2, 3], [2, 3], 1), None)
    h.clock.offset_ms = 5_000

    r = await h.commits(g.gid, "resume", h.store.pause(g.gid, g.host, new_aid()))

    assert (fields(r.state), times(r.state)) == (fields(p.state), times(p.state))
    assert await h.due(g.gid) == r.state["serverTime"] + times(r.state)[1] - 300_000


# -- the turn while targeting (C17) -----------------------------------------------------------


async def test_the_active_player_cannot_pass_the_turn_while_targets_respond(h: Harness) -> None:
    """C17: HEAD let the turn pass, and completion then overwrote the new active player."""
    g = await seated_game(h)
    await resolve(h, g, 2)

    await h.fails(g.gid, "TARGETS_PENDING", h.store.switch(g.gid, "p1", new_aid(), "next"))
    await h.fails(g.gid, "TARGETS_PENDING", h.store.switch(g.gid, "p1", new_aid(), 3))
    await h.store.pause(g.gid, g.host, new_aid())
    # paused, a pass is refused for the status first; a switch by id still for the targets
    await h.fails(g.gid, "GAME_NOT_RUNNING", h.store.switch(g.gid, "p1", new_aid(), "next"))
    await h.fails(g.gid, "TARGETS_PENDING", h.store.switch(g.gid, "p1", new_aid(), 3))


async def test_pending_interrupts_are_named_before_responding_targets(h: Harness) -> None:
    g = await seated_game(h)
    await resolve(h, g, 2)
    await h.store.interrupt(g.gid, "p3", new_aid())

    await h.fails(g.gid, "PRIORITY_PENDING", h.store.switch(g.gid, "p1", new_aid(), "next"))


async def test_the_hosts_switch_while_targets_respond_ends_targeting_for_good(h: Harness) -> None:
    g = await seated_game(h)
    await resolve(h, g, 2)

    c = await h.commits(g.gid, "switch", h.store.switch(g.gid, g.host, new_aid(), 3))

    assert (fields(c.state), c.state["activePlayer"]) == (NONE, 3)
    assert c.events == [{"type": "targetingCanceled", "data": {"activePlayer": 3}}]
    # nothing is left for a late pass to complete: the turn stays the switch's
    await h.fails(g.gid, "NOT_RESOLVING_TARGETS", h.store.pass_target_priority(g.gid, "p2", new_aid()))
    assert (await h.state(g.gid))["activePlayer"] == 3
    assert await h.due(g.gid) == c.state["serverTime"] + player(c.state, 3)["timeRemaining"] - 300_000


async def test_a_turn_pass_while_picking_ends_the_selection(h: Harness) -> None:
    g = await seated_game(h)
    await select(h, g, 3)

    c = await h.commits(g.gid, "switch", h.store.switch(g.gid, "p1", new_aid(), "next"))

    assert (fields(c.state), c.state["activePlayer"]) == (NONE, 2)
    assert c.events == [{"type": "targetingCanceled", "data": {"activePlayer": 2}}]


async def test_a_switch_to_the_active_player_keeps_the_selection(h: Harness) -> None:
    g = await seated_game(h)
    await select(h, g, 3)

    out = await h.quiet(g.gid, "noop", h.store.switch(g.gid, g.host, new_aid(), 1))

    assert fields(out.state) == ("selecting", [3], [], None)
