"""HEAD's player rules over the wire, against a real redis-server: a spectator taking a free
seat in a running game, palette colours, life <= 0 eliminating, `gameComplete` before the
state (on another instance too), and a joiner's single state (C51).

The message types are declared in service/messages/players.py and seats.py; the rules are
the scripts' (tests/lua/test_claim.py, test_update_player.py, test_winner.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest_asyncio
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from service import keys
from service.app import create_app
from service.settings import Settings
from stack.client import Client
from stack.presets import UNLIMITED
from tests.support.lua_harness import summary_of
from tests.test_ws import LONG_CLOCK, act, claim, coded_error_of, create_game, player, snapshot, stored_state

Connect = Callable[..., Awaitable[Client]]
WAIT = 5.0


@pytest_asyncio.fixture
async def servers(aiohttp_server: Any, redis_url: str) -> list[TestServer]:
    """Two instances in this process on the one test redis, as two machines behind a proxy."""
    fields: dict[str, Any] = {
        "redis_url": redis_url,
        "test_clock": True,
        "tick_interval_ms": 100,
        "deadline_poll_ms": 20,
        **UNLIMITED,
    }
    return [await aiohttp_server(create_app(Settings(**{**fields, "instance_id": f"inst-{i}"}))) for i in (1, 2)]


@pytest_asyncio.fixture
async def connect(servers: list[TestServer]) -> AsyncIterator[Callable[[int], Awaitable[Client]]]:
    """Opens a protocol client on instance 0 or 1; every one is closed after the test."""
    opened: list[Client] = []

    async def open_client(instance: int = 0) -> Client:
        c = await Client.connect(str(servers[instance].make_url("/")))
        opened.append(c)
        return c

    yield open_client
    for c in opened:
        await c.close()


async def lobby(
    connect: Callable[[int], Awaitable[Client]], players: int = 3, **settings: Any
) -> tuple[Client, Client, str]:
    """Host `a` (instance 0) created a game and holds seat 1; `b` (instance 1) joined, no seat."""
    a, b = await connect(0), await connect(1)
    gid, _, _ = await create_game(a, playerCount=players, initialTime=LONG_CLOCK, **settings)
    await claim(a, 1)
    await act(b, "join", {"gameId": gid})
    return a, b, gid


def frames_from(c: Client, start: int) -> list[dict[str, Any]]:
    """Frames after index `start`, ticks left out (they are not ordered with the commits)."""
    return [m for m in c.messages[start:] if m["type"] != "tick"]


async def settle(*cs: Client, version: int) -> None:
    await asyncio.gather(*(c.state_at_least(version, WAIT) for c in cs))


# -- a spectator takes a free seat mid-game (B4 claimPlayer) ------------------------------


async def test_a_spectator_on_another_instance_claims_a_free_seat_in_a_running_game(
    connect: Callable[[int], Awaitable[Client]], rdb: Redis
) -> None:
    a, b, gid = await lobby(connect)
    started = await act(a, "start")
    seen_by_a = len(a.messages)

    token, state = await claim(b, 2)

    assert state["status"] == "running"
    assert [p["claimedBy"] for p in state["players"]] == [a.client_id, b.client_id, None]
    stored = await rdb.hgetall(keys.game(gid))
    assert "tok:2" in stored and token not in str(stored)
    assert (await stored_state(rdb, gid))["version"] == started["version"] + 1
    # the host, on the other instance, sees the seat taken
    assert player((await a.state_at_least(state["version"], WAIT))["data"], 2)["claimedBy"] == b.client_id
    assert [m["type"] for m in frames_from(a, seen_by_a)] == ["state"]
    # and the new player plays: the host passes the turn, the spectator's seat passes it on
    await act(a, "passTurn")
    assert (await act(b, "passTurn"))["activePlayer"] == 3


async def test_claims_after_the_start_follow_heads_errors(
    connect: Callable[[int], Awaitable[Client]], rdb: Redis
) -> None:
    a, b, gid = await lobby(connect)
    await act(a, "start")
    await act(a, "eliminate", {"playerId": 3})
    before = await snapshot(rdb, gid)

    assert await coded_error_of(a, "claim", {"playerId": 1}) == ("ALREADY_YOUR_PLAYER", "Already your player")
    assert await coded_error_of(b, "claim", {"playerId": 3}) == ("PLAYER_ELIMINATED", "Player is eliminated")
    assert await coded_error_of(b, "claim", {"playerId": 1}) == ("PLAYER_CLAIMED", "Player already claimed")
    assert await snapshot(rdb, gid) == before


# -- colours (B6.9; C20, C29) --------------------------------------------------------------


async def test_a_palette_colour_is_set_seen_by_everyone_and_cleared(
    connect: Callable[[int], Awaitable[Client]], rdb: Redis
) -> None:
    a, b, gid = await lobby(connect)
    await claim(b, 2)

    state = await act(b, "updatePlayer", {"playerId": 2, "color": "teal"})

    assert player(state, 2)["color"] == "teal"
    assert player((await a.state_at_least(state["version"], WAIT))["data"], 2)["color"] == "teal"
    assert player(await stored_state(rdb, gid), 2)["color"] == "teal"
    cleared = await act(b, "updatePlayer", {"playerId": 2, "color": None})
    assert player(cleared, 2)["color"] is None


async def test_a_colour_outside_the_palette_is_refused_with_invalid_color(
    connect: Callable[[int], Awaitable[Client]], rdb: Redis
) -> None:
    a, _, gid = await lobby(connect)
    before = await snapshot(rdb, gid)

    for bad in ("Red", "#ff0000", 'red" onload="x', "", 3, ["red"]):
        assert await coded_error_of(a, "updatePlayer", {"playerId": 1, "color": bad}) == (
            "INVALID_COLOR",
            "Invalid color",
        ), bad
    assert await snapshot(rdb, gid) == before


async def test_anyone_may_edit_a_free_seat_in_the_lobby_but_not_once_started(
    connect: Callable[[int], Awaitable[Client]],
) -> None:
    a, b, _ = await lobby(connect)

    state = await act(b, "updatePlayer", {"playerId": 3, "name": "Cy", "color": "amber"})
    assert (player(state, 3)["name"], player(state, 3)["color"]) == ("Cy", "amber")

    await act(a, "start")
    assert await coded_error_of(b, "updatePlayer", {"playerId": 3, "life": 5}) == (
        "NOT_AUTHORIZED_MODIFY",
        "Not authorized to modify this player",
    )


# -- gameComplete (B4 winner detection, B5.3, B6.5) ----------------------------------------


async def test_game_complete_reaches_both_instances_once_and_before_the_state(
    connect: Callable[[int], Awaitable[Client]], rdb: Redis
) -> None:
    a, b, gid = await lobby(connect)
    c = await connect(1)
    await act(c, "join", {"gameId": gid})
    await act(a, "updatePlayer", {"playerId": 3, "name": "Cy"})
    await act(a, "start")
    await act(a, "eliminate", {"playerId": 2})
    marks = {x: len(x.messages) for x in (a, b, c)}

    rid = await a.send("eliminate", {"playerId": 1})
    reply = await a.reply(rid)

    final = reply["data"]["version"]
    await settle(a, b, c, version=final)
    await asyncio.sleep(0.3)
    complete = {"winnerId": 3, "winnerName": "Cy", "summary": summary_of(reply["data"])}
    # HEAD's order: gameComplete, then state; the requester's state is its reply
    assert [(m["type"], m.get("requestId")) for m in frames_from(a, marks[a])] == [
        ("gameComplete", None),
        ("state", rid),
    ]
    assert frames_from(a, marks[a])[0]["data"] == complete
    for watcher in (b, c):
        frames = frames_from(watcher, marks[watcher])
        assert [m["type"] for m in frames] == ["gameComplete", "state"]
        assert frames[0]["data"] == complete
        assert (frames[1]["data"]["version"], frames[1]["data"]["winner"]) == (final, 3)
    st = await stored_state(rdb, gid)
    assert (st["status"], st["winner"], st["activePlayer"]) == ("finished", 3, None)


async def test_life_at_zero_decides_the_game_with_game_complete_then_the_state(
    connect: Callable[[int], Awaitable[Client]], rdb: Redis
) -> None:
    a, b, gid = await lobby(connect, players=2)
    await claim(b, 2)
    await act(a, "start")
    mark = len(b.messages)

    rid = await b.send("updatePlayer", {"playerId": 2, "life": 0})
    reply = await b.reply(rid)

    assert (reply["type"], reply["data"]["winner"], reply["data"]["status"]) == ("state", 1, "finished")
    frames = frames_from(b, mark)
    assert [m["type"] for m in frames] == ["gameComplete", "state"]
    assert frames[0]["data"] == {"winnerId": 1, "winnerName": "Player 1", "summary": summary_of(reply["data"])}
    assert player(await stored_state(rdb, gid), 2)["isEliminated"] is True
    # finished: a later change decides nothing again
    await act(a, "updatePlayer", {"playerId": 1, "life": 0})
    await asyncio.sleep(0.3)
    assert len(b.of_type("gameComplete")) == len(a.of_type("gameComplete")) == 1


async def test_a_game_loss_timeout_sends_timeout_then_game_complete_then_the_state(
    connect: Callable[[int], Awaitable[Client]],
) -> None:
    a, b = await connect(0), await connect(1)
    gid, _, _ = await create_game(a, playerCount=2, initialTime=600, warningThresholds=[300], penaltyType="game_loss")
    await act(b, "join", {"gameId": gid})
    started = await act(a, "start")

    done = await b.wait_for(lambda m: m["type"] == "state" and m["data"]["status"] == "finished", timeout=WAIT)

    assert done["data"]["version"] > started["version"]
    kinds = [m["type"] for m in b.messages if m["type"] in ("warning", "timeout", "gameComplete", "state")]
    assert kinds[-3:] == ["timeout", "gameComplete", "state"]
    complete = {"winnerId": 2, "winnerName": "Player 2", "summary": summary_of(done["data"])}
    assert b.of_type("gameComplete") == [{"type": "gameComplete", "data": complete}]
    assert done["data"]["winner"] == 2


async def test_reset_clears_the_winner(connect: Callable[[int], Awaitable[Client]], rdb: Redis) -> None:
    a, _, gid = await lobby(connect, players=2)
    await act(a, "start")
    await act(a, "eliminate", {"playerId": 1})

    state = await act(a, "reset")

    assert (state["status"], state["winner"]) == ("waiting", None)
    assert (await stored_state(rdb, gid))["winner"] is None


# -- a joiner gets exactly one state (C51) -------------------------------------------------


async def test_a_joiner_gets_exactly_one_state_and_nobody_else_gets_any(
    connect: Callable[[int], Awaitable[Client]],
) -> None:
    a, b, gid = await lobby(connect)
    joiner = await connect(1)
    marks = {x: len(x.messages) for x in (a, b)}

    reply = await joiner.request("join", {"gameId": gid})
    await asyncio.sleep(0.5)

    assert reply["type"] == "state"
    assert [m["type"] for m in joiner.messages[1:] if m["type"] != "tick"] == ["state"]
    for other in (a, b):
        assert frames_from(other, marks[other]) == []


# -- formats, commander damage and concede (service/formats.py, lua/commander_damage.lua, concede.lua) --


async def test_a_commander_game_starts_at_forty_and_commander_damage_decides_it_on_both_instances(
    connect: Callable[[int], Awaitable[Client]], rdb: Redis
) -> None:
    a, b, gid = await lobby(connect, players=2, format="commander")
    await claim(b, 2)
    started = await act(a, "start")
    assert [p["life"] for p in started["players"]] == [40, 40]
    assert started["settings"]["lossRules"] == {"life": True, "poison": True, "commanderDamage": True}
    hit = await act(b, "commanderDamage", {"playerId": 2, "sourceId": 1, "amount": 20})
    # that change's broadcast reaches the other instance's socket in its own time
    await settle(a, version=hit["version"])
    mark = len(a.messages)

    rid = await b.send("commanderDamage", {"playerId": 2, "sourceId": 1, "partner": False, "amount": 1})
    reply = await b.reply(rid)

    assert (reply["data"]["status"], reply["data"]["winner"]) == ("finished", 1)
    await settle(a, version=reply["data"]["version"])
    assert [m["type"] for m in frames_from(a, mark)] == ["gameComplete", "state"]
    p = player(await stored_state(rdb, gid), 2)
    assert (p["life"], p["commanderDamage"], p["eliminatedReason"]) == (19, [[21, 0], [0, 0]], "commanderDamage")


async def test_commander_damage_from_oneself_is_refused_before_any_script(
    connect: Callable[[int], Awaitable[Client]], rdb: Redis
) -> None:
    a, _, gid = await lobby(connect, players=2, format="commander")
    before = await snapshot(rdb, gid)

    assert await coded_error_of(a, "commanderDamage", {"playerId": 1, "sourceId": 1, "amount": 3}) == (
        "INVALID_COMMANDER_SOURCE",
        "Invalid commander damage source",
    )
    assert await snapshot(rdb, gid) == before


async def test_poison_over_the_wire_eliminates_with_its_reason(
    connect: Callable[[int], Awaitable[Client]], rdb: Redis
) -> None:
    a, _, gid = await lobby(connect, players=3)
    await act(a, "start")

    st = await act(a, "updatePlayer", {"playerId": 2, "poison": 10, "energy": 4, "experience": 2})

    assert (player(st, 2)["isEliminated"], player(st, 2)["eliminatedReason"]) == (True, "poison")
    assert (player(st, 2)["energy"], player(st, 2)["experience"]) == (4, 2)


async def test_a_seated_player_concedes_and_the_other_instance_sees_the_winner(
    connect: Callable[[int], Awaitable[Client]], rdb: Redis
) -> None:
    a, b, gid = await lobby(connect, players=2)
    await claim(b, 2)
    assert await coded_error_of(b, "concede") == ("CONCEDE_NOT_STARTED", "Cannot concede before the game starts")
    await act(a, "start")
    mark = len(a.messages)

    st = await act(b, "concede")

    assert (st["status"], st["winner"], player(st, 2)["eliminatedReason"]) == ("finished", 1, "concede")
    await settle(a, version=st["version"])
    assert [m["type"] for m in frames_from(a, mark)] == ["gameComplete", "state"]
    assert await coded_error_of(b, "concede") == ("GAME_FINISHED", "Game is finished")


async def test_the_format_is_changed_while_waiting_and_locked_once_started(
    connect: Callable[[int], Awaitable[Client]], rdb: Redis
) -> None:
    a, _, gid = await lobby(connect, players=4)

    st = await act(a, "updateSettings", {"format": "twoHeadedGiant"})
    assert ([p["life"] for p in st["players"]], st["settings"]["format"]) == ([30] * 4, "twoHeadedGiant")
    await act(a, "start")
    assert await coded_error_of(a, "updateSettings", {"startingLife": 20}) == (
        "FORMAT_LOCKED",
        "The format can only be changed while the game is waiting",
    )


async def test_the_format_counter_and_concede_refusals_reach_the_client_with_their_codes(
    connect: Callable[[int], Awaitable[Client]], rdb: Redis
) -> None:
    a, b, gid = await lobby(connect, players=3)
    assert await coded_error_of(a, "updateSettings", {"format": "twoHeadedGiant"}) == (
        "TEAMS_NEED_EVEN_PLAYERS",
        "Two-headed giant needs 4, 6 or 8 players",
    )
    assert await coded_error_of(a, "commanderDamage", {"playerId": 1, "sourceId": 2, "amount": -1}) == (
        "COUNTER_OUT_OF_RANGE",
        "That change would take a counter out of its range",
    )
    await act(a, "start")
    assert await coded_error_of(b, "concede") == ("NOT_AUTHORIZED_CONCEDE", "You must claim a player to concede")
    c = await connect(0)
    await create_game(c, mode="campaign", campaignPreset="blitz")
    assert await coded_error_of(c, "updateSettings", {"startingLife": 30}) == (
        "FORMAT_CAMPAIGN",
        "A campaign's preset sets the format and starting life",
    )
