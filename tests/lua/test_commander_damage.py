from __future__ import annotations

import json

import pytest

from service import keys
from service.formats import LossRules
from tests.support.formats import format_game
from tests.support.lua_harness import Harness, new_aid, player, summary_of


async def test_commander_damage_adds_to_the_cell_and_takes_the_life(h: Harness) -> None:
    g = await format_game(h, "commander", 4, started=True)
    aid = new_aid()

    c = await h.commits(g.gid, "commanderDamage", h.store.commander_damage(g.gid, g.host, aid, 2, 3, False, 7))

    p = player(c.state, 2)
    assert (p["life"], p["commanderDamage"]) == (33, [[0, 0], [0, 0], [7, 0], [0, 0]])
    # the source's own counters do not change
    assert player(c.state, 3) == player(c.before or {}, 3)
    assert c.entry["d"] == {"playerId": 2, "sourceId": 3, "partner": False, "amount": 7}
    assert (c.entry["a"], c.entry["c"]) == (aid, g.host)
    assert c.events == []


async def test_partner_damage_goes_to_the_second_cell_and_is_counted_apart(h: Harness) -> None:
    g = await format_game(h, "commander", 3, started=True)
    await h.store.commander_damage(g.gid, g.host, new_aid(), 1, 2, False, 15)

    c = await h.commits(g.gid, "commanderDamage", h.store.commander_damage(g.gid, g.host, new_aid(), 1, 2, True, 15))

    p = player(c.state, 1)
    # 30 in all from seat 2, but 15 from each commander: no cell reaches 21
    assert (p["commanderDamage"][1], p["life"], p["isEliminated"]) == ([15, 15], 10, False)


async def test_a_negative_amount_gives_the_damage_and_the_life_back(h: Harness) -> None:
    g = await format_game(h, "commander", 2, started=True)
    await h.store.commander_damage(g.gid, g.host, new_aid(), 1, 2, False, 5)

    c = await h.commits(g.gid, "commanderDamage", h.store.commander_damage(g.gid, g.host, new_aid(), 1, 2, False, -3))

    assert (player(c.state, 1)["commanderDamage"][1], player(c.state, 1)["life"]) == ([2, 0], 38)


async def test_twenty_one_from_one_commander_eliminates_with_that_reason(h: Harness) -> None:
    g = await format_game(h, "commander", 3, started=True)
    await h.store.commander_damage(g.gid, g.host, new_aid(), 1, 2, False, 20)

    c = await h.commits(g.gid, "commanderDamage", h.store.commander_damage(g.gid, g.host, new_aid(), 1, 2, False, 1))

    p = player(c.state, 1)
    assert (p["isEliminated"], p["eliminatedReason"], p["life"]) == (True, "commanderDamage", 19)
    # the turn passes on, as every elimination
    assert (c.state["activePlayer"], c.state["status"]) == (2, "running")


async def test_the_last_elimination_by_commander_damage_decides_the_game(h: Harness) -> None:
    g = await format_game(h, "commander", 2, started=True)

    c = await h.commits(g.gid, "commanderDamage", h.store.commander_damage(g.gid, g.host, new_aid(), 2, 1, True, 21))

    assert (c.state["status"], c.state["winner"]) == ("finished", 1)
    assert player(c.state, 2)["eliminatedReason"] == "commanderDamage"
    assert c.events == [
        {"type": "gameComplete", "data": {"winnerId": 1, "winnerName": "Player 1", "summary": summary_of(c.state)}}
    ]


async def test_twenty_one_does_not_eliminate_where_the_rule_is_off(h: Harness) -> None:
    g = await format_game(h, "standard", 2, started=True)

    c = await h.commits(g.gid, "commanderDamage", h.store.commander_damage(g.gid, g.host, new_aid(), 1, 2, False, 25))

    p = player(c.state, 1)
    assert (p["commanderDamage"][1], p["life"], p["isEliminated"], p["eliminatedReason"]) == ([25, 0], -5, True, "life")


async def test_commander_damage_to_zero_life_with_the_commander_rule_off_is_a_life_loss(h: Harness) -> None:
    rules = LossRules(life=False, poison=True, commander_damage=False)
    g = await format_game(h, "custom", 2, life=5, rules=rules, started=True)

    c = await h.commits(g.gid, "commanderDamage", h.store.commander_damage(g.gid, g.host, new_aid(), 1, 2, False, 30))

    assert (player(c.state, 1)["life"], player(c.state, 1)["isEliminated"]) == (-25, False)


async def test_crossing_both_limits_at_once_names_commander_damage(h: Harness) -> None:
    g = await format_game(h, "commander", 2, life=10, started=True)

    c = await h.commits(g.gid, "commanderDamage", h.store.commander_damage(g.gid, g.host, new_aid(), 1, 2, False, 21))

    assert player(c.state, 1)["eliminatedReason"] == "commanderDamage"


async def test_commander_damage_in_a_finished_game_decides_nothing(h: Harness) -> None:
    g = await format_game(h, "commander", 2, started=True)
    await h.store.eliminate(g.gid, g.host, new_aid(), 2)

    c = await h.commits(g.gid, "commanderDamage", h.store.commander_damage(g.gid, g.host, new_aid(), 1, 2, False, 50))

    assert (player(c.state, 1)["isEliminated"], c.state["winner"], c.events) == (False, 1, [])


async def test_two_headed_giant_commander_damage_takes_the_teams_life(h: Harness) -> None:
    g = await format_game(h, "twoHeadedGiant", 4, started=True)

    c = await h.commits(g.gid, "commanderDamage", h.store.commander_damage(g.gid, g.host, new_aid(), 3, 1, False, 4))

    assert [player(c.state, i)["life"] for i in (1, 2, 3, 4)] == [30, 30, 26, 26]
    # the cell is the damaged player's own
    assert player(c.state, 4)["commanderDamage"] == [[0, 0]] * 4


async def test_the_damaged_players_holder_may_and_another_seat_may_not(h: Harness) -> None:
    g = await format_game(h, "commander", 3)
    await h.claim(g, "alice", 1)
    await h.claim(g, "bob", 2)

    c = await h.commits(g.gid, "commanderDamage", h.store.commander_damage(g.gid, "alice", new_aid(), 1, 2, False, 3))
    assert player(c.state, 1)["life"] == 37
    await h.fails(g.gid, "NOT_AUTHORIZED_MODIFY", h.store.commander_damage(g.gid, "alice", new_aid(), 2, 1, False, 3))
    await h.fails(g.gid, "NOT_AUTHORIZED_MODIFY", h.store.commander_damage(g.gid, "", new_aid(), 2, 1, False, 3))


async def test_a_free_seat_may_be_changed_by_anyone_only_while_waiting(h: Harness) -> None:
    g = await format_game(h, "commander", 3)
    await h.claim(g, "alice", 1)

    await h.commits(g.gid, "commanderDamage", h.store.commander_damage(g.gid, "alice", new_aid(), 3, 1, False, 1))
    await h.store.start(g.gid, g.host, new_aid())
    await h.fails(g.gid, "NOT_AUTHORIZED_MODIFY", h.store.commander_damage(g.gid, "alice", new_aid(), 3, 1, False, 1))


async def test_a_missing_player_is_not_found_for_the_host(h: Harness) -> None:
    g = await format_game(h, "commander", 2)

    await h.fails(g.gid, "PLAYER_NOT_FOUND", h.store.commander_damage(g.gid, g.host, new_aid(), 5, 1, False, 1))


@pytest.mark.parametrize("source", [1, 3, 8])
async def test_the_player_itself_or_no_player_is_no_source(h: Harness, source: int) -> None:
    g = await format_game(h, "commander", 2)

    await h.fails(
        g.gid, "INVALID_COMMANDER_SOURCE", h.store.commander_damage(g.gid, g.host, new_aid(), 1, source, False, 1)
    )


@pytest.mark.parametrize(("first", "then"), [(0, -1), (990, 10), (5, -6)])
async def test_a_cell_never_leaves_0_to_999(h: Harness, first: int, then: int) -> None:
    g = await format_game(h, "custom", 2, life=9999, rules=LossRules(False, False, False))
    for _ in range(first // 99):
        await h.store.commander_damage(g.gid, g.host, new_aid(), 1, 2, False, 99)
    if first % 99:
        await h.store.commander_damage(g.gid, g.host, new_aid(), 1, 2, False, first % 99)
    assert player(await h.state(g.gid), 1)["commanderDamage"][1][0] == first

    await h.fails(g.gid, "COUNTER_OUT_OF_RANGE", h.store.commander_damage(g.gid, g.host, new_aid(), 1, 2, False, then))


async def test_a_life_never_leaves_its_range(h: Harness) -> None:
    g = await format_game(h, "custom", 2, life=9999, rules=LossRules(False, False, False))
    await h.store.commander_damage(g.gid, g.host, new_aid(), 1, 2, False, 5)

    await h.fails(g.gid, "COUNTER_OUT_OF_RANGE", h.store.commander_damage(g.gid, g.host, new_aid(), 1, 2, False, -6))


@pytest.mark.parametrize(
    "argv",
    [
        ["x", 2, "0", 1],
        [1, "", "0", 1],
        [1, 2, "yes", 1],
        [1, 2, "0", 0],
        [1, 2, "0", 100],
        [1, 2, "0", -100],
        [1, 2, "0", 1.5],
    ],
)
async def test_malformed_arguments_are_refused(h: Harness, argv: list[str | int | float]) -> None:
    g = await format_game(h, "commander", 2)

    await h.raw_fails(
        g.gid,
        "INVALID_ARGUMENT",
        h.run_script("commander_damage", g.gid, *[str(a) for a in argv], action_id=new_aid(), client_id=g.host),
    )


async def test_a_retry_with_the_same_action_id_applies_once(h: Harness) -> None:
    g = await format_game(h, "commander", 2, started=True)
    aid = new_aid()
    first = await h.store.commander_damage(g.gid, g.host, aid, 1, 2, False, 4)

    again = await h.quiet(g.gid, "dup", h.store.commander_damage(g.gid, g.host, aid, 1, 2, False, 4))

    assert again.state_json == first.state_json
    assert player(again.state, 1)["life"] == 36


async def test_a_player_stored_without_a_matrix_starts_from_zeros(h: Harness) -> None:
    g = await h.new_game(2)
    raw = json.loads(await h.raw_state(g.gid) or "{}")
    for p in raw["players"]:
        for k in ("poison", "energy", "experience", "commanderDamage", "eliminatedReason"):
            del p[k]
    for k in ("format", "startingLife", "lossRules"):
        del raw["settings"][k]
    await h.client.hset(keys.game(g.gid), "state", json.dumps(raw))

    c = await h.commits(g.gid, "commanderDamage", h.store.commander_damage(g.gid, g.host, new_aid(), 1, 2, True, 3))

    assert (player(c.state, 1)["commanderDamage"], player(c.state, 1)["life"]) == ([[0, 0], [0, 3]], 17)
