"""cancel_targeting.lua (HEAD's cancelTargeting, B6.2): the active player drops a selection,
the original player targets that are responding; with no targeting it changes nothing."""

from __future__ import annotations

from tests.support.lua_harness import Harness, new_aid
from tests.support.targeting import NONE, fields, resolve, seated_game, select, times

CANCELED = {"type": "targetingCanceled", "data": {"activePlayer": 1}}


async def test_the_active_player_cancels_a_selection(h: Harness) -> None:
    g = await seated_game(h)
    await select(h, g, 2, 3)
    aid = new_aid()

    c = await h.commits(g.gid, "cancelTargeting", h.store.cancel_targeting(g.gid, "p1", aid))

    assert (fields(c.state), c.state["activePlayer"]) == (NONE, 1)
    assert c.events == [CANCELED]
    assert (c.entry["a"], c.entry["c"]) == (aid, "p1")


async def test_the_original_player_cancels_responding_targets_and_its_clock_resumes(h: Harness) -> None:
    g = await seated_game(h, 4)
    confirmed = await resolve(h, g, 2, 3)
    h.clock.offset_ms = 3_000

    c = await h.commits(g.gid, "cancelTargeting", h.store.cancel_targeting(g.gid, "p1", new_aid()))

    assert (fields(c.state), c.state["activePlayer"]) == (NONE, 1)
    assert c.events == [CANCELED]
    # the targets were charged up to the cancel; from now on the original's clock runs
    charged = c.state["serverTime"] - confirmed["serverTime"]
    first = times(confirmed)
    assert times(c.state) == [first[0], first[1] - charged, first[2] - charged, first[3]]
    assert await h.due(g.gid) == c.state["serverTime"] + first[0] - 300_000


async def test_cancel_with_no_targeting_changes_nothing(h: Harness) -> None:
    g = await seated_game(h)

    await h.quiet(g.gid, "noop", h.store.cancel_targeting(g.gid, "p1", new_aid()))
    # HEAD's first check: even a socket without a seat is answered so
    await h.quiet(g.gid, "noop", h.store.cancel_targeting(g.gid, "stranger", new_aid()))


async def test_cancel_without_a_seat_fails(h: Harness) -> None:
    g = await seated_game(h)
    await select(h, g, 2)

    await h.fails(g.gid, "NOT_AUTHORIZED_CANCEL", h.store.cancel_targeting(g.gid, "stranger", new_aid()))
    await h.fails(g.gid, "NOT_AUTHORIZED_CANCEL", h.store.cancel_targeting(g.gid, g.host, new_aid()))


async def test_only_the_player_who_started_targeting_may_cancel_it(h: Harness) -> None:
    g = await seated_game(h)
    await select(h, g, 2)
    for client in ("p2", "p3"):
        await h.fails(g.gid, "CANNOT_CANCEL_TARGETING", h.store.cancel_targeting(g.gid, client, new_aid()))

    await h.store.confirm_targets(g.gid, "p1", new_aid())
    # a target cannot cancel what it is asked to respond to
    await h.fails(g.gid, "CANNOT_CANCEL_TARGETING", h.store.cancel_targeting(g.gid, "p2", new_aid()))


async def test_cancel_is_allowed_while_interrupts_are_pending_and_the_stack_stays(h: Harness) -> None:
    g = await seated_game(h)
    await resolve(h, g, 2)
    await h.store.interrupt(g.gid, "p3", new_aid())

    c = await h.commits(g.gid, "cancelTargeting", h.store.cancel_targeting(g.gid, "p1", new_aid()))

    assert (fields(c.state), c.state["interruptingPlayers"]) == (NONE, [3])


async def test_cancel_while_paused_keeps_the_game_paused(h: Harness) -> None:
    g = await seated_game(h)
    await resolve(h, g, 2)
    await h.store.pause(g.gid, g.host, new_aid())

    c = await h.commits(g.gid, "cancelTargeting", h.store.cancel_targeting(g.gid, "p1", new_aid()))

    assert (fields(c.state), c.state["status"]) == (NONE, "paused")


async def test_cancel_retried_with_the_same_action_id_is_a_dup(h: Harness) -> None:
    g = await seated_game(h)
    await select(h, g, 2)
    aid = new_aid()
    await h.store.cancel_targeting(g.gid, "p1", aid)

    out = await h.quiet(g.gid, "dup", h.store.cancel_targeting(g.gid, "p1", aid))

    assert fields(out.state) == NONE
