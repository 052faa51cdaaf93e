from __future__ import annotations

from typing import Any

import pytest

from service import keys
from service.protocol import GameSettings, TimeoutRules
from tests.support.lua_harness import Game, Harness, new_aid, player


async def test_update_settings_changes_thresholds_and_penalty_rules(h: Harness) -> None:
    g = await h.new_game()
    aid = new_aid()
    updates = {"warningThresholds": [120_000, 5_000], "penaltyType": "time_deduction", "penaltyTimeDeduction": 15_000}

    c = await h.commits(g.gid, "updateSettings", h.store.update_settings(g.gid, g.host, aid, updates))

    assert c.before is not None
    assert c.state["settings"] == {**c.before["settings"], **updates}
    assert c.state["players"] == c.before["players"]
    assert (c.entry["a"], c.entry["c"]) == (aid, g.host)
    assert "d" not in c.entry


async def test_update_settings_changes_only_the_fields_given(h: Harness) -> None:
    g = await h.new_game(penalty_type="time_deduction", deduction=9_000)

    c = await h.commits(
        g.gid, "updateSettings", h.store.update_settings(g.gid, g.host, new_aid(), {"penaltyTimeDeduction": 0})
    )

    assert c.before is not None
    assert c.state["settings"] == {**c.before["settings"], "penaltyTimeDeduction": 0}


async def test_update_settings_never_changes_player_count_or_initial_time(h: Harness) -> None:
    g = await h.new_game()

    await h.quiet(
        g.gid,
        "noop",
        h.store.update_settings(g.gid, g.host, new_aid(), {"playerCount": 5, "initialTime": 1_000}),
    )


async def test_update_settings_with_nothing_to_change_is_a_noop(h: Harness) -> None:
    g = await h.new_game()

    await h.quiet(g.gid, "noop", h.store.update_settings(g.gid, g.host, new_aid(), {}))


async def test_new_thresholds_reschedule_the_running_clock(h: Harness) -> None:
    g = await h.running_game()
    h.clock.offset_ms = 1_000

    c = await h.commits(
        g.gid,
        "updateSettings",
        h.store.update_settings(g.gid, g.host, new_aid(), {"warningThresholds": [500_000]}),
    )

    rem = player(c.state, 1)["timeRemaining"]
    assert rem <= 599_000
    assert await h.due(g.gid) == c.state["serverTime"] + rem - 500_000


@pytest.mark.parametrize(
    "updates",
    [
        {"warningThresholds": []},
        {"warningThresholds": list(range(1, 12))},
        {"warningThresholds": [0]},
        {"warningThresholds": [86_400_001]},
        {"warningThresholds": [2.5]},
        {"warningThresholds": 1000},
        {"penaltyType": "exile"},
        {"penaltyType": 1},
        {"penaltyTimeDeduction": -1},
        {"penaltyTimeDeduction": 86_400_001},
        {"penaltyTimeDeduction": 0.5},
        {"penaltyType": "warning", "penaltyTimeDeduction": -1},
    ],
)
async def test_update_settings_rejects_values_out_of_range(h: Harness, updates: dict[str, Any]) -> None:
    g = await h.new_game()

    await h.fails(g.gid, "INVALID_ARGUMENT", h.store.update_settings(g.gid, g.host, new_aid(), updates))


async def test_update_settings_accepts_the_boundaries(h: Harness) -> None:
    g = await h.new_game()
    updates = {"warningThresholds": [1, *range(2, 10), 86_400_000], "penaltyTimeDeduction": 86_400_000}

    c = await h.commits(g.gid, "updateSettings", h.store.update_settings(g.gid, g.host, new_aid(), updates))

    assert c.state["settings"]["warningThresholds"] == updates["warningThresholds"]
    assert c.state["settings"]["penaltyTimeDeduction"] == 86_400_000


async def test_update_settings_rejects_an_update_that_is_not_an_object(h: Harness) -> None:
    g = await h.new_game()

    await h.raw_fails(
        g.gid, "INVALID_ARGUMENT", h.run_script("update_settings", g.gid, '"x"', action_id=new_aid(), client_id="host")
    )


async def test_update_settings_by_a_player_fails(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "alice", 1)

    await h.fails(
        g.gid, "NOT_OWNER_SETTINGS", h.store.update_settings(g.gid, "alice", new_aid(), {"penaltyType": "warning"})
    )


async def test_update_settings_retried_with_the_same_action_id_applies_once(h: Harness) -> None:
    g = await h.new_game()
    aid = new_aid()
    first = await h.store.update_settings(g.gid, g.host, aid, {"penaltyType": "game_loss"})

    out = await h.quiet(g.gid, "dup", h.store.update_settings(g.gid, g.host, aid, {"penaltyType": "warning"}))

    assert out.state_json == first.state_json
    assert out.state["settings"]["penaltyType"] == "game_loss"


async def test_update_settings_of_a_missing_game_fails(h: Harness) -> None:
    gid = keys.new_game_id()

    await h.fails(gid, "GAME_NOT_FOUND", h.store.update_settings(gid, "host", new_aid(), {"penaltyType": "warning"}))


# -- the timeout choice's settings ---------------------------------------------------------


async def choice_game(h: Harness) -> Game:
    gid, token, _ = await h.store.create("host", GameSettings(2, 10_000, (5_000,), timeout=TimeoutRules()), new_aid())
    return Game(gid, token)


async def test_update_settings_changes_the_timeout_choice_of_a_game_that_has_it(h: Harness) -> None:
    g = await choice_game(h)
    updates = {"timeoutPenaltyLives": 0, "timeoutPenaltyDrunk": 20, "timeoutGracePeriod": 5_000, "timeoutBonusTime": 0}

    c = await h.commits(g.gid, "updateSettings", h.store.update_settings(g.gid, g.host, new_aid(), updates))

    assert c.before is not None
    assert c.state["settings"] == {**c.before["settings"], **updates}
    d = await h.commits(
        g.gid, "updateSettings", h.store.update_settings(g.gid, g.host, new_aid(), {"timeoutBonusTime": 300_000})
    )
    assert d.state["settings"] == {**c.state["settings"], "timeoutBonusTime": 300_000}


async def test_a_new_grace_period_leaves_a_pending_choice_its_grace(h: Harness) -> None:
    g = await choice_game(h)
    await h.claim(g, "p1", 1)
    await h.store.start(g.gid, g.host, new_aid())
    h.clock.offset_ms = 10_500
    timed_out = await h.store.fire_deadline(g.gid)
    deadline = player(timed_out.state, 1)["timeoutChoiceDeadline"]

    c = await h.commits(
        g.gid, "updateSettings", h.store.update_settings(g.gid, g.host, new_aid(), {"timeoutGracePeriod": 300_000})
    )

    assert player(c.state, 1)["timeoutChoiceDeadline"] == deadline
    assert await h.due(g.gid) == deadline


async def test_update_settings_refuses_the_timeout_choice_in_a_v1_game(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "alice", 1)

    await h.fails(
        g.gid, "TIMEOUT_CHOICE_OFF", h.store.update_settings(g.gid, g.host, new_aid(), {"timeoutPenaltyLives": 1})
    )
    # the whole update is refused, the fields a v1 game has too
    both = {"bonusTime": 5_000, "timeoutBonusTime": 0}
    await h.fails(g.gid, "TIMEOUT_CHOICE_OFF", h.store.update_settings(g.gid, g.host, new_aid(), both))
    # only the host learns what the game has
    await h.fails(
        g.gid, "NOT_OWNER_SETTINGS", h.store.update_settings(g.gid, "alice", new_aid(), {"timeoutPenaltyLives": 1})
    )


@pytest.mark.parametrize(
    "updates",
    [
        {"timeoutPenaltyLives": 21},
        {"timeoutPenaltyDrunk": -1},
        {"timeoutGracePeriod": 4_999},
        {"timeoutGracePeriod": 300_001},
        {"timeoutBonusTime": 300_001},
        {"timeoutBonusTime": 2.5},
        {"timeoutPenaltyLives": "2"},
    ],
)
async def test_update_settings_refuses_timeout_settings_out_of_range(h: Harness, updates: dict[str, Any]) -> None:
    g = await choice_game(h)

    await h.fails(g.gid, "INVALID_ARGUMENT", h.store.update_settings(g.gid, g.host, new_aid(), updates))


async def test_update_settings_changes_the_host_timeout_within_its_bounds(h: Harness) -> None:
    g = await h.new_game()

    for value in (10_000, 3_600_000):
        c = await h.commits(
            g.gid, "updateSettings", h.store.update_settings(g.gid, g.host, new_aid(), {"hostTimeout": value})
        )
        assert c.state["settings"]["hostTimeout"] == value
    c = await h.commits(
        g.gid, "updateSettings", h.store.update_settings(g.gid, g.host, new_aid(), {"penaltyType": "game_loss"})
    )
    assert c.state["settings"]["hostTimeout"] == 3_600_000


@pytest.mark.parametrize("value", [9_999, 3_600_001, 15_000.5, "60000", False])
async def test_update_settings_refuses_a_host_timeout_out_of_range(h: Harness, value: Any) -> None:
    g = await h.new_game()

    await h.fails(g.gid, "INVALID_ARGUMENT", h.store.update_settings(g.gid, g.host, new_aid(), {"hostTimeout": value}))
