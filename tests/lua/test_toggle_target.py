"""toggle_target.lua (HEAD's toggleTarget, B6.2): the active player picks and drops targets.

Each refusal leaves the game byte-for-byte as it was, "none" included: HEAD entered
"selecting" before it checked the target (C18).
"""

from __future__ import annotations

import json

from service import keys
from tests.support.lua_harness import Harness, new_aid, player
from tests.support.targeting import NONE, fields, resolve, seated_game, select, times


def updated(state: str, picked: list[int], active: int = 1) -> dict[str, object]:
    return {
        "type": "targetingUpdated",
        "data": {
            "targetingState": state,
            "targetedPlayers": picked,
            "awaitingPriority": [],
            "originalActivePlayer": None,
            "activePlayer": active,
        },
    }


async def test_the_first_pick_enters_selecting_and_the_active_clock_keeps_running(h: Harness) -> None:
    g = await seated_game(h)
    started = await h.state(g.gid)
    h.clock.offset_ms = 2_000
    aid = new_aid()

    c = await h.commits(g.gid, "toggleTarget", h.store.toggle_target(g.gid, "p1", aid, 2))

    assert fields(c.state) == ("selecting", [2], [], None)
    assert c.state["activePlayer"] == 1
    assert c.events == [updated("selecting", [2])]
    # an empty list in an event is an array on both engines, never cjson's {}
    assert '"awaitingPriority":[]' in c.out.events_json
    assert (c.entry["d"], c.entry["a"], c.entry["c"]) == ({"playerId": 2, "selected": True}, aid, "p1")
    charged = c.state["serverTime"] - started["serverTime"]
    assert times(c.state) == [600_000 - charged, 600_000, 600_000]
    # the active player's clock is still the one that runs (commits() checked the index too)
    assert await h.due(g.gid) == c.state["serverTime"] + 600_000 - charged - 300_000


async def test_a_second_toggle_drops_the_pick_and_an_empty_selection_stays_selecting(h: Harness) -> None:
    g = await seated_game(h, 4)
    await select(h, g, 2, 3)

    c = await h.commits(g.gid, "toggleTarget", h.store.toggle_target(g.gid, "p1", new_aid(), 2))
    assert fields(c.state) == ("selecting", [3], [], None)
    assert c.entry["d"] == {"playerId": 2, "selected": False}

    d = await h.commits(g.gid, "toggleTarget", h.store.toggle_target(g.gid, "p1", new_aid(), 3))
    assert fields(d.state) == ("selecting", [], [], None)
    assert d.events == [updated("selecting", [])]
    assert '"targetedPlayers":[]' in d.out.events_json
    assert '"targetedPlayers":[]' in str(await h.raw_state(g.gid))


async def test_picks_keep_their_order(h: Harness) -> None:
    g = await seated_game(h, 5)

    st = await select(h, g, 4, 2, 5)

    assert st["targetedPlayers"] == [4, 2, 5]


async def test_a_seat_nobody_holds_can_be_a_target(h: Harness) -> None:
    g = await h.new_game(3)
    await h.claim(g, "p1", 1)
    await h.store.start(g.gid, g.host, new_aid())

    c = await h.commits(g.gid, "toggleTarget", h.store.toggle_target(g.gid, "p1", new_aid(), 3))

    assert c.state["targetedPlayers"] == [3]


async def test_an_eight_player_table_can_target_all_seven_others(h: Harness) -> None:
    g = await seated_game(h, 8)

    st = await select(h, g, 2, 3, 4, 5, 6, 7, 8)

    assert st["targetedPlayers"] == [2, 3, 4, 5, 6, 7, 8]


async def test_an_eighth_target_is_refused(h: Harness) -> None:
    g = await seated_game(h, 8)
    await select(h, g, 2, 3, 4, 5, 6, 7, 8)
    # no table has a ninth seat: add one by hand to reach the cap's own check
    st = await h.state(g.gid)
    st["players"].append({**player(st, 8), "id": 9, "name": "Player 9", "claimedBy": None})
    await h.client.hset(keys.game(g.gid), "state", json.dumps(st))

    await h.fails(g.gid, "TOO_MANY_TARGETS", h.store.toggle_target(g.gid, "p1", new_aid(), 9))
    # dropping one is still allowed at the cap
    c = await h.commits(g.gid, "toggleTarget", h.store.toggle_target(g.gid, "p1", new_aid(), 8))
    assert c.state["targetedPlayers"] == [2, 3, 4, 5, 6, 7]


async def test_toggle_without_a_seat_fails(h: Harness) -> None:
    g = await seated_game(h)

    await h.fails(g.gid, "NOT_AUTHORIZED_TARGET", h.store.toggle_target(g.gid, "stranger", new_aid(), 2))
    # the host holds no seat either
    await h.fails(g.gid, "NOT_AUTHORIZED_TARGET", h.store.toggle_target(g.gid, g.host, new_aid(), 2))


async def test_toggle_by_a_player_who_is_not_active_fails(h: Harness) -> None:
    g = await seated_game(h)

    await h.fails(g.gid, "NOT_ACTIVE_SELECT", h.store.toggle_target(g.gid, "p2", new_aid(), 3))
    # before the start nobody is active
    w = await h.new_game(2)
    await h.claim(w, "q1", 1)
    await h.fails(w.gid, "NOT_ACTIVE_SELECT", h.store.toggle_target(w.gid, "q1", new_aid(), 2))


async def test_toggle_unless_running_fails(h: Harness) -> None:
    g = await seated_game(h)
    await h.store.pause(g.gid, g.host, new_aid())

    await h.fails(g.gid, "GAME_NOT_RUNNING", h.store.toggle_target(g.gid, "p1", new_aid(), 2))
    assert fields(await h.state(g.gid)) == NONE


async def test_toggle_when_the_clock_just_ran_out_fails_and_leaves_the_timeout_to_the_deadline(h: Harness) -> None:
    g = await seated_game(h, 2, initial_time=1_000, thresholds=(500,))
    h.clock.offset_ms = 2_000

    await h.fails(g.gid, "GAME_NOT_RUNNING", h.store.toggle_target(g.gid, "p1", new_aid(), 2))
    c = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))
    assert [e["type"] for e in c.events] == ["warning", "timeout"]


async def test_the_active_player_cannot_pick_while_interrupts_are_pending(h: Harness) -> None:
    g = await seated_game(h)
    await h.store.interrupt(g.gid, "p2", new_aid())

    await h.fails(g.gid, "INTERRUPTS_PENDING", h.store.toggle_target(g.gid, "p1", new_aid(), 3))

    # a selection started before the interrupt waits too
    await h.store.pass_priority(g.gid, "p2", new_aid())
    await select(h, g, 3)
    await h.store.interrupt(g.gid, "p3", new_aid())
    await h.fails(g.gid, "INTERRUPTS_PENDING", h.store.toggle_target(g.gid, "p1", new_aid(), 2))


async def test_targets_cannot_change_while_they_respond(h: Harness) -> None:
    g = await seated_game(h)
    await resolve(h, g, 2)

    await h.fails(g.gid, "TARGETS_LOCKED", h.store.toggle_target(g.gid, "p1", new_aid(), 3))
    await h.fails(g.gid, "TARGETS_LOCKED", h.store.toggle_target(g.gid, "p1", new_aid(), 2))


async def test_an_invalid_target_is_refused_before_anything_changes(h: Harness) -> None:
    """C18: HEAD entered "selecting" first, so a refused first pick left a selection behind."""
    g = await seated_game(h, 4)
    await h.store.eliminate(g.gid, g.host, new_aid(), 4)

    for target in (1, 4, 5):
        await h.fails(g.gid, "INVALID_TARGET", h.store.toggle_target(g.gid, "p1", new_aid(), target))
    assert fields(await h.state(g.gid)) == NONE

    # and during a selection it stays as it was
    await select(h, g, 2)
    await h.fails(g.gid, "INVALID_TARGET", h.store.toggle_target(g.gid, "p1", new_aid(), 4))
    assert fields(await h.state(g.gid)) == ("selecting", [2], [], None)


async def test_a_target_that_is_not_a_number_is_an_invalid_argument(h: Harness) -> None:
    g = await seated_game(h)

    await h.raw_fails(
        g.gid, "INVALID_ARGUMENT", h.run_script("toggle_target", g.gid, "x", action_id=new_aid(), client_id="p1")
    )


async def test_toggle_retried_with_the_same_action_id_is_a_dup(h: Harness) -> None:
    g = await seated_game(h)
    aid = new_aid()
    await h.store.toggle_target(g.gid, "p1", aid, 2)

    out = await h.quiet(g.gid, "dup", h.store.toggle_target(g.gid, "p1", aid, 2))

    assert out.state["targetedPlayers"] == [2]
