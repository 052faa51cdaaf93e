"""pass_priority.lua: the sender's last entry leaves the stack; priority goes back down."""

from __future__ import annotations

from tests.lua.test_interrupt import seated_game, times
from tests.support.lua_harness import Harness, new_aid, player


async def test_pass_priority_returns_priority_to_the_entry_before_then_to_the_active_player(h: Harness) -> None:
    g = await seated_game(h)
    await h.store.interrupt(g.gid, "p2", new_aid())
    before = await h.commits(g.gid, "interrupt", h.store.interrupt(g.gid, "p3", new_aid()))
    h.clock.offset_ms = 3_000
    aid = new_aid()

    c = await h.commits(g.gid, "passPriority", h.store.pass_priority(g.gid, "p3", aid))

    charged = c.state["serverTime"] - before.state["serverTime"]
    assert c.state["interruptingPlayers"] == [2]
    # the passing interrupter's clock ran until it passed; nobody else's did
    assert times(c.state) == [*times(before.state)[:2], 600_000 - charged]
    assert (c.entry["d"], c.entry["a"], c.entry["c"]) == ({"playerId": 3}, aid, "p3")
    assert await h.due(g.gid) == c.state["serverTime"] + player(c.state, 2)["timeRemaining"] - 300_000

    h.clock.offset_ms = 4_000
    d = await h.commits(g.gid, "passPriority", h.store.pass_priority(g.gid, "p2", new_aid()))

    assert d.state["interruptingPlayers"] == []
    assert player(d.state, 2)["timeRemaining"] == player(c.state, 2)["timeRemaining"] - (
        d.state["serverTime"] - c.state["serverTime"]
    )
    assert await h.due(g.gid) == d.state["serverTime"] + player(d.state, 1)["timeRemaining"] - 300_000


async def test_pass_priority_removes_the_last_occurrence_even_below_the_top(h: Harness) -> None:
    g = await seated_game(h, 4)
    for client in ("p2", "p3", "p2", "p4"):
        await h.store.interrupt(g.gid, client, new_aid())
    before = await h.state(g.gid)

    c = await h.commits(g.gid, "passPriority", h.store.pass_priority(g.gid, "p2", new_aid()))

    assert c.state["interruptingPlayers"] == [2, 3, 4]
    # p4 held priority before and after: only its clock ran
    assert times(c.state)[:3] == times(before)[:3]


async def test_pass_priority_without_a_seat_fails(h: Harness) -> None:
    g = await seated_game(h)
    await h.store.interrupt(g.gid, "p2", new_aid())

    await h.fails(g.gid, "NOT_AUTHORIZED_PRIORITY", h.store.pass_priority(g.gid, "stranger", new_aid()))


async def test_pass_priority_outside_the_stack_fails(h: Harness) -> None:
    g = await seated_game(h)
    await h.fails(g.gid, "NOT_IN_INTERRUPT_QUEUE", h.store.pass_priority(g.gid, "p2", new_aid()))
    await h.store.interrupt(g.gid, "p2", new_aid())

    await h.fails(g.gid, "NOT_IN_INTERRUPT_QUEUE", h.store.pass_priority(g.gid, "p3", new_aid()))


async def test_pass_priority_while_paused_unwinds_without_running_a_clock(h: Harness) -> None:
    g = await seated_game(h)
    await h.store.interrupt(g.gid, "p2", new_aid())
    paused = await h.store.pause(g.gid, g.host, new_aid())
    h.clock.offset_ms = 5_000

    c = await h.commits(g.gid, "passPriority", h.store.pass_priority(g.gid, "p2", new_aid()))

    assert (c.state["status"], c.state["interruptingPlayers"]) == ("paused", [])
    assert times(c.state) == times(paused.state)


async def test_pass_priority_retried_with_the_same_action_id_is_a_dup(h: Harness) -> None:
    g = await seated_game(h)
    await h.store.interrupt(g.gid, "p2", new_aid())
    await h.store.interrupt(g.gid, "p2", new_aid())
    aid = new_aid()
    await h.store.pass_priority(g.gid, "p2", aid)

    out = await h.quiet(g.gid, "dup", h.store.pass_priority(g.gid, "p2", aid))
    assert out.state["interruptingPlayers"] == [2]


async def test_the_turn_passes_again_once_the_stack_is_empty(h: Harness) -> None:
    g = await seated_game(h)
    await h.store.interrupt(g.gid, "p2", new_aid())
    await h.store.pass_priority(g.gid, "p2", new_aid())

    c = await h.commits(g.gid, "switch", h.store.switch(g.gid, "p1", new_aid(), "next"))

    assert c.state["activePlayer"] == 2
