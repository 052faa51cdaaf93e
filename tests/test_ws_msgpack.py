"""The optional `msgpack` subprotocol: the same frames as binary MessagePack, for native clients."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import msgpack
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

from service.app import create_app
from service.errors import NOT_IN_GAME_MESSAGE
from service.outbound import outgoing
from service.settings import Settings
from stack.client import Client
from stack.presets import UNLIMITED


class PackedClient:
    """A minimal msgpack-subprotocol client: binary frames both ways."""

    def __init__(self, session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.session = session
        self.ws = ws

    async def recv(self) -> dict[str, Any]:
        msg = await self.ws.receive(timeout=5)
        assert msg.type == aiohttp.WSMsgType.BINARY, msg
        frame: dict[str, Any] = msgpack.unpackb(msg.data)
        return frame

    async def until(self, mtype: str) -> dict[str, Any]:
        for _ in range(50):
            frame = await self.recv()
            if frame["type"] == mtype:
                return frame
        raise AssertionError(f"no {mtype} frame")

    async def send(self, obj: dict[str, Any]) -> None:
        await self.ws.send_bytes(msgpack.packb(obj))


@pytest_asyncio.fixture
async def server(redis_url: str) -> AsyncIterator[TestServer]:
    srv = TestServer(create_app(Settings(redis_url=redis_url, tick_interval_ms=100, **UNLIMITED)))
    await srv.start_server()
    try:
        yield srv
    finally:
        await srv.close()


@pytest_asyncio.fixture
async def packed(server: TestServer) -> AsyncIterator[PackedClient]:
    session = aiohttp.ClientSession()
    ws = await session.ws_connect(server.make_url("/"), protocols=("msgpack",))
    assert ws.protocol == "msgpack"
    try:
        yield PackedClient(session, ws)
    finally:
        await ws.close()
        await session.close()


async def test_a_msgpack_client_plays_alongside_a_json_client(packed: PackedClient, server: TestServer) -> None:
    hello = await packed.recv()
    assert hello["type"] == "clientId" and hello["data"]["clientId"].startswith("client_")
    await packed.send({"type": "create", "data": {"settings": {"playerCount": 2}}, "requestId": "c1"})
    created = await packed.until("created")
    assert created["requestId"] == "c1"
    gid = created["data"]["gameId"]
    state = await packed.until("state")
    assert (state["requestId"], state["data"]["version"], state["data"]["id"]) == ("c1", 1, gid)

    text = await Client.connect(str(server.make_url("/")))
    try:
        await text.request("join", {"gameId": gid})
        await text.request("claim", {"playerId": 2})
        await packed.send({"type": "claim", "data": {"playerId": 1}, "requestId": "k1"})
        claimed = await packed.until("claimed")
        assert claimed["data"]["playerId"] == 1 and len(claimed["data"]["token"]) == 64
        await packed.send({"type": "start", "requestId": "s1"})
        started = await packed.until("state")
        while started.get("requestId") != "s1":
            started = await packed.until("state")
        assert started["data"]["status"] == "running"
        # the JSON client sees the very same state, as text
        seen = await text.state_at_least(started["data"]["version"])
        assert seen["data"] == started["data"]
        tick = await packed.until("tick")
        assert set(tick["data"]["times"]) == {"1", "2"}
    finally:
        await text.close()


async def test_a_bad_msgpack_frame_gets_an_error_and_the_socket_stays_open(packed: PackedClient) -> None:
    await packed.recv()
    await packed.ws.send_bytes(b"\xc1not msgpack")
    assert (await packed.recv())["data"] == {"message": "Invalid msgpack", "code": "INVALID_INPUT"}
    await packed.send({"type": "nope", "requestId": "x"})
    err = await packed.recv()
    assert (err["type"], err["data"], err["requestId"]) == (
        "error",
        {"message": "Unknown message type", "code": "UNKNOWN_TYPE"},
        "x",
    )
    await packed.send({"type": "start", "requestId": "y"})
    err = await packed.recv()
    assert (err["data"], err["requestId"]) == ({"message": NOT_IN_GAME_MESSAGE, "code": "NOT_IN_GAME"}, "y")
    await packed.send({"type": "time", "data": {"clientTime": 5}})
    assert (await packed.recv())["type"] == "time"


async def test_a_json_client_sending_binary_is_told_binary_is_not_supported(server: TestServer) -> None:
    c = await Client.connect(str(server.make_url("/")))
    try:
        await c.ws.send_bytes(msgpack.packb({"type": "time"}))
        err = await c.next("error")
        assert err["data"] == {"message": "Binary frames are not supported", "code": "BINARY_UNSUPPORTED"}
    finally:
        await c.close()


def test_a_broadcast_frame_is_packed_once_however_many_sockets_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0
    real = msgpack.packb

    def counting(obj: Any) -> bytes:
        nonlocal calls
        calls += 1
        packed: bytes = real(obj)
        return packed

    monkeypatch.setattr(msgpack, "packb", counting)
    out = outgoing("tick", {"times": {"1": 5}})
    frames = [out.packed() for _ in range(10)]
    assert calls == 1
    assert msgpack.unpackb(frames[0]) == json.loads(out.text)
