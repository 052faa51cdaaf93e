"""confirm_targets.lua (HEAD's confirmTargets, B6.2): the picked targets get priority, and
every one of their clocks runs at once while the original player's stands."""

from __future__ import annotations

from tests.support.lua_harness import Harness, new_aid
from tests.support.targeting import NONE, fields, resolve, seated_game, select, times


async def test_confirm_starts_resolving_and_every_targets_clock(h: Harness) -> None:
    g = await seated_game(h, 4)
    picked = await select(h, g, 3, 2)
    h.clock.offset_ms = 3_000
    aid = new_aid()

    c = await h.commits(g.gid, "confirmTargets", h.store.confirm_targets(g.gid, "p1", aid))

    assert fields(c.state) == ("resolving", [3, 2], [3, 2], 1)
    assert c.state["activePlayer"] == 1
    assert c.events == [
        {
            "type": "targetingStarted",
            "data": {"originalPlayer": 1, "targets": [3, 2], "awaitingPriority": [3, 2], "activePlayer": 1},
        }
    ]
    assert (c.entry["d"], c.entry["a"], c.entry["c"]) == ({"targets": [3, 2]}, aid, "p1")
    # the active player's clock ran up to the confirm, the targets' start from it
    charged = c.state["serverTime"] - picked["serverTime"]
    assert times(c.state) == [times(picked)[0] - charged, 600_000, 600_000, 600_000]
    # the deadline index holds the earliest next warning of the targets' clocks
    assert await h.due(g.gid) == c.state["serverTime"] + 600_000 - 300_000


async def test_the_deadline_is_the_earliest_of_the_targets_clocks(h: Harness) -> None:
    g = await seated_game(h, 4, initial_time=100_000, thresholds=(50_000, 10_000))
    await h.store.update_player(g.gid, g.host, new_aid(), 2, {"time": 70_000})
    await h.store.update_player(g.gid, g.host, new_aid(), 3, {"time": 25_000})
    await select(h, g, 2, 3)

    c = await h.commits(g.gid, "confirmTargets", h.store.confirm_targets(g.gid, "p1", new_aid()))

    # player 2's next is the 50 s warning, 20 s away; player 3's the 10 s one, 15 s away; the
    # active player's (at 100 s) would be 50 s away, but that clock stands
    assert await h.due(g.gid) == c.state["serverTime"] + 15_000


async def test_confirm_by_anyone_but_the_active_player_fails(h: Harness) -> None:
    g = await seated_game(h)
    await select(h, g, 2)

    for client in ("p2", "stranger", g.host):
        await h.fails(g.gid, "NOT_ACTIVE_CONFIRM", h.store.confirm_targets(g.gid, client, new_aid()))


async def test_the_active_player_cannot_confirm_while_interrupts_are_pending(h: Harness) -> None:
    g = await seated_game(h)
    await select(h, g, 2)
    await h.store.interrupt(g.gid, "p3", new_aid())

    await h.fails(g.gid, "INTERRUPTS_PENDING", h.store.confirm_targets(g.gid, "p1", new_aid()))


async def test_confirm_without_a_selection_fails(h: Harness) -> None:
    g = await seated_game(h)
    await h.fails(g.gid, "NOT_SELECTING_TARGETS", h.store.confirm_targets(g.gid, "p1", new_aid()))

    await resolve(h, g, 2)
    await h.fails(g.gid, "NOT_SELECTING_TARGETS", h.store.confirm_targets(g.gid, "p1", new_aid()))


async def test_confirm_of_an_empty_selection_fails(h: Harness) -> None:
    g = await seated_game(h)
    await select(h, g, 2, 2)

    await h.fails(g.gid, "NO_TARGETS_SELECTED", h.store.confirm_targets(g.gid, "p1", new_aid()))


async def test_confirm_while_paused_starts_the_targets_clocks_on_resume(h: Harness) -> None:
    g = await seated_game(h)
    await select(h, g, 2)
    await h.store.pause(g.gid, g.host, new_aid())

    c = await h.commits(g.gid, "confirmTargets", h.store.confirm_targets(g.gid, "p1", new_aid()))
    assert (fields(c.state), await h.due(g.gid)) == (("resolving", [2], [2], 1), None)

    h.clock.offset_ms = 5_000
    r = await h.commits(g.gid, "resume", h.store.pause(g.gid, g.host, new_aid()))
    assert times(r.state) == times(c.state)
    assert await h.due(g.gid) == r.state["serverTime"] + 600_000 - 300_000


async def test_confirm_retried_with_the_same_action_id_is_a_dup(h: Harness) -> None:
    g = await seated_game(h)
    await select(h, g, 2)
    aid = new_aid()
    await h.store.confirm_targets(g.gid, "p1", aid)

    out = await h.quiet(g.gid, "dup", h.store.confirm_targets(g.gid, "p1", aid))

    assert fields(out.state) == ("resolving", [2], [2], 1)


async def test_a_reset_game_has_nothing_to_confirm(h: Harness) -> None:
    g = await seated_game(h)
    await select(h, g, 2)
    await h.store.reset(g.gid, g.host, new_aid())

    assert fields(await h.state(g.gid)) == NONE
    await h.fails(g.gid, "NOT_ACTIVE_CONFIRM", h.store.confirm_targets(g.gid, "p1", new_aid()))
