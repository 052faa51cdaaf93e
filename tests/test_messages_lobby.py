"""The lobby end to end on a real redis-server: create's lobby fields, renameGame, setListed,
endGame (on one instance and across two) and GET /api/games (paged, bounded, rate-limited,
never showing an unlisted or deleted game)."""

# the fixtures of tests/test_ws.py are imported by name, so each test's parameters shadow them
# ruff: noqa: F811

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from service import keys, lobby
from service.app import RUNTIME
from service.errors import NOT_IN_GAME_MESSAGE
from stack.client import Client
from tests.support.waits import eventually
from tests.test_ws import (  # noqa: F401  (fixtures, found by pytest through this import)
    Connect,
    ServerFactory,
    act,
    claim,
    coded_error_of,
    connect,
    create_game,
    error_of,
    http,
    make_server,
    replies,
    server,
    stored_state,
    table,
)

HEAD_GAME_FIELDS = {
    "id",
    "name",
    "mode",
    "status",
    "createdAt",
    "lastActivity",
    "playerCount",
    "claimedCount",
    "settings",
}


async def list_games(http: aiohttp.ClientSession, srv: TestServer, **query: Any) -> tuple[int, dict[str, Any]]:
    async with http.get(srv.make_url("/api/games"), params={k: str(v) for k, v in query.items()}) as resp:
        return resp.status, dict(await resp.json())


async def listed_ids(http: aiohttp.ClientSession, srv: TestServer, **query: Any) -> list[str]:
    status, body = await list_games(http, srv, **query)
    assert status == 200, body
    return [g["id"] for g in body["games"]]


# -- create's lobby fields -------------------------------------------------------------


async def test_a_head_client_creates_a_named_casual_game(connect: Connect, rdb: Redis) -> None:
    c = await connect()

    gid, _, st = await create_game(c, name="  Friday night  ", mode="casual", playerCount=3)

    assert (st["name"], st["mode"], st["listed"]) == ("Friday night", "casual", True)
    assert "name" not in st["settings"] and "mode" not in st["settings"]
    assert (await stored_state(rdb, gid))["name"] == "Friday night"


async def test_a_v1_client_that_sends_no_name_gets_game(connect: Connect) -> None:
    c = await connect()

    _, _, st = await create_game(c, playerCount=2)

    assert (st["name"], st["mode"], st["listed"]) == ("Game", "casual", True)


@pytest.mark.parametrize(
    "settings, code, message",
    [
        (
            {"mode": "campaign", "campaignPreset": "bogus"},
            "INVALID_INPUT",
            "Unknown campaign preset: bogus (one of standard, blitz, endurance, wastelands)",
        ),
        ({"mode": "bogus"}, "INVALID_INPUT", "Unknown game mode: bogus"),
        ({"mode": 7}, "INVALID_INPUT", "Unknown game mode: 7"),
        ({"name": "x" * 51}, "INVALID_INPUT", "Invalid game name"),
        ({"name": "a\u0007b"}, "INVALID_INPUT", "Invalid game name"),
        ({"name": ["a"]}, "INVALID_INPUT", "Invalid game name"),
        ({"listed": "no"}, "INVALID_INPUT", "Invalid listed flag"),
        (
            {"campaignPreset": ["standard"]},
            "INVALID_INPUT",
            'Unknown campaign preset: ["standard"] (one of standard, blitz, endurance, wastelands)',
        ),
        ({"campaign": {}}, "INVALID_INPUT", "Invalid settings: unknown setting 'campaign'"),
    ],
)
async def test_create_refuses_bad_lobby_settings_and_creates_nothing(
    connect: Connect, rdb: Redis, settings: dict[str, Any], code: str, message: str
) -> None:
    c = await connect()

    assert await coded_error_of(c, "create", {"settings": settings}) == (code, message)
    assert [k async for k in rdb.scan_iter("tot:*") if k != keys.instances()] == []


# -- renameGame ----------------------------------------------------------------------------


async def test_rename_answers_the_state_then_game_renamed_and_everyone_sees_the_name(
    connect: Connect, rdb: Redis
) -> None:
    a, b, gid, _ = await table(connect)

    rid = await a.send("renameGame", {"name": "  New name "})
    state, renamed = await replies(a, rid, 2)

    assert (state["type"], renamed["type"]) == ("state", "gameRenamed")
    assert state["data"]["name"] == "New name"
    assert renamed["data"] == {"name": "New name"}
    await eventually(lambda: any(m["type"] == "state" and m["data"]["name"] == "New name" for m in b.messages))
    assert not b.of_type("gameRenamed")
    assert (await stored_state(rdb, gid))["name"] == "New name"


async def test_rename_to_blank_is_game(connect: Connect) -> None:
    a, _, _, _ = await table(connect, name="Named")

    rid = await a.send("renameGame", {"name": "   "})
    state, renamed = await replies(a, rid, 2)

    assert state["data"]["name"] == renamed["data"]["name"] == "Game"


async def test_only_the_host_may_rename_and_the_game_is_unchanged(connect: Connect, rdb: Redis) -> None:
    a, b, gid, _ = await table(connect, name="Kept")
    before = await rdb.hgetall(keys.game(gid))

    assert await coded_error_of(b, "renameGame", {"name": "Mine"}) == (
        "NOT_OWNER_RENAME",
        "Only the game owner can rename the game",
    )
    assert await error_of(a, "renameGame", {"name": 5}) == "Invalid game name"
    assert await rdb.hgetall(keys.game(gid)) == before


# -- setListed and the list ------------------------------------------------------------------


async def test_the_list_shows_what_head_showed_and_only_that(
    connect: Connect, http: aiohttp.ClientSession, server: TestServer
) -> None:
    a, _, gid, _ = await table(connect, players=3, name="<b>Lobby</b>")

    async with http.get(server.make_url("/api/games")) as resp:
        assert resp.status == 200
        assert resp.headers["Cache-Control"] == "no-cache, no-store, must-revalidate"
        assert (resp.headers["Pragma"], resp.headers["Expires"]) == ("no-cache", "0")
        body = await resp.json()

    assert set(body) == {"games", "nextCursor", "instanceId"}
    assert body["instanceId"] == server.app[RUNTIME].settings.instance_id
    [game] = body["games"]
    assert set(game) == HEAD_GAME_FIELDS
    assert game["id"] == gid
    assert (game["name"], game["mode"], game["status"]) == ("<b>Lobby</b>", "casual", "waiting")
    assert (game["playerCount"], game["claimedCount"]) == (3, 1)
    assert game["settings"] == {"playerCount": 3, "initialTime": 600_000}
    assert body["nextCursor"] is None


async def test_an_unlisted_game_is_not_listed_and_relisting_shows_it_again(
    connect: Connect, http: aiohttp.ClientSession, server: TestServer, rdb: Redis
) -> None:
    a, b, gid, _ = await table(connect)
    other = (await create_game(await connect()))[0]
    assert set(await listed_ids(http, server)) == {gid, other}

    st = await act(a, "setListed", {"listed": False})
    assert st["listed"] is False
    assert await listed_ids(http, server) == [other]
    # still joinable by its code
    assert (await act(await connect(), "join", {"gameId": gid}))["id"] == gid
    assert await coded_error_of(b, "setListed", {"listed": True}) == (
        "NOT_OWNER_LISTING",
        "Only the game owner can list or unlist the game",
    )
    assert await error_of(a, "setListed", {"listed": "yes"}) == "Invalid listed flag"

    await act(a, "setListed", {"listed": True})
    assert await listed_ids(http, server) == [gid, other]


async def test_a_game_created_unlisted_is_never_listed(
    connect: Connect, http: aiohttp.ClientSession, server: TestServer
) -> None:
    c = await connect()
    gid, _, st = await create_game(c, listed=False)
    await claim(c, 1)

    assert st["listed"] is False
    assert await listed_ids(http, server) == []


async def test_the_list_pages_newest_activity_first_without_gaps_or_repeats(
    connect: Connect, http: aiohttp.ClientSession, server: TestServer
) -> None:
    c = await connect()
    made = [(await create_game(c))[0] for _ in range(7)]
    # activity moves a game to the front
    host = await connect()
    gid, _, _ = await create_game(host)
    made.append(gid)
    await claim(host, 1)
    first_created = made[0]

    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        status, body = await list_games(http, server, limit=3, cursor=cursor)
        assert status == 200
        assert len(body["games"]) <= 3
        seen += [g["id"] for g in body["games"]]
        activity = [g["lastActivity"] for g in body["games"]]
        assert activity == sorted(activity, reverse=True)
        pages += 1
        if body["nextCursor"] is None:
            break
        cursor = body["nextCursor"]
    assert pages == 3
    assert sorted(seen) == sorted(made) and len(seen) == len(set(seen))
    assert seen[0] == gid and seen[-1] == first_created


async def test_games_in_the_same_millisecond_are_paged_by_id(rdb: Redis) -> None:
    # equal scores: the cursor's id tells which of them the next page starts after
    same = sorted({keys.new_game_id(f"tie{i}".encode()) for i in range(6)}, reverse=True)
    for gid in same:
        part = keys.partition_of(gid)
        assert part is not None
        await rdb.zadd(keys.lobby_partition(part), {gid: 1_000})
        state = {
            "id": gid,
            "status": "waiting",
            "createdAt": 1_000,
            "lastActivity": 1_000,
            "players": [],
            "settings": {"playerCount": 2, "initialTime": 1},
        }
        await rdb.hset(keys.game(gid), "state", json.dumps(state))

    first = await lobby.read_page(rdb, 4, None, 5.0)
    assert [g["id"] for g in first.games] == same[:4]
    assert first.next_cursor == f"1000.{same[3]}"
    rest = await lobby.read_page(rdb, 4, lobby.parse_cursor(first.next_cursor), 5.0)
    assert [g["id"] for g in rest.games] == same[4:]
    assert rest.next_cursor is None


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "-1"}, {"limit": "x"}, {"cursor": "nope"}])
async def test_the_list_refuses_a_bad_query(http: aiohttp.ClientSession, server: TestServer, query: Any) -> None:
    status, body = await list_games(http, server, **query)

    assert status == 400
    assert set(body) == {"error"}


async def test_the_page_size_is_capped(http: aiohttp.ClientSession, server: TestServer, rdb: Redis) -> None:
    now = 10_000_000
    for i in range(lobby.MAX_LIMIT + 5):
        gid = keys.new_game_id(f"cap{i}".encode())
        part = keys.partition_of(gid)
        assert part is not None
        await rdb.zadd(keys.lobby_partition(part), {gid: now + i})
        state = {"id": gid, "status": "waiting", "createdAt": now, "lastActivity": now + i, "players": []}
        await rdb.hset(keys.game(gid), "state", json.dumps({**state, "settings": {"playerCount": 2, "initialTime": 1}}))

    status, body = await list_games(http, server, limit=100_000)

    assert status == 200
    assert len(body["games"]) == lobby.MAX_LIMIT
    assert body["nextCursor"] is not None


async def test_the_list_drops_entries_of_games_that_are_gone(
    connect: Connect, http: aiohttp.ClientSession, server: TestServer, rdb: Redis
) -> None:
    c = await connect()
    kept, _, _ = await create_game(c)
    gone, _, _ = await create_game(c)
    # as Redis expiring the game would leave it
    await rdb.delete(keys.game(gone), keys.log(gone), keys.actions(gone))
    part = keys.partition_of(gone)
    assert part is not None

    assert await listed_ids(http, server) == [kept]
    assert await rdb.zscore(keys.lobby_partition(part), gone) is None


async def test_the_list_is_rate_limited_per_client_address(make_server: ServerFactory) -> None:
    srv = await make_server(rate_lobby_lists_per_min=3)
    async with aiohttp.ClientSession() as http:
        codes = [(await list_games(http, srv))[0] for _ in range(4)]
        async with http.get(srv.make_url("/api/games")) as resp:
            assert resp.status == 429
            assert int(resp.headers["Retry-After"]) >= 1
            assert await resp.json() == {"error": "Rate limit exceeded"}

    assert codes == [200, 200, 200, 429]


async def test_the_list_never_scans_the_keyspace(
    connect: Connect, http: aiohttp.ClientSession, server: TestServer, rdb: Redis
) -> None:
    c = await connect()
    gid, _, _ = await create_game(c)
    await rdb.config_resetstat()

    assert await listed_ids(http, server) == [gid]

    stats = await rdb.info("commandstats")
    assert not {k for k in stats if k.split("|")[0] in ("cmdstat_keys", "cmdstat_scan")}


# -- endGame ---------------------------------------------------------------------------------


async def test_end_game_tells_everyone_unbinds_them_and_deletes_the_game(
    connect: Connect, http: aiohttp.ClientSession, server: TestServer, rdb: Redis
) -> None:
    a, b, gid, host_token = await table(connect)
    token, _ = await claim(b, 2)
    watcher = await connect()
    await act(watcher, "join", {"gameId": gid})
    assert await listed_ids(http, server) == [gid]

    rid = await a.send("endGame")
    reply = await a.reply(rid)

    assert reply == {"type": "gameEnded", "data": {"gameId": gid}, "requestId": rid}
    for c in (b, watcher):
        ended = await c.next("gameEnded")
        assert ended == {"type": "gameEnded", "data": {"gameId": gid}}
    await asyncio.sleep(0.2)
    # exactly once each, and no state after it
    for c in (a, b, watcher):
        assert len(c.of_type("gameEnded")) == 1
        assert c.messages[-1]["type"] == "gameEnded"
        assert await error_of(c, "start") == NOT_IN_GAME_MESSAGE
    assert [k async for k in rdb.scan_iter(f"*{gid}*")] == []
    assert await listed_ids(http, server) == []
    assert await error_of(watcher, "join", {"gameId": gid}) == "Game not found"
    assert await error_of(b, "reconnect", {"gameId": gid, "playerId": 2, "token": token}) == "Game not found"
    assert await error_of(a, "reconnect", {"gameId": gid, "hostToken": host_token}) == "Game not found"
    hub = server.app[RUNTIME].hub
    assert gid not in hub.games
    rt = server.app[RUNTIME]
    await eventually(lambda: gid not in rt.liveness.seats)


async def test_only_the_host_may_end_the_game(connect: Connect, rdb: Redis) -> None:
    a, b, gid, _ = await table(connect)
    before = await rdb.hgetall(keys.game(gid))

    assert await coded_error_of(b, "endGame") == ("NOT_OWNER_END", "Only the game owner can end the game")
    assert await rdb.hgetall(keys.game(gid)) == before
    assert not a.of_type("gameEnded") and not b.of_type("gameEnded")


async def test_end_game_of_a_game_already_gone_answers_game_ended(connect: Connect, rdb: Redis) -> None:
    a, _, gid, _ = await table(connect)
    await rdb.delete(keys.game(gid), keys.log(gid), keys.actions(gid))

    reply = await a.request("endGame")

    assert reply["type"] == "gameEnded" and reply["data"] == {"gameId": gid}
    assert await error_of(a, "start") == NOT_IN_GAME_MESSAGE


async def test_a_socket_freed_by_end_game_can_take_a_seat_in_another_game(connect: Connect) -> None:
    a, b, _, _ = await table(connect)
    await claim(b, 2)
    await a.request("endGame")
    await b.next("gameEnded")

    other, _, _ = await create_game(await connect())
    await act(b, "join", {"gameId": other})
    _, st = await claim(b, 1)

    assert st["players"][0]["claimedBy"] == b.client_id


@pytest_asyncio.fixture
async def two(make_server: ServerFactory) -> AsyncIterator[Callable[[int], Awaitable[Client]]]:
    """Clients on either of two instances (each its own hub and pub/sub) of one Redis."""
    servers = [await make_server(), await make_server()]
    clients: list[Client] = []

    async def open_on(i: int) -> Client:
        c = await Client.connect(str(servers[i].make_url("/")))
        clients.append(c)
        return c

    yield open_on
    for c in clients:
        await c.close()


async def test_end_game_reaches_and_unbinds_the_sockets_of_every_instance(
    two: Callable[[int], Awaitable[Client]], rdb: Redis
) -> None:
    host = await two(0)
    gid, _, _ = await create_game(host)
    await claim(host, 1)
    there = [await two(1), await two(1)]
    await act(there[0], "join", {"gameId": gid})
    await claim(there[0], 2)
    await act(there[1], "join", {"gameId": gid})

    reply = await host.request("endGame")

    assert reply["type"] == "gameEnded"
    for c in there:
        assert await c.next("gameEnded") == {"type": "gameEnded", "data": {"gameId": gid}}
        assert await error_of(c, "pause") == NOT_IN_GAME_MESSAGE
    assert await rdb.exists(keys.game(gid)) == 0

    async def nobody_subscribed() -> bool:
        # both instances let go of the game
        [(_, count)] = await rdb.pubsub_numsub(keys.channel(gid))
        return int(count) == 0

    await eventually(nobody_subscribed)
