"""The host role over WebSocket (service/messages/seats.py): transferHost and claimHost on a
real redis-server with two instances in one process, and a page reloading as the web client
does (service/static/js/session.js: reconnect with the seat token and the host token it holds,
the host token dropped when refused).

The other seat messages (create, join, reconnect, claim, unclaim, leave) are tested end to
end in tests/test_ws.py.
"""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from service import keys
from service.app import RUNTIME
from stack.client import Client
from tests.support.instances import claim, create_game, game_state, ok
from tests.support.waits import eventually
from tests.support.wire import Connect, refused

LONG_CLOCK = 600_000


def player(state: dict[str, Any], pid: int) -> dict[str, Any]:
    return dict(next(p for p in state["players"] if p["id"] == pid))


async def reload(
    connect: Connect, server: TestServer, gid: str, seat: tuple[int, str] | None, host: str | None
) -> Client:
    """A page reload as the web client recovers: reconnect with what it holds; a refused host
    token is dropped and the reconnect sent again without it."""
    c = await connect(server)
    data: dict[str, Any] = {"gameId": gid}
    if seat is not None:
        data.update(playerId=seat[0], token=seat[1])
    if host is not None:
        data["hostToken"] = host
    reply = await c.request("reconnect", data)
    if reply["type"] == "error" and reply["data"]["code"] == "INVALID_HOST_TOKEN":
        del data["hostToken"]
        reply = await c.request("reconnect", data)
    assert reply["type"] == "reconnected", reply
    return c


async def table(connect: Connect, server: TestServer) -> tuple[Client, str, str, list[Client], list[str]]:
    """The host holds seat 1 of a running 3-seat game on `server`; p2 and p3 hold the others."""
    host = await connect(server)
    gid, host_token, _ = await create_game(host, playerCount=3, initialTime=LONG_CLOCK)
    tokens = [await claim(host, gid, 1, join=False)]
    others = []
    for pid in (2, 3):
        c = await connect(server)
        tokens.append(await claim(c, gid, pid))
        others.append(c)
    await ok(host, "start")
    return host, gid, host_token, others, tokens


# -- transferHost ------------------------------------------------------------------------


async def test_transfer_reaches_the_new_host_on_the_other_instance_alone(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    a, b = servers
    host = await connect(a)
    gid, _, _ = await create_game(host, playerCount=2, initialTime=LONG_CLOCK)
    p1, p2 = await connect(a), await connect(b)
    await claim(p1, gid, 1)
    await claim(p2, gid, 2)

    st = (await ok(host, "transferHost", {"playerId": 2}))["data"]

    assert (st["ownerId"], st["hostSeat"]) == (player(st, 2)["claimedBy"], 2)
    assert await game_state(rdb, gid) == st
    await p2.state_at_least(st["version"])
    got = [m for m in p2.messages if m["type"] in ("hostGranted", "state")][-2:]
    assert got == [{"type": "hostGranted", "data": {"playerId": 2}}, {"type": "state", "data": st}]
    for c in (host, p1):
        await c.state_at_least(st["version"])
        assert c.of_type("hostGranted") == []
    # the new host acts as host at once; the old one no longer does
    await ok(p2, "updateSettings", {"penaltyType": "game_loss"})
    got_code = await refused(host, rdb, gid, "updateSettings", {"penaltyType": "warning"})
    assert got_code == ("NOT_OWNER_SETTINGS", "Only the game owner can change settings")


async def test_after_a_transfer_both_reload_and_only_the_new_host_is_host(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    a, b = servers
    host, gid, host_token, (p2, _), tokens = await table(connect, a)
    await ok(host, "transferHost", {"playerId": 2})
    await host.close()
    await p2.close()

    old = await reload(connect, b, gid, (1, tokens[0]), host_token)
    new = await reload(connect, a, gid, (2, tokens[1]), None)

    old_reply, new_reply = old.of_type("reconnected")[-1]["data"], new.of_type("reconnected")[-1]["data"]
    assert (old_reply["playerId"], old_reply["host"]) == (1, False)
    assert (new_reply["playerId"], new_reply["host"]) == (2, True)
    st = await game_state(rdb, gid)
    assert st["ownerId"] == player(st, 2)["claimedBy"]
    assert st["hostAwaySince"] is None
    await ok(new, "reset")
    assert await refused(old, rdb, gid, "reset") == ("NOT_OWNER_RESET", "Only the game owner can reset")


async def test_transfer_refusals(servers: list[TestServer], connect: Connect, rdb: Redis) -> None:
    host, gid, _, (p2, _), _ = await table(connect, servers[0])
    await ok(p2, "unclaim")

    assert await refused(host, rdb, gid, "transferHost", {"playerId": 2}) == (
        "PLAYER_NOT_CLAIMED",
        "Player is not claimed",
    )
    assert await refused(host, rdb, gid, "transferHost", {"playerId": 1}) == ("ALREADY_HOST", "Already the host")
    assert await refused(host, rdb, gid, "transferHost", {"playerId": 9}) == ("INVALID_PLAYER_ID", "Invalid player ID")
    got = await refused(p2, rdb, gid, "transferHost", {"playerId": 3})
    assert got == ("NOT_OWNER_TRANSFER", "Only the game owner can hand over the host role")


# -- claimHost ---------------------------------------------------------------------------


async def test_a_seated_player_takes_the_role_from_a_host_whose_socket_closed_after_the_timeout(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    a, b = servers
    host = await connect(a)
    gid, host_token, _ = await create_game(host, playerCount=2, initialTime=LONG_CLOCK, hostTimeout=10_000)
    p1 = await connect(b)
    token = await claim(p1, gid, 1)
    a_liveness = a.app[RUNTIME].liveness
    # a host without a seat keeps the game in its instance's games set: its death must be told
    assert a_liveness.seats[gid] == 1
    assert gid in await rdb.smembers(keys.instance_games(a_liveness.incarnation))
    refusal = await refused(p1, rdb, gid, "claimHost")
    assert refusal == ("HOST_PRESENT", "The host is here")

    await host.close()

    async def away() -> bool:
        return (await game_state(rdb, gid)).get("hostAwaySince") is not None

    await eventually(away)
    # leave.lua marks the host away before the socket's session forgets its seat
    await eventually(lambda: gid not in a_liveness.seats)
    refusal = await refused(p1, rdb, gid, "claimHost")
    assert refusal == ("HOST_AWAY_TOO_SHORT", "The host has not been away long enough")
    b.app[RUNTIME].clock.offset_ms = 10_000
    st = (await ok(p1, "claimHost"))["data"]

    assert (st["ownerId"], st["hostSeat"], st["hostAwaySince"]) == (player(st, 1)["claimedBy"], 1, None)
    back = await connect(a)
    again = await back.request("reconnect", {"gameId": gid, "hostToken": host_token})
    assert (again["type"], again["data"]["code"]) == ("error", "INVALID_HOST_TOKEN")
    await p1.close()
    new = await reload(connect, a, gid, (1, token), None)
    assert new.of_type("reconnected")[-1]["data"]["host"] is True


async def test_claim_host_needs_a_seat(servers: list[TestServer], connect: Connect, rdb: Redis) -> None:
    host = await connect(servers[0])
    gid, _, _ = await create_game(host, playerCount=2)
    watcher = await connect(servers[1])
    await ok(watcher, "join", {"gameId": gid})

    got = await refused(watcher, rdb, gid, "claimHost")

    assert got == ("NOT_AUTHORIZED_CLAIM_HOST", "You must claim a player to take the host role")


async def test_the_new_host_socket_knows_it_is_host_so_its_closing_makes_the_host_away(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    a, b = servers
    host, gid, _, (p2, _), _ = await table(connect, a)
    st = (await ok(host, "transferHost", {"playerId": 2}))["data"]
    await p2.state_at_least(st["version"])
    # off its seat (the game runs: the token and the role's binding stay), still the host
    await ok(p2, "unclaim")
    a_liveness = a.app[RUNTIME].liveness
    assert a_liveness.seats[gid] == 3  # the old host's seat, p3's, and the new host's rights

    await p2.close()

    async def away() -> bool:
        return (await game_state(rdb, gid)).get("hostAwaySince") is not None

    await eventually(away)
    await eventually(lambda: a_liveness.seats[gid] == 2)
