from __future__ import annotations

import pytest

from service import keys
from tests.support.lua_harness import Harness, new_aid, player

MINUTE = 60_000


async def test_add_time_gives_a_waiting_player_the_minutes(h: Harness) -> None:
    g = await h.new_game(3)
    aid = new_aid()

    c = await h.commits(g.gid, "adminAddTime", h.store.admin_add_time(g.gid, g.host, aid, 2, 5 * MINUTE))

    assert [p["timeRemaining"] for p in c.state["players"]] == [600_000, 900_000, 600_000]
    assert c.entry["d"] == {"playerId": 2, "ms": 5 * MINUTE}
    assert (c.entry["a"], c.entry["c"]) == (aid, g.host)
    assert c.events == []


async def test_add_time_to_the_running_clock_charges_it_first_and_moves_the_deadline(h: Harness) -> None:
    g = await h.running_game(2)
    started = await h.state(g.gid)
    assert await h.due(g.gid) == started["serverTime"] + 600_000 - 300_000
    h.clock.offset_ms = 1_500

    c = await h.commits(g.gid, "adminAddTime", h.store.admin_add_time(g.gid, g.host, new_aid(), 1, MINUTE))

    charged = c.state["serverTime"] - started["serverTime"]
    assert charged >= 1_500
    rem = 600_000 - charged + MINUTE
    assert [p["timeRemaining"] for p in c.state["players"]] == [rem, 600_000]
    # the next thing due is the 300 s warning, now a minute later than before
    assert await h.due(g.gid) == c.state["serverTime"] + rem - 300_000
    assert await h.due(g.gid) == started["serverTime"] + 600_000 - 300_000 + MINUTE


async def test_add_time_to_a_waiting_clock_of_a_running_game_leaves_the_running_one_alone(h: Harness) -> None:
    g = await h.running_game(2)
    started = await h.state(g.gid)
    h.clock.offset_ms = 1_000

    c = await h.commits(g.gid, "adminAddTime", h.store.admin_add_time(g.gid, g.host, new_aid(), 2, MINUTE))

    charged = c.state["serverTime"] - started["serverTime"]
    assert [p["timeRemaining"] for p in c.state["players"]] == [600_000 - charged, 660_000]
    assert await h.due(g.gid) == started["serverTime"] + 600_000 - 300_000


async def test_add_time_to_a_clock_that_ran_out_commits_the_timeout_before_adding(h: Harness) -> None:
    g = await h.running_game(2, initial_time=2_000, thresholds=(1_000,))
    h.clock.offset_ms = 3_000

    c = await h.commits(g.gid, "adminAddTime", h.store.admin_add_time(g.gid, g.host, new_aid(), 1, MINUTE))

    assert c.events == [
        {"type": "warning", "data": {"playerId": 1, "threshold": 1_000}},
        {"type": "timeout", "data": {"playerId": 1}},
    ]
    assert c.state["status"] == "paused"
    assert (player(c.state, 1)["timeRemaining"], player(c.state, 1)["penalties"]) == (MINUTE, 1)


async def test_add_time_accepts_fractions_of_minutes_as_whole_milliseconds(h: Harness) -> None:
    g = await h.new_game()

    c = await h.commits(g.gid, "adminAddTime", h.store.admin_add_time(g.gid, g.host, new_aid(), 1, 90_000))

    assert player(c.state, 1)["timeRemaining"] == 690_000


async def test_add_time_is_capped_at_24_hours(h: Harness) -> None:
    g = await h.new_game(initial_time=86_000_000)

    c = await h.commits(g.gid, "adminAddTime", h.store.admin_add_time(g.gid, g.host, new_aid(), 1, 60 * MINUTE))

    assert player(c.state, 1)["timeRemaining"] == 86_400_000


async def test_add_time_to_a_clock_already_at_24_hours_is_a_noop(h: Harness) -> None:
    g = await h.new_game(initial_time=86_400_000)
    h.clock.offset_ms = 1_000

    await h.quiet(g.gid, "noop", h.store.admin_add_time(g.gid, g.host, new_aid(), 1, MINUTE))


async def test_add_time_to_an_eliminated_player_is_allowed(h: Harness) -> None:
    g = await h.running_game(3)
    await h.store.eliminate(g.gid, g.host, new_aid(), 3)

    c = await h.commits(g.gid, "adminAddTime", h.store.admin_add_time(g.gid, g.host, new_aid(), 3, MINUTE))

    assert (player(c.state, 3)["timeRemaining"], player(c.state, 3)["isEliminated"]) == (660_000, True)


async def test_add_time_by_a_seated_player_fails(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "alice", 1)

    await h.fails(g.gid, "NOT_OWNER_ADMIN", h.store.admin_add_time(g.gid, "alice", new_aid(), 1, MINUTE))


async def test_add_time_by_a_spectator_fails(h: Harness) -> None:
    g = await h.new_game()

    await h.fails(g.gid, "NOT_OWNER_ADMIN", h.store.admin_add_time(g.gid, "watcher", new_aid(), 1, MINUTE))


async def test_add_time_to_a_player_that_does_not_exist_fails(h: Harness) -> None:
    g = await h.new_game()

    await h.fails(g.gid, "PLAYER_NOT_FOUND", h.store.admin_add_time(g.gid, g.host, new_aid(), 3, MINUTE))


async def test_add_time_in_a_missing_game_fails(h: Harness) -> None:
    gid = keys.new_game_id()

    await h.fails(gid, "GAME_NOT_FOUND", h.store.admin_add_time(gid, "host", new_aid(), 1, MINUTE))


@pytest.mark.parametrize("ms", ["59999", "3600001", "60000.5", "x", ""])
async def test_add_time_refuses_an_amount_outside_one_to_sixty_minutes(h: Harness, ms: str) -> None:
    g = await h.new_game()

    await h.raw_fails(
        g.gid, "INVALID_ARGUMENT", h.run_script("admin_add_time", g.gid, 1, ms, action_id=new_aid(), client_id=g.host)
    )


async def test_add_time_retried_with_the_same_action_id_applies_once(h: Harness) -> None:
    g = await h.new_game()
    aid = new_aid()
    first = await h.store.admin_add_time(g.gid, g.host, aid, 1, MINUTE)

    out = await h.quiet(g.gid, "dup", h.store.admin_add_time(g.gid, g.host, aid, 1, MINUTE))

    assert out.state_json == first.state_json
    assert player(out.state, 1)["timeRemaining"] == 660_000
