"""The interrupt stack end to end (service/messages/priority.py): interrupt and passPriority
over WebSocket on a real redis-server, two instances in one process.

Each message: its effect in Redis and its reply, each error with the game unchanged; the
turn refused while interrupts are pending; the hub's tick charging the clock that runs;
eight players interrupting and passing at once leaving a consistent stack and contiguous
versions.
"""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from service import keys
from stack.client import Client
from tests.support.instances import claim, create_game, game_log, game_state, ok, stream_faults
from tests.support.waits import settle
from tests.support.wire import Connect, refused

LONG_CLOCK = 600_000


async def table(connect: Connect, servers: list[TestServer], players: int) -> tuple[Client, list[Client], str]:
    """The host (no seat) created a game; seat N is held by seated[N-1], spread over the instances."""
    host = await connect(servers[0])
    gid, _, _ = await create_game(host, playerCount=players, initialTime=LONG_CLOCK)
    seated = []
    for pid in range(1, players + 1):
        c = await connect(servers[pid % len(servers)])
        await claim(c, gid, pid)
        seated.append(c)
    return host, seated, gid


async def test_interrupt_and_pass_priority_answer_with_the_stack_in_the_state(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    host, seated, gid = await table(connect, servers, 3)
    await ok(host, "start")

    st = (await ok(seated[1], "interrupt"))["data"]
    assert (st["interruptingPlayers"], st["activePlayer"]) == ([2], 1)
    st = (await ok(seated[2], "interrupt"))["data"]
    assert st["interruptingPlayers"] == [2, 3]
    assert await game_state(rdb, gid) == st
    st = (await ok(seated[2], "passPriority"))["data"]
    assert st["interruptingPlayers"] == [2]
    st = (await ok(seated[1], "passPriority"))["data"]
    assert st["interruptingPlayers"] == []
    assert [e["t"] for e in await game_log(rdb, gid)][-4:] == ["interrupt", "interrupt", "passPriority", "passPriority"]
    # the raw stored state carries an array, never {} (cjson's empty table)
    assert '"interruptingPlayers":[]' in str(await rdb.hget(keys.game(gid), "state"))


async def test_each_refusal_has_its_code_and_heads_message(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    host, seated, gid = await table(connect, servers, 3)
    assert await refused(seated[0], rdb, gid, "interrupt") == ("GAME_NOT_RUNNING", "Game is not running")
    await ok(host, "start")
    assert await refused(host, rdb, gid, "interrupt") == (
        "NOT_AUTHORIZED_INTERRUPT",
        "You must claim a player to interrupt",
    )
    assert await refused(host, rdb, gid, "passPriority") == (
        "NOT_AUTHORIZED_PRIORITY",
        "You must claim a player to pass priority",
    )
    assert await refused(seated[1], rdb, gid, "passPriority") == (
        "NOT_IN_INTERRUPT_QUEUE",
        "You are not in the interrupt queue",
    )
    await ok(seated[1], "interrupt")
    pending = ("PRIORITY_PENDING", "Cannot pass the turn while interrupts are pending")
    assert await refused(seated[0], rdb, gid, "passTurn") == pending
    assert await refused(seated[0], rdb, gid, "switch", {"playerId": 3}) == pending


async def test_the_tick_charges_the_interrupter_and_holds_the_active_clock(
    servers: list[TestServer], connect: Connect
) -> None:
    host, seated, gid = await table(connect, servers, 2)
    await ok(host, "start")
    st = (await ok(seated[1], "interrupt"))["data"]
    start = len(seated[1].messages)

    tick = await seated[1].wait_for(lambda m: m["type"] == "tick", timeout=5, start=start)

    times = tick["data"]["times"]
    assert times["1"] == st["players"][0]["timeRemaining"]
    assert times["2"] <= st["players"][1]["timeRemaining"]


async def test_eight_players_interrupting_and_passing_at_once_leave_a_consistent_stack(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    host, seated, gid = await table(connect, servers, 8)
    started = (await ok(host, "start"))["data"]["version"]

    await asyncio.gather(*(ok(c, "interrupt") for c in seated))
    full = await game_state(rdb, gid)
    assert sorted(full["interruptingPlayers"]) == list(range(1, 9))
    assert full["version"] == started + 8

    await asyncio.gather(*(ok(c, "passPriority") for c in seated))
    empty = await game_state(rdb, gid)
    assert empty["interruptingPlayers"] == []
    assert empty["version"] == started + 16

    # one log entry per message, versions contiguous, each push and pop once per player
    log = [e for e in await game_log(rdb, gid) if e["v"] > started]
    assert sorted(e["v"] for e in log) == list(range(started + 1, started + 17))
    assert sorted(e["d"]["playerId"] for e in log if e["t"] == "interrupt") == list(range(1, 9))
    assert sorted(e["d"]["playerId"] for e in log if e["t"] == "passPriority") == list(range(1, 9))
    # every client saw every version once, in order (a reply may trail its broadcast)
    await settle()
    for c in seated:
        assert stream_faults(c) == []
        assert max(m["data"]["version"] for m in c.of_type("state")) == started + 16


async def test_pass_turn_gives_the_bonus_in_a_head_clients_game(servers: list[TestServer], connect: Connect) -> None:
    host = await connect(servers[0])
    # a HEAD client's create names the lobby: HEAD's default bonus of 30 s
    gid, _, first = await create_game(host, name="Table", playerCount=2, initialTime=LONG_CLOCK)
    assert first["settings"]["bonusTime"] == 30_000
    a = await connect(servers[1])
    await claim(a, gid, 1)
    await ok(host, "start")

    st = (await ok(a, "passTurn"))["data"]

    assert (st["activePlayer"], st["players"][1]["timeRemaining"]) == (2, LONG_CLOCK + 30_000)
    st = (await ok(host, "updateSettings", {"bonusTime": 0}))["data"]
    assert st["settings"]["bonusTime"] == 0
    reply = await host.request("updateSettings", {"bonusTime": 300_001})
    assert reply["data"] == {"message": "Invalid bonus time: an integer from 0 to 300000 (ms)", "code": "INVALID_INPUT"}


async def test_the_stack_is_bounded_on_the_wire(servers: list[TestServer], connect: Connect, rdb: Redis) -> None:
    host, seated, gid = await table(connect, servers, 2)
    await ok(host, "start")
    for _ in range(16):
        await ok(seated[1], "interrupt")

    got = await refused(seated[0], rdb, gid, "interrupt")

    assert got == ("INTERRUPT_STACK_FULL", "Too many pending interrupts")
