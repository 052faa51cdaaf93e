from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from redis.asyncio import Redis

from service.clock import GameClock
from service.game import GameStore
from tests.support.lua_harness import Harness, Published


@pytest_asyncio.fixture
async def published(engine: Redis) -> AsyncIterator[Published]:
    rec = Published(engine)
    await rec.start()
    try:
        yield rec
    finally:
        await rec.close()


@pytest_asyncio.fixture
async def h(store: tuple[GameStore, GameClock], published: Published) -> Harness:
    game_store, clock = store
    return Harness(game_store, clock, published)
