"""The WebSocket protocol end to end: the app served in-process on a real redis-server.

Every client message type with its effect and reply order, every error a client can
provoke (with the game in Redis unchanged by it), fan-out to several sockets, ticks,
deadlines, reconnection with seat and host tokens, exactly-once requestIds, the HTTP
probes, and the embedded (fakeredis) mode.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from service import keys, protocol
from service.app import RUNTIME, create_app
from service.errors import (
    ERROR_CODES,
    SCRIPT_CODES,
    SERVICE_CODES,
    InvalidInput,
    NotFound,
    ServiceError,
    StorageUnavailable,
    error_for,
    malformed,
)
from service.errors import NOT_IN_GAME_MESSAGE as NOT_IN_GAME
from service.errors import STORAGE_UNAVAILABLE_MESSAGE as STORAGE
from service.formats import FormatSettings
from service.settings import Settings
from service.ws import cap_send_buffer, error_frame
from stack.client import Client
from stack.presets import UNLIMITED
from stack.redis_server import free_port
from tests.support.waits import eventually

Connect = Callable[..., Awaitable[Client]]
ServerFactory = Callable[..., Awaitable[TestServer]]
Snapshot = tuple[dict[Any, Any], list[Any], dict[Any, Any]]

WAIT = 5.0
LONG_CLOCK = 600_000  # long enough that no deadline fires while a test runs


# -- fixtures ----------------------------------------------------------------------------


@pytest_asyncio.fixture
async def make_server(aiohttp_server: Any, redis_url: str) -> AsyncIterator[ServerFactory]:
    """Serves create_app(Settings(...)) in-process; the defaults talk to the test redis."""
    servers: list[TestServer] = []

    async def make(**overrides: Any) -> TestServer:
        fields: dict[str, Any] = {
            "redis_url": redis_url,
            "test_clock": True,
            "tick_interval_ms": 100,
            "deadline_poll_ms": 20,
            **UNLIMITED,
            **overrides,
        }
        server: TestServer = await aiohttp_server(create_app(Settings(**fields)))
        servers.append(server)
        return server

    yield make


@pytest_asyncio.fixture
async def server(make_server: ServerFactory) -> TestServer:
    return await make_server()


@pytest_asyncio.fixture
async def http(server: TestServer) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest_asyncio.fixture
async def connect(server: TestServer) -> AsyncIterator[Connect]:
    """Opens protocol clients on the test server; every one is closed after the test."""
    clients: list[Client] = []

    async def open_client(path: str = "/") -> Client:
        c = await Client.connect(str(server.make_url(path)))
        clients.append(c)
        return c

    yield open_client
    for c in clients:
        await c.close()


# -- helpers -----------------------------------------------------------------------------


async def replies(c: Client, rid: str, count: int) -> list[dict[str, Any]]:
    """The first `count` frames echoing `rid`, in arrival order."""
    await eventually(lambda: sum(m.get("requestId") == rid for m in c.messages) >= count)
    return [m for m in c.messages if m.get("requestId") == rid][:count]


async def state_of(c: Client, version: int) -> dict[str, Any]:
    """The data of the first state frame with at least `version`."""
    return dict((await c.state_at_least(version, WAIT))["data"])


async def act(c: Client, mtype: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Send a message whose reply is a state; return that state."""
    reply = await c.request(mtype, data)
    assert reply["type"] == "state", reply
    return dict(reply["data"])


#: the code each message a client can get stands for (GAME_EXISTS never reaches a client);
#: any other text is a check the raiser worded, sent as INVALID_INPUT
CODE_OF_MESSAGE = {message: code for code, (_, message) in ERROR_CODES.items() if code != "GAME_EXISTS"}
assert len(CODE_OF_MESSAGE) == len(ERROR_CODES) - 1, "two codes a client can get share a message"


def code_of(message: str) -> str:
    return CODE_OF_MESSAGE.get(message, "INVALID_INPUT")


async def coded_error_of(c: Client, mtype: str, data: dict[str, Any] | None = None) -> tuple[str, str]:
    """(code, message) of the error answering the message; the code is the one the table
    gives that message."""
    rid = await c.send(mtype, data)
    reply = await c.reply(rid)
    assert reply["type"] == "error", reply
    assert set(reply["data"]) == {"message", "code"}
    code, message = str(reply["data"]["code"]), str(reply["data"]["message"])
    assert code == code_of(message), reply
    return code, message


async def error_of(c: Client, mtype: str, data: dict[str, Any] | None = None) -> str:
    return (await coded_error_of(c, mtype, data))[1]


async def raw_error(c: Client, text: str) -> dict[str, Any]:
    """Send a raw text frame and return the next error frame."""
    start = len(c.messages)
    await c.send_raw(text)
    return await c.wait_for(lambda m: m["type"] == "error", start=start)


async def create_game(c: Client, **settings: Any) -> tuple[str, str, dict[str, Any]]:
    """(game id, host token, first state) of a game created by `c`."""
    rid = await c.send("create", {"settings": settings})
    created, state = await replies(c, rid, 2)
    assert (created["type"], state["type"]) == ("created", "state"), (created, state)
    return created["data"]["gameId"], created["data"]["hostToken"], state["data"]


async def claim(c: Client, pid: int) -> tuple[str, dict[str, Any]]:
    """(seat token, state) after `c` claims seat `pid`."""
    rid = await c.send("claim", {"playerId": pid})
    state, claimed = await replies(c, rid, 2)
    assert (state["type"], claimed["type"]) == ("state", "claimed"), (state, claimed)
    return claimed["data"]["token"], state["data"]


async def snapshot(rdb: Redis, gid: str) -> Snapshot:
    """Everything a game script writes for one game: its hash, its log and its action ids."""
    return (
        await rdb.hgetall(keys.game(gid)),
        await rdb.lrange(keys.log(gid), 0, -1),
        await rdb.hgetall(keys.actions(gid)),
    )


async def stored_state(rdb: Redis, gid: str) -> dict[str, Any]:
    raw = await rdb.hget(keys.game(gid), "state")
    assert raw is not None
    return dict(json.loads(raw))


async def log_kinds(rdb: Redis, gid: str) -> list[str]:
    """The kinds of the logged actions, oldest first."""
    return [json.loads(e)["t"] for e in reversed(await rdb.lrange(keys.log(gid), 0, -1))]


def version_of(snap: Snapshot) -> int:
    return int(json.loads(snap[0]["state"])["version"])


def player(state: dict[str, Any], pid: int) -> dict[str, Any]:
    return dict(next(p for p in state["players"] if p["id"] == pid))


def states(c: Client) -> list[dict[str, Any]]:
    return [m["data"] for m in c.messages if m["type"] == "state"]


async def table(
    connect: Connect, players: int = 2, initial: int = LONG_CLOCK, **settings: Any
) -> tuple[Client, Client, str, str]:
    """Host `a` created a game and holds seat 1; `b` joined and holds no seat."""
    a, b = await connect(), await connect()
    gid, host_token, _ = await create_game(a, playerCount=players, initialTime=initial, **settings)
    await claim(a, 1)
    await act(b, "join", {"gameId": gid})
    return a, b, gid, host_token


# -- transport and HTTP ------------------------------------------------------------------


@pytest.mark.parametrize("size", [65_536, 0])
def test_a_sockets_send_buffer_is_capped_unless_the_setting_is_0(size: int) -> None:
    left, right = socket.socketpair()
    try:
        autotuned = left.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
        request = SimpleNamespace(
            transport=SimpleNamespace(get_extra_info=lambda name: left if name == "socket" else None)
        )
        cap_send_buffer(request, size)  # type: ignore[arg-type]
        # Linux reports twice what was set: the other half is its bookkeeping
        assert left.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) == (2 * size if size else autotuned)
    finally:
        left.close()
        right.close()


async def test_the_first_frame_on_a_new_socket_is_the_client_id(server: TestServer) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(server.make_url("/")) as ws:
        first = await ws.receive_json(timeout=WAIT)
    assert list(first) == ["type", "data"]
    assert first["type"] == "clientId"
    assert list(first["data"]) == ["clientId"]
    assert first["data"]["clientId"].startswith("client_")
    assert len(first["data"]["clientId"]) > len("client_") + 10


async def test_every_socket_gets_its_own_client_id(connect: Connect) -> None:
    a, b = await connect(), await connect()
    assert a.messages[0] == {"type": "clientId", "data": {"clientId": a.client_id}}
    assert a.client_id != b.client_id


@pytest.mark.parametrize("path", ["/", "/ws", "/anything", "/deep/path/x"])
async def test_the_websocket_is_served_at_any_path(connect: Connect, path: str) -> None:
    c = await connect(path)
    assert c.messages[0]["type"] == "clientId"
    gid, _, state = await create_game(c, initialTime=1500)
    assert state["id"] == gid


async def test_plain_http_get_of_the_root_serves_the_web_app(server: TestServer, http: aiohttp.ClientSession) -> None:
    async with http.get(server.make_url("/")) as r:
        assert r.status == 200
        assert r.content_type == "text/html"
        assert "<title>Tap or Tarp" in await r.text()
    async with http.get(server.make_url("/anything")) as r:
        assert r.status == 404


async def test_health_returns_200_json(server: TestServer, http: aiohttp.ClientSession, connect: Connect) -> None:
    c = await connect()
    await create_game(c, initialTime=1500)
    async with http.get(server.make_url("/health")) as r:
        assert r.status == 200
        assert r.content_type == "application/json"
        body = await r.json()
    assert {"status", "instanceId", "version", "uptime", "activeConnections", "activeSessions"} <= set(body)
    assert body["status"] == "healthy"
    assert body["activeConnections"] == 1
    assert body["activeSessions"] == 1
    assert body["uptime"] >= 0


async def test_ready_is_200_when_redis_is_up(server: TestServer, http: aiohttp.ClientSession) -> None:
    async with http.get(server.make_url("/ready")) as r:
        assert r.status == 200
        body = await r.json()
    assert body["ready"] is True
    assert body["draining"] is False
    assert body["embedded"] is False
    assert body["redis"]["reachable"] is True
    assert body["redis"]["engine"] == "redis"


async def test_the_test_clock_endpoint_shifts_server_time(
    server: TestServer, http: aiohttp.ClientSession, connect: Connect, rdb: Redis
) -> None:
    async with http.post(server.make_url("/_test/clock"), json={"offsetMs": 3_600_000}) as r:
        assert r.status == 200
        assert await r.json() == {"offsetMs": 3_600_000}
    c = await connect()
    sec, usec = await rdb.time()
    reply = await c.request("time", {})
    assert abs(reply["data"]["serverTime"] - (sec * 1000 + usec // 1000) - 3_600_000) < 2000


@pytest.mark.parametrize("body", [{}, {"offsetMs": "5"}, {"offsetMs": 1.5}, {"offsetMs": True}, [1]])
async def test_the_test_clock_endpoint_rejects_a_bad_offset(
    server: TestServer, http: aiohttp.ClientSession, body: Any
) -> None:
    async with http.post(server.make_url("/_test/clock"), json=body) as r:
        assert r.status == 400
        assert await r.text() == "offsetMs must be an integer"


async def test_the_test_clock_endpoint_exists_only_in_a_test_configuration(
    make_server: ServerFactory, rdb: Redis
) -> None:
    server = await make_server(test_clock=False)
    async with aiohttp.ClientSession() as http:
        async with http.post(server.make_url("/_test/clock"), json={"offsetMs": 3_600_000}) as r:
            assert r.status == 405
        async with http.get(server.make_url("/_test/clock")) as r:
            assert r.status == 404
    c = await Client.connect(str(server.make_url("/")))
    try:
        sec, usec = await rdb.time()
        reply = await c.request("time", {})
    finally:
        await c.close()
    assert abs(reply["data"]["serverTime"] - (sec * 1000 + usec // 1000)) < 2000


async def raw_upgrade(server: TestServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A WebSocket handshake by hand: a peer that then never answers pings, as a phone whose
    network vanished without a FIN looks to the server."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET /ws HTTP/1.1\r\nHost: {server.host}:{server.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head
    return reader, writer


async def test_heartbeat_closes_a_peer_that_stops_answering_pings(make_server: ServerFactory) -> None:
    server = await make_server(ws_heartbeat_s=1.0)
    hub = server.app[RUNTIME].hub
    reader, writer = await raw_upgrade(server)
    live = await Client.connect(str(server.make_url("/ws")))
    try:
        await eventually(lambda: hub.socket_count == 2)
        # ping at 1 s, no pong within half of it: closed well before 3 s
        await eventually(lambda: hub.socket_count == 1, timeout=3.0)
        # the client that answers pings (aiohttp does it by itself) is still served
        assert (await live.request("time", {"clientTime": 1}))["type"] == "time"
        assert live.closed_code is None
    finally:
        writer.close()
        await live.close()


# -- envelope and frame errors -----------------------------------------------------------

ENVELOPE_ERRORS: list[tuple[str, str, str | None, str]] = [
    ("not json", "Invalid JSON", None, "INVALID_INPUT"),
    ('{"type":"start","requestId":"e1"', "Invalid JSON", None, "INVALID_INPUT"),
    ("", "Invalid JSON", None, "INVALID_INPUT"),
    ("[1,2]", "Invalid message format", None, "INVALID_INPUT"),
    ("42", "Invalid message format", None, "INVALID_INPUT"),
    ('"start"', "Invalid message format", None, "INVALID_INPUT"),
    ('{"data":{},"requestId":"e2"}', "Invalid message type", "e2", "INVALID_INPUT"),
    ('{"type":"","requestId":"e3"}', "Invalid message type", "e3", "INVALID_INPUT"),
    ('{"type":7,"requestId":"e4"}', "Invalid message type", "e4", "INVALID_INPUT"),
    ('{"type":"explode","requestId":"e5"}', "Unknown message type", "e5", "UNKNOWN_TYPE"),
    ('{"type":"state","data":{}}', "Unknown message type", None, "UNKNOWN_TYPE"),
    ('{"type":"start","data":[],"requestId":"e6"}', "Invalid message data", "e6", "INVALID_INPUT"),
    ('{"type":"reset","data":"x","requestId":"e7"}', "Invalid message data", "e7", "INVALID_INPUT"),
    ('{"type":"start","requestId":7}', "Invalid requestId", None, "INVALID_INPUT"),
    ('{"type":"start","requestId":""}', "Invalid requestId", None, "INVALID_INPUT"),
    (json.dumps({"type": "start", "requestId": "x" * 65}), "Invalid requestId", None, "INVALID_INPUT"),
]


async def test_malformed_frames_get_an_error_and_leave_the_game_unchanged(connect: Connect, rdb: Redis) -> None:
    a, _, gid, _ = await table(connect)
    before = await snapshot(rdb, gid)
    observed = []
    for text, _, _, _ in ENVELOPE_ERRORS:
        e = await raw_error(a, text)
        observed.append((text, e["data"], e.get("requestId")))
    assert observed == [(text, {"message": message, "code": code}, rid) for text, message, rid, code in ENVELOPE_ERRORS]
    assert await snapshot(rdb, gid) == before
    assert (await act(a, "pause"))["version"] == version_of(before)


async def test_a_binary_frame_gets_an_error_and_the_socket_stays_open(connect: Connect, rdb: Redis) -> None:
    a, _, gid, _ = await table(connect)
    before = await snapshot(rdb, gid)
    start = len(a.messages)
    await a.ws.send_bytes(b'{"type":"start"}')
    e = await a.wait_for(lambda m: m["type"] == "error", start=start)
    assert e == {"type": "error", "data": {"message": "Binary frames are not supported", "code": "BINARY_UNSUPPORTED"}}
    assert await snapshot(rdb, gid) == before
    assert (await a.request("time", {}))["type"] == "time"


async def test_a_frame_over_64_kib_closes_the_socket_with_1009(connect: Connect, rdb: Redis) -> None:
    a, b, gid, _ = await table(connect)
    before = await snapshot(rdb, gid)
    huge = json.dumps({"type": "updatePlayer", "data": {"playerId": 1, "name": "x" * 70_000}, "requestId": "big"})
    assert len(huge.encode()) > 65_536
    await b.send_raw(huge)
    await eventually(lambda: b.closed_code is not None)
    assert b.closed_code == 1009
    assert [m for m in b.messages if m["type"] == "error"] == []
    assert await snapshot(rdb, gid) == before
    # the other socket of the game is not affected
    assert (await act(a, "pause"))["version"] == version_of(before)


async def test_a_frame_of_exactly_64_kib_is_accepted(connect: Connect) -> None:
    # A3.1: the original's limit is maxPayload 65536 (only larger frames close with 1009), and
    # Settings.max_frame_bytes documents "Largest inbound WebSocket frame; larger frames close".
    c = await connect()
    start = len(c.messages)
    await c.send_raw(" " * 65_536)
    await eventually(lambda: len(c.messages) > start or c.closed_code is not None)
    assert c.closed_code is None
    assert c.messages[start:] == [{"type": "error", "data": {"message": "Invalid JSON", "code": "INVALID_INPUT"}}]


# -- error frames: one builder ---------------------------------------------------------


def test_an_error_frame_carries_the_code_next_to_the_message_and_the_request_id() -> None:
    assert error_frame(error_for("GAME_NOT_FOUND"), "r1").text == (
        '{"type":"error","data":{"message":"Game not found","code":"GAME_NOT_FOUND"},"requestId":"r1"}'
    )
    assert json.loads(error_frame(malformed("INVALID_TOKEN")).text) == {
        "type": "error",
        "data": {"message": "Invalid token", "code": "INVALID_TOKEN"},
    }


SETTING_TEXT = "Invalid settings: playerCount must be an integer from 2 to 8"


@pytest.mark.parametrize(
    ("err", "data"),
    [
        # invalid input keeps the check's own text
        (InvalidInput(SETTING_TEXT), {"message": SETTING_TEXT, "code": "INVALID_INPUT"}),
        # an outage's or a failure's own text names Redis: the client gets the table's
        (StorageUnavailable("redis unavailable: ConnectionError"), {"message": STORAGE, "code": "STORAGE_UNAVAILABLE"}),
        (ServiceError("redis unavailable: TimeoutError"), {"message": "Internal server error", "code": "INTERNAL"}),
        (NotFound("seat 9 of game X", "PLAYER_NOT_FOUND"), {"message": "Player not found", "code": "PLAYER_NOT_FOUND"}),
        # a code outside the table never goes out: the class's own stands in
        (InvalidInput("Invalid JSON", "BAD_JSON"), {"message": "Invalid JSON", "code": "INVALID_INPUT"}),
        (NotFound("Game not found", "NO_SUCH_CODE"), {"message": "Internal server error", "code": "INTERNAL"}),
    ],
)
def test_an_error_frame_shows_only_text_the_table_lets_through(err: ServiceError, data: dict[str, str]) -> None:
    assert json.loads(error_frame(err).text) == {"type": "error", "data": data}


# -- create ------------------------------------------------------------------------------


async def test_create_replies_created_then_state_and_stores_only_a_token_digest(connect: Connect, rdb: Redis) -> None:
    a = await connect()
    settings = {
        "playerCount": 3,
        "initialTime": 1500,
        "warningThresholds": [500, 1000],
        "penaltyType": "time_deduction",
        "penaltyTimeDeduction": 200,
    }
    rid = await a.send("create", {"settings": settings})
    created, state = await replies(a, rid, 2)
    assert created["type"] == "created"
    assert set(created["data"]) == {"gameId", "hostToken"}
    gid, host_token = created["data"]["gameId"], created["data"]["hostToken"]
    assert keys.is_valid_game_id(gid)
    assert len(host_token) == 64
    assert set(host_token) <= set("0123456789abcdef")
    assert state["type"] == "state"
    s = state["data"]
    assert s["id"] == gid
    assert s["version"] == 1
    assert s["status"] == "waiting"
    assert s["ownerId"] == a.client_id
    assert s["activePlayer"] is None
    assert s["winner"] is None
    assert s["serverTime"] == s["createdAt"] == s["lastActivity"]
    standard = FormatSettings().to_settings()
    assert s["settings"] == {**settings, "warningThresholds": [1000, 500], "audioEnabled": True, **standard}
    assert s["players"] == [
        {
            "id": i,
            "name": f"Player {i}",
            "timeRemaining": 1500,
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
            "commanderDamage": [[0, 0]] * 3,
            "eliminatedReason": None,
            "timeUsed": 0,
            "turns": 0,
        }
        for i in (1, 2, 3)
    ]
    stored = await rdb.hgetall(keys.game(gid))
    assert json.loads(stored["state"]) == s
    assert stored["host"] == hashlib.sha256(host_token.encode()).hexdigest()
    assert all(host_token not in v for v in stored.values())
    assert await log_kinds(rdb, gid) == ["create"]


async def test_create_without_settings_uses_the_defaults(connect: Connect) -> None:
    a = await connect()
    reply = await a.request("create")
    assert reply["type"] == "created"
    state = await a.wait_for(lambda m: m["type"] == "state" and m.get("requestId") == reply["requestId"])
    assert state["data"]["settings"] == {
        "playerCount": 2,
        "initialTime": 600_000,
        "warningThresholds": [300_000, 60_000, 30_000],
        "penaltyType": "warning",
        "penaltyTimeDeduction": 0,
        "audioEnabled": True,
        **FormatSettings().to_settings(),
    }
    assert [p["timeRemaining"] for p in state["data"]["players"]] == [600_000, 600_000]


async def test_create_rejects_bad_settings_and_creates_nothing(connect: Connect, rdb: Redis) -> None:
    a = await connect()
    cases: list[tuple[Any, str]] = [
        ([], "Invalid settings"),
        ("fast", "Invalid settings"),
        ({"colour": "red"}, "Invalid settings: unknown setting 'colour'"),
        ({"playerCount": 9}, "Invalid settings: playerCount must be an integer from 2 to 8"),
        ({"playerCount": True}, "Invalid settings: playerCount must be an integer from 2 to 8"),
        ({"initialTime": 0}, "Invalid settings: initialTime must be an integer from 1 to 86400000 (ms)"),
        ({"initialTime": "1500"}, "Invalid settings: initialTime must be an integer from 1 to 86400000 (ms)"),
        (
            {"warningThresholds": []},
            "Invalid settings: warningThresholds must be 1 to 10 integers from 1 to 86400000 (ms)",
        ),
        ({"penaltyType": "jail"}, "Invalid settings: penaltyType must be one of warning, time_deduction, game_loss"),
        (
            {"penaltyTimeDeduction": -1},
            "Invalid settings: penaltyTimeDeduction must be an integer from 0 to 86400000 (ms)",
        ),
    ]
    observed = [(settings, await error_of(a, "create", {"settings": settings})) for settings, _ in cases]
    assert observed == cases
    assert [k async for k in rdb.scan_iter("tot:{*")] == []
    assert await error_of(a, "start") == NOT_IN_GAME


async def test_create_with_a_repeated_request_id_returns_the_same_game(connect: Connect, rdb: Redis) -> None:
    a = await connect()
    await a.send("create", {"settings": {"initialTime": 1500}}, request_id="make-it-once")
    first, _ = await replies(a, "make-it-once", 2)
    await a.send("create", {"settings": {"initialTime": 1500}}, request_id="make-it-once")
    frames = await replies(a, "make-it-once", 4)
    again, state = frames[2], frames[3]
    assert again["type"] == "created"
    assert again["data"]["gameId"] == first["data"]["gameId"]
    assert state["data"]["version"] == 1
    assert [k async for k in rdb.scan_iter(f"{keys.PREFIX}:{{*}}")] == [keys.game(first["data"]["gameId"])]
    # the newest host token is the valid one: the retry's reply is what the client keeps
    b = await connect()
    gid = again["data"]["gameId"]
    stale = await b.request("reconnect", {"gameId": gid, "hostToken": first["data"]["hostToken"]})
    assert stale["data"] == {"message": "Invalid host token", "code": "INVALID_HOST_TOKEN"}
    reply = await b.request("reconnect", {"gameId": gid, "hostToken": again["data"]["hostToken"]})
    assert reply["type"] == "reconnected"


# -- join --------------------------------------------------------------------------------


async def test_join_replies_with_the_state_and_changes_nothing(connect: Connect, rdb: Redis) -> None:
    a, b = await connect(), await connect()
    gid, _, _ = await create_game(a, initialTime=1500)
    await claim(a, 1)
    before = await snapshot(rdb, gid)
    seen_by_a = len(a.messages)
    reply = await b.request("join", {"gameId": f"  {gid.lower()} "})
    assert reply["type"] == "state"
    assert reply["data"] == json.loads(before[0]["state"])
    assert await snapshot(rdb, gid) == before
    await asyncio.sleep(0.3)
    assert [m for m in a.messages[seen_by_a:] if m["type"] != "tick"] == []
    # b is bound now: it receives the next change
    await act(a, "updatePlayer", {"playerId": 1, "name": "Ann"})
    assert player(await state_of(b, 3), 1)["name"] == "Ann"


async def test_join_with_a_bad_or_unknown_code_is_refused_and_binds_nothing(connect: Connect, rdb: Redis) -> None:
    a, b = await connect(), await connect()
    gid, _, _ = await create_game(a, initialTime=1500)
    missing = next(g for g in (keys.new_game_id(bytes([i])) for i in range(50)) if g != gid)
    before = await snapshot(rdb, gid)
    cases: list[tuple[Any, str]] = [
        (missing, "Game not found"),
        ("NOPE", "Game not found"),
        ("", "Game not found"),
        (123, "Invalid game code"),
        (None, "Invalid game code"),
        ([gid], "Invalid game code"),
    ]
    observed = [(code, await error_of(b, "join", {"gameId": code})) for code, _ in cases]
    assert observed == cases
    assert await error_of(b, "join") == "Invalid game code"
    assert await snapshot(rdb, gid) == before
    assert await error_of(b, "start") == NOT_IN_GAME


# -- claim and unclaim -------------------------------------------------------------------


async def test_claim_replies_state_then_claimed_and_every_socket_sees_it(connect: Connect, rdb: Redis) -> None:
    a, b = await connect(), await connect()
    gid, _, _ = await create_game(a, initialTime=1500)
    await act(b, "join", {"gameId": gid})
    rid = await b.send("claim", {"playerId": 2})
    state, claimed = await replies(b, rid, 2)
    assert state["type"] == "state"
    assert player(state["data"], 2)["claimedBy"] == b.client_id
    assert state["data"]["version"] == 2
    assert claimed["type"] == "claimed"
    assert set(claimed["data"]) == {"playerId", "token", "gameId"}
    assert claimed["data"]["playerId"] == 2
    assert claimed["data"]["gameId"] == gid
    token = claimed["data"]["token"]
    assert len(token) == 64
    broadcast = await a.state_at_least(2)
    assert "requestId" not in broadcast
    assert player(broadcast["data"], 2)["claimedBy"] == b.client_id
    stored = await rdb.hgetall(keys.game(gid))
    assert stored["tok:2"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps(stored)
    assert a.of_type("claimed") == []


async def test_claiming_another_seat_gives_up_the_first(connect: Connect, rdb: Redis) -> None:
    a = await connect()
    gid, _, _ = await create_game(a, playerCount=3, initialTime=1500)
    await claim(a, 1)
    _, state = await claim(a, 3)
    assert [p["claimedBy"] for p in state["players"]] == [None, None, a.client_id]
    stored = await rdb.hgetall(keys.game(gid))
    assert "tok:1" not in stored
    assert "tok:3" in stored


async def test_claim_errors_leave_the_game_unchanged(connect: Connect, rdb: Redis) -> None:
    a, b, gid, _ = await table(connect)
    before = await snapshot(rdb, gid)
    cases: list[tuple[Any, str]] = [
        ({"playerId": 1}, "Player already claimed"),
        ({"playerId": 3}, "Player not found"),
        ({"playerId": 0}, "Invalid player ID"),
        ({"playerId": 9}, "Invalid player ID"),
        ({"playerId": "2"}, "Invalid player ID"),
        ({"playerId": 1.5}, "Invalid player ID"),
        ({"playerId": True}, "Invalid player ID"),
        ({}, "Invalid player ID"),
    ]
    observed = [(data, await error_of(b, "claim", data)) for data, _ in cases]
    assert observed == cases
    assert await snapshot(rdb, gid) == before
    await act(a, "start")
    await act(a, "pause")
    started = await snapshot(rdb, gid)
    # once started, HEAD's rule: a held seat stays refused, and your own seat is already yours
    # (a free seat may be taken: tests/test_messages_players.py)
    assert await error_of(b, "claim", {"playerId": 1}) == "Player already claimed"
    assert await error_of(a, "claim", {"playerId": 1}) == "Already your player"
    assert await snapshot(rdb, gid) == started


async def test_unclaim_while_waiting_frees_the_seat_and_its_token(connect: Connect, rdb: Redis) -> None:
    a, b, gid, _ = await table(connect)
    state = await act(a, "unclaim")
    assert player(state, 1)["claimedBy"] is None
    assert state["version"] == 3
    assert player(await state_of(b, 3), 1)["claimedBy"] is None
    assert "tok:1" not in await rdb.hgetall(keys.game(gid))
    # nothing held: a no-op that still answers with the current state
    again = await act(a, "unclaim")
    assert again["version"] == 3
    await claim(b, 1)


async def test_unclaim_after_the_start_keeps_the_token_for_a_reconnect(connect: Connect, rdb: Redis) -> None:
    a, b = await connect(), await connect()
    gid, _, _ = await create_game(a, initialTime=LONG_CLOCK)
    token, _ = await claim(a, 1)
    await act(a, "start")
    state = await act(a, "unclaim")
    assert player(state, 1)["claimedBy"] is None
    assert "tok:1" in await rdb.hgetall(keys.game(gid))
    reply = await b.request("reconnect", {"gameId": gid, "playerId": 1, "token": token})
    assert reply["type"] == "reconnected"
    assert player(await state_of(b, state["version"] + 1), 1)["claimedBy"] == b.client_id


# -- leave -------------------------------------------------------------------------------


async def test_leave_releases_the_seat_and_unbinds_the_socket(connect: Connect, rdb: Redis) -> None:
    a, b = await connect(), await connect()
    gid, _, _ = await create_game(a, initialTime=1500)
    await act(b, "join", {"gameId": gid})
    token, _ = await claim(b, 2)
    reply = await b.request("leave")
    assert reply == {"type": "left", "data": {"gameId": gid}, "requestId": reply["requestId"]}
    assert player(await state_of(a, 3), 2)["claimedBy"] is None
    assert player(await stored_state(rdb, gid), 2)["claimedBy"] is None
    # an explicit leave while waiting gives the seat up for others: its token goes too
    assert "tok:2" not in await rdb.hgetall(keys.game(gid))
    assert await error_of(b, "start") == NOT_IN_GAME
    assert await error_of(b, "leave") == NOT_IN_GAME
    c = await connect()
    assert await error_of(c, "reconnect", {"gameId": gid, "playerId": 2, "token": token}) == (
        "No reconnection token for this player"
    )
    # b no longer receives the game's changes
    seen = len(b.messages)
    await act(a, "updatePlayer", {"playerId": 1, "name": "Solo"})
    await asyncio.sleep(0.3)
    assert [m for m in b.messages[seen:] if m["type"] != "tick"] == []


async def test_leave_of_a_started_game_keeps_the_token(connect: Connect, rdb: Redis) -> None:
    a, b = await connect(), await connect()
    gid, _, _ = await create_game(a, initialTime=LONG_CLOCK)
    token, _ = await claim(a, 1)
    await act(a, "start")
    assert (await a.request("leave"))["type"] == "left"
    assert player(await stored_state(rdb, gid), 1)["claimedBy"] is None
    assert (await b.request("reconnect", {"gameId": gid, "playerId": 1, "token": token}))["type"] == "reconnected"


async def test_leave_without_a_seat_only_unbinds(connect: Connect, rdb: Redis) -> None:
    a, b, gid, _ = await table(connect)
    before = await snapshot(rdb, gid)
    assert (await b.request("leave"))["type"] == "left"
    assert await snapshot(rdb, gid) == before


# -- reconnect ---------------------------------------------------------------------------


async def test_closing_the_socket_releases_the_seat_and_keeps_its_token(connect: Connect, rdb: Redis) -> None:
    a, b = await connect(), await connect()
    gid, _, _ = await create_game(a, initialTime=LONG_CLOCK)
    await act(b, "join", {"gameId": gid})
    await claim(b, 2)
    await b.close()
    assert player(await state_of(a, 3), 2)["claimedBy"] is None
    assert "tok:2" in await rdb.hgetall(keys.game(gid))
    assert await log_kinds(rdb, gid) == ["create", "claim", "disconnect"]


async def test_reconnect_with_the_seat_token_restores_the_seat(connect: Connect, rdb: Redis) -> None:
    a, b = await connect(), await connect()
    gid, _, _ = await create_game(a, initialTime=LONG_CLOCK)
    await act(b, "join", {"gameId": gid})
    token, _ = await claim(b, 2)
    await act(a, "start")
    await b.close()
    released = await state_of(a, 4)
    assert player(released, 2)["claimedBy"] is None
    b2 = await connect()
    rid = await b2.send("reconnect", {"gameId": gid.lower(), "playerId": 2, "token": token, "lastVersion": 4})
    reconnected, state = await replies(b2, rid, 2)
    assert reconnected == {
        "type": "reconnected",
        "data": {"playerId": 2, "token": token, "gameId": gid, "host": False},
        "requestId": rid,
    }
    assert state["type"] == "state"
    assert state["data"]["version"] == 5
    assert player(state["data"], 2)["claimedBy"] == b2.client_id
    assert player(await stored_state(rdb, gid), 2)["claimedBy"] == b2.client_id
    # the seat's rights are back: its holder may pass the turn once it is theirs
    await act(a, "passTurn")
    assert (await act(b2, "passTurn"))["activePlayer"] == 1


async def test_every_other_socket_of_the_game_sees_a_reconnect(connect: Connect) -> None:
    # A3.5: a reconnect is broadcast. The reconnecting socket binds with the committed state
    # before pub/sub delivers it; the other sockets on this instance must still get it.
    a, b = await connect(), await connect()
    gid, _, _ = await create_game(a, initialTime=LONG_CLOCK)
    await act(b, "join", {"gameId": gid})
    token, _ = await claim(b, 2)
    await b.close()
    assert player(await state_of(a, 3), 2)["claimedBy"] is None
    b2 = await connect()
    rid = await b2.send("reconnect", {"gameId": gid, "playerId": 2, "token": token})
    _, state = await replies(b2, rid, 2)
    assert state["data"]["version"] == 4
    assert player(await state_of(a, 4), 2)["claimedBy"] == b2.client_id


async def test_reconnect_to_the_seat_you_hold_changes_nothing(connect: Connect, rdb: Redis) -> None:
    a = await connect()
    gid, _, _ = await create_game(a, initialTime=LONG_CLOCK)
    token, _ = await claim(a, 1)
    rid = await a.send("reconnect", {"gameId": gid, "playerId": 1, "token": token})
    reconnected, state = await replies(a, rid, 2)
    assert reconnected["type"] == "reconnected"
    assert state["data"]["version"] == 2
    assert await log_kinds(rdb, gid) == ["create", "claim"]


async def test_host_rights_return_with_the_host_token(connect: Connect, rdb: Redis) -> None:
    a = await connect()
    gid, host_token, _ = await create_game(a, initialTime=LONG_CLOCK)
    await act(a, "start")
    await a.close()
    a2 = await connect()
    await act(a2, "join", {"gameId": gid})
    assert await error_of(a2, "reset") == "Only the game owner can reset"
    rid = await a2.send("reconnect", {"gameId": gid, "hostToken": host_token})
    reconnected, state = await replies(a2, rid, 2)
    assert reconnected == {
        "type": "reconnected",
        "data": {"playerId": None, "token": None, "gameId": gid, "host": True},
        "requestId": rid,
    }
    assert state["data"]["ownerId"] == a2.client_id
    assert (await stored_state(rdb, gid))["ownerId"] == a2.client_id
    reset = await act(a2, "reset")
    assert reset["status"] == "waiting"
    assert reset["version"] == state["data"]["version"] + 1


async def test_reconnect_with_seat_and_host_tokens_restores_both(connect: Connect) -> None:
    a, b = await connect(), await connect()
    gid, host_token, _ = await create_game(a, initialTime=LONG_CLOCK)
    await act(b, "join", {"gameId": gid})
    token, _ = await claim(a, 1)
    await a.close()
    assert player(await state_of(b, 3), 1)["claimedBy"] is None
    a2 = await connect()
    rid = await a2.send("reconnect", {"gameId": gid, "playerId": 1, "token": token, "hostToken": host_token})
    reconnected, state = await replies(a2, rid, 2)
    assert reconnected["data"] == {"playerId": 1, "token": token, "gameId": gid, "host": True}
    assert state["data"]["ownerId"] == a2.client_id
    assert player(state["data"], 1)["claimedBy"] == a2.client_id
    assert (await act(a2, "addPenalty", {"playerId": 2}))["version"] == 5


async def test_reconnect_errors_leave_the_game_unchanged(connect: Connect, rdb: Redis) -> None:
    a, b, gid, _ = await table(connect)
    token = (await rdb.hgetall(keys.game(gid)))["tok:1"]  # a digest: never a valid token itself
    missing = next(g for g in (keys.new_game_id(bytes([i])) for i in range(50)) if g != gid)
    c = await connect()
    before = await snapshot(rdb, gid)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"gameId": gid, "playerId": 1, "token": token}, "Invalid token"),
        ({"gameId": gid, "playerId": 1, "token": "x" * 64}, "Invalid token"),
        ({"gameId": gid, "playerId": 2, "token": "x" * 64}, "No reconnection token for this player"),
        ({"gameId": gid, "playerId": 3, "token": "x" * 64}, "Player not found"),
        ({"gameId": gid, "hostToken": "h" * 64}, "Invalid host token"),
        ({"gameId": gid, "hostToken": 5}, "Invalid host token"),
        ({"gameId": gid, "hostToken": ""}, "Invalid host token"),
        ({"gameId": gid, "playerId": 1, "token": ""}, "Invalid token"),
        ({"gameId": gid, "playerId": 1, "token": "t" * 129}, "Invalid token"),
        ({"gameId": gid, "playerId": 1}, "Invalid token"),
        ({"gameId": gid, "playerId": 0, "token": "x"}, "Invalid player ID"),
        ({"gameId": gid, "playerId": "1", "token": "x"}, "Invalid player ID"),
        ({"gameId": gid}, "Invalid player ID"),
        ({"gameId": missing, "playerId": 1, "token": "x"}, "Game not found"),
        ({"gameId": "ZZ", "playerId": 1, "token": "x"}, "Game not found"),
        ({"gameId": 7, "playerId": 1, "token": "x"}, "Invalid game code"),
        ({"playerId": 1, "token": "x"}, "Invalid game code"),
    ]
    observed = [(data, await error_of(c, "reconnect", data)) for data, _ in cases]
    assert observed == cases
    assert await snapshot(rdb, gid) == before
    assert await error_of(c, "start") == NOT_IN_GAME


async def test_the_refusals_a_client_recovers_from_carry_their_codes(connect: Connect, rdb: Redis) -> None:
    """What static/js/session.js and main.js decide on: a malformed value that means what a
    script's refusal means gets the script's code."""
    a, _, gid, _ = await table(connect)
    digest = (await rdb.hgetall(keys.game(gid)))["tok:1"]
    missing = next(g for g in (keys.new_game_id(bytes([i])) for i in range(50)) if g != gid)
    c = await connect()
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("reconnect", {"gameId": gid, "playerId": 1, "token": digest}, "INVALID_TOKEN"),
        ("reconnect", {"gameId": gid, "playerId": 1, "token": ""}, "INVALID_TOKEN"),
        ("reconnect", {"gameId": gid, "playerId": 2, "token": "x" * 64}, "NO_TOKEN"),
        ("reconnect", {"gameId": gid, "playerId": 3, "token": "x" * 64}, "PLAYER_NOT_FOUND"),
        ("reconnect", {"gameId": gid, "playerId": 0, "token": "x"}, "INVALID_PLAYER_ID"),
        ("reconnect", {"gameId": gid, "hostToken": "h" * 64}, "INVALID_HOST_TOKEN"),
        ("reconnect", {"gameId": gid, "hostToken": 5}, "INVALID_HOST_TOKEN"),
        ("reconnect", {"gameId": missing, "playerId": 1, "token": "x"}, "GAME_NOT_FOUND"),
        ("join", {"gameId": "ZZ"}, "GAME_NOT_FOUND"),
        ("join", {"gameId": 7}, "INVALID_GAME_CODE"),
        ("start", {}, "NOT_IN_GAME"),
        ("explode", {}, "UNKNOWN_TYPE"),
        ("time", {"clientTime": "soon"}, "INVALID_INPUT"),
    ]
    observed = [(mtype, data, (await coded_error_of(c, mtype, data))[0]) for mtype, data, _ in cases]
    assert observed == cases


async def test_reconnect_after_the_token_lifetime_says_token_expired(
    server: TestServer, http: aiohttp.ClientSession, connect: Connect, rdb: Redis
) -> None:
    a = await connect()
    gid, host_token, _ = await create_game(a, initialTime=LONG_CLOCK)
    token, _ = await claim(a, 1)
    before = await snapshot(rdb, gid)
    eight_days_ms = 8 * 86_400_000  # the default token lifetime is 7 days
    async with http.post(server.make_url("/_test/clock"), json={"offsetMs": eight_days_ms}) as r:
        assert r.status == 200
    c = await connect()
    assert await error_of(c, "reconnect", {"gameId": gid, "playerId": 1, "token": token}) == "Token expired"
    assert await error_of(c, "reconnect", {"gameId": gid, "hostToken": host_token}) == "Token expired"
    assert await coded_error_of(c, "reconnect", {"gameId": gid, "hostToken": host_token}) == (
        "TOKEN_EXPIRED",
        "Token expired",
    )
    assert await snapshot(rdb, gid) == before


# -- start, pause, reset -----------------------------------------------------------------


async def test_start_runs_the_first_players_clock(connect: Connect, rdb: Redis) -> None:
    a, b, gid, _ = await table(connect, initial=1500)
    state = await act(a, "start")
    assert state["status"] == "running"
    assert state["activePlayer"] == 1
    assert state["version"] == 3
    assert (await state_of(b, 3))["status"] == "running"
    assert await log_kinds(rdb, gid) == ["create", "claim", "start"]


async def test_start_of_a_running_game_changes_nothing(connect: Connect, rdb: Redis) -> None:
    a, _, gid, _ = await table(connect)
    await act(a, "start")
    before = await snapshot(rdb, gid)
    assert (await act(a, "start"))["version"] == 3
    assert await snapshot(rdb, gid) == before


async def test_a_seated_player_who_is_not_the_host_may_start(connect: Connect) -> None:
    a, b, _, _ = await table(connect)
    await claim(b, 2)
    assert (await act(b, "start"))["status"] == "running"


async def test_the_host_without_a_seat_may_start(connect: Connect) -> None:
    a = await connect()
    await create_game(a, initialTime=LONG_CLOCK)
    assert (await act(a, "start"))["status"] == "running"


async def test_pause_toggles_between_running_and_paused(connect: Connect) -> None:
    a, b, _, _ = await table(connect)
    await claim(b, 2)
    waiting = await act(a, "pause")
    assert (waiting["status"], waiting["version"]) == ("waiting", 3)
    await act(a, "start")
    await asyncio.sleep(0.05)  # so that the running clock has visibly moved
    paused = await act(b, "pause")
    assert paused["status"] == "paused"
    assert paused["activePlayer"] == 1
    assert 0 < LONG_CLOCK - player(paused, 1)["timeRemaining"] < 60_000
    assert player(paused, 2)["timeRemaining"] == LONG_CLOCK
    resumed = await act(a, "pause")
    assert resumed["status"] == "running"
    assert resumed["activePlayer"] == 1
    assert player(resumed, 1)["timeRemaining"] == player(paused, 1)["timeRemaining"]
    await state_of(b, resumed["version"])
    assert [s["status"] for s in states(b) if s["version"] >= paused["version"]] == ["paused", "running"]


async def test_reset_restores_a_fresh_table_keeping_names_and_seats(connect: Connect) -> None:
    a, b, _, _ = await table(connect, players=3, initial=LONG_CLOCK)
    await claim(b, 2)
    await act(a, "updatePlayer", {"playerId": 1, "name": "Ann", "life": 7, "drunkCounter": 3, "genericCounter": 4})
    await act(a, "start")
    await act(a, "addPenalty", {"playerId": 2})
    await act(a, "eliminate", {"playerId": 3})
    state = await act(a, "reset")
    assert state["status"] == "waiting"
    assert state["activePlayer"] is None
    assert state["winner"] is None
    assert state["players"] == [
        {
            "id": i,
            "name": name,
            "timeRemaining": LONG_CLOCK,
            "penalties": 0,
            "isEliminated": False,
            "claimedBy": holder,
            "life": 20,
            "drunkCounter": 0,
            "genericCounter": 0,
            "color": None,
            "poison": 0,
            "energy": 0,
            "experience": 0,
            "commanderDamage": [[0, 0]] * 3,
            "eliminatedReason": None,
            "timeUsed": 0,
            "turns": 0,
        }
        for i, name, holder in ((1, "Ann", a.client_id), (2, "Player 2", b.client_id), (3, "Player 3", None))
    ]
    assert (await state_of(b, state["version"]))["status"] == "waiting"


# -- switch and passTurn -----------------------------------------------------------------


async def test_anyone_in_the_game_may_switch_while_waiting(connect: Connect) -> None:
    a, b, _, _ = await table(connect, players=3)
    state = await act(b, "switch", {"playerId": 3})
    assert state["activePlayer"] == 3
    assert state["status"] == "waiting"
    assert (await state_of(a, state["version"]))["activePlayer"] == 3
    # starting keeps the chosen player
    assert (await act(a, "start"))["activePlayer"] == 3


async def test_switch_charges_the_running_clock_and_activates_the_target(connect: Connect) -> None:
    a, b, _, _ = await table(connect, players=3)
    await act(a, "start")
    await asyncio.sleep(0.05)
    state = await act(a, "switch", {"playerId": 3})
    assert state["activePlayer"] == 3
    assert state["status"] == "running"
    assert player(state, 1)["timeRemaining"] < LONG_CLOCK
    assert player(state, 3)["timeRemaining"] == LONG_CLOCK
    again = await act(a, "switch", {"playerId": 3})
    assert again["version"] == state["version"]


async def test_the_holder_of_the_active_seat_may_switch_to_anyone(connect: Connect) -> None:
    a, b, _, _ = await table(connect, players=3)
    await claim(b, 2)
    await act(a, "start")
    assert await error_of(b, "switch", {"playerId": 3}) == "Not authorized to switch players"
    await act(a, "switch", {"playerId": 2})
    assert (await act(b, "switch", {"playerId": 3}))["activePlayer"] == 3


async def test_pass_turn_goes_to_the_next_player_in_order_and_wraps(connect: Connect) -> None:
    a, b, _, _ = await table(connect, players=3)
    await claim(b, 2)
    # a pass is a move of the game in play: not before the start (HEAD passed it, C17)
    assert await error_of(a, "passTurn") == "Game is not running"
    assert (await act(a, "start"))["activePlayer"] == 1
    assert (await act(a, "passTurn"))["activePlayer"] == 2
    assert (await act(b, "passTurn"))["activePlayer"] == 3
    assert (await act(a, "passTurn"))["activePlayer"] == 1
    assert await error_of(b, "passTurn") == "Not authorized to pass turn"


async def test_pass_turn_skips_eliminated_players(connect: Connect) -> None:
    a, _, _, _ = await table(connect, players=4)
    await act(a, "start")
    await act(a, "eliminate", {"playerId": 2})
    await act(a, "eliminate", {"playerId": 3})
    assert (await act(a, "passTurn"))["activePlayer"] == 4
    assert (await act(a, "passTurn"))["activePlayer"] == 1


# -- updatePlayer, addPenalty, eliminate, updateSettings ---------------------------------


async def test_the_host_may_update_every_field_of_any_player(connect: Connect) -> None:
    a, b, _, _ = await table(connect)
    data = {
        "playerId": 2,
        "name": "  Zoë 🐉 </b>  ",
        "time": 0,
        "life": -999,
        "drunkCounter": 999,
        "genericCounter": 7,
        "color": "indigo",
        "poison": 99,
        "energy": 999,
        "experience": 5,
    }
    state = await act(a, "updatePlayer", data)
    assert player(state, 2) == {
        "id": 2,
        "name": "Zoë 🐉 </b>",
        "timeRemaining": 0,
        "penalties": 0,
        # HEAD's rule: a life at or below 0 eliminates the player (and here decides the game)
        "isEliminated": True,
        "claimedBy": None,
        "life": -999,
        "drunkCounter": 999,
        "genericCounter": 7,
        "color": "indigo",
        "poison": 99,
        "energy": 999,
        "experience": 5,
        "commanderDamage": [[0, 0], [0, 0]],
        # poison and life both crossed: the more specific reason (lib/formats.lua loss_reason)
        "eliminatedReason": "poison",
        "timeUsed": 0,
        "turns": 0,
    }
    assert player(await state_of(b, state["version"]), 2)["name"] == "Zoë 🐉 </b>"


async def test_a_seated_player_may_update_only_their_own_player(connect: Connect) -> None:
    a, b, _, _ = await table(connect)
    await claim(b, 2)
    state = await act(b, "updatePlayer", {"playerId": 2, "life": 9999})
    assert player(state, 2)["life"] == 9999
    assert await error_of(b, "updatePlayer", {"playerId": 1, "life": 1}) == "Not authorized to modify this player"


async def test_setting_the_active_players_time_restarts_its_count_from_the_new_value(connect: Connect) -> None:
    a, _, _, _ = await table(connect)
    await act(a, "start")
    state = await act(a, "updatePlayer", {"playerId": 1, "time": 1_000_000})
    assert player(state, 1)["timeRemaining"] == 1_000_000
    await asyncio.sleep(0.05)  # so that the running clock has visibly moved
    paused = await act(a, "pause")
    assert 1_000_000 - 60_000 < player(paused, 1)["timeRemaining"] < 1_000_000


async def test_update_player_rejects_bad_values_and_leaves_the_game_unchanged(connect: Connect, rdb: Redis) -> None:
    a, _, gid, _ = await table(connect)
    before = await snapshot(rdb, gid)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"playerId": 1}, "Nothing to update"),
        ({"playerId": 1, "colour": "red"}, "Nothing to update"),
        ({"playerId": 1, "name": ""}, "Invalid player name"),
        ({"playerId": 1, "name": "   "}, "Invalid player name"),
        ({"playerId": 1, "name": "x" * 51}, "Invalid player name"),
        ({"playerId": 1, "name": "a\nb"}, "Invalid player name"),
        ({"playerId": 1, "name": 5}, "Invalid player name"),
        ({"playerId": 1, "time": -1}, "Invalid time"),
        ({"playerId": 1, "time": 86_400_001}, "Invalid time"),
        ({"playerId": 1, "time": "5"}, "Invalid time"),
        ({"playerId": 1, "time": 1.5}, "Invalid time"),
        ({"playerId": 1, "life": 10_000}, "Invalid life"),
        ({"playerId": 1, "life": -1000}, "Invalid life"),
        ({"playerId": 1, "life": True}, "Invalid life"),
        ({"playerId": 1, "drunkCounter": -1}, "Invalid counter"),
        ({"playerId": 1, "genericCounter": 1000}, "Invalid counter"),
        ({"playerId": 1, "genericCounter": None}, "Invalid counter"),
        ({"playerId": 0, "life": 5}, "Invalid player ID"),
        ({"playerId": "1", "life": 5}, "Invalid player ID"),
        ({"life": 5}, "Invalid player ID"),
        ({"playerId": 3, "life": 5}, "Player not found"),
    ]
    observed = [(data, await error_of(a, "updatePlayer", data)) for data, _ in cases]
    assert observed == cases
    assert await snapshot(rdb, gid) == before


async def test_a_name_with_an_unpaired_surrogate_is_rejected_as_an_invalid_name(connect: Connect, rdb: Redis) -> None:
    # JSON allows "\\ud800"; Python decodes it to a lone surrogate, which the game script's JSON
    # decoder refuses, so it must be caught as a bad name rather than fail inside Redis.
    a, _, gid, _ = await table(connect)
    before = await snapshot(rdb, gid)
    e = await raw_error(a, '{"type":"updatePlayer","data":{"playerId":1,"name":"a\\ud800b"},"requestId":"sur"}')
    assert e == {
        "type": "error",
        "data": {"message": "Invalid player name", "code": "INVALID_INPUT"},
        "requestId": "sur",
    }
    assert await snapshot(rdb, gid) == before


async def test_add_penalty_with_the_warning_rule_only_counts(connect: Connect, rdb: Redis) -> None:
    a, b, gid, _ = await table(connect)
    state = await act(a, "addPenalty", {"playerId": 2})
    assert player(state, 2)["penalties"] == 1
    assert player(state, 2)["timeRemaining"] == LONG_CLOCK
    assert player(await state_of(b, state["version"]), 2)["penalties"] == 1
    assert player(await act(a, "addPenalty", {"playerId": 2}), 2)["penalties"] == 2
    assert (await log_kinds(rdb, gid))[-2:] == ["addPenalty", "addPenalty"]


async def test_add_penalty_with_time_deduction_takes_time_off_but_never_below_zero(connect: Connect) -> None:
    a, _, _, _ = await table(connect, initial=1500, penaltyType="time_deduction", penaltyTimeDeduction=1000)
    first = await act(a, "addPenalty", {"playerId": 2})
    assert (player(first, 2)["penalties"], player(first, 2)["timeRemaining"]) == (1, 500)
    second = await act(a, "addPenalty", {"playerId": 2})
    assert (player(second, 2)["penalties"], player(second, 2)["timeRemaining"]) == (2, 0)


async def test_add_penalty_with_game_loss_eliminates_and_can_decide_the_game(connect: Connect) -> None:
    a, _, _, _ = await table(connect, players=3, penaltyType="game_loss")
    await act(a, "start")
    first = await act(a, "addPenalty", {"playerId": 1})
    assert player(first, 1)["isEliminated"] is True
    assert first["activePlayer"] == 2
    assert first["status"] == "running"
    last = await act(a, "addPenalty", {"playerId": 3})
    assert (last["status"], last["winner"], last["activePlayer"]) == ("finished", 2, None)


async def test_eliminating_the_active_player_passes_the_turn(connect: Connect) -> None:
    a, b, _, _ = await table(connect, players=3)
    await act(a, "start")
    state = await act(a, "eliminate", {"playerId": 1})
    assert player(state, 1)["isEliminated"] is True
    assert state["activePlayer"] == 2
    assert state["status"] == "running"
    assert player(await state_of(b, state["version"]), 1)["isEliminated"] is True
    again = await act(a, "eliminate", {"playerId": 1})
    assert again["version"] == state["version"]


async def test_update_settings_changes_thresholds_and_penalty_rules(connect: Connect) -> None:
    a, b, _, _ = await table(connect)
    state = await act(a, "updateSettings", {"warningThresholds": [1000, 5000, 1000]})
    assert state["settings"]["warningThresholds"] == [5000, 1000]
    state = await act(
        a, "updateSettings", {"penaltyType": "time_deduction", "penaltyTimeDeduction": 250, "playerCount": 8}
    )
    assert state["settings"] == {
        "playerCount": 2,
        "initialTime": LONG_CLOCK,
        "warningThresholds": [5000, 1000],
        "penaltyType": "time_deduction",
        "penaltyTimeDeduction": 250,
        "audioEnabled": True,
        **FormatSettings().to_settings(),
    }
    assert (await state_of(b, state["version"]))["settings"]["penaltyType"] == "time_deduction"
    assert player(await act(a, "addPenalty", {"playerId": 2}), 2)["timeRemaining"] == LONG_CLOCK - 250


async def test_update_settings_rejects_bad_values_and_leaves_the_game_unchanged(connect: Connect, rdb: Redis) -> None:
    a, _, gid, _ = await table(connect)
    before = await snapshot(rdb, gid)
    cases: list[tuple[dict[str, Any], str]] = [
        ({}, "Nothing to update"),
        ({"playerCount": 4, "initialTime": 5}, "Nothing to update"),
        ({"warningThresholds": []}, "Invalid warning thresholds"),
        ({"warningThresholds": [0]}, "Invalid warning thresholds"),
        ({"warningThresholds": list(range(1, 12))}, "Invalid warning thresholds"),
        ({"warningThresholds": "1000"}, "Invalid warning thresholds"),
        ({"penaltyType": "jail"}, "Invalid penalty type"),
        ({"penaltyType": None}, "Invalid penalty type"),
        ({"penaltyTimeDeduction": -1}, "Invalid penalty time deduction"),
        ({"penaltyTimeDeduction": 86_400_001}, "Invalid penalty time deduction"),
        ({"penaltyTimeDeduction": "5"}, "Invalid penalty time deduction"),
    ]
    observed = [(data, await error_of(a, "updateSettings", data)) for data, _ in cases]
    assert observed == cases
    assert await snapshot(rdb, gid) == before


# -- time --------------------------------------------------------------------------------


async def test_time_replies_with_server_time_close_to_redis_time(connect: Connect, rdb: Redis) -> None:
    c = await connect()
    sec, usec = await rdb.time()
    redis_ms = sec * 1000 + usec // 1000
    reply = await c.request("time", {"clientTime": 1234.5})
    assert reply["type"] == "time"
    assert set(reply["data"]) == {"serverTime", "clientTime"}
    assert reply["data"]["clientTime"] == 1234.5
    assert isinstance(reply["data"]["serverTime"], int)
    assert abs(reply["data"]["serverTime"] - redis_ms) < 2000
    assert (await c.request("time"))["data"]["clientTime"] is None


async def test_time_rejects_a_client_time_that_is_not_a_number(connect: Connect) -> None:
    c = await connect()
    for bad in ("now", True, [1], {"t": 1}):
        assert await error_of(c, "time", {"clientTime": bad}) == "Invalid clientTime"


# -- messages that need a game -----------------------------------------------------------

GAME_MESSAGES: list[tuple[str, dict[str, Any]]] = [
    ("claim", {"playerId": 1}),
    ("unclaim", {}),
    ("leave", {}),
    ("start", {}),
    ("pause", {}),
    ("reset", {}),
    ("switch", {"playerId": 1}),
    ("passTurn", {}),
    ("updatePlayer", {"playerId": 1, "name": "N"}),
    ("addPenalty", {"playerId": 1}),
    ("eliminate", {"playerId": 1}),
    ("updateSettings", {"penaltyType": "game_loss"}),
]


async def test_every_game_message_needs_a_bound_game(connect: Connect, rdb: Redis) -> None:
    a, _, gid, _ = await table(connect)
    c = await connect()
    before = await snapshot(rdb, gid)
    observed = [(mtype, await error_of(c, mtype, data)) for mtype, data in GAME_MESSAGES]
    assert observed == [(mtype, NOT_IN_GAME) for mtype, _ in GAME_MESSAGES]
    assert await snapshot(rdb, gid) == before


async def test_actions_on_a_game_that_no_longer_exists_say_game_not_found(connect: Connect, rdb: Redis) -> None:
    a, _, gid, _ = await table(connect)
    await rdb.delete(keys.game(gid), keys.log(gid), keys.actions(gid))
    for mtype, data in GAME_MESSAGES:
        if mtype in ("leave", "unclaim"):
            continue
        assert (mtype, await error_of(a, mtype, data)) == (mtype, "Game not found")
    assert [k async for k in rdb.scan_iter("tot:{*")] == []


# -- authorization and rule errors -------------------------------------------------------


async def test_role_and_rule_errors_leave_the_game_unchanged(connect: Connect, rdb: Redis) -> None:
    """Host `a` holds seat 1, `c` holds seat 2, spectator `b` holds none; seat 3 is out; paused."""
    a, b, gid, _ = await table(connect, players=3)
    c = await connect()
    await act(c, "join", {"gameId": gid})
    await claim(c, 2)
    await act(a, "start")
    await act(a, "eliminate", {"playerId": 3})
    await act(a, "pause")
    who = {"host": a, "spectator": b, "seated": c}
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("spectator", "start", {}, "Not authorized to start game"),
        ("spectator", "pause", {}, "Not authorized to pause/resume"),
        ("spectator", "reset", {}, "Only the game owner can reset"),
        ("seated", "reset", {}, "Only the game owner can reset"),
        ("spectator", "switch", {"playerId": 2}, "Not authorized to switch players"),
        ("seated", "switch", {"playerId": 2}, "Not authorized to switch players"),
        ("spectator", "passTurn", {}, "Game is not running"),
        ("seated", "passTurn", {}, "Game is not running"),
        ("spectator", "updatePlayer", {"playerId": 2, "life": 1}, "Not authorized to modify this player"),
        ("seated", "updatePlayer", {"playerId": 1, "life": 1}, "Not authorized to modify this player"),
        ("seated", "addPenalty", {"playerId": 1}, "Only the game owner can add penalties"),
        ("seated", "eliminate", {"playerId": 1}, "Only the game owner can eliminate players"),
        ("seated", "updateSettings", {"penaltyType": "game_loss"}, "Only the game owner can change settings"),
        ("spectator", "claim", {"playerId": 3}, "Player is eliminated"),
        ("host", "switch", {"playerId": 3}, "Player is eliminated"),
        ("host", "switch", {"playerId": 4}, "Player not found"),
        ("host", "updatePlayer", {"playerId": 4, "life": 1}, "Player not found"),
        ("host", "addPenalty", {"playerId": 4}, "Player not found"),
        ("host", "eliminate", {"playerId": 4}, "Player not found"),
        ("host", "switch", {"playerId": 9}, "Invalid player ID"),
        ("host", "addPenalty", {"playerId": "2"}, "Invalid player ID"),
        ("host", "eliminate", {}, "Invalid player ID"),
        ("host", "join", {"gameId": "NOPE"}, "Game not found"),
    ]
    before = await snapshot(rdb, gid)
    observed = [(name, mtype, data, await error_of(who[name], mtype, data)) for name, mtype, data, _ in cases]
    assert observed == cases
    assert await snapshot(rdb, gid) == before
    # a failed join left the host in its game
    assert (await act(a, "pause"))["status"] == "running"


# -- requestId ---------------------------------------------------------------------------


async def test_replies_echo_the_request_id_and_broadcasts_carry_none(connect: Connect) -> None:
    a, b, _, _ = await table(connect)
    await a.send("addPenalty", {"playerId": 2}, request_id="my-own-id")
    reply = await a.reply("my-own-id")
    assert reply["type"] == "state"
    broadcast = await b.state_at_least(reply["data"]["version"])
    assert "requestId" not in broadcast
    await a.send("addPenalty", {"playerId": 7}, request_id="err-id")
    assert (await a.reply("err-id"))["data"] == {"message": "Player not found", "code": "PLAYER_NOT_FOUND"}
    await a.send("time", {}, request_id="t" * 64)
    assert (await a.reply("t" * 64))["type"] == "time"


async def test_a_repeated_request_id_applies_once(connect: Connect, rdb: Redis) -> None:
    a, b, gid, _ = await table(connect)
    await a.send("addPenalty", {"playerId": 2}, request_id="penalty-1")
    (first,) = await replies(a, "penalty-1", 1)
    await a.send("addPenalty", {"playerId": 2}, request_id="penalty-1")
    second = (await replies(a, "penalty-1", 2))[1]
    assert first == second
    assert first["data"]["version"] == 3
    assert player(first["data"], 2)["penalties"] == 1
    assert (await log_kinds(rdb, gid)).count("addPenalty") == 1
    assert player(await stored_state(rdb, gid), 2)["penalties"] == 1
    # the same requestId on another message type is another action
    await a.send("updatePlayer", {"playerId": 2, "life": 3}, request_id="penalty-1")
    third = (await replies(a, "penalty-1", 3))[2]
    assert third["data"]["version"] == 4
    assert (await log_kinds(rdb, gid))[-2:] == ["addPenalty", "updatePlayer"]


async def test_a_retried_claim_applies_once(connect: Connect, rdb: Redis) -> None:
    a, b, gid, _ = await table(connect)
    await b.send("claim", {"playerId": 2}, request_id="sit-down")
    state, claimed = await replies(b, "sit-down", 2)
    await b.send("claim", {"playerId": 2}, request_id="sit-down")
    again, claimed_again = (await replies(b, "sit-down", 4))[2:]
    assert (again["type"], claimed_again["type"]) == ("state", "claimed")
    assert again["data"]["version"] == state["data"]["version"] == 3
    assert (await log_kinds(rdb, gid)).count("claim") == 2  # a's seat 1 and b's seat 2, once
    # the retry's token is the one that works now: its reply is what the client keeps
    digest = (await rdb.hgetall(keys.game(gid)))["tok:2"]
    assert digest == hashlib.sha256(claimed_again["data"]["token"].encode()).hexdigest()


async def test_a_retry_after_newer_changes_answers_with_the_newest_state(connect: Connect) -> None:
    a, b, _, _ = await table(connect)
    await a.send("addPenalty", {"playerId": 2}, request_id="once")
    await replies(a, "once", 1)
    newer = await act(a, "updatePlayer", {"playerId": 1, "life": 5})
    await a.send("addPenalty", {"playerId": 2}, request_id="once")
    retry = (await replies(a, "once", 2))[1]
    assert retry["data"]["version"] >= newer["version"]
    assert player(retry["data"], 2)["penalties"] == 1


async def test_two_clients_using_the_same_request_id_both_get_their_action(connect: Connect, rdb: Redis) -> None:
    # requestIds are chosen by each client (typically a counter from 1 per page load); the same
    # id from two phones in one game names two different actions.
    a, b, gid, _ = await table(connect, players=3)
    await claim(b, 2)
    await act(a, "start")
    await a.send("passTurn", {}, request_id="1")
    (first,) = await replies(a, "1", 1)
    assert first["data"]["activePlayer"] == 2
    await b.send("passTurn", {}, request_id="1")
    (second,) = await replies(b, "1", 1)
    assert second["data"]["activePlayer"] == 3
    assert (await log_kinds(rdb, gid)).count("switch") == 2


# -- fan-out, versions, ticks ------------------------------------------------------------


async def test_every_socket_of_a_game_receives_every_change_in_order(connect: Connect) -> None:
    a, b = await connect(), await connect()
    gid, _, _ = await create_game(a, playerCount=2, initialTime=LONG_CLOCK)
    await act(b, "join", {"gameId": gid})
    steps: list[tuple[Client, str, dict[str, Any]]] = [
        (a, "claim", {"playerId": 1}),
        (b, "claim", {"playerId": 2}),
        (a, "start", {}),
        (a, "passTurn", {}),
        (b, "passTurn", {}),
        (b, "pause", {}),
        (a, "updatePlayer", {"playerId": 2, "name": "Bea"}),
        (a, "addPenalty", {"playerId": 2}),
        (a, "updateSettings", {"warningThresholds": [1000]}),
        (b, "pause", {}),  # resume
        (a, "eliminate", {"playerId": 1}),  # finished
        (a, "reset", {}),
    ]
    for version, (actor, mtype, data) in enumerate(steps, start=2):
        reply = await actor.request(mtype, data)
        assert (reply["type"], reply["data"]["version"]) == ("state", version), (mtype, reply)
        # both sockets get this change before the next one is made
        for c in (a, b):
            assert (await state_of(c, version))["version"] == version
    for c in (a, b):
        versions = [s["version"] for s in states(c)]
        assert versions == sorted(versions)
        assert set(versions) == set(range(1, len(steps) + 2))
        for s in states(c):
            assert isinstance(s["version"], int)
            assert isinstance(s["serverTime"], int)
            assert s["id"] == gid
    assert states(a)[-1]["status"] == states(b)[-1]["status"] == "waiting"


async def test_ticks_carry_every_clock_keyed_by_string_player_id_while_running(connect: Connect) -> None:
    a, b, _, _ = await table(connect, players=3)
    assert a.of_type("tick") == []
    await act(a, "start")
    for c in (a, b):
        tick = await c.next("tick")
        assert list(tick) == ["type", "data"]
        times = tick["data"]["times"]
        assert list(times) == ["1", "2", "3"]
        assert 0 < times["1"] <= LONG_CLOCK
        assert times["2"] == times["3"] == LONG_CLOCK
    later = await a.next("tick")
    assert later["data"]["times"]["1"] <= tick["data"]["times"]["1"]


@pytest.mark.parametrize("query", ["?ticks=0", "?ticks=off", "?ticks=false"])
async def test_a_socket_that_says_ticks_0_gets_no_ticks_and_every_state(connect: Connect, query: str) -> None:
    a, _, gid, _ = await table(connect)
    quiet = await connect(f"/ws{query}")
    await act(quiet, "join", {"gameId": gid})
    started = await act(a, "start")
    # `a` (no parameter, as the original's clients) keeps getting them meanwhile
    await a.next("tick")
    await a.next("tick")
    assert (await quiet.state_at_least(started["version"]))["data"]["status"] == "running"
    assert quiet.of_type("tick") == []


async def test_ticks_stop_when_the_game_is_paused(connect: Connect) -> None:
    a, b, _, _ = await table(connect)
    await act(a, "start")
    await b.next("tick")
    paused = await act(a, "pause")
    frame = await b.state_at_least(paused["version"])
    # b got the pause from this instance's cache, which the ticks are computed from; b's frames
    # are sent in order, so no tick may follow it
    after = b.messages.index(frame) + 1
    await asyncio.sleep(1.0)
    assert [m for m in b.messages[after:] if m["type"] == "tick"] == []


async def test_a_running_clock_warns_then_times_out_on_every_socket(connect: Connect, rdb: Redis) -> None:
    a, b, gid, _ = await table(connect, initial=1500, warningThresholds=[1000])
    await act(a, "start")
    for c in (a, b):
        warning = await c.wait_for(lambda m: m["type"] == "warning")
        timeout = await c.wait_for(lambda m: m["type"] == "timeout")
        assert warning == {"type": "warning", "data": {"playerId": 1, "threshold": 1000}}
        assert timeout == {"type": "timeout", "data": {"playerId": 1}}
        assert c.messages.index(warning) < c.messages.index(timeout)
        final = await c.wait_for(lambda m: m["type"] == "state" and m["data"]["status"] == "paused")
        assert c.messages.index(timeout) < c.messages.index(final)
        assert player(final["data"], 1)["timeRemaining"] == 0
        assert player(final["data"], 1)["penalties"] == 1
        assert len(c.of_type("warning")) == 1
        assert len(c.of_type("timeout")) == 1
    kinds = await log_kinds(rdb, gid)
    fired = kinds[kinds.index("start") + 1 :]
    assert fired in (["deadline"], ["deadline", "deadline"])  # one commit each, or both at once


# -- binding -----------------------------------------------------------------------------


async def test_binding_to_another_game_releases_the_seats_held_in_the_old_one(connect: Connect, rdb: Redis) -> None:
    a, b = await connect(), await connect()
    old, _, _ = await create_game(a, initialTime=LONG_CLOCK)
    await act(b, "join", {"gameId": old})
    await claim(b, 2)
    new, _, _ = await create_game(b, initialTime=LONG_CLOCK)
    assert new != old
    released = await state_of(a, 3)
    assert player(released, 2)["claimedBy"] is None
    assert player(await stored_state(rdb, old), 2)["claimedBy"] is None
    assert "tok:2" in await rdb.hgetall(keys.game(old))  # a rebind is a disconnect: the token stays
    # b now acts on the new game only
    assert (await act(b, "start"))["id"] == new
    assert (await stored_state(rdb, old))["status"] == "waiting"
    # and joining back from there releases no seat in the new game (none held); b, its host,
    # is away from then (lua/leave.lua)
    await act(b, "join", {"gameId": old})
    left = await stored_state(rdb, new)
    assert (left["version"], left["hostAwaySince"]) == (3, left["serverTime"])
    assert [p["claimedBy"] for p in left["players"]] == [None, None]


async def test_joining_another_game_releases_the_seat_too(connect: Connect, rdb: Redis) -> None:
    a, b = await connect(), await connect()
    first, _, _ = await create_game(a, initialTime=LONG_CLOCK)
    second, _, _ = await create_game(b, initialTime=LONG_CLOCK)
    await claim(a, 1)
    await act(a, "join", {"gameId": second})
    assert player(await stored_state(rdb, first), 1)["claimedBy"] is None
    assert await log_kinds(rdb, first) == ["create", "claim", "disconnect"]


# -- a whole game ------------------------------------------------------------------------


async def test_a_full_game_is_played_to_a_winner_by_eliminations(connect: Connect, rdb: Redis) -> None:
    host, p2, p3 = await connect(), await connect(), await connect()
    gid, _, _ = await create_game(host, playerCount=3, initialTime=LONG_CLOCK)
    await claim(host, 1)
    for c, pid in ((p2, 2), (p3, 3)):
        await act(c, "join", {"gameId": gid})
        await claim(c, pid)
    await act(host, "start")
    await act(host, "passTurn")
    await act(p2, "passTurn")
    out3 = await act(host, "eliminate", {"playerId": 3})
    assert out3["activePlayer"] == 1
    assert out3["status"] == "running"
    done = await act(host, "eliminate", {"playerId": 2})
    assert done["status"] == "finished"
    assert done["winner"] == 1
    assert done["activePlayer"] is None
    for c in (p2, p3):
        final = await state_of(c, done["version"])
        assert (final["status"], final["winner"]) == ("finished", 1)
    before = await snapshot(rdb, gid)
    finished_errors = [
        (host, "start", {}),
        (host, "switch", {"playerId": 1}),
        (host, "passTurn", {}),
        (host, "addPenalty", {"playerId": 1}),
        (host, "eliminate", {"playerId": 1}),
    ]
    assert [await error_of(c, m, d) for c, m, d in finished_errors] == ["Game is finished"] * len(finished_errors)
    assert (await act(host, "pause"))["version"] == done["version"]
    assert await snapshot(rdb, gid) == before
    again = await act(host, "reset")
    assert (again["status"], again["winner"]) == ("waiting", None)
    assert [p["isEliminated"] for p in again["players"]] == [False, False, False]


# -- embedded mode -----------------------------------------------------------------------


async def test_without_a_redis_url_the_embedded_engine_plays_a_game(aiohttp_server: Any) -> None:
    server: TestServer = await aiohttp_server(create_app(Settings()))
    clients: list[Client] = []
    try:
        a = await Client.connect(str(server.make_url("/")))
        clients.append(a)
        b = await Client.connect(str(server.make_url("/ws")))
        clients.append(b)
        gid, _, state = await create_game(a, initialTime=1500)
        assert state["version"] == 1
        await claim(a, 1)
        await act(b, "join", {"gameId": gid})
        await claim(b, 2)
        assert (await act(a, "start"))["activePlayer"] == 1
        passed = await act(a, "passTurn")
        assert (passed["status"], passed["activePlayer"]) == ("running", 2)
        assert (await state_of(b, passed["version"]))["activePlayer"] == 2
        async with aiohttp.ClientSession() as http, http.get(server.make_url("/ready")) as r:
            assert r.status == 200
            body = await r.json()
        assert body["embedded"] is True
        assert body["redis"]["engine"] == "fakeredis"
    finally:
        for c in clients:
            await c.close()


# -- Redis unreachable -------------------------------------------------------------------


async def test_with_redis_unreachable_actions_get_a_clear_error_and_ready_is_503(
    make_server: ServerFactory,
) -> None:
    server = await make_server(
        redis_url=f"redis://127.0.0.1:{free_port()}/0", redis_timeout_ms=200, action_timeout_ms=1000
    )
    async with aiohttp.ClientSession() as http, http.get(server.make_url("/ready")) as r:
        assert r.status == 503
        body = await r.json()
    assert (body["ready"], body["redis"]["reachable"]) == (False, False)
    c = await Client.connect(str(server.make_url("/")))
    try:
        assert await error_of(c, "create") == "Game storage is unavailable, please try again"
        assert (await coded_error_of(c, "create"))[0] == "STORAGE_UNAVAILABLE"
        assert await error_of(c, "join", {"gameId": keys.new_game_id(b"x")}) == (
            "Game storage is unavailable, please try again"
        )
        assert (await c.request("time"))["type"] == "time"
    finally:
        await c.close()


# -- refusals outside the protocol's checks ----------------------------------------------


async def test_a_frame_over_the_socket_rate_is_refused_with_its_request_id_and_code(
    make_server: ServerFactory,
) -> None:
    server = await make_server(rate_socket_messages_per_s=1)
    c = await Client.connect(str(server.make_url("/")))
    try:
        assert (await c.request("time"))["type"] == "time"
        rid = await c.send("time")
        assert await c.reply(rid) == {
            "type": "error",
            "data": {"message": "Rate limit exceeded", "code": "RATE_LIMITED"},
            "requestId": rid,
        }
    finally:
        await c.close()


async def test_a_create_over_the_game_rate_is_refused_with_its_code(make_server: ServerFactory) -> None:
    server = await make_server(rate_games_per_hour=1)
    c = await Client.connect(str(server.make_url("/")))
    try:
        await create_game(c)
        assert await coded_error_of(c, "create") == ("RATE_LIMITED", "Rate limit exceeded")
    finally:
        await c.close()


@pytest.mark.parametrize("failure", [RuntimeError("boom at 0x7f"), ServiceError("redis unavailable: ConnectionError")])
async def test_a_handler_failure_is_internal_and_its_text_stays_on_the_server(
    connect: Connect, monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    a, _, _, _ = await table(connect)

    def fail(data: dict[str, Any]) -> dict[str, Any]:
        raise failure

    monkeypatch.setattr(protocol, "player_updates", fail)
    rid = await a.send("updatePlayer", {"playerId": 1, "life": 3})
    assert await a.reply(rid) == {
        "type": "error",
        "data": {"message": "Internal server error", "code": "INTERNAL"},
        "requestId": rid,
    }


# -- coverage of the error table ---------------------------------------------------------


def wire_test_sources() -> str:
    """This module and the wire tests of each message domain (tests/test_messages_<domain>.py)."""
    here = Path(__file__)
    return "\n".join(p.read_text(encoding="utf-8") for p in [here, *sorted(here.parent.glob("test_messages_*.py"))])


#: Script error codes no client message can provoke, and why.
UNREACHABLE_FROM_THE_WIRE = {
    "GAME_EXISTS": "create draws another id when one is taken; the client never sees this code",
    "INVALID_ARGUMENT": "protocol.py validates every argument before a script runs (see the surrogate test)",
    "TOO_MANY_TARGETS": "no table has more than 7 other players; tests/lua/test_toggle_target.py plants a ninth seat",
}


def test_every_script_error_a_client_can_provoke_is_asserted_in_this_module() -> None:
    source = wire_test_sources()
    untested = [
        code
        for code, (_, message) in SCRIPT_CODES.items()
        if code not in UNREACHABLE_FROM_THE_WIRE and f'"{message}"' not in source
    ]
    assert untested == []
    assert set(UNREACHABLE_FROM_THE_WIRE) <= set(SCRIPT_CODES)


#: Codes of the service's own that no test here provokes, and where they are tested instead.
TESTED_ELSEWHERE = {
    "CREATE_FAILED": "tests/test_game.py: every drawn id taken; a client cannot make ids collide",
    "INVALID_COLOR": "tests/test_messages_players.py: updatePlayer with colours outside the palette",
}


def test_every_code_of_the_service_is_asserted_on_the_wire_in_this_module() -> None:
    # a script's codes are asserted by their message, which coded_error_of checks the code of
    source = wire_test_sources()
    untested = [code for code in SERVICE_CODES if code not in TESTED_ELSEWHERE and f'"{code}"' not in source]
    assert untested == []
    assert set(TESTED_ELSEWHERE) <= set(SERVICE_CODES)
