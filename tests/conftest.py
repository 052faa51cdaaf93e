"""Fixtures shared by the whole suite: a real redis-server, each test run on two engines, and
sockets (Conn) on a recording fake."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any, cast

import fakeredis
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from service.clock import GameClock
from service.game import GameStore
from service.outbound import Conn
from service.scripts import Scripts
from stack.redis_server import RedisProcess, RedisServerNotFound
from tests.support.fakes import FakeSocket, MakeConn
from tests.support.instances import Clients, clients
from tests.support.wire import Connect, client_opener, two_servers

ENGINES = ("redis", "fakeredis")


@pytest.fixture(scope="session")
def redis_proc() -> Iterator[RedisProcess]:
    """One redis-server for the session, on a free port (never the machine's 6379)."""
    try:
        proc = RedisProcess()
    except RedisServerNotFound as exc:
        pytest.fail(str(exc), pytrace=False)
    proc.start()
    try:
        yield proc
    finally:
        proc.close()


@pytest_asyncio.fixture
async def redis_url(redis_proc: RedisProcess) -> str:
    """The shared test redis-server, emptied before each test."""
    if not redis_proc.is_running():
        redis_proc.start()
    client = Redis.from_url(redis_proc.url, decode_responses=True)
    try:
        await client.flushall()
    finally:
        await client.aclose()
    return redis_proc.url


@pytest_asyncio.fixture
async def rdb(redis_url: str) -> AsyncIterator[Redis]:
    """A client of the shared test redis-server, emptied before the test."""
    client = Redis.from_url(redis_url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


@pytest_asyncio.fixture(params=ENGINES, ids=ENGINES)
async def engine(request: pytest.FixtureRequest) -> AsyncIterator[Redis]:
    """A redis.asyncio client (decode_responses=True) on an empty database of either engine."""
    client: Redis
    if request.param == "redis":
        proc: RedisProcess = request.getfixturevalue("redis_proc")
        if not proc.is_running():
            # a test that stopped the shared server must not break the ones after it
            proc.start()
        client = Redis.from_url(proc.url, decode_responses=True)
        await client.flushall()
    else:
        client = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer(), decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def store(engine: Redis) -> tuple[GameStore, GameClock]:
    clock = GameClock()
    game_store = GameStore(
        engine, Scripts(engine), clock, retention_s=3600, idle_retention_s=600, token_ttl_s=7200, action_timeout_s=5
    )
    return game_store, clock


@pytest_asyncio.fixture
async def r(redis_server: RedisProcess) -> AsyncIterator[Redis]:
    """A client of the requesting module's own `redis_server` (multi-process tests)."""
    client = Redis.from_url(redis_server.url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


@pytest_asyncio.fixture
async def pool() -> AsyncIterator[Clients]:
    """Test clients, every one closed at teardown."""
    async with clients() as p:
        yield p


@pytest_asyncio.fixture
async def make_conn() -> AsyncIterator[MakeConn]:
    """Conns on FakeSockets; every writer is stopped at teardown."""
    made: list[Conn] = []

    def make(max_queue_bytes: int = 1 << 20, gate: asyncio.Event | None = None) -> tuple[Conn, FakeSocket]:
        ws = FakeSocket(gate)
        conn = Conn(cast(web.WebSocketResponse, ws), f"client_{len(made)}", max_queue_bytes)
        made.append(conn)
        return conn, ws

    yield make
    for conn in made:
        ws = cast(FakeSocket, conn.ws)
        if ws.gate is not None:
            ws.gate.set()
        await conn.close_writer()


@pytest_asyncio.fixture
async def servers(aiohttp_server: Any, redis_url: str) -> list[TestServer]:
    """Two in-process instances on the test redis-server, for the wire tests of each message
    domain (tests/support/wire.py); a module with servers of its own defines this fixture."""
    return await two_servers(aiohttp_server, redis_url)


@pytest_asyncio.fixture
async def connect(pool: Clients) -> Connect:
    """Opens a client on one of `servers`."""
    return client_opener(pool)
