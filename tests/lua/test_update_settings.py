from __future__ import annotations

from typing import Any

import pytest

from service import keys
from service.formats import LossRules
from service.protocol import GameSettings, TimeoutRules
from tests.support.formats import format_game
from tests.support.lua_harness import HOST, Game, Harness, new_aid, player


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
        {"format": "vintage"},
        {"format": 1},
        {"startingLife": 0},
        {"startingLife": 10_000},
        {"startingLife": 2.5},
        {"lossRules": {}},
        {"lossRules": {"life": 1}},
        {"lossRules": {"mill": True}},
        {"lossRules": [True]},
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


# -- the format settings (lib/formats.lua update_format) -------------------------------------


async def test_a_format_change_while_waiting_sets_its_rules_and_everyones_life(h: Harness) -> None:
    g = await h.new_game(4)
    await h.store.update_player(g.gid, g.host, new_aid(), 2, {"life": 7, "poison": 4, "energy": 3})
    updates = {
        "format": "commander",
        "startingLife": 40,
        "lossRules": {"life": True, "poison": True, "commanderDamage": True},
    }

    c = await h.commits(g.gid, "updateSettings", h.store.update_settings(g.gid, g.host, new_aid(), updates))

    s = c.state["settings"]
    assert (s["format"], s["startingLife"], s["lossRules"]) == ("commander", 40, updates["lossRules"])
    assert [(p["life"], p["poison"], p["energy"]) for p in c.state["players"]] == [
        (40, 0, 0),
        (40, 0, 3),
        (40, 0, 0),
        (40, 0, 0),
    ]


async def test_a_starting_life_alone_sets_everyones_life_and_keeps_the_poison(h: Harness) -> None:
    g = await h.new_game(2)
    await h.store.update_player(g.gid, g.host, new_aid(), 1, {"poison": 4})

    c = await h.commits(
        g.gid, "updateSettings", h.store.update_settings(g.gid, g.host, new_aid(), {"startingLife": 33})
    )

    assert c.state["settings"]["format"] == "standard"
    assert [(p["life"], p["poison"]) for p in c.state["players"]] == [(33, 4), (33, 0)]


async def test_loss_rules_named_alone_keep_the_others_and_every_life(h: Harness) -> None:
    g = await format_game(h, "commander", 2)
    await h.store.update_player(g.gid, g.host, new_aid(), 1, {"life": 12})

    c = await h.commits(
        g.gid, "updateSettings", h.store.update_settings(g.gid, g.host, new_aid(), {"lossRules": {"poison": False}})
    )

    assert c.state["settings"]["lossRules"] == {"life": True, "poison": False, "commanderDamage": True}
    assert [p["life"] for p in c.state["players"]] == [12, 40]


@pytest.mark.parametrize("status", ["running", "paused", "finished"])
async def test_the_format_is_locked_once_the_game_started(h: Harness, status: str) -> None:
    g = await h.running_game(2)
    if status == "paused":
        await h.store.pause(g.gid, g.host, new_aid())
    if status == "finished":
        await h.store.eliminate(g.gid, g.host, new_aid(), 2)

    for updates in ({"format": "brawl", "startingLife": 25}, {"startingLife": 30}, {"lossRules": {"life": False}}):
        await h.fails(g.gid, "FORMAT_LOCKED", h.store.update_settings(g.gid, g.host, new_aid(), updates))


async def test_a_reset_game_may_change_its_format_again(h: Harness) -> None:
    g = await h.running_game(2)
    await h.store.reset(g.gid, g.host, new_aid())

    c = await h.commits(
        g.gid, "updateSettings", h.store.update_settings(g.gid, g.host, new_aid(), {"startingLife": 50})
    )

    assert [p["life"] for p in c.state["players"]] == [50, 50]


async def test_a_campaign_refuses_the_format_settings(h: Harness) -> None:
    settings = GameSettings(2, name="Campaign", mode="campaign", campaign_preset="standard")
    gid, _, _ = await h.store.create(HOST, settings, new_aid())

    await h.fails(gid, "FORMAT_CAMPAIGN", h.store.update_settings(gid, HOST, new_aid(), {"startingLife": 30}))


@pytest.mark.parametrize("count", [2, 3, 5, 7])
async def test_two_headed_giant_needs_an_even_table_of_four_to_eight(h: Harness, count: int) -> None:
    g = await h.new_game(count)
    updates = {"format": "twoHeadedGiant", "startingLife": 30, "lossRules": LossRules().to_settings()}

    await h.fails(g.gid, "TEAMS_NEED_EVEN_PLAYERS", h.store.update_settings(g.gid, g.host, new_aid(), updates))


async def test_a_change_to_two_headed_giant_makes_teams_that_share_life(h: Harness) -> None:
    g = await h.new_game(4)
    updates = {"format": "twoHeadedGiant", "startingLife": 30, "lossRules": LossRules().to_settings()}
    await h.commits(g.gid, "updateSettings", h.store.update_settings(g.gid, g.host, new_aid(), updates))

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 1, {"life": 28}))

    assert [p["life"] for p in c.state["players"]] == [28, 28, 30, 30]


async def test_the_format_settings_by_a_player_are_refused(h: Harness) -> None:
    g = await h.new_game(2)
    await h.claim(g, "alice", 1)

    await h.fails(g.gid, "NOT_OWNER_SETTINGS", h.store.update_settings(g.gid, "alice", new_aid(), {"startingLife": 30}))


# -- the time control ---------------------------------------------------------------------


async def test_the_time_control_changes_while_waiting_whole_or_by_its_amounts(h: Harness) -> None:
    g = await h.new_game()
    cap = {"timeControl": "turnCap", "timeControlMs": 60_000, "turnCapWarningMs": 10_000}

    c = await h.commits(g.gid, "updateSettings", h.store.update_settings(g.gid, g.host, new_aid(), cap))
    assert {k: c.state["settings"].get(k) for k in cap} == cap
    d = await h.commits(
        g.gid, "updateSettings", h.store.update_settings(g.gid, g.host, new_aid(), {"timeControlMs": 30_000})
    )
    assert (d.state["settings"]["timeControlMs"], d.state["settings"]["turnCapWarningMs"]) == (30_000, 10_000)
    # a control named whole replaces the cap's warning too
    e = await h.commits(
        g.gid,
        "updateSettings",
        h.store.update_settings(g.gid, g.host, new_aid(), {"timeControl": "fischer", "timeControlMs": 5_000}),
    )
    s = e.state["settings"]
    assert (s["timeControl"], s["timeControlMs"], "turnCapWarningMs" in s) == ("fischer", 5_000, False)
    f = await h.commits(
        g.gid, "updateSettings", h.store.update_settings(g.gid, g.host, new_aid(), {"timeControl": "suddenDeath"})
    )
    assert (f.state["settings"]["timeControl"], "timeControlMs" in f.state["settings"]) == ("suddenDeath", False)


async def test_the_time_control_is_locked_once_the_game_has_started(h: Harness) -> None:
    g = await h.running_game()
    update = {"timeControl": "bronstein", "timeControlMs": 5_000}

    await h.fails(g.gid, "TIME_CONTROL_LOCKED", h.store.update_settings(g.gid, g.host, new_aid(), update))
    await h.store.pause(g.gid, g.host, new_aid())
    await h.fails(g.gid, "TIME_CONTROL_LOCKED", h.store.update_settings(g.gid, g.host, new_aid(), update))
    await h.store.reset(g.gid, g.host, new_aid())
    await h.commits(g.gid, "updateSettings", h.store.update_settings(g.gid, g.host, new_aid(), update))


@pytest.mark.parametrize(
    ("control", "update"),
    [
        (None, {"timeControlMs": 5_000}),
        (None, {"turnCapWarningMs": 1_000}),
        ({"timeControl": "fischer", "timeControlMs": 5_000}, {"turnCapWarningMs": 1_000}),
        ({"timeControl": "turnCap", "timeControlMs": 60_000, "turnCapWarningMs": 10_000}, {"timeControlMs": 10_000}),
        ({"timeControl": "turnCap", "timeControlMs": 60_000, "turnCapWarningMs": 10_000}, {"turnCapWarningMs": 60_000}),
        (None, {"timeControl": "turnCap", "timeControlMs": 60_000}),
        (None, {"timeControl": "blitz", "timeControlMs": 60_000}),
    ],
)
async def test_amounts_that_do_not_fit_the_games_control_are_refused(
    h: Harness, control: dict[str, Any] | None, update: dict[str, Any]
) -> None:
    g = await h.new_game()
    if control is not None:
        await h.store.update_settings(g.gid, g.host, new_aid(), control)

    await h.fails(g.gid, "INVALID_TIME_CONTROL", h.store.update_settings(g.gid, g.host, new_aid(), update))


async def test_the_time_control_is_the_hosts_to_change(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "alice", 1)

    await h.fails(
        g.gid,
        "NOT_OWNER_SETTINGS",
        h.store.update_settings(g.gid, "alice", new_aid(), {"timeControl": "fischer", "timeControlMs": 5_000}),
    )


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
