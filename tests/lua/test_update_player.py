from __future__ import annotations

import json
from typing import Any

import pytest

from service import keys
from service.formats import LossRules
from tests.support.formats import format_game
from tests.support.lua_harness import LOG_CAP, Harness, new_aid, player, summary_of


async def test_update_player_by_the_host_sets_every_field(h: Harness) -> None:
    g = await h.new_game()
    aid = new_aid()
    updates = {"name": "Ada", "time": 12_345, "life": -999, "drunkCounter": 999, "genericCounter": 7}

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, aid, 2, updates))

    p = player(c.state, 2)
    assert (p["name"], p["timeRemaining"], p["life"], p["drunkCounter"], p["genericCounter"]) == (
        "Ada",
        12_345,
        -999,
        999,
        7,
    )
    assert player(c.state, 1) == player(c.before or {}, 1)
    assert c.entry["d"] == {"playerId": 2}
    assert (c.entry["a"], c.entry["c"]) == (aid, g.host)


async def test_update_player_changes_only_the_fields_given(h: Harness) -> None:
    g = await h.new_game()

    # life 1, not 0: a life at or below 0 eliminates the player (HEAD's rule, tested below)
    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 1, {"life": 1}))

    assert c.before is not None
    assert player(c.state, 1) == {**player(c.before, 1), "life": 1}


async def test_update_player_to_zero_values_is_applied(h: Harness) -> None:
    g = await h.new_game()
    await h.store.update_player(g.gid, g.host, new_aid(), 1, {"drunkCounter": 5, "genericCounter": 5})

    c = await h.commits(
        g.gid,
        "updatePlayer",
        h.store.update_player(g.gid, g.host, new_aid(), 1, {"time": 0, "drunkCounter": 0, "genericCounter": 0}),
    )

    p = player(c.state, 1)
    assert (p["timeRemaining"], p["drunkCounter"], p["genericCounter"]) == (0, 0, 0)


async def test_update_player_stores_the_name_raw(h: Harness) -> None:
    g = await h.new_game()
    name = '<b>"Zoë" & co</b>'

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 1, {"name": name}))

    assert player(c.state, 1)["name"] == name


async def test_update_player_accepts_fifty_multibyte_characters_as_a_name(h: Harness) -> None:
    g = await h.new_game()

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 1, {"name": "é" * 50}))

    assert player(c.state, 1)["name"] == "é" * 50


async def test_update_player_accepts_a_name_of_fifty_four_byte_characters(h: Harness) -> None:
    g = await h.new_game()
    name = "\U0001f600" * 50

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 1, {"name": name}))

    assert player(c.state, 1)["name"] == name


async def test_update_player_by_the_seat_holder_of_that_player_is_allowed(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "alice", 1)

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, "alice", new_aid(), 1, {"name": "Alice"}))

    assert player(c.state, 1)["name"] == "Alice"


async def test_update_player_of_someone_elses_seat_fails(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "alice", 1)
    # a seat nobody holds may be changed by anyone while waiting (HEAD's canModifyPlayer)
    await h.claim(g, "bob", 2)

    await h.fails(g.gid, "NOT_AUTHORIZED_MODIFY", h.store.update_player(g.gid, "alice", new_aid(), 2, {"life": 1}))
    await h.fails(g.gid, "NOT_AUTHORIZED_MODIFY", h.store.update_player(g.gid, "", new_aid(), 2, {"life": 1}))


async def test_update_player_of_a_missing_player_by_a_non_host_is_not_authorized(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "alice", 1)

    await h.fails(g.gid, "NOT_AUTHORIZED_MODIFY", h.store.update_player(g.gid, "alice", new_aid(), 9, {"life": 1}))


async def test_update_player_of_a_missing_player_by_the_host_fails_with_player_not_found(h: Harness) -> None:
    g = await h.new_game()

    await h.fails(g.gid, "PLAYER_NOT_FOUND", h.store.update_player(g.gid, g.host, new_aid(), 9, {"life": 1}))


@pytest.mark.parametrize(
    "updates",
    [
        {"name": ""},
        {"name": "x" * 51},
        {"name": "é" * 51},
        {"name": "😀" * 51},
        {"name": 5},
        {"name": None},
        {"time": -1},
        {"time": 86_400_001},
        {"time": 1.5},
        {"time": "10"},
        {"life": -1000},
        {"life": 10_000},
        {"drunkCounter": -1},
        {"drunkCounter": 1000},
        {"genericCounter": -1},
        {"genericCounter": 1000},
        {"genericCounter": 0.5},
        {"life": 1, "time": -5},
        {"poison": -1},
        {"poison": 100},
        {"poison": 1.5},
        {"energy": -1},
        {"energy": 1000},
        {"experience": -1},
        {"experience": 1000},
        {"experience": "3"},
        {"poison": 5, "energy": 1000},
    ],
)
async def test_update_player_rejects_values_out_of_range(h: Harness, updates: dict[str, Any]) -> None:
    g = await h.new_game()

    await h.fails(g.gid, "INVALID_ARGUMENT", h.store.update_player(g.gid, g.host, new_aid(), 1, updates))


async def test_update_player_rejects_an_update_that_is_not_an_object(h: Harness) -> None:
    g = await h.new_game()

    await h.raw_fails(
        g.gid,
        "INVALID_ARGUMENT",
        h.run_script("update_player", g.gid, 1, "5", action_id=new_aid(), client_id=g.host),
    )


async def test_update_player_with_no_known_field_is_a_noop(h: Harness) -> None:
    g = await h.new_game()

    await h.quiet(g.gid, "noop", h.store.update_player(g.gid, g.host, new_aid(), 1, {}))
    await h.quiet(g.gid, "noop", h.store.update_player(g.gid, g.host, new_aid(), 1, {"penalties": 3}))


async def test_update_player_time_of_the_running_player_counts_down_from_the_new_value(h: Harness) -> None:
    g = await h.running_game()
    h.clock.offset_ms = 2_000

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 1, {"time": 100_000}))

    assert player(c.state, 1)["timeRemaining"] == 100_000
    assert await h.due(g.gid) == c.state["serverTime"] + 100_000 - 60_000
    h.clock.offset_ms = 3_000
    paused = await h.store.pause(g.gid, g.host, new_aid())
    charged = paused.state["serverTime"] - c.state["serverTime"]
    assert charged >= 1_000
    assert player(paused.state, 1)["timeRemaining"] == 100_000 - charged


async def test_update_player_retried_with_the_same_action_id_applies_once(h: Harness) -> None:
    g = await h.new_game()
    aid = new_aid()
    first = await h.store.update_player(g.gid, g.host, aid, 1, {"life": 19})

    out = await h.quiet(g.gid, "dup", h.store.update_player(g.gid, g.host, aid, 1, {"life": 18}))

    assert out.state_json == first.state_json
    assert player(out.state, 1)["life"] == 19


async def test_update_player_in_a_missing_game_fails(h: Harness) -> None:
    gid = keys.new_game_id()

    await h.fails(gid, "GAME_NOT_FOUND", h.store.update_player(gid, "host", new_aid(), 1, {"life": 1}))


async def test_the_log_is_capped_and_the_action_ids_leave_with_their_entries(h: Harness) -> None:
    g = await h.new_game()
    create_aid = (await h.log(g.gid))[0]["a"]
    aids = [f"life-{i:03d}" for i in range(300)]

    for i, aid in enumerate(aids):
        out = await h.store.update_player(g.gid, g.host, aid, 1, {"life": i})
        assert out.status == "ok"

    log = await h.log(g.gid)
    acts = await h.acts(g.gid)
    assert len(log) == LOG_CAP
    assert await h.client.hlen(keys.actions(g.gid)) == LOG_CAP
    assert [e["a"] for e in log] == aids[::-1][:LOG_CAP]
    assert [e["v"] for e in log] == list(range(301, 301 - LOG_CAP, -1))
    assert acts == {aid: str(i + 2) for i, aid in enumerate(aids) if i >= 300 - LOG_CAP}
    assert create_aid not in acts
    # an action that fell out of the log is no longer recognised as a retry
    out = await h.store.update_player(g.gid, g.host, aids[0], 1, {"life": 1})
    assert (out.status, out.version) == ("ok", 302)
    assert len(await h.log(g.gid)) == LOG_CAP
    assert await h.client.hlen(keys.actions(g.gid)) == LOG_CAP


# -- colour (B6.9; C20, C29: only a palette id or null) ----------------------------------

PALETTE = ("red", "blue", "green", "yellow", "purple", "cyan", "orange", "pink", "lime", "teal", "indigo", "amber")


async def test_a_new_player_has_no_colour(h: Harness) -> None:
    g = await h.new_game(3)

    assert [p["color"] for p in (await h.state(g.gid))["players"]] == [None, None, None]


@pytest.mark.parametrize("color", PALETTE)
async def test_update_player_sets_a_palette_colour(h: Harness, color: str) -> None:
    g = await h.new_game()

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 2, {"color": color}))

    assert c.before is not None
    assert player(c.state, 2) == {**player(c.before, 2), "color": color}
    assert player(c.state, 1)["color"] is None


async def test_update_player_with_a_null_colour_clears_it(h: Harness) -> None:
    g = await h.new_game()
    await h.store.update_player(g.gid, g.host, new_aid(), 1, {"color": "teal"})

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 1, {"color": None}))

    assert player(c.state, 1)["color"] is None


@pytest.mark.parametrize(
    "color", ["Red", "RED", " red", "#dc3c3c", "", "white", 'red"><img src=x>', 5, True, ["red"], {"id": "red"}]
)
async def test_update_player_rejects_a_colour_outside_the_palette(h: Harness, color: Any) -> None:
    g = await h.new_game()

    await h.fails(g.gid, "INVALID_ARGUMENT", h.store.update_player(g.gid, g.host, new_aid(), 1, {"color": color}))


async def test_the_seat_holder_sets_their_own_colour_and_not_another_seats(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "alice", 1)
    await h.claim(g, "bob", 2)

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, "alice", new_aid(), 1, {"color": "pink"}))

    assert player(c.state, 1)["color"] == "pink"
    await h.fails(g.gid, "NOT_AUTHORIZED_MODIFY", h.store.update_player(g.gid, "alice", new_aid(), 2, {"color": "red"}))


async def test_reset_keeps_the_colours_as_it_keeps_the_names(h: Harness) -> None:
    g = await h.running_game()
    await h.store.update_player(g.gid, g.host, new_aid(), 2, {"color": "amber", "name": "Bea"})

    c = await h.commits(g.gid, "reset", h.store.reset(g.gid, g.host, new_aid()))

    assert [(p["name"], p["color"]) for p in c.state["players"]] == [("Player 1", None), ("Bea", "amber")]


# -- who may modify (HEAD's canModifyPlayer) ----------------------------------------------


async def test_anyone_in_the_game_may_modify_a_seat_nobody_holds_while_waiting(h: Harness) -> None:
    g = await h.new_game(3)
    await h.claim(g, "alice", 1)

    c = await h.commits(
        g.gid, "updatePlayer", h.store.update_player(g.gid, "spectator", new_aid(), 3, {"name": "Cy", "color": "lime"})
    )

    assert (player(c.state, 3)["name"], player(c.state, 3)["color"]) == ("Cy", "lime")
    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, "alice", new_aid(), 2, {"life": 30}))
    assert player(c.state, 2)["life"] == 30


@pytest.mark.parametrize("status", ["running", "paused"])
async def test_a_seat_nobody_holds_is_only_the_hosts_once_the_game_started(h: Harness, status: str) -> None:
    g = await h.running_game(3)
    if status == "paused":
        await h.store.pause(g.gid, g.host, new_aid())

    await h.fails(g.gid, "NOT_AUTHORIZED_MODIFY", h.store.update_player(g.gid, "spectator", new_aid(), 3, {"life": 1}))


async def test_the_deadline_loop_caller_cannot_modify_a_free_seat(h: Harness) -> None:
    g = await h.new_game()

    await h.fails(g.gid, "NOT_AUTHORIZED_MODIFY", h.store.update_player(g.gid, "", new_aid(), 2, {"life": 1}))


# -- life <= 0 eliminates (B4 updatePlayer) -----------------------------------------------


async def test_life_at_zero_eliminates_the_active_player_and_passes_the_turn_in_turn_order(h: Harness) -> None:
    g = await h.running_game(4)
    await h.store.switch(g.gid, g.host, new_aid(), 3)
    await h.store.eliminate(g.gid, g.host, new_aid(), 4)

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 3, {"life": 0}))

    assert (player(c.state, 3)["life"], player(c.state, 3)["isEliminated"]) == (0, True)
    assert (c.state["status"], c.state["activePlayer"], c.state["winner"]) == ("running", 1, None)
    assert c.events == []
    assert await h.due(g.gid) == c.state["serverTime"] + player(c.state, 1)["timeRemaining"] - 300_000


async def test_life_below_zero_eliminates_a_waiting_player_and_keeps_the_turn(h: Harness) -> None:
    g = await h.running_game(3)

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 2, {"life": -7}))

    assert [p["isEliminated"] for p in c.state["players"]] == [False, True, False]
    assert (c.state["status"], c.state["activePlayer"]) == ("running", 1)


async def test_life_at_zero_of_the_second_to_last_player_finishes_the_game_with_game_complete(h: Harness) -> None:
    g = await h.running_game()
    await h.store.update_player(g.gid, g.host, new_aid(), 2, {"name": "Bea"})

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 1, {"life": 0}))

    assert (c.state["status"], c.state["winner"], c.state["activePlayer"]) == ("finished", 2, None)
    assert c.events == [
        {"type": "gameComplete", "data": {"winnerId": 2, "winnerName": "Bea", "summary": summary_of(c.state)}}
    ]
    assert await h.due(g.gid) is None


async def test_life_at_zero_in_a_waiting_lobby_decides_it_as_head_does(h: Harness) -> None:
    g = await h.new_game()

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 2, {"life": 0}))

    assert (c.state["status"], c.state["winner"]) == ("finished", 1)
    assert [e["type"] for e in c.events] == ["gameComplete"]


async def test_life_at_zero_of_an_eliminated_player_changes_only_the_life(h: Harness) -> None:
    g = await h.running_game(3)
    await h.store.eliminate(g.gid, g.host, new_aid(), 2)

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 2, {"life": -3}))

    assert c.before is not None
    assert player(c.state, 2) == {**player(c.before, 2), "life": -3}
    assert (c.state["status"], c.events) == ("running", [])


async def test_life_above_zero_does_not_bring_an_eliminated_player_back(h: Harness) -> None:
    g = await h.running_game(3)
    await h.store.update_player(g.gid, g.host, new_aid(), 2, {"life": 0})

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 2, {"life": 5}))

    assert player(c.state, 2)["isEliminated"] is True


async def test_life_at_zero_in_a_finished_game_decides_nothing_again(h: Harness) -> None:
    g = await h.running_game()
    await h.store.update_player(g.gid, g.host, new_aid(), 1, {"life": 0})

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 2, {"life": 0}))

    assert (player(c.state, 2)["life"], player(c.state, 2)["isEliminated"]) == (0, False)
    assert (c.state["status"], c.state["winner"], c.events) == ("finished", 2, [])


async def test_an_out_of_range_life_is_refused_rather_than_clamped(h: Harness) -> None:
    # HEAD clamps to [-999, 9999]; ours refuses, so a typo never silently becomes a kill
    g = await h.running_game()

    await h.fails(g.gid, "INVALID_ARGUMENT", h.store.update_player(g.gid, g.host, new_aid(), 1, {"life": -1000}))
    await h.fails(g.gid, "INVALID_ARGUMENT", h.store.update_player(g.gid, g.host, new_aid(), 1, {"drunkCounter": 1000}))


# -- the counters and the loss rules (lib/formats.lua) --------------------------------------


async def test_update_player_sets_poison_energy_and_experience_to_their_bounds(h: Harness) -> None:
    g = await format_game(h, "custom", 2, rules=LossRules(False, False, False))

    c = await h.commits(
        g.gid,
        "updatePlayer",
        h.store.update_player(g.gid, g.host, new_aid(), 1, {"poison": 99, "energy": 999, "experience": 999}),
    )

    p = player(c.state, 1)
    assert (p["poison"], p["energy"], p["experience"], p["isEliminated"]) == (99, 999, 999, False)
    assert c.before is not None
    assert player(c.state, 2) == player(c.before, 2)


async def test_energy_and_experience_alone_are_an_update(h: Harness) -> None:
    g = await h.new_game()

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 2, {"energy": 0}))

    assert c.before is not None
    assert player(c.state, 2) == player(c.before, 2)


async def test_ten_poison_eliminates_with_that_reason_and_nine_does_not(h: Harness) -> None:
    g = await h.running_game(3)
    nine = await h.store.update_player(g.gid, g.host, new_aid(), 1, {"poison": 9})
    assert player(nine.state, 1)["isEliminated"] is False

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 1, {"poison": 10}))

    p = player(c.state, 1)
    assert (p["isEliminated"], p["eliminatedReason"]) == (True, "poison")
    assert c.state["activePlayer"] == 2


async def test_life_at_zero_says_life(h: Harness) -> None:
    g = await h.running_game(3)

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 3, {"life": 0}))

    assert player(c.state, 3)["eliminatedReason"] == "life"
    assert player(c.state, 1)["eliminatedReason"] is None


async def test_poison_and_life_crossed_at_once_say_poison(h: Harness) -> None:
    g = await h.running_game(3)

    c = await h.commits(
        g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 2, {"poison": 10, "life": 0})
    )

    assert player(c.state, 2)["eliminatedReason"] == "poison"


@pytest.mark.parametrize(
    ("rules", "update"),
    [
        (LossRules(life=False), {"life": -5}),
        (LossRules(poison=False), {"poison": 50}),
    ],
)
async def test_a_loss_rule_that_is_off_eliminates_nobody(h: Harness, rules: LossRules, update: dict[str, int]) -> None:
    g = await format_game(h, "custom", 2, rules=rules, started=True)

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 1, update))

    assert (player(c.state, 1)["isEliminated"], c.state["status"]) == (False, "running")


async def test_poison_in_a_finished_game_decides_nothing(h: Harness) -> None:
    g = await h.running_game(2)
    await h.store.eliminate(g.gid, g.host, new_aid(), 2)

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 1, {"poison": 10}))

    assert (player(c.state, 1)["isEliminated"], c.events) == (False, [])


async def test_two_headed_giant_life_and_poison_are_written_to_both_teammates(h: Harness) -> None:
    g = await format_game(h, "twoHeadedGiant", 4, started=True)

    c = await h.commits(
        g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 4, {"life": 22, "poison": 3})
    )

    assert [(p["life"], p["poison"]) for p in c.state["players"]] == [(30, 0), (30, 0), (22, 3), (22, 3)]


async def test_two_headed_giant_loses_by_poison_at_fifteen_not_ten_and_the_team_goes_together(h: Harness) -> None:
    g = await format_game(h, "twoHeadedGiant", 6, started=True)
    ten = await h.store.update_player(g.gid, g.host, new_aid(), 1, {"poison": 14})
    assert [p["isEliminated"] for p in ten.state["players"]] == [False] * 6

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 2, {"poison": 15}))

    assert [(p["isEliminated"], p["eliminatedReason"]) for p in c.state["players"]] == [
        (True, "poison"),
        (True, "poison"),
        *[(False, None)] * 4,
    ]
    # the active player (seat 1) and its teammate are out: the turn goes to seat 3
    assert (c.state["status"], c.state["activePlayer"]) == ("running", 3)


async def test_two_headed_giant_the_last_team_standing_wins_together(h: Harness) -> None:
    g = await format_game(h, "twoHeadedGiant", 4, started=True)

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 1, {"life": 0}))

    assert (c.state["status"], c.state["winner"]) == ("finished", 3)
    assert c.events == [
        {
            "type": "gameComplete",
            "data": {"winnerId": 3, "winnerName": "Player 3", "winnerTeam": [3, 4], "summary": summary_of(c.state)},
        }
    ]


async def test_a_game_stored_before_formats_loses_by_life_and_poison_and_gains_the_fields(h: Harness) -> None:
    g = await h.running_game(3)
    raw = json.loads(await h.raw_state(g.gid) or "{}")
    for p in raw["players"]:
        for k in ("poison", "energy", "experience", "commanderDamage", "eliminatedReason"):
            del p[k]
    for k in ("format", "startingLife", "lossRules"):
        del raw["settings"][k]
    await h.client.hset(keys.game(g.gid), "state", json.dumps(raw))

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 2, {"poison": 10}))
    assert (player(c.state, 2)["isEliminated"], player(c.state, 2)["eliminatedReason"]) == (True, "poison")
    assert "poison" not in player(c.state, 1)

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 3, {"life": 0}))
    assert (player(c.state, 3)["eliminatedReason"], c.state["winner"]) == ("life", 1)
