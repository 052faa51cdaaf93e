from __future__ import annotations

import json
from typing import Any

import pytest

from service import keys
from service.game import new_token, token_digest
from service.protocol import GameSettings, TimeControl, TimeoutRules
from tests.support.lua_harness import HOST, IDLE_RETENTION_MS, TOKEN_MS, Harness, new_aid

VALID: dict[str, Any] = {
    "playerCount": 3,
    "initialTime": 90_000,
    "warningThresholds": [30_000, 10_000],
    "penaltyType": "time_deduction",
    "penaltyTimeDeduction": 5_000,
    "name": "Game",
    "mode": "casual",
    "listed": True,
}


async def create_raw(
    h: Harness,
    gid: str,
    settings: dict[str, Any],
    action_id: str = "a1",
    host_hash: str | None = None,
    token_ms: str | int = TOKEN_MS,
) -> Any:
    return await h.run_script(
        "create",
        gid,
        json.dumps(settings),
        host_hash if host_hash is not None else token_digest(new_token()),
        token_ms,
        action_id=action_id,
        client_id=HOST,
    )


async def test_create_makes_a_waiting_game_with_the_caller_as_host(h: Harness) -> None:
    aid = new_aid()
    settings = GameSettings(3, 90_000, (30_000, 10_000), "time_deduction", 5_000)
    gid = keys.new_game_id(b"create" + bytes(2))

    c = await h.commits(gid, "create", h.store.create(HOST, settings, aid, seed=b"create"))

    st = c.state
    assert c.before is None
    assert st == {
        "id": gid,
        "name": "Game",
        "mode": "casual",
        "listed": True,
        "players": [
            {
                "id": i,
                "name": f"Player {i}",
                "timeRemaining": 90_000,
                "penalties": 0,
                "isEliminated": False,
                "claimedBy": None,
                "life": 20,
                "drunkCounter": 0,
                "genericCounter": 0,
                "color": None,
                "poison": 0,
                "energy": 0,
                "experience": 0,
                "commanderDamage": [[0, 0], [0, 0], [0, 0]],
                "eliminatedReason": None,
                # no turn yet (lib/clocks.lua)
                "timeUsed": 0,
                "turns": 0,
            }
            for i in (1, 2, 3)
        ],
        "turn": 0,
        "round": 0,
        "turnTime": 0,
        "firstPlayer": None,
        "activePlayer": None,
        "status": "waiting",
        "winner": None,
        "createdAt": st["createdAt"],
        "lastActivity": st["createdAt"],
        "serverTime": st["createdAt"],
        "runTime": 0,
        # create is a barrier of the undo stack (lib/commit.lua)
        "undoDepth": 0,
        "version": 1,
        "ownerId": HOST,
        "settings": {
            "initialTime": 90_000,
            "playerCount": 3,
            "warningThresholds": [30_000, 10_000],
            "penaltyType": "time_deduction",
            "penaltyTimeDeduction": 5_000,
            "audioEnabled": True,
            # a v1 create: standard, life and poison losing (service/formats.py)
            "format": "standard",
            "startingLife": 20,
            "lossRules": {"life": True, "poison": True, "commanderDamage": False},
        },
        # HEAD's public state (B3.4): the empty stack and target lists are arrays on both engines
        "interruptingPlayers": [],
        "targetingState": "none",
        "targetedPlayers": [],
        "awaitingPriority": [],
        "originalActivePlayer": None,
    }
    assert c.events == []
    assert c.entry == {"v": 1, "t": "create", "a": aid, "c": HOST, "at": st["createdAt"], "p": None, "h": True}
    assert await h.acts(gid) == {aid: "1"}
    assert await h.due(gid) is None


async def test_create_stores_only_the_digest_of_the_host_token(h: Harness) -> None:
    gid, token, out = await h.store.create(HOST, GameSettings(), new_aid())

    fields = await h.fields(gid)
    assert set(fields) == {"state", "host", "hostExp"}
    assert fields["host"] == token_digest(token)
    assert fields["hostExp"] == str(out.state["createdAt"] + TOKEN_MS)
    everything = json.dumps([fields, await h.log(gid), await h.acts(gid)])
    assert token not in everything


async def test_create_sets_the_idle_retention_until_someone_takes_a_seat(h: Harness) -> None:
    gid, _, _ = await h.store.create(HOST, GameSettings(), new_aid())

    await h.assert_ttl(gid, IDLE_RETENTION_MS)


async def test_create_retried_with_the_same_action_id_answers_dup_and_takes_the_new_host_token(
    h: Harness,
) -> None:
    aid = new_aid()
    gid, first_token, first = await h.store.create(HOST, GameSettings(), aid, seed=b"retry")
    before = await h.snapshot(gid)
    await h.published.drain()
    h.clock.offset_ms = 1_000

    gid2, second_token, again = await h.store.create(HOST, GameSettings(), aid, seed=b"retry")

    assert gid2 == gid
    assert again.status == "dup"
    assert again.state_json == first.state_json
    assert again.events_json == "[]"
    fields = await h.fields(gid)
    assert fields["host"] == token_digest(second_token) != token_digest(first_token)
    assert int(fields["hostExp"]) >= first.state["createdAt"] + 1_000 + TOKEN_MS
    after = await h.snapshot(gid)
    assert after[1:] == before[1:]
    assert fields["state"] == before[0]["state"]
    assert await h.published.drain() == []


async def test_create_dup_leaves_the_host_reconnecting_only_with_the_new_token(h: Harness) -> None:
    aid = new_aid()
    gid, old_token, _ = await h.store.create(HOST, GameSettings(), aid, seed=b"retry")
    _, new_token_, _ = await h.store.create(HOST, GameSettings(), aid, seed=b"retry")

    await h.fails(gid, "INVALID_HOST_TOKEN", h.store.reconnect(gid, "h2", new_aid(), None, None, old_token))
    await h.commits(gid, "reconnect", h.store.reconnect(gid, "h2", new_aid(), None, None, new_token_))


async def test_create_on_a_taken_id_with_another_action_id_fails_with_game_exists(h: Harness) -> None:
    gid = keys.new_game_id()
    await create_raw(h, gid, VALID, action_id="first")

    await h.raw_fails(gid, "GAME_EXISTS", create_raw(h, gid, VALID, action_id="second"))


async def test_create_on_a_taken_id_without_an_action_id_fails_with_game_exists(h: Harness) -> None:
    gid = keys.new_game_id()
    await create_raw(h, gid, VALID, action_id="")

    await h.raw_fails(gid, "GAME_EXISTS", create_raw(h, gid, VALID, action_id=""))


async def test_store_create_draws_another_id_when_the_seeded_one_is_taken(h: Harness) -> None:
    gid1, _, _ = await h.store.create(HOST, GameSettings(), new_aid(), seed=b"same")

    gid2, _, out = await h.store.create(HOST, GameSettings(), new_aid(), seed=b"same")

    assert out.status == "ok"
    assert gid2 == keys.new_game_id(b"same" + (1).to_bytes(2, "big")) != gid1
    assert (await h.state(gid1))["version"] == 1


@pytest.mark.parametrize(
    "field, value",
    [
        ("playerCount", 1),
        ("playerCount", 9),
        ("playerCount", 2.5),
        ("playerCount", "2"),
        ("initialTime", 0),
        ("initialTime", 86_400_001),
        ("initialTime", 1000.5),
        ("warningThresholds", []),
        ("warningThresholds", list(range(1, 12))),
        ("warningThresholds", [0]),
        ("warningThresholds", [86_400_001]),
        ("warningThresholds", [1.5]),
        ("warningThresholds", "30000"),
        ("penaltyType", "bogus"),
        ("penaltyType", None),
        ("penaltyTimeDeduction", -1),
        ("penaltyTimeDeduction", 86_400_001),
    ],
)
async def test_create_rejects_settings_out_of_range(h: Harness, field: str, value: Any) -> None:
    gid = keys.new_game_id()

    await h.raw_fails(gid, "INVALID_ARGUMENT", create_raw(h, gid, {**VALID, field: value}))

    assert await h.client.dbsize() == 0


async def test_create_rejects_settings_with_a_field_missing(h: Harness) -> None:
    gid = keys.new_game_id()
    settings = dict(VALID)
    del settings["penaltyTimeDeduction"]

    await h.raw_fails(gid, "INVALID_ARGUMENT", create_raw(h, gid, settings))


@pytest.mark.parametrize("host_hash", ["", "ab" * 31 + "a", "ab" * 33])
async def test_create_rejects_a_host_hash_that_is_not_64_characters(h: Harness, host_hash: str) -> None:
    gid = keys.new_game_id()

    await h.raw_fails(gid, "INVALID_ARGUMENT", create_raw(h, gid, VALID, host_hash=host_hash))


async def test_create_rejects_a_token_lifetime_that_is_not_a_number(h: Harness) -> None:
    gid = keys.new_game_id()

    await h.raw_fails(gid, "INVALID_ARGUMENT", create_raw(h, gid, VALID, token_ms="soon"))


async def test_create_accepts_the_boundaries_of_every_setting(h: Harness) -> None:
    settings = {
        "playerCount": 8,
        "initialTime": 86_400_000,
        "warningThresholds": list(range(1, 11)),
        "penaltyType": "game_loss",
        "penaltyTimeDeduction": 86_400_000,
    }
    gid = keys.new_game_id()

    reply = await create_raw(h, gid, {**settings, "name": "🐉" * 50, "mode": "casual", "listed": False})

    assert reply[0] == "ok"
    st = await h.state(gid)
    assert (st["name"], st["mode"], st["listed"]) == ("🐉" * 50, "casual", False)
    assert len(st["players"]) == 8
    assert {k: st["settings"][k] for k in settings} == settings


async def test_create_with_two_players_and_zero_deduction_is_valid(h: Harness) -> None:
    gid = keys.new_game_id()

    reply = await create_raw(h, gid, {**VALID, "playerCount": 2, "initialTime": 1, "penaltyTimeDeduction": 0})

    assert reply[0] == "ok"
    assert [p["timeRemaining"] for p in (await h.state(gid))["players"]] == [1, 1]


# -- the lobby fields: name, mode, listed ---------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [
        ("name", ""),
        ("name", "x" * 51),
        ("name", "a\nb"),
        ("name", "a\x7fb"),
        ("name", 5),
        ("name", None),
        ("mode", "campaign"),
        ("mode", "bogus"),
        ("mode", None),
        ("listed", "yes"),
        ("listed", 1),
        ("listed", None),
    ],
)
async def test_create_rejects_lobby_fields_out_of_range(h: Harness, field: str, value: Any) -> None:
    gid = keys.new_game_id()

    await h.raw_fails(gid, "INVALID_ARGUMENT", create_raw(h, gid, {**VALID, field: value}))

    assert await h.client.dbsize() == 0


async def test_create_stores_the_name_mode_and_listing_and_lists_the_game(h: Harness) -> None:
    settings = GameSettings(name="Friday night", listed=True)

    c = await h.commits(
        keys.new_game_id(b"named" + bytes(2)), "create", h.store.create(HOST, settings, new_aid(), b"named")
    )

    assert (c.state["name"], c.state["mode"], c.state["listed"]) == ("Friday night", "casual", True)
    assert "name" not in c.state["settings"] and "mode" not in c.state["settings"]
    assert await h.listed_at(c.state["id"]) == c.state["lastActivity"]


async def test_create_unlisted_keeps_the_game_out_of_the_lobby_index(h: Harness) -> None:
    gid = keys.new_game_id(b"hidden" + bytes(2))

    c = await h.commits(gid, "create", h.store.create(HOST, GameSettings(listed=False), new_aid(), b"hidden"))

    assert c.state["listed"] is False
    assert await h.listed_at(gid) is None
    part = keys.partition_of(gid)
    assert part is not None
    assert await h.client.zcard(keys.lobby_partition(part)) == 0


# -- the timeout choice's settings (a HEAD client's create) ---------------------------------

TIMEOUTS: dict[str, Any] = {
    "timeoutPenaltyLives": 2,
    "timeoutPenaltyDrunk": 2,
    "timeoutGracePeriod": 30_000,
    "timeoutBonusTime": 60_000,
}


async def test_create_with_the_timeout_choice_stores_its_settings_and_the_players_choice_fields(h: Harness) -> None:
    settings = GameSettings(name="Table", timeout=TimeoutRules(3, 4, 20_000, 0))
    gid = keys.new_game_id(b"choice" + bytes(2))

    c = await h.commits(gid, "create", h.store.create(HOST, settings, new_aid(), b"choice"))

    assert {k: c.state["settings"][k] for k in TIMEOUTS} == {
        "timeoutPenaltyLives": 3,
        "timeoutPenaltyDrunk": 4,
        "timeoutGracePeriod": 20_000,
        "timeoutBonusTime": 0,
    }
    for p in c.state["players"]:
        assert (p["timeoutPending"], p["timeoutChoiceDeadline"], p["timeoutGraceLeft"]) == (False, None, None)


async def test_create_accepts_the_boundaries_of_the_timeout_settings(h: Harness) -> None:
    for i, bounds in enumerate(((0, 0, 5_000, 0), (20, 20, 300_000, 300_000))):
        gid = keys.new_game_id(bytes([i, 1, 2]))
        named = dict(zip(TIMEOUTS, bounds, strict=True))

        reply = await create_raw(h, gid, {**VALID, **named})

        assert reply[0] == "ok"
        assert {k: (await h.state(gid))["settings"][k] for k in TIMEOUTS} == named


@pytest.mark.parametrize(
    "field, value",
    [
        ("timeoutPenaltyLives", -1),
        ("timeoutPenaltyLives", 21),
        ("timeoutPenaltyLives", 1.5),
        ("timeoutPenaltyDrunk", 21),
        ("timeoutPenaltyDrunk", "2"),
        ("timeoutGracePeriod", 4_999),
        ("timeoutGracePeriod", 300_001),
        ("timeoutBonusTime", -1),
        ("timeoutBonusTime", 300_001),
    ],
)
async def test_create_rejects_timeout_settings_out_of_range(h: Harness, field: str, value: Any) -> None:
    gid = keys.new_game_id()

    await h.raw_fails(gid, "INVALID_ARGUMENT", create_raw(h, gid, {**VALID, **TIMEOUTS, field: value}))

    assert await h.client.dbsize() == 0


async def test_create_rejects_some_of_the_timeout_settings_without_the_others(h: Harness) -> None:
    gid = keys.new_game_id()
    partial = {k: v for k, v in TIMEOUTS.items() if k != "timeoutGracePeriod"}

    await h.raw_fails(gid, "INVALID_ARGUMENT", create_raw(h, gid, {**VALID, **partial}))


# -- formats (lib/formats.lua format_settings) ----------------------------------------------

FORMAT = {
    "format": "commander",
    "startingLife": 40,
    "lossRules": {"life": True, "poison": True, "commanderDamage": True},
}


async def test_create_with_a_format_starts_everyone_at_its_life_with_fresh_counters(h: Harness) -> None:
    gid = keys.new_game_id()

    reply = await create_raw(h, gid, {**VALID, **FORMAT, "playerCount": 2})

    st = json.loads(reply[1])
    s = st["settings"]
    assert (s["format"], s["startingLife"], s["lossRules"]) == ("commander", 40, FORMAT["lossRules"])
    assert [
        (p["life"], p["poison"], p["energy"], p["experience"], p["commanderDamage"], p["eliminatedReason"])
        for p in st["players"]
    ] == [(40, 0, 0, 0, [[0, 0], [0, 0]], None)] * 2


@pytest.mark.parametrize("count", [4, 6, 8])
async def test_create_two_headed_giant_at_an_even_table(h: Harness, count: int) -> None:
    gid = keys.new_game_id()
    fmt = {**FORMAT, "format": "twoHeadedGiant", "startingLife": 30, "playerCount": count}

    reply = await create_raw(h, gid, {**VALID, **fmt})

    assert [p["life"] for p in json.loads(reply[1])["players"]] == [30] * count


@pytest.mark.parametrize(
    "fmt",
    [
        {**FORMAT, "format": "vintage"},
        {**FORMAT, "format": None},
        {**FORMAT, "startingLife": 0},
        {**FORMAT, "startingLife": 10_000},
        {**FORMAT, "startingLife": 20.5},
        {**FORMAT, "lossRules": {"life": True, "poison": True}},
        {**FORMAT, "lossRules": {"life": True, "poison": True, "commanderDamage": 1}},
        {**FORMAT, "lossRules": {"life": True, "poison": True, "commanderDamage": True, "mill": True}},
        {**FORMAT, "lossRules": True},
        {"format": "commander"},
        {"startingLife": 40},
        {**FORMAT, "format": "twoHeadedGiant", "playerCount": 3},
        {**FORMAT, "format": "twoHeadedGiant", "playerCount": 2},
    ],
)
async def test_create_rejects_format_settings_out_of_bounds(h: Harness, fmt: dict[str, Any]) -> None:
    gid = keys.new_game_id()

    await h.raw_fails(gid, "INVALID_ARGUMENT", create_raw(h, gid, {**VALID, **fmt}))


# -- the time control ---------------------------------------------------------------------


async def test_create_stores_the_time_control_in_the_settings(h: Harness) -> None:
    settings = GameSettings(time_control=TimeControl("turnCap", 90_000, 15_000))

    c = await h.commits(
        keys.new_game_id(b"capped" + bytes(2)), "create", h.store.create(HOST, settings, new_aid(), b"capped")
    )

    s = c.state["settings"]
    assert (s["timeControl"], s["timeControlMs"], s["turnCapWarningMs"]) == ("turnCap", 90_000, 15_000)
    assert (c.state["turn"], c.state["round"], c.state["turnTime"]) == (0, 0, 0)


async def test_create_without_a_time_control_is_sudden_death_with_no_field_for_it(h: Harness) -> None:
    c = await h.commits(
        keys.new_game_id(b"sudden" + bytes(2)), "create", h.store.create(HOST, GameSettings(), new_aid(), b"sudden")
    )

    assert not {"timeControl", "timeControlMs", "turnCapWarningMs"} & c.state["settings"].keys()


@pytest.mark.parametrize(
    "control",
    [
        {"timeControl": "blitz", "timeControlMs": 5_000},
        {"timeControl": "fischer"},
        {"timeControl": "fischer", "timeControlMs": 999},
        {"timeControl": "bronstein", "timeControlMs": 3_600_001},
        {"timeControl": "bronstein", "timeControlMs": 5_000, "turnCapWarningMs": 1_000},
        {"timeControl": "turnCap", "timeControlMs": 5_000},
        {"timeControl": "turnCap", "timeControlMs": 5_000, "turnCapWarningMs": 5_000},
        {"timeControl": "suddenDeath", "timeControlMs": 5_000},
        {"timeControlMs": 5_000},
    ],
)
async def test_create_rejects_a_time_control_that_does_not_hold_together(h: Harness, control: dict[str, Any]) -> None:
    gid = keys.new_game_id()

    await h.raw_fails(gid, "INVALID_ARGUMENT", create_raw(h, gid, {**VALID, **control}))

    assert await h.client.dbsize() == 0


async def test_create_without_format_settings_is_a_standard_game(h: Harness) -> None:
    gid = keys.new_game_id()

    reply = await create_raw(h, gid, VALID)

    s = json.loads(reply[1])["settings"]
    assert (s["format"], s["startingLife"], s["lossRules"]) == (
        "standard",
        20,
        {"life": True, "poison": True, "commanderDamage": False},
    )


async def test_a_campaign_keeps_its_presets_life_whatever_the_format_says(h: Harness) -> None:
    settings = GameSettings(2, name="Campaign", mode="campaign", campaign_preset="wastelands")

    _, _, out = await h.store.create(HOST, settings, new_aid())

    assert out.state["settings"]["startingLife"] == 10
    assert [p["life"] for p in out.state["players"]] == [10, 10]


async def test_create_accepts_the_boundaries_of_the_time_control(h: Harness) -> None:
    for control in (
        {"timeControl": "fischer", "timeControlMs": 1_000},
        {"timeControl": "bronstein", "timeControlMs": 3_600_000},
        {"timeControl": "turnCap", "timeControlMs": 1_000, "turnCapWarningMs": 999},
        {"timeControl": "turnCap", "timeControlMs": 3_600_000, "turnCapWarningMs": 0},
    ):
        gid = keys.new_game_id()
        reply = await create_raw(h, gid, {**VALID, **control})
        assert reply[0] == "ok"


async def test_create_keeps_a_host_timeout_given_and_none_otherwise(h: Harness) -> None:
    gid, _, out = await h.store.create(HOST, GameSettings(host_timeout=10_000), new_aid())
    assert out.state["settings"]["hostTimeout"] == 10_000
    _, _, plain = await h.store.create(HOST, GameSettings(), new_aid())
    assert "hostTimeout" not in plain.state["settings"]

    for value in (3_600_000, 10_000):
        ok = await create_raw(h, keys.new_game_id(), {**VALID, "hostTimeout": value})
        assert json.loads(ok[1])["settings"]["hostTimeout"] == value


@pytest.mark.parametrize("value", [9_999, 3_600_001, 20_000.5, "60000", None, True])
async def test_create_rejects_a_host_timeout_out_of_range(h: Harness, value: Any) -> None:
    gid = keys.new_game_id()

    await h.raw_fails(gid, "INVALID_ARGUMENT", create_raw(h, gid, {**VALID, "hostTimeout": value}))

    assert await h.client.dbsize() == 0
