"""What the per-domain wire tests (tests/test_messages_<domain>.py) share: two in-process
instances on the test redis-server, clients for them, and a refusal that leaves Redis as it was."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from service import keys
from service.app import create_app
from service.settings import Settings
from stack.client import Client
from stack.presets import UNLIMITED
from tests.support.instances import Clients
from tests.support.waits import settle

Connect = Callable[[TestServer], Awaitable[Client]]


async def two_servers(aiohttp_server: Any, redis_url: str) -> list[TestServer]:
    """Two instances of the service on the test redis-server, limits off, fast ticks and deadlines."""
    fields: dict[str, Any] = {"redis_url": redis_url, "tick_interval_ms": 100, "deadline_poll_ms": 20, **UNLIMITED}
    return [await aiohttp_server(create_app(Settings(**fields))) for _ in range(2)]


def client_opener(pool: Clients) -> Connect:
    async def open_client(server: TestServer) -> Client:
        return await pool.connect(str(server.make_url("/")))

    return open_client


async def snapshot(rdb: Redis, gid: str) -> tuple[dict[Any, Any], list[Any], dict[Any, Any]]:
    return (
        await rdb.hgetall(keys.game(gid)),
        await rdb.lrange(keys.log(gid), 0, -1),
        await rdb.hgetall(keys.actions(gid)),
    )


async def refused(c: Client, rdb: Redis, gid: str, mtype: str, data: dict[str, Any] | None = None) -> tuple[str, str]:
    """(code, message) of the error answering the frame; the game in Redis is unchanged."""
    before = await snapshot(rdb, gid)
    reply = await c.request(mtype, data)
    assert reply["type"] == "error", reply
    await settle()
    assert await snapshot(rdb, gid) == before
    return reply["data"]["code"], reply["data"]["message"]
