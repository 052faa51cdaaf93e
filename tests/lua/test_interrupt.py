"""interrupt.lua, and the interrupt stack's effect on the clock rules (lib/rules.lua settle,
lib/commit.lua schedule): only the stack's top runs, once, with its warnings and timeout."""

from __future__ import annotations

from typing import Any

from tests.lua.test_fire_deadline import fires_nothing
from tests.support.lua_harness import Game, Harness, new_aid, player


async def seated_game(h: Harness, players: int = 3, **kw: Any) -> Game:
    """A running game where client pN holds seat N."""
    g = await h.new_game(players, **kw)
    for pid in range(1, players + 1):
        await h.claim(g, f"p{pid}", pid)
    assert (await h.store.start(g.gid, g.host, new_aid())).status == "ok"
    return g


def times(state: dict[str, Any]) -> list[int]:
    return [p["timeRemaining"] for p in state["players"]]


async def test_interrupt_pushes_the_senders_seat_and_only_that_clock_runs(h: Harness) -> None:
    g = await seated_game(h)
    start = await h.state(g.gid)
    h.clock.offset_ms = 2_000
    aid = new_aid()

    c = await h.commits(g.gid, "interrupt", h.store.interrupt(g.gid, "p2", aid))

    # the active player's clock ran until the interrupt, then stops
    first = c.state["serverTime"] - start["serverTime"]
    assert c.state["interruptingPlayers"] == [2]
    assert c.state["activePlayer"] == 1
    assert times(c.state) == [600_000 - first, 600_000, 600_000]
    assert (c.entry["d"], c.entry["a"], c.entry["c"]) == ({"playerId": 2}, aid, "p2")
    # the deadline index points at the interrupter's next warning (commits() checks it too)
    assert await h.due(g.gid) == c.state["serverTime"] + 600_000 - 300_000

    h.clock.offset_ms = 5_000
    d = await h.commits(g.gid, "interrupt", h.store.interrupt(g.gid, "p3", new_aid()))

    second = d.state["serverTime"] - c.state["serverTime"]
    assert d.state["interruptingPlayers"] == [2, 3]
    assert times(d.state) == [600_000 - first, 600_000 - second, 600_000]


async def test_interrupt_twice_by_the_same_player_is_kept_as_two_entries(h: Harness) -> None:
    g = await seated_game(h)
    await h.store.interrupt(g.gid, "p2", new_aid())
    await h.store.interrupt(g.gid, "p3", new_aid())

    c = await h.commits(g.gid, "interrupt", h.store.interrupt(g.gid, "p2", new_aid()))

    assert c.state["interruptingPlayers"] == [2, 3, 2]


async def test_the_active_player_may_interrupt_and_keeps_its_own_clock(h: Harness) -> None:
    g = await seated_game(h)

    c = await h.commits(g.gid, "interrupt", h.store.interrupt(g.gid, "p1", new_aid()))

    assert c.state["interruptingPlayers"] == [1]
    assert await h.due(g.gid) == c.state["serverTime"] + player(c.state, 1)["timeRemaining"] - 300_000


async def test_interrupt_without_a_seat_fails(h: Harness) -> None:
    g = await seated_game(h)

    await h.fails(g.gid, "NOT_AUTHORIZED_INTERRUPT", h.store.interrupt(g.gid, "stranger", new_aid()))
    # the host holds no seat either
    await h.fails(g.gid, "NOT_AUTHORIZED_INTERRUPT", h.store.interrupt(g.gid, g.host, new_aid()))


async def test_interrupt_unless_running_fails(h: Harness) -> None:
    g = await h.new_game(2)
    await h.claim(g, "p1", 1)
    await h.fails(g.gid, "GAME_NOT_RUNNING", h.store.interrupt(g.gid, "p1", new_aid()))

    await h.store.start(g.gid, g.host, new_aid())
    await h.store.pause(g.gid, g.host, new_aid())
    await h.fails(g.gid, "GAME_NOT_RUNNING", h.store.interrupt(g.gid, "p1", new_aid()))


async def test_interrupt_when_the_clock_just_ran_out_fails_and_leaves_the_timeout_to_the_deadline(h: Harness) -> None:
    g = await seated_game(h, 2, initial_time=1_000, thresholds=(500,))
    h.clock.offset_ms = 2_000

    await h.fails(g.gid, "GAME_NOT_RUNNING", h.store.interrupt(g.gid, "p2", new_aid()))
    c = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))
    assert [e["type"] for e in c.events] == ["warning", "timeout"]


async def test_interrupt_by_an_eliminated_player_changes_nothing(h: Harness) -> None:
    g = await seated_game(h)
    await h.store.eliminate(g.gid, g.host, new_aid(), 3)

    await h.quiet(g.gid, "noop", h.store.interrupt(g.gid, "p3", new_aid()))


async def test_the_stack_is_bounded(h: Harness) -> None:
    g = await seated_game(h)
    for _ in range(16):
        await h.store.interrupt(g.gid, "p2", new_aid())

    await h.fails(g.gid, "INTERRUPT_STACK_FULL", h.store.interrupt(g.gid, "p3", new_aid()))
    assert len((await h.state(g.gid))["interruptingPlayers"]) == 16


async def test_interrupt_retried_with_the_same_action_id_is_a_dup(h: Harness) -> None:
    g = await seated_game(h)
    aid = new_aid()
    await h.store.interrupt(g.gid, "p2", aid)

    out = await h.quiet(g.gid, "dup", h.store.interrupt(g.gid, "p2", aid))
    assert out.state["interruptingPlayers"] == [2]


async def test_an_interrupters_warnings_and_timeout_fire_once_and_the_active_clock_stands(h: Harness) -> None:
    g = await seated_game(h, 2, initial_time=10_000, thresholds=(5_000, 2_000))
    c = await h.commits(g.gid, "interrupt", h.store.interrupt(g.gid, "p2", new_aid()))
    active_left = player(c.state, 1)["timeRemaining"]
    assert await h.due(g.gid) == c.state["serverTime"] + 10_000 - 5_000

    h.clock.offset_ms = 6_000
    w = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))
    assert w.events == [{"type": "warning", "data": {"playerId": 2, "threshold": 5_000}}]
    assert player(w.state, 1)["timeRemaining"] == active_left
    # a second instance firing the same entry finds nothing due
    await fires_nothing(h, g.gid)
    assert await h.due(g.gid) == w.state["serverTime"] + player(w.state, 2)["timeRemaining"] - 2_000

    h.clock.offset_ms = 20_000
    t = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))
    assert t.events == [
        {"type": "warning", "data": {"playerId": 2, "threshold": 2_000}},
        {"type": "timeout", "data": {"playerId": 2}},
    ]
    assert (t.state["status"], player(t.state, 2)["timeRemaining"], player(t.state, 2)["penalties"]) == ("paused", 0, 1)
    assert player(t.state, 1)["timeRemaining"] == active_left
    assert t.state["interruptingPlayers"] == [2]
    await fires_nothing(h, g.gid)
    assert await h.due(g.gid) is None


async def test_a_game_loss_timeout_of_the_interrupter_drops_it_and_the_active_clock_runs_again(h: Harness) -> None:
    g = await seated_game(h, 3, initial_time=10_000, thresholds=(5_000,), penalty_type="game_loss")
    await h.store.interrupt(g.gid, "p2", new_aid())
    h.clock.offset_ms = 11_000

    c = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))

    assert player(c.state, 2)["isEliminated"]
    assert c.state["interruptingPlayers"] == []
    # the timeout paused the game (v1's rule); on resume the active player's clock is the one
    r = await h.commits(g.gid, "resume", h.store.pause(g.gid, g.host, new_aid()))
    assert await h.due(g.gid) == r.state["serverTime"] + player(r.state, 1)["timeRemaining"] - 5_000


async def test_eliminating_an_interrupter_removes_every_entry_of_it(h: Harness) -> None:
    g = await seated_game(h, 4)
    for client in ("p2", "p3", "p2"):
        await h.store.interrupt(g.gid, client, new_aid())

    c = await h.commits(g.gid, "eliminate", h.store.eliminate(g.gid, g.host, new_aid(), 2))

    assert c.state["interruptingPlayers"] == [3]
    assert await h.due(g.gid) == c.state["serverTime"] + player(c.state, 3)["timeRemaining"] - 300_000


async def test_kicking_an_interrupter_removes_it_from_the_stack(h: Harness) -> None:
    g = await seated_game(h)
    await h.store.interrupt(g.gid, "p3", new_aid())

    c = await h.commits(g.gid, "adminKick", h.store.admin_kick(g.gid, g.host, new_aid(), 3))

    assert c.state["interruptingPlayers"] == []
    assert await h.due(g.gid) == c.state["serverTime"] + player(c.state, 1)["timeRemaining"] - 300_000


async def test_a_decided_game_clears_the_stack(h: Harness) -> None:
    g = await seated_game(h, 3)
    await h.store.interrupt(g.gid, "p1", new_aid())
    await h.store.interrupt(g.gid, "p3", new_aid())
    await h.store.eliminate(g.gid, g.host, new_aid(), 3)

    c = await h.commits(g.gid, "eliminate", h.store.eliminate(g.gid, g.host, new_aid(), 2))

    assert (c.state["status"], c.state["winner"], c.state["interruptingPlayers"]) == ("finished", 1, [])


async def test_reset_clears_the_stack(h: Harness) -> None:
    g = await seated_game(h)
    await h.store.interrupt(g.gid, "p2", new_aid())

    c = await h.commits(g.gid, "reset", h.store.reset(g.gid, g.host, new_aid()))

    assert c.state["interruptingPlayers"] == []


async def test_pause_keeps_the_stack_and_resume_runs_the_interrupter(h: Harness) -> None:
    g = await seated_game(h)
    await h.store.interrupt(g.gid, "p2", new_aid())
    p = await h.commits(g.gid, "pause", h.store.pause(g.gid, g.host, new_aid()))
    assert (p.state["interruptingPlayers"], await h.due(g.gid)) == ([2], None)
    h.clock.offset_ms = 5_000

    r = await h.commits(g.gid, "resume", h.store.pause(g.gid, g.host, new_aid()))

    assert times(r.state) == times(p.state)
    assert await h.due(g.gid) == r.state["serverTime"] + player(r.state, 2)["timeRemaining"] - 300_000


async def test_the_active_player_cannot_pass_the_turn_while_interrupts_are_pending(h: Harness) -> None:
    g = await seated_game(h)
    await h.store.interrupt(g.gid, "p2", new_aid())

    await h.fails(g.gid, "PRIORITY_PENDING", h.store.switch(g.gid, "p1", new_aid(), "next"))
    await h.fails(g.gid, "PRIORITY_PENDING", h.store.switch(g.gid, "p1", new_aid(), 3))
    await h.store.pause(g.gid, g.host, new_aid())
    await h.fails(g.gid, "PRIORITY_PENDING", h.store.switch(g.gid, "p1", new_aid(), 3))


async def test_the_host_may_still_switch_and_the_stack_stays(h: Harness) -> None:
    g = await seated_game(h)
    await h.store.interrupt(g.gid, "p2", new_aid())

    c = await h.commits(g.gid, "switch", h.store.switch(g.gid, g.host, new_aid(), 3))

    assert (c.state["activePlayer"], c.state["interruptingPlayers"]) == (3, [2])
    assert await h.due(g.gid) == c.state["serverTime"] + player(c.state, 2)["timeRemaining"] - 300_000
