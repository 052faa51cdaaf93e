"""The admin controls end to end (service/messages/admin.py): adminAddTime, adminKick,
adminRevive, moveSeat and freeSeat over WebSocket on a real redis-server, with two instances
in one process, and once more with two service processes (tests/support/instances.py).

Each message: its effect in Redis and its reply, each error with the game unchanged; the
`kicked` (`seatMoved`, `seatFreed`) event reaching its client alone, on whichever instance it
is connected to, and that instance's games set (service/liveness.py) staying exact.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from service import keys
from service.app import RUNTIME
from stack.client import Client
from stack.redis_server import RedisProcess
from tests.support.instances import Clients, claim, create_game, game_state, ok, services
from tests.support.waits import eventually
from tests.support.wire import Connect, refused

LONG_CLOCK = 600_000
MINUTE = 60_000


def player(state: dict[str, Any], pid: int) -> dict[str, Any]:
    return dict(next(p for p in state["players"] if p["id"] == pid))


async def table(connect: Connect, server: TestServer, players: int = 3) -> tuple[Client, list[Client], str]:
    """The host (no seat) created a game on `server`; each seat is held by a client there."""
    host = await connect(server)
    gid, _, _ = await create_game(host, playerCount=players, initialTime=LONG_CLOCK)
    seated = []
    for pid in range(1, players + 1):
        c = await connect(server)
        await claim(c, gid, pid)
        seated.append(c)
    return host, seated, gid


# -- adminAddTime ------------------------------------------------------------------------


async def test_add_time_from_the_host_commits_the_minutes_and_answers_with_the_state(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    host, _, gid = await table(connect, servers[0])
    await ok(host, "start")

    reply = await ok(host, "adminAddTime", {"playerId": 2, "minutes": 2.5})

    st = reply["data"]
    assert player(st, 2)["timeRemaining"] == LONG_CLOCK + 150_000
    assert await game_state(rdb, gid) == st
    entry = json.loads((await rdb.lrange(keys.log(gid), 0, 0))[0])
    assert (entry["t"], entry["d"]) == ("adminAddTime", {"playerId": 2, "ms": 150_000})


@pytest.mark.parametrize("minutes", [0, 0.99, 60.01, 61, -5, "5", True, None, [5], {"m": 5}])
async def test_add_time_refuses_minutes_outside_one_to_sixty(
    servers: list[TestServer], connect: Connect, rdb: Redis, minutes: Any
) -> None:
    host, _, gid = await table(connect, servers[0], 2)

    got = await refused(host, rdb, gid, "adminAddTime", {"playerId": 1, "minutes": minutes})

    assert got == ("INVALID_INPUT", "Minutes must be between 1 and 60")


async def test_add_time_without_minutes_is_refused_with_heads_message(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    host, _, gid = await table(connect, servers[0], 2)

    got = await refused(host, rdb, gid, "adminAddTime", {"playerId": 1})

    assert got == ("INVALID_INPUT", "Minutes must be between 1 and 60")


async def test_add_time_checks_the_player_id_before_the_minutes(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    host, _, gid = await table(connect, servers[0], 2)

    got = await refused(host, rdb, gid, "adminAddTime", {"playerId": 9, "minutes": 0})

    assert got == ("INVALID_PLAYER_ID", "Invalid player ID")


@pytest.mark.parametrize("mtype", ["adminAddTime", "adminKick", "adminRevive"])
async def test_admin_controls_are_refused_to_a_seated_player_and_to_a_spectator(
    servers: list[TestServer], connect: Connect, rdb: Redis, mtype: str
) -> None:
    """HEAD let anyone holding a seat use them on anyone (C22)."""
    host, seated, gid = await table(connect, servers[0])
    await ok(host, "eliminate", {"playerId": 3})
    watcher = await connect(servers[1])
    await ok(watcher, "join", {"gameId": gid})
    data = {"playerId": 3 if mtype == "adminRevive" else 2, "minutes": 5}

    for c in (seated[0], watcher):
        got = await refused(c, rdb, gid, mtype, data)
        assert got == ("NOT_OWNER_ADMIN", "Only the game owner can use admin controls")


@pytest.mark.parametrize("mtype", ["adminAddTime", "adminKick", "adminRevive"])
async def test_admin_controls_need_a_game(servers: list[TestServer], connect: Connect, mtype: str) -> None:
    c = await connect(servers[0])

    reply = await c.request(mtype, {"playerId": 1, "minutes": 5})

    assert (reply["type"], reply["data"]["code"]) == ("error", "NOT_IN_GAME")


# -- adminKick ---------------------------------------------------------------------------


async def test_kick_reaches_the_kicked_client_on_the_other_instance_alone_before_the_state(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    a, b = servers
    host = await connect(a)
    gid, _, _ = await create_game(host, playerCount=3, initialTime=LONG_CLOCK)
    p1, p2, p3 = await connect(a), await connect(b), await connect(b)
    watcher_a, watcher_b = await connect(a), await connect(b)
    tokens = {pid: await claim(c, gid, pid) for pid, c in ((1, p1), (2, p2), (3, p3))}
    for w in (watcher_a, watcher_b):
        await ok(w, "join", {"gameId": gid})
    await ok(host, "start")
    b_liveness = b.app[RUNTIME].liveness
    assert b_liveness.seats[gid] == 2

    reply = await ok(host, "adminKick", {"playerId": 2})

    st = reply["data"]
    stored = await game_state(rdb, gid)
    assert stored == st
    assert (player(st, 2)["claimedBy"], player(st, 2)["isEliminated"]) == (None, True)
    fields = await rdb.hgetall(keys.game(gid))
    assert "tok:2" not in fields and "exp:2" not in fields
    await p2.state_at_least(st["version"])
    got = [m for m in p2.messages if m["type"] in ("kicked", "state")][-2:]
    assert got == [{"type": "kicked", "data": {"playerId": 2}}, {"type": "state", "data": st}]
    everyone_else = (host, p1, p3, watcher_a, watcher_b)
    for c in everyone_else:
        await c.state_at_least(st["version"])
    assert [c.of_type("kicked") for c in everyone_else] == [[]] * len(everyone_else)
    # the kicked socket on B lost its seat there; p3's keeps the game in B's set
    assert b_liveness.seats[gid] == 1
    assert gid in await rdb.smembers(keys.instance_games(b_liveness.incarnation))

    again = await connect(b)
    rejoin = await again.request("reconnect", {"gameId": gid, "playerId": 2, "token": tokens[2]})
    assert (rejoin["type"], rejoin["data"]["code"]) == ("error", "NO_TOKEN")


async def test_after_the_last_seat_on_an_instance_is_kicked_its_games_set_no_longer_lists_the_game(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    a, b = servers
    host = await connect(a)
    gid, _, _ = await create_game(host, playerCount=3, initialTime=LONG_CLOCK)
    p1, p2 = await connect(a), await connect(b)
    await claim(p1, gid, 1)
    await claim(p2, gid, 2)
    b_liveness = b.app[RUNTIME].liveness
    games_of_b = keys.instance_games(b_liveness.incarnation)
    assert gid in await rdb.smembers(games_of_b)

    st = (await ok(host, "adminKick", {"playerId": 2}))["data"]
    await p2.state_at_least(st["version"])

    assert gid not in b_liveness.seats
    await eventually(lambda: _lacks(rdb, games_of_b, gid))
    # the kicked socket holds no seat any more: claiming one counts again, leaving counts down
    await claim(p2, gid, 3, join=False)
    assert b_liveness.seats[gid] == 1
    await eventually(lambda: _has(rdb, games_of_b, gid))
    left = await p2.request("leave")
    assert left["type"] == "left"
    assert gid not in b_liveness.seats
    await eventually(lambda: _lacks(rdb, games_of_b, gid))
    assert player(await game_state(rdb, gid), 3)["claimedBy"] is None


async def _has(rdb: Redis, key: str, gid: str) -> bool:
    return gid in await rdb.smembers(key)


async def _lacks(rdb: Redis, key: str, gid: str) -> bool:
    return gid not in await rdb.smembers(key)


async def test_kick_of_a_free_seat_is_refused(servers: list[TestServer], connect: Connect, rdb: Redis) -> None:
    host = await connect(servers[0])
    gid, _, _ = await create_game(host, playerCount=2)

    got = await refused(host, rdb, gid, "adminKick", {"playerId": 2})

    assert got == ("PLAYER_NOT_CLAIMED", "Player is not claimed")


async def test_kick_of_a_player_that_does_not_exist_is_refused(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    host = await connect(servers[0])
    gid, _, _ = await create_game(host, playerCount=2)

    assert await refused(host, rdb, gid, "adminKick", {"playerId": 5}) == ("PLAYER_NOT_FOUND", "Player not found")


# -- adminRevive -------------------------------------------------------------------------


async def test_revive_from_the_host_brings_the_player_back(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    host, _, gid = await table(connect, servers[0], 2)
    await ok(host, "start")
    finished = (await ok(host, "eliminate", {"playerId": 1}))["data"]
    assert (finished["status"], finished["winner"]) == ("finished", 2)

    st = (await ok(host, "adminRevive", {"playerId": 1}))["data"]

    assert (st["status"], st["winner"], player(st, 1)["isEliminated"]) == ("paused", None, False)
    assert await game_state(rdb, gid) == st


async def test_revive_of_a_player_still_in_is_refused(servers: list[TestServer], connect: Connect, rdb: Redis) -> None:
    host, _, gid = await table(connect, servers[0], 2)

    got = await refused(host, rdb, gid, "adminRevive", {"playerId": 1})

    assert got == ("PLAYER_NOT_ELIMINATED", "Player is not eliminated")


# -- moveSeat and freeSeat ----------------------------------------------------------------


async def test_move_reaches_the_moved_client_on_the_other_instance_which_plays_on_from_the_new_seat(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    a, b = servers
    host = await connect(a)
    gid, _, _ = await create_game(host, playerCount=3, initialTime=LONG_CLOCK)
    p1, p2 = await connect(a), await connect(b)
    await claim(p1, gid, 1)
    token = await claim(p2, gid, 2)
    await ok(host, "start")
    b_liveness = b.app[RUNTIME].liveness

    st = (await ok(host, "moveSeat", {"fromPlayerId": 2, "toPlayerId": 3}))["data"]

    assert [p["claimedBy"] for p in st["players"]] == [player(st, 1)["claimedBy"], None, player(st, 3)["claimedBy"]]
    assert await game_state(rdb, gid) == st
    await p2.state_at_least(st["version"])
    got = [m for m in p2.messages if m["type"] in ("seatMoved", "state")][-2:]
    assert got == [{"type": "seatMoved", "data": {"fromPlayerId": 2, "toPlayerId": 3}}, {"type": "state", "data": st}]
    await p1.state_at_least(st["version"])
    assert p1.of_type("seatMoved") == []
    assert b_liveness.seats[gid] == 1
    # the moved socket acts as seat 3 (its action ids and its release follow)
    interrupted = (await ok(p2, "interrupt"))["data"]
    assert interrupted["interruptingPlayers"] == [3]
    await p2.close()
    await eventually(lambda: gid not in b_liveness.seats)
    assert player(await game_state(rdb, gid), 3)["claimedBy"] is None
    # a reload with the seat it had stored lands on the new one, and the reply says which
    again = await connect(a)
    reply = await again.request("reconnect", {"gameId": gid, "playerId": 2, "token": token})
    assert (reply["type"], reply["data"]["playerId"], reply["data"]["token"]) == ("reconnected", 3, token)


async def test_move_refusals(servers: list[TestServer], connect: Connect, rdb: Redis) -> None:
    host, seated, gid = await table(connect, servers[0])
    await ok(seated[2], "unclaim")

    moves = {
        (1, 2): ("PLAYER_CLAIMED", "Player already claimed"),
        (3, 1): ("PLAYER_NOT_CLAIMED", "Player is not claimed"),
        (1, 1): ("INVALID_INPUT", "Invalid seat move: fromPlayerId and toPlayerId must be different seats"),
        (1, 9): ("INVALID_PLAYER_ID", "Invalid player ID"),
        (1, 4): ("PLAYER_NOT_FOUND", "Player not found"),
    }
    for (source, target), expected in moves.items():
        assert await refused(host, rdb, gid, "moveSeat", {"fromPlayerId": source, "toPlayerId": target}) == expected
    got = await refused(seated[0], rdb, gid, "moveSeat", {"fromPlayerId": 1, "toPlayerId": 3})
    assert got == ("NOT_OWNER_SEATS", "Only the game owner can move or free seats")


async def test_free_reaches_the_client_alone_which_loses_the_seat_and_its_token(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    a, b = servers
    host = await connect(a)
    gid, _, _ = await create_game(host, playerCount=2, initialTime=LONG_CLOCK)
    p1, p2 = await connect(a), await connect(b)
    await claim(p1, gid, 1)
    token = await claim(p2, gid, 2)
    await ok(host, "start")
    b_liveness = b.app[RUNTIME].liveness
    games_of_b = keys.instance_games(b_liveness.incarnation)

    st = (await ok(host, "freeSeat", {"playerId": 2}))["data"]

    assert (player(st, 2)["claimedBy"], player(st, 2)["isEliminated"], st["status"]) == (None, False, "running")
    assert "tok:2" not in await rdb.hgetall(keys.game(gid))
    await p2.state_at_least(st["version"])
    got = [m for m in p2.messages if m["type"] in ("seatFreed", "state")][-2:]
    assert got == [{"type": "seatFreed", "data": {"playerId": 2}}, {"type": "state", "data": st}]
    await p1.state_at_least(st["version"])
    assert p1.of_type("seatFreed") == []
    assert gid not in b_liveness.seats
    await eventually(lambda: _lacks(rdb, games_of_b, gid))
    again = await connect(b)
    reply = await again.request("reconnect", {"gameId": gid, "playerId": 2, "token": token})
    assert (reply["type"], reply["data"]["code"]) == ("error", "NO_TOKEN")
    assert await refused(p1, rdb, gid, "freeSeat", {"playerId": 1}) == (
        "NOT_OWNER_SEATS",
        "Only the game owner can move or free seats",
    )


# -- two service processes ----------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisProcess]:
    with RedisProcess() as server:
        yield server


@pytest.mark.slow
async def test_kick_across_two_service_processes_reaches_only_the_kicked_client(
    redis_server: RedisProcess, tmp_path: Path, pool: Clients
) -> None:
    rdb = Redis.from_url(redis_server.url, decode_responses=True)
    try:
        with services(redis_server.url, tmp_path, 2, prefix="admin") as (one, two):
            host, watcher = await pool.connect(one.ws_url), await pool.connect(two.ws_url)
            p1, p2 = await pool.connect(one.ws_url), await pool.connect(two.ws_url)
            gid, _, _ = await create_game(host, playerCount=2, initialTime=LONG_CLOCK)
            await claim(p1, gid, 1)
            token = await claim(p2, gid, 2)
            await ok(watcher, "join", {"gameId": gid})
            incarnation = p2.client_id.split("_")[1]
            games_of_two = keys.instance_games(incarnation)
            assert gid in await rdb.smembers(games_of_two)

            st = (await ok(host, "adminKick", {"playerId": 2}))["data"]

            for c in (host, watcher, p1, p2):
                await c.state_at_least(st["version"], 10)
            assert p2.of_type("kicked") == [{"type": "kicked", "data": {"playerId": 2}}]
            assert [c.of_type("kicked") for c in (host, watcher, p1)] == [[], [], []]
            assert (st["status"], st["winner"]) == ("finished", 1)
            await eventually(lambda: _lacks(rdb, games_of_two, gid))
            rejoin = await (await pool.connect(two.ws_url)).request(
                "reconnect", {"gameId": gid, "playerId": 2, "token": token}
            )
            assert rejoin["data"]["code"] == "NO_TOKEN"
    finally:
        await rdb.aclose()
