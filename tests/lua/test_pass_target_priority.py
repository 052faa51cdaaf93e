"""pass_target_priority.lua (HEAD's passTargetPriority, B6.2): each target responds; the
last one completes targeting and the original player's clock resumes."""

from __future__ import annotations

import asyncio
import json

from service import keys
from tests.support.lua_harness import Harness, new_aid
from tests.support.targeting import NONE, fields, resolve, seated_game, select, times


async def test_a_pass_stops_that_targets_clock_and_the_others_run_on(h: Harness) -> None:
    g = await seated_game(h, 4)
    confirmed = await resolve(h, g, 2, 3)
    h.clock.offset_ms = 4_000
    aid = new_aid()

    c = await h.commits(g.gid, "passTargetPriority", h.store.pass_target_priority(g.gid, "p2", aid))

    assert fields(c.state) == ("resolving", [2, 3], [3], 1)
    assert c.events == [{"type": "priorityPassed", "data": {"passedBy": 2, "awaitingPriority": [3], "activePlayer": 1}}]
    assert (c.entry["d"], c.entry["a"], c.entry["c"]) == ({"playerId": 2, "complete": False}, aid, "p2")
    # both targets' clocks ran up to the pass, the original's did not
    charged = c.state["serverTime"] - confirmed["serverTime"]
    first = times(confirmed)
    assert times(c.state) == [first[0], first[1] - charged, first[2] - charged, first[3]]
    assert await h.due(g.gid) == c.state["serverTime"] + times(c.state)[2] - 300_000


async def test_the_last_pass_completes_and_the_original_clock_resumes(h: Harness) -> None:
    g = await seated_game(h, 3)
    await resolve(h, g, 2, 3)
    await h.store.pass_target_priority(g.gid, "p3", new_aid())
    h.clock.offset_ms = 2_000

    c = await h.commits(g.gid, "passTargetPriority", h.store.pass_target_priority(g.gid, "p2", new_aid()))

    assert fields(c.state) == NONE
    assert c.state["activePlayer"] == 1
    assert c.events == [{"type": "targetingComplete", "data": {"activePlayer": 1}}]
    assert c.entry["d"] == {"playerId": 2, "complete": True}
    assert await h.due(g.gid) == c.state["serverTime"] + times(c.state)[0] - 300_000
    # the original player may pick again
    assert (await h.store.toggle_target(g.gid, "p1", new_aid(), 3)).status == "ok"


async def test_pass_unless_targets_are_resolving_fails(h: Harness) -> None:
    g = await seated_game(h)
    await h.fails(g.gid, "NOT_RESOLVING_TARGETS", h.store.pass_target_priority(g.gid, "p2", new_aid()))

    await select(h, g, 2)
    await h.fails(g.gid, "NOT_RESOLVING_TARGETS", h.store.pass_target_priority(g.gid, "p2", new_aid()))
    # HEAD's order: the state before the seat
    await h.fails(g.gid, "NOT_RESOLVING_TARGETS", h.store.pass_target_priority(g.gid, "stranger", new_aid()))


async def test_pass_without_a_seat_fails(h: Harness) -> None:
    g = await seated_game(h)
    await resolve(h, g, 2)

    await h.fails(g.gid, "NOT_AUTHORIZED_PRIORITY", h.store.pass_target_priority(g.gid, "stranger", new_aid()))
    await h.fails(g.gid, "NOT_AUTHORIZED_PRIORITY", h.store.pass_target_priority(g.gid, g.host, new_aid()))


async def test_pass_by_a_player_not_awaiting_fails(h: Harness) -> None:
    g = await seated_game(h, 4)
    await resolve(h, g, 2, 3)
    await h.store.pass_target_priority(g.gid, "p2", new_aid())

    # the original player, a player never targeted, a target that already passed
    for client in ("p1", "p4", "p2"):
        await h.fails(g.gid, "NOT_AWAITING_PRIORITY", h.store.pass_target_priority(g.gid, client, new_aid()))


async def test_a_target_may_pass_while_an_interrupt_holds_priority(h: Harness) -> None:
    g = await seated_game(h, 4)
    await resolve(h, g, 2, 3)
    await h.store.interrupt(g.gid, "p4", new_aid())

    c = await h.commits(g.gid, "passTargetPriority", h.store.pass_target_priority(g.gid, "p2", new_aid()))

    assert (c.state["awaitingPriority"], c.state["interruptingPlayers"]) == ([3], [4])
    # the interrupter's clock is still the only one running
    assert await h.due(g.gid) == c.state["serverTime"] + times(c.state)[3] - 300_000


async def test_a_pass_while_paused_is_allowed_and_runs_no_clock(h: Harness) -> None:
    g = await seated_game(h)
    await resolve(h, g, 2)
    paused = (await h.store.pause(g.gid, g.host, new_aid())).state
    h.clock.offset_ms = 5_000

    c = await h.commits(g.gid, "passTargetPriority", h.store.pass_target_priority(g.gid, "p2", new_aid()))

    assert (fields(c.state), times(c.state), c.state["status"]) == (NONE, times(paused), "paused")


async def test_pass_retried_with_the_same_action_id_is_a_dup(h: Harness) -> None:
    g = await seated_game(h, 4)
    await resolve(h, g, 2, 3)
    aid = new_aid()
    await h.store.pass_target_priority(g.gid, "p2", aid)

    out = await h.quiet(g.gid, "dup", h.store.pass_target_priority(g.gid, "p2", aid))

    assert out.state["awaitingPriority"] == [3]


async def test_seven_targets_passing_at_once_complete_exactly_once(h: Harness) -> None:
    g = await seated_game(h, 8)
    confirmed = await resolve(h, g, 2, 3, 4, 5, 6, 7, 8)
    v0 = confirmed["version"]

    outs = await asyncio.gather(*(h.store.pass_target_priority(g.gid, f"p{pid}", new_aid()) for pid in range(2, 9)))

    assert [o.status for o in outs] == ["ok"] * 7
    events = [e for o in outs for e in json.loads(o.events_json)]
    assert [e["type"] for e in events].count("targetingComplete") == 1
    assert [e["type"] for e in events].count("priorityPassed") == 6
    # versions contiguous, and each commit's list is the one before less its passer
    by_version = sorted(outs, key=lambda o: o.version)
    assert [o.version for o in by_version] == list(range(v0 + 1, v0 + 8))
    awaiting = list(confirmed["awaitingPriority"])
    for o in by_version:
        log = [e for e in await h.log(g.gid) if e["v"] == o.version]
        awaiting.remove(log[0]["d"]["playerId"])
        assert o.state["awaitingPriority"] == awaiting
        assert o.state["targetingState"] == ("resolving" if awaiting else "none")
    final = await h.state(g.gid)
    assert (fields(final), final["activePlayer"], final["version"]) == (NONE, 1, v0 + 7)
    assert await h.client.llen(keys.log(g.gid)) == v0 + 7
