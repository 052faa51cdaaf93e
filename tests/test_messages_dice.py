"""rollDice, rollPlayOrder and randomStartPlayer over WebSocket (service/messages/dice.py),
with two real instances (subprocesses) on one real redis-server: the players of one game sit
on different instances, so every event must come through the game's channel (C37), and each
instance sends its sockets the same roll, the one committed in the game's log.

The draws themselves are real (secrets); the scripted ones, and the proof that they come from
`secrets`, are in tests/lua/test_roll_dice.py, test_roll_play_order.py and
test_random_start_player.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from service import keys
from stack.client import Client
from stack.instance import ServiceProcess
from stack.redis_server import RedisProcess
from tests.support.instances import Clients, claim, create_game, game_log, game_state, ok, services

pytestmark = pytest.mark.slow

Snapshot = tuple[dict[Any, Any], list[Any], dict[Any, Any]]


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisProcess]:
    with RedisProcess() as server:
        yield server


@pytest.fixture(scope="module")
def instances(redis_server: RedisProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ServiceProcess]]:
    with services(redis_server.url, tmp_path_factory.mktemp("dice-logs"), 2, prefix="dice") as procs:
        yield procs


@pytest_asyncio.fixture
async def r(redis_server: RedisProcess) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


async def table(
    instances: list[ServiceProcess], pool: Clients, seats: int = 3, seated: int = 2
) -> tuple[str, list[Client], Client]:
    """A waiting game: the host on instance A holds seat 1; seats 2.. are held by clients on
    alternating instances (B first); one spectator on B."""
    a, b = instances[0].ws_url, instances[1].ws_url
    host = await pool.connect(a)
    gid, _, _ = await create_game(host, playerCount=seats, initialTime=600_000)
    await claim(host, gid, 1, join=False)
    players = [host]
    for pid in range(2, seated + 1):
        c = await pool.connect(b if pid % 2 == 0 else a)
        await claim(c, gid, pid)
        players.append(c)
    spectator = await pool.connect(b)
    await ok(spectator, "join", {"gameId": gid})
    return gid, players, spectator


async def event_then_state(c: Client, mtype: str, version: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The event `mtype` a socket got and the state of `version` that came after it."""
    event = await c.wait_for(lambda m: m["type"] == mtype, 10)
    after = c.messages.index(event) + 1
    state = await c.wait_for(lambda m: m["type"] == "state" and m["data"]["version"] == version, 10, start=after)
    return event, state["data"]


async def snapshot(r: Redis, gid: str) -> Snapshot:
    return (await r.hgetall(keys.game(gid)), await r.lrange(keys.log(gid), 0, -1), await r.hgetall(keys.actions(gid)))


async def refused(c: Client, r: Redis, gid: str, mtype: str, data: dict[str, Any] | None = None) -> tuple[str, str]:
    """(code, message) of the error answering the frame, which left the game in Redis as it was."""
    before = await snapshot(r, gid)
    rid = await c.send(mtype, data)
    reply = await c.reply(rid, 10)
    assert reply["type"] == "error", reply
    assert await snapshot(r, gid) == before
    return reply["data"]["code"], reply["data"]["message"]


# -- rollDice --------------------------------------------------------------------------


async def test_a_dice_roll_reaches_every_socket_on_both_instances_and_is_in_the_log(
    instances: list[ServiceProcess], pool: Clients, r: Redis
) -> None:
    gid, (host, p2), spectator = await table(instances, pool)
    version = (await game_state(r, gid))["version"]

    reply = await ok(p2, "rollDice", {"sides": 20})

    assert reply["data"]["version"] == version + 1
    rolls = []
    for c in (host, p2, spectator):
        event, state = await event_then_state(c, "diceRolled", version + 1)
        assert state == reply["data"]
        rolls.append(event["data"])
    assert rolls[0] == rolls[1] == rolls[2]
    roll = rolls[0]
    assert (roll["playerName"], roll["sides"], roll["timestamp"]) == ("Player 2", 20, reply["data"]["serverTime"])
    assert 1 <= roll["result"] <= 20
    entry = (await game_log(r, gid))[-1]
    expected = {"sides": 20, "result": roll["result"], "playerName": "Player 2"}
    assert (entry["v"], entry["t"], entry["d"]) == (version + 1, "rollDice", expected)


async def test_a_host_without_a_seat_rolls_as_host(instances: list[ServiceProcess], pool: Clients) -> None:
    host = await pool.connect(instances[0].ws_url)
    gid, _, _ = await create_game(host, playerCount=2)
    watcher = await pool.connect(instances[1].ws_url)
    await ok(watcher, "join", {"gameId": gid})

    reply = await ok(host, "rollDice", {"sides": 2})

    event, _ = await event_then_state(watcher, "diceRolled", reply["data"]["version"])
    assert event["data"]["playerName"] == "Host"
    assert event["data"]["result"] in (1, 2)


@pytest.mark.parametrize(
    ("sides", "code", "message"),
    [
        ("6", "INVALID_DICE_SIDES", "Dice sides must be an integer"),
        (2.5, "INVALID_DICE_SIDES", "Dice sides must be an integer"),
        (None, "INVALID_DICE_SIDES", "Dice sides must be an integer"),
        (1, "INVALID_DICE_RANGE", "Dice sides must be between 2 and 999"),
        (1000, "INVALID_DICE_RANGE", "Dice sides must be between 2 and 999"),
    ],
)
async def test_bad_sides_are_refused_with_heads_messages(
    instances: list[ServiceProcess], pool: Clients, r: Redis, sides: Any, code: str, message: str
) -> None:
    gid, (host, _), _ = await table(instances, pool)

    assert await refused(host, r, gid, "rollDice", {"sides": sides}) == (code, message)


async def test_a_spectator_may_not_roll(instances: list[ServiceProcess], pool: Clients, r: Redis) -> None:
    gid, _, spectator = await table(instances, pool)

    assert await refused(spectator, r, gid, "rollDice", {"sides": 6}) == (
        "NOT_AUTHORIZED_DICE",
        "Only seated players and the host can roll dice",
    )


# -- rollPlayOrder ---------------------------------------------------------------------


async def test_the_play_order_reaches_both_instances_and_the_turn_follows_it(
    instances: list[ServiceProcess], pool: Clients, r: Redis
) -> None:
    gid, players, spectator = await table(instances, pool, seats=4, seated=3)
    version = (await game_state(r, gid))["version"]

    reply = await ok(players[0], "rollPlayOrder")

    events = []
    for c in [*players, spectator]:
        event, state = await event_then_state(c, "playOrderRolled", version + 1)
        assert state == reply["data"]
        events.append(event["data"])
    assert all(e == events[0] for e in events)
    data = events[0]
    order = data["newOrder"]
    assert sorted(order) == [1, 2, 3]
    assert [row["playerId"] for row in data["rolls"]] == order
    assert [row["position"] for row in data["rolls"]] == [1, 2, 3]
    assert all(1 <= x <= 20 for row in data["rolls"] for x in row["rolls"])
    state = reply["data"]
    assert [p["id"] for p in state["players"]] == [*order, 4]
    assert state["activePlayer"] == order[0]
    entry = (await game_log(r, gid))[-1]
    assert (entry["t"], entry["d"]) == ("rollPlayOrder", data)

    # the game starts with the first roller, and the turn goes round in the rolled order
    seat = {pid: players[pid - 1] for pid in (1, 2, 3)}
    state = (await ok(players[0], "start"))["data"]
    seen = [state["activePlayer"]]
    for _ in range(3):
        active = state["activePlayer"]
        holder = seat.get(active, players[0])  # the host passes for the free seat 4
        state = (await ok(holder, "passTurn"))["data"]
        seen.append(state["activePlayer"])
    assert seen == [*order, 4]


async def test_only_the_host_rolls_the_play_order(instances: list[ServiceProcess], pool: Clients, r: Redis) -> None:
    gid, (_, p2), spectator = await table(instances, pool)

    for c in (p2, spectator):
        assert await refused(c, r, gid, "rollPlayOrder") == (
            "NOT_OWNER_PLAY_ORDER",
            "Only the game owner can roll for play order",
        )


async def test_the_play_order_needs_two_players_before_the_start(
    instances: list[ServiceProcess], pool: Clients, r: Redis
) -> None:
    gid, (host,), _ = await table(instances, pool, seated=1)
    assert await refused(host, r, gid, "rollPlayOrder") == (
        "PLAY_ORDER_TOO_FEW_PLAYERS",
        "Need at least 2 players to roll for play order",
    )
    gid, (host, _), _ = await table(instances, pool)
    await ok(host, "start")
    assert await refused(host, r, gid, "rollPlayOrder") == (
        "PLAY_ORDER_NOT_WAITING",
        "Can only roll for play order before game starts",
    )


# -- randomStartPlayer -----------------------------------------------------------------


async def test_the_random_start_player_reaches_both_instances(
    instances: list[ServiceProcess], pool: Clients, r: Redis
) -> None:
    gid, players, spectator = await table(instances, pool, seats=4, seated=3)
    version = (await game_state(r, gid))["version"]

    reply = await ok(players[0], "randomStartPlayer")

    events = []
    for c in [*players, spectator]:
        event, state = await event_then_state(c, "randomPlayerSelected", version + 1)
        assert state == reply["data"]
        events.append(event["data"])
    assert all(e == events[0] for e in events)
    chosen = events[0]["playerId"]
    assert chosen in (1, 2, 3)  # seat 4 is free: never chosen
    assert events[0]["playerName"] == f"Player {chosen}"
    assert reply["data"]["activePlayer"] == chosen
    entry = (await game_log(r, gid))[-1]
    assert (entry["t"], entry["d"]) == ("randomStartPlayer", {"playerId": chosen})
    assert (await ok(players[0], "start"))["data"]["activePlayer"] == chosen


async def test_the_random_start_player_is_the_hosts_before_the_start_among_seated_players(
    instances: list[ServiceProcess], pool: Clients, r: Redis
) -> None:
    host = await pool.connect(instances[0].ws_url)
    gid, _, _ = await create_game(host, playerCount=2)
    assert await refused(host, r, gid, "randomStartPlayer") == (
        "NO_ELIGIBLE_PLAYERS",
        "No eligible players to select from",
    )
    gid, (host, p2), _ = await table(instances, pool)
    assert await refused(p2, r, gid, "randomStartPlayer") == (
        "NOT_OWNER_RANDOM_START",
        "Only the game owner can select a random player",
    )
    await ok(host, "start")
    assert await refused(host, r, gid, "randomStartPlayer") == (
        "RANDOM_START_NOT_WAITING",
        "Can only select random player before game starts",
    )
