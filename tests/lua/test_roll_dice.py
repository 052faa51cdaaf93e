from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from service import keys
from tests.support.chance import Draws
from tests.support.lua_harness import Harness, new_aid


@pytest.fixture
def draws(monkeypatch: pytest.MonkeyPatch) -> Draws:
    return Draws(monkeypatch)


async def test_a_seated_player_rolls_and_the_roll_is_committed_and_published(h: Harness, draws: Draws) -> None:
    g = await h.new_game(3)
    await h.claim(g, "alice", 2)
    draws.next_below(4)
    aid = new_aid()

    c = await h.commits(g.gid, "rollDice", h.store.roll_dice(g.gid, "alice", aid, 6))

    assert draws.asked == [6]
    assert c.events == [
        {
            "type": "diceRolled",
            "data": {"playerName": "Player 2", "sides": 6, "result": 5, "timestamp": c.state["serverTime"]},
        }
    ]
    assert c.entry["d"] == {"sides": 6, "result": 5, "playerName": "Player 2"}
    assert (c.entry["a"], c.entry["c"]) == (aid, "alice")
    # nothing but the version and the time changes
    assert c.before is not None
    unchanged = ("version", "serverTime", "lastActivity")
    assert {k: v for k, v in c.state.items() if k not in unchanged} == {
        k: v for k, v in c.before.items() if k not in unchanged
    }


async def test_a_host_without_a_seat_rolls_as_host(h: Harness, draws: Draws) -> None:
    g = await h.new_game()
    draws.next_below(0)

    c = await h.commits(g.gid, "rollDice", h.store.roll_dice(g.gid, g.host, new_aid(), 2))

    assert c.events[0]["data"]["playerName"] == "Host"
    assert c.events[0]["data"]["result"] == 1


async def test_a_host_holding_a_seat_rolls_under_the_seats_name(h: Harness, draws: Draws) -> None:
    g = await h.new_game()
    await h.claim(g, g.host, 1)
    await h.store.update_player(g.gid, g.host, new_aid(), 1, {"name": "Ann"})
    draws.next_below(998)

    c = await h.commits(g.gid, "rollDice", h.store.roll_dice(g.gid, g.host, new_aid(), 999))

    assert (c.events[0]["data"]["playerName"], c.events[0]["data"]["result"]) == ("Ann", 999)


async def test_a_roll_in_a_running_game_charges_the_clock_and_keeps_the_deadline(h: Harness, draws: Draws) -> None:
    g = await h.running_game()
    started = await h.state(g.gid)
    h.clock.offset_ms = 2_000
    draws.next_below(2)

    c = await h.commits(g.gid, "rollDice", h.store.roll_dice(g.gid, g.host, new_aid(), 20))

    assert c.state["players"][0]["timeRemaining"] == 600_000 - (c.state["serverTime"] - started["serverTime"])
    assert c.state["status"] == "running"


async def test_warnings_that_came_due_go_out_before_the_roll(h: Harness, draws: Draws) -> None:
    g = await h.running_game(initial_time=10_000, thresholds=(5_000,))
    h.clock.offset_ms = 6_000
    draws.next_below(3)

    c = await h.commits(g.gid, "rollDice", h.store.roll_dice(g.gid, g.host, new_aid(), 6))

    assert [e["type"] for e in c.events] == ["warning", "diceRolled"]


async def test_dice_can_be_rolled_in_a_finished_game(h: Harness, draws: Draws) -> None:
    # HEAD rolls in any status: the dice are the table's, not the clock's
    g = await h.running_game()
    await h.store.eliminate(g.gid, g.host, new_aid(), 2)
    draws.next_below(1)

    c = await h.commits(g.gid, "rollDice", h.store.roll_dice(g.gid, g.host, new_aid(), 4))

    assert (c.state["status"], c.events[0]["data"]["result"]) == ("finished", 2)


async def test_a_spectator_may_not_roll(h: Harness, draws: Draws) -> None:
    g = await h.new_game()
    await h.claim(g, "alice", 1)
    draws.next_below(0)

    await h.fails(g.gid, "NOT_AUTHORIZED_DICE", h.store.roll_dice(g.gid, "bob", new_aid(), 6))


async def test_a_roll_retried_with_the_same_action_id_rolls_once(h: Harness, draws: Draws) -> None:
    g = await h.new_game()
    aid = new_aid()
    draws.next_below(2, 5)
    first = await h.store.roll_dice(g.gid, g.host, aid, 6)

    out = await h.quiet(g.gid, "dup", h.store.roll_dice(g.gid, g.host, aid, 6))

    assert out.state_json == first.state_json
    assert [e["t"] for e in await h.log(g.gid)].count("rollDice") == 1


async def test_a_roll_in_a_missing_game_fails(h: Harness, draws: Draws) -> None:
    gid = keys.new_game_id()
    draws.next_below(0)

    await h.fails(gid, "GAME_NOT_FOUND", h.store.roll_dice(gid, "host", new_aid(), 6))


@pytest.mark.parametrize(
    ("sides", "result"),
    [("1", "1"), ("1000", "1"), ("0", "0"), ("6", "0"), ("6", "7"), ("6.5", "1"), ("x", "1"), ("6", ""), ("6", "2.5")],
)
async def test_a_roll_the_service_would_never_send_is_refused(h: Harness, sides: str, result: str) -> None:
    g = await h.new_game()

    await h.raw_fails(
        g.gid,
        "INVALID_ARGUMENT",
        h.run_script("roll_dice", g.gid, sides, result, action_id=new_aid(), client_id=g.host),
    )


async def test_the_result_is_drawn_from_secrets(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    g = await h.new_game()
    asked: list[int] = []

    def randbelow(n: int) -> int:
        asked.append(n)
        return 11

    monkeypatch.setattr(secrets, "randbelow", randbelow)

    out = await h.store.roll_dice(g.gid, g.host, new_aid(), 12)

    assert asked == [12]
    assert (await h.log(g.gid))[0]["d"]["result"] == 12
    assert '"result":12' in out.events_json


def test_no_script_draws_its_own_random_numbers() -> None:
    # the service draws from secrets and the scripts commit what it drew (lua/README.md)
    lua = Path(__file__).resolve().parents[2] / "lua"
    assert [p.name for p in sorted(lua.rglob("*.lua")) if "math.random" in p.read_text(encoding="utf-8")] == []
