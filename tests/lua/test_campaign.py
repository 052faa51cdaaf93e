"""Campaign mode (HEAD B6.10) on both engines: each preset's round 1; damage attributed to the
acting player and scored (the Wastelands example: 3, 7, 13 points); a round's end moving the
same table into the next round with its seats and tokens (C10); the campaign decided by its
preset's rule, completed and announced once (C9), early for best_of / first_to; reset
restarting the round (C11); revive with the preset's life; refusals with nothing written."""

from __future__ import annotations

import json
from typing import Any

import pytest

from service import keys
from service.campaign import PRESETS
from service.errors import InvalidInput
from service.game import new_token, token_digest
from service.protocol import GameSettings, create_settings
from tests.support.lua_harness import HOST, TOKEN_MS, Commit, Game, Harness, new_aid, player

MINUTE = 60_000


async def campaign(
    h: Harness, preset: str, players: int = 2, *, bonus: int | None = 30_000, penalty_type: str = "warning"
) -> Game:
    settings = GameSettings(
        players,
        penalty_type=penalty_type,
        name="Campaign",
        mode="campaign",
        bonus_time=bonus,
        campaign_preset=preset,
    )
    gid, token, out = await h.store.create(HOST, settings, new_aid())
    assert out.status == "ok"
    return Game(gid, token)


def cp(state: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = state["campaign"]
    return found


def events_of(c: Commit, kind: str) -> list[dict[str, Any]]:
    return [e for e in c.events if e["type"] == kind]


async def life(h: Harness, g: Game, pid: int, value: int) -> Commit:
    """The host sets a player's life (the acting player is whoever the state says acts)."""
    return await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), pid, {"life": value}))


async def win_round(h: Harness, g: Game, winner: int) -> Commit:
    """Starts the round and eliminates everyone but `winner`: the last commit, the one that ended it."""
    await h.store.start(g.gid, g.host, new_aid())
    st = await h.state(g.gid)
    losers = [p["id"] for p in st["players"] if p["id"] != winner and not p["isEliminated"]]
    for pid in losers[:-1]:
        await h.store.eliminate(g.gid, g.host, new_aid(), pid)
    return await h.commits(g.gid, "eliminate", h.store.eliminate(g.gid, g.host, new_aid(), losers[-1]))


# -- setup -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "preset, rounds, time, life, hand",
    [
        ("standard", 5, 10 * MINUTE, 20, None),
        ("blitz", 7, 5 * MINUTE, 20, None),
        ("endurance", 10, 15 * MINUTE, 20, None),
        ("wastelands", 3, 6 * MINUTE, 10, 5),
    ],
)
async def test_each_preset_sets_up_round_one(
    h: Harness, preset: str, rounds: int, time: int, life: int, hand: int | None
) -> None:
    settings = GameSettings(3, name="Campaign", mode="campaign", bonus_time=5_000, campaign_preset=preset)
    gid = keys.new_game_id(b"campaign" + bytes(2))

    c = await h.commits(gid, "create", h.store.create(HOST, settings, new_aid(), seed=b"campaign"))

    st = c.state
    assert (st["mode"], st["status"], st["settings"]["initialTime"]) == ("campaign", "waiting", time)
    assert [(p["timeRemaining"], p["life"]) for p in st["players"]] == [(time, life)] * 3
    # a preset's own bonus replaces the create's; the others keep it
    assert st["settings"]["bonusTime"] == (30_000 if preset == "wastelands" else 5_000)
    expected = {
        "preset": preset,
        "config": PRESETS[preset].to_config(),
        "currentRound": 1,
        "maxRounds": rounds,
        "status": "in_progress",
        "winner": None,
        "playerStats": {
            str(i): {
                "wins": 0,
                "losses": 0,
                "totalTimeUsed": 0,
                "penalties": 0,
                "eliminations": 0,
                "accumulatedPoints": 0,
            }
            for i in (1, 2, 3)
        },
        "damageTracker": {},
        "playerPoints": {"1": 0, "2": 0, "3": 0},
        "playerLevels": {"1": 1, "2": 1, "3": 1},
        "playerNames": {"1": "Player 1", "2": "Player 2", "3": "Player 3"},
        "history": [],
    }
    if hand is not None:
        expected["handSize"] = hand
    assert cp(st) == expected
    # an empty tracker is an object and the history an array on both engines (cjson writes
    # an empty table as {} on Redis, fakeredis as [])
    assert '"damageTracker":{}' in c.out.state_json and '"history":[]' in c.out.state_json


async def test_a_casual_game_has_no_campaign(h: Harness) -> None:
    g = await h.new_game()

    assert "campaign" not in await h.state(g.gid)


def test_the_service_refuses_an_unknown_preset_and_defaults_to_standard() -> None:
    with pytest.raises(InvalidInput) as info:
        create_settings({"settings": {"mode": "campaign", "campaignPreset": "bogus"}})
    assert info.value.message == "Unknown campaign preset: bogus (one of standard, blitz, endurance, wastelands)"
    with pytest.raises(InvalidInput):
        create_settings({"settings": {"mode": "campaign", "campaignPreset": 3}})

    assert create_settings({"settings": {"mode": "campaign"}}).campaign_preset == "standard"
    # HEAD kept a casual game's preset where nothing read it: checked, then not played
    assert create_settings({"settings": {"mode": "casual", "campaignPreset": "blitz"}}).campaign_preset is None


# -- refusals --------------------------------------------------------------------------------

BASE: dict[str, Any] = {
    "playerCount": 2,
    "initialTime": 600_000,
    "warningThresholds": [60_000],
    "penaltyType": "warning",
    "penaltyTimeDeduction": 0,
    "name": "Campaign",
    "mode": "campaign",
    "listed": True,
    "bonusTime": 30_000,
}


def with_config(**changes: Any) -> dict[str, Any]:
    cfg = {**PRESETS["wastelands"].to_config(), **changes}
    return {**BASE, "campaign": {"preset": "wastelands", "config": {k: v for k, v in cfg.items() if v is not None}}}


def scoring(**changes: Any) -> dict[str, Any]:
    return {**PRESETS["wastelands"].to_config()["scoring"], **changes}


@pytest.mark.parametrize(
    "settings",
    [
        dict(BASE),
        {**BASE, "mode": "casual", "campaign": {"preset": "standard", "config": PRESETS["standard"].to_config()}},
        {**BASE, "campaign": {"preset": "Wastelands!", "config": PRESETS["wastelands"].to_config()}},
        {**BASE, "campaign": {"preset": "wastelands"}},
        with_config(rounds=11),
        with_config(rounds=0),
        with_config(timePerRound=0),
        with_config(minTime=6 * MINUTE + 1),
        with_config(timeDecrease=-1),
        with_config(startingLife=0),
        with_config(bonusTime=300_001),
        with_config(winCondition="most_fun"),
        with_config(winTarget=2),
        with_config(name=""),
        with_config(startingHandSize=100),
        with_config(extra=1),
        with_config(scoring=scoring(playerMultipliers=[0, 1, 1.5, 2, 2.5, 3, 3.5])),
        with_config(scoring=scoring(battleMultipliers=[1] * 11)),
        with_config(scoring=scoring(levelThresholds=[10, 10])),
        with_config(scoring=scoring(levelThresholds=[10.5])),
        with_config(scoring=scoring(bonus=1)),
        {
            **with_config(),
            "campaign": {"preset": "standard", "config": {**PRESETS["standard"].to_config(), "winTarget": 6}},
        },
        {
            **with_config(),
            "campaign": {"preset": "standard", "config": {**PRESETS["standard"].to_config(), "winTarget": None}},
        },
    ],
)
async def test_create_refuses_a_campaign_out_of_bounds_and_writes_nothing(h: Harness, settings: dict[str, Any]) -> None:
    gid = keys.new_game_id()
    settings = json.loads(json.dumps(settings))
    if isinstance(settings.get("campaign", {}).get("config"), dict):
        settings["campaign"]["config"] = {k: v for k, v in settings["campaign"]["config"].items() if v is not None}

    await h.raw_fails(
        gid,
        "INVALID_ARGUMENT",
        h.run_script("create", gid, json.dumps(settings), token_digest(new_token()), TOKEN_MS, client_id=HOST),
    )

    assert await h.client.dbsize() == 0


# -- damage and scoring ----------------------------------------------------------------------


async def test_the_active_player_is_credited_with_a_loss_of_life(h: Harness) -> None:
    g = await campaign(h, "wastelands", 3)
    await h.store.start(g.gid, g.host, new_aid())

    c = await life(h, g, 2, 7)

    assert (cp(c.state)["damageTracker"], cp(c.state)["playerPoints"]) == ({"1": {"2": 3}}, {"1": 3, "2": 0, "3": 0})
    c = await life(h, g, 2, 5)
    assert cp(c.state)["damageTracker"] == {"1": {"2": 5}}


async def test_the_interrupter_holding_priority_is_credited_before_the_active_player(h: Harness) -> None:
    g = await campaign(h, "wastelands", 3)
    await h.claim(g, "carol", 3)
    await h.store.start(g.gid, g.host, new_aid())
    await h.store.interrupt(g.gid, "carol", new_aid())

    c = await life(h, g, 2, 6)

    assert cp(c.state)["damageTracker"] == {"3": {"2": 4}}


async def test_while_targets_resolve_the_player_who_targeted_them_is_credited(h: Harness) -> None:
    g = await campaign(h, "wastelands", 3)
    await h.store.start(g.gid, g.host, new_aid())
    # the state as the targeting scripts leave it while player 3's targets resolve
    st = await h.state(g.gid)
    st.update(targetingState="resolving", targetedPlayers=[2], awaitingPriority=[2], originalActivePlayer=3)
    await h.client.hset(keys.game(g.gid), "state", json.dumps(st))

    c = await life(h, g, 2, 9)

    assert cp(c.state)["damageTracker"] == {"3": {"2": 1}}


async def test_self_damage_a_gain_and_damage_outside_a_running_round_score_nothing(h: Harness) -> None:
    g = await campaign(h, "wastelands", 3)
    c = await life(h, g, 2, 5)
    assert (cp(c.state)["damageTracker"], cp(c.state)["playerPoints"]["1"]) == ({}, 0)
    await h.store.start(g.gid, g.host, new_aid())

    c = await life(h, g, 1, 4)
    assert cp(c.state)["damageTracker"] == {}
    c = await life(h, g, 3, 12)
    assert cp(c.state)["damageTracker"] == {}
    await h.store.pause(g.gid, g.host, new_aid())
    c = await life(h, g, 3, 1)
    assert cp(c.state)["damageTracker"] == {}
    assert '"damageTracker":{}' in c.out.state_json


async def test_a_rename_is_remembered_by_the_campaign(h: Harness) -> None:
    g = await campaign(h, "standard")

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 2, {"name": "Bea"}))

    assert cp(c.state)["playerNames"] == {"1": "Player 1", "2": "Bea"}


async def test_wastelands_three_damage_a_round_against_one_opponent_scores_3_then_7_then_13(h: Harness) -> None:
    g = await campaign(h, "wastelands", 2)
    points, levels, hands = [], [], []
    for rnd in (1, 2, 3):
        await h.store.start(g.gid, g.host, new_aid())
        c = await life(h, g, 2, 7)
        points.append(cp(c.state)["playerPoints"]["1"])
        levels.append(cp(c.state)["playerLevels"]["1"])
        hands.append(cp(c.state)["handSize"])
        assert cp(c.state)["currentRound"] == rnd
        end = await h.commits(g.gid, "eliminate", h.store.eliminate(g.gid, g.host, new_aid(), 2))

    assert (points, levels, hands) == ([3, 7, 13], [1, 1, 2], [5, 6, 7])
    final = cp(end.state)
    assert (final["status"], final["winner"], final["playerPoints"], final["damageTracker"]) == (
        "completed",
        1,
        {"1": 13, "2": 0},
        {},
    )
    assert [r["players"]["1"]["points"] for r in final["history"]] == [3, 7, 13]
    assert final["playerStats"]["1"]["accumulatedPoints"] == 13


async def test_wastelands_multiplies_by_distinct_targets_and_levels_by_threshold(h: Harness) -> None:
    g = await campaign(h, "wastelands", 4)
    await h.store.start(g.gid, g.host, new_aid())

    c = await life(h, g, 2, 1)
    assert (cp(c.state)["playerPoints"]["1"], cp(c.state)["playerLevels"]["1"]) == (9, 1)
    c = await life(h, g, 2, 0)
    # the blow that eliminates counts: 10 points reach the first threshold
    assert (cp(c.state)["playerPoints"]["1"], cp(c.state)["playerLevels"]["1"]) == (10, 2)
    c = await life(h, g, 3, 5)
    # 15 damage over two targets: x1.5
    assert (cp(c.state)["playerPoints"]["1"], cp(c.state)["playerLevels"]["1"]) == (22, 2)
    c = await life(h, g, 4, 4)
    # 21 over three: x2 = 42, past 25
    assert (cp(c.state)["playerPoints"]["1"], cp(c.state)["playerLevels"]["1"]) == (42, 3)
    c = await life(h, g, 4, -999)
    assert (cp(c.state)["playerPoints"]["1"], cp(c.state)["playerLevels"]["1"]) == (2048, 6)


async def test_a_preset_without_scoring_counts_the_damage_dealt(h: Harness) -> None:
    g = await campaign(h, "standard", 3)
    await h.store.start(g.gid, g.host, new_aid())
    await life(h, g, 2, 15)

    c = await life(h, g, 3, 12)

    assert (cp(c.state)["playerPoints"], cp(c.state)["playerLevels"]) == (
        {"1": 13, "2": 0, "3": 0},
        {"1": 1, "2": 1, "3": 1},
    )


# -- rounds ----------------------------------------------------------------------------------


async def test_a_round_ends_into_the_next_with_the_same_seats_tokens_names_and_colours(h: Harness) -> None:
    g = await campaign(h, "standard", 3)
    alice = await h.claim(g, "alice", 1)
    bob = await h.claim(g, "bob", 2)
    await h.store.update_player(g.gid, "alice", new_aid(), 1, {"name": "Alice", "color": "teal"})
    await h.store.start(g.gid, g.host, new_aid())
    h.clock.offset_ms = 25_000
    await h.store.add_penalty(g.gid, g.host, new_aid(), 1)
    await h.store.interrupt(g.gid, "bob", new_aid())
    await life(h, g, 3, 12)
    tokens = {k: v for k, v in (await h.fields(g.gid)).items() if k != "state"}
    await h.store.eliminate(g.gid, g.host, new_aid(), 3)
    h.clock.offset_ms = 40_000

    c = await h.commits(g.gid, "eliminate", h.store.eliminate(g.gid, g.host, new_aid(), 2))

    st = c.state
    # the round's gameComplete, then the state of the next round (HEAD: state, gameComplete, state)
    # the round's summary: Alice's clock ran to the interrupt at 25 s, Bob's from then on (the
    # time the round's history records)
    round_used = [cp(st)["history"][0]["players"][str(i)]["timeUsed"] for i in (1, 2, 3)]
    summary = [{"playerId": i, "timeUsed": round_used[i - 1], "turns": t} for i, t in ((1, 1), (2, 0), (3, 0))]
    assert c.events == [{"type": "gameComplete", "data": {"winnerId": 1, "winnerName": "Alice", "summary": summary}}]
    # and the next round counts from no turn
    assert (st["turn"], st["round"], [(p["timeUsed"], p["turns"]) for p in st["players"]]) == (0, 0, [(0, 0)] * 3)
    assert (st["status"], st["activePlayer"], st["winner"], st["settings"]["initialTime"]) == (
        "waiting",
        None,
        None,
        9 * MINUTE,
    )
    assert (st["interruptingPlayers"], st["targetingState"], st["awaitingPriority"]) == ([], "none", [])
    assert [
        (p["name"], p["claimedBy"], p["color"], p["timeRemaining"], p["life"], p["penalties"], p["isEliminated"])
        for p in st["players"]
    ] == [
        ("Alice", "alice", "teal", 9 * MINUTE, 20, 0, False),
        ("Player 2", "bob", None, 9 * MINUTE, 20, 0, False),
        ("Player 3", None, None, 9 * MINUTE, 20, 0, False),
    ]
    assert {k: v for k, v in (await h.fields(g.gid)).items() if k != "state"} == tokens
    camp = cp(st)
    assert (camp["currentRound"], camp["status"], camp["damageTracker"]) == (2, "in_progress", {})
    [row] = camp["history"]
    used = {k: r.pop("timeUsed") for k, r in row["players"].items()}
    assert row == {
        "round": 1,
        "winner": 1,
        "players": {
            "1": {"penalties": 1, "isEliminated": False, "points": 0},
            "2": {"penalties": 0, "isEliminated": True, "points": 8},
            "3": {"penalties": 0, "isEliminated": True, "points": 0},
        },
    }
    # player 1's clock ran 25 s until bob's interrupt, then bob's 15 s until the end (and the
    # few ms the test itself takes)
    assert 25_000 <= used["1"] < 26_000 and 15_000 <= used["2"] < 16_000 and used["3"] == 0
    stats = camp["playerStats"]
    assert [
        (stats[k]["wins"], stats[k]["losses"], stats[k]["totalTimeUsed"], stats[k]["penalties"]) for k in "123"
    ] == [
        (1, 0, used["1"], 1),
        (0, 1, used["2"], 0),
        (0, 1, 0, 0),
    ]
    assert camp["playerPoints"] == {"1": 0, "2": 8, "3": 0}
    assert stats["2"]["accumulatedPoints"] == 8

    # C10: the round-1 token still reconnects in round 2, from a new connection
    c = await h.commits(g.gid, "reconnect", h.store.reconnect(g.gid, "alice-2", new_aid(), 1, alice, None))
    assert player(c.state, 1)["claimedBy"] == "alice-2"
    await h.store.reconnect(g.gid, "bob-2", new_aid(), 2, bob, None)
    out = await h.store.start(g.gid, "bob-2", new_aid())
    assert (out.state["status"], out.state["activePlayer"]) == ("running", 1)


async def test_the_round_clock_decreases_to_the_floor_and_first_to_needs_four_wins(h: Harness) -> None:
    g = await campaign(h, "blitz", 2)
    times = []
    for rnd in range(1, 8):
        st = await h.state(g.gid)
        times.append(st["settings"]["initialTime"])
        assert [p["timeRemaining"] for p in st["players"]] == [times[-1]] * 2
        c = await win_round(h, g, 1 if rnd % 2 else 2)
        if rnd < 7:
            assert (cp(c.state)["status"], events_of(c, "campaignComplete")) == ("in_progress", [])

    assert times == [300_000, 270_000, 240_000, 210_000, 180_000, 150_000, 120_000]
    assert cp(c.state)["status"] == "completed"
    assert events_of(c, "campaignComplete")[0]["data"]["winner"] == 1


@pytest.mark.parametrize("preset, target", [("standard", 3), ("blitz", 4)])
async def test_best_of_and_first_to_complete_as_soon_as_someone_reaches_the_target(
    h: Harness, preset: str, target: int
) -> None:
    g = await campaign(h, preset, 2)
    for _ in range(target - 1):
        c = await win_round(h, g, 2)
        assert events_of(c, "campaignComplete") == []

    c = await win_round(h, g, 2)

    camp = cp(c.state)
    assert (camp["status"], camp["winner"], camp["currentRound"], len(camp["history"])) == (
        "completed",
        2,
        target,
        target,
    )
    assert c.state["status"] == "finished"
    assert [e["type"] for e in c.events] == ["campaignComplete", "gameComplete"]
    assert c.events[0]["data"] == {"winner": 2, "stats": camp["playerStats"], "history": camp["history"]}


async def test_the_last_round_decides_the_campaign_once_and_it_stays_decided(h: Harness) -> None:
    """C9: HEAD's advanceRound short-circuited past the win check after the last round, so
    campaignComplete carried no winner and the campaign stayed in_progress."""
    g = await campaign(h, "wastelands", 2)
    for _ in range(2):
        await win_round(h, g, 1)
    await h.store.start(g.gid, g.host, new_aid())
    await life(h, g, 2, 9)

    c = await h.commits(g.gid, "eliminate", h.store.eliminate(g.gid, g.host, new_aid(), 2))

    assert [e["type"] for e in c.events] == ["campaignComplete", "gameComplete"]
    assert c.events[0]["data"]["winner"] == 1
    assert (c.state["status"], c.state["winner"], cp(c.state)["status"], cp(c.state)["winner"]) == (
        "finished",
        1,
        "completed",
        1,
    )
    await h.fails(g.gid, "GAME_FINISHED", h.store.eliminate(g.gid, g.host, new_aid(), 1))
    await h.fails(g.gid, "GAME_FINISHED", h.store.admin_revive(g.gid, g.host, new_aid(), 2))
    await h.fails(g.gid, "GAME_FINISHED", h.store.start(g.gid, g.host, new_aid()))
    c = await life(h, g, 1, 0)
    assert (c.events, cp(c.state)["status"]) == ([], "completed")


async def test_a_tie_after_the_last_round_is_a_draw(h: Harness) -> None:
    g = await campaign(h, "standard", 3)
    for winner in (1, 2, 1, 2):
        await win_round(h, g, winner)

    c = await win_round(h, g, 3)

    assert [cp(c.state)["playerStats"][k]["wins"] for k in "123"] == [2, 2, 1]
    assert (cp(c.state)["status"], cp(c.state)["winner"]) == ("completed", None)
    assert events_of(c, "campaignComplete")[0]["data"]["winner"] is None


async def test_endurance_goes_to_the_least_time_used_over_ten_rounds(h: Harness) -> None:
    g = await campaign(h, "endurance", 2)
    offset = 0
    for rnd in range(1, 11):
        await h.store.start(g.gid, g.host, new_aid())
        # player 1 wins every round, and uses 10 s of its clock in each
        offset += 10_000
        h.clock.offset_ms = offset
        c = await h.commits(g.gid, "eliminate", h.store.eliminate(g.gid, g.host, new_aid(), 2))
        assert len(events_of(c, "campaignComplete")) == (1 if rnd == 10 else 0)

    camp = cp(c.state)
    stats = camp["playerStats"]
    assert [stats[k]["wins"] for k in "12"] == [10, 0]
    # 10 s a round, and the few ms the test itself takes
    assert 100_000 <= stats["1"]["totalTimeUsed"] < 101_000 and stats["2"]["totalTimeUsed"] == 0
    assert (camp["status"], camp["winner"], len(camp["history"])) == ("completed", 2, 10)


async def test_a_game_loss_timeout_that_ends_a_round_starts_the_next_with_full_clocks(h: Harness) -> None:
    g = await campaign(h, "standard", 2, penalty_type="game_loss")
    await h.store.start(g.gid, g.host, new_aid())
    h.clock.offset_ms = 10 * MINUTE + 1_000

    c = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))

    assert [e["type"] for e in c.events][-2:] == ["timeout", "gameComplete"]
    assert (c.state["status"], cp(c.state)["currentRound"]) == ("waiting", 2)
    assert [p["timeRemaining"] for p in c.state["players"]] == [9 * MINUTE] * 2
    assert cp(c.state)["history"][0]["players"]["1"] == {
        "timeUsed": 10 * MINUTE,
        "penalties": 1,
        "isEliminated": True,
        "points": 0,
    }
    assert await h.due(g.gid) is None


# -- reset and revive ------------------------------------------------------------------------


async def test_reset_mid_campaign_restarts_the_round_and_keeps_what_came_before(h: Harness) -> None:
    """C11: HEAD's reset kept the winner and dropped claims and names."""
    g = await campaign(h, "wastelands", 3)
    await h.claim(g, "alice", 1)
    await h.store.start(g.gid, g.host, new_aid())
    await life(h, g, 2, 7)
    await win_round(h, g, 1)
    await h.store.start(g.gid, g.host, new_aid())
    await life(h, g, 3, 2)
    await h.store.eliminate(g.gid, g.host, new_aid(), 3)
    before = cp(await h.state(g.gid))

    c = await h.commits(g.gid, "reset", h.store.reset(g.gid, g.host, new_aid()))

    st, camp = c.state, cp(c.state)
    assert (st["status"], st["winner"], st["activePlayer"], st["settings"]["initialTime"]) == (
        "waiting",
        None,
        None,
        6 * MINUTE,
    )
    assert [(p["life"], p["isEliminated"], p["claimedBy"]) for p in st["players"]] == [
        (10, False, "alice"),
        (10, False, None),
        (10, False, None),
    ]
    assert (camp["currentRound"], camp["damageTracker"], camp["history"]) == (2, {}, before["history"])
    assert camp["playerStats"] == before["playerStats"]
    # round 2's damage (8 x 1.5 = 12) is undone; round 1's 3 points stay
    assert before["playerPoints"]["1"] == 15
    assert camp["playerPoints"] == {"1": 3, "2": 0, "3": 0}


async def test_reset_of_a_completed_campaign_starts_it_again_from_round_one(h: Harness) -> None:
    g = await campaign(h, "standard", 2)
    await h.claim(g, "alice", 1)
    for _ in range(3):
        await win_round(h, g, 1)

    c = await h.commits(g.gid, "reset", h.store.reset(g.gid, g.host, new_aid()))

    camp = cp(c.state)
    assert (camp["status"], camp["winner"], camp["currentRound"], camp["history"]) == ("in_progress", None, 1, [])
    assert [s["wins"] for s in camp["playerStats"].values()] == [0, 0]
    assert (c.state["status"], c.state["settings"]["initialTime"], player(c.state, 1)["claimedBy"]) == (
        "waiting",
        10 * MINUTE,
        "alice",
    )


async def test_revive_in_a_campaign_gives_the_presets_starting_life(h: Harness) -> None:
    g = await campaign(h, "wastelands", 3)
    await h.store.start(g.gid, g.host, new_aid())
    await life(h, g, 2, 0)

    c = await h.commits(g.gid, "adminRevive", h.store.admin_revive(g.gid, g.host, new_aid(), 2))

    assert (player(c.state, 2)["life"], player(c.state, 2)["isEliminated"]) == (10, False)
