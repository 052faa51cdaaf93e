"""Fixtures shared by the whole suite: a real redis-server, and each test run on two engines."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import fakeredis
import pytest
import pytest_asyncio
from redis.asyncio import Redis

from service.game import GameClock, GameStore
from service.scripts import Scripts
from stack.redis_server import RedisProcess, RedisServerNotFound
from tests.support.instances import Clients, clients

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
