"""Instance heartbeats, and releasing the seats of instances that died without saying so.

A socket's seat is released when the socket closes, but an instance killed with SIGKILL
never runs that code, and its clients' ids would keep their seats "claimed" forever. So
each process has an incarnation id, baked into its client ids, and beats in a Redis sorted
set; the games where its clients took seats are recorded. Any instance that sees an
incarnation silent for `dead_after_s` removes it (ZREM: only one instance wins) and runs
release_clients on each of its games: seats cleared, tokens kept. Redis failures are
raised as StorageUnavailable, as by every other caller (service/redis_errors.py).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from service import keys
from service.clock import GameClock
from service.errors import ServiceError
from service.game import GameStore
from service.periodic import Periodic
from service.redis_errors import storage_errors

log = logging.getLogger(__name__)


class Liveness:
    def __init__(
        self,
        store: GameStore,
        clock: GameClock,
        dead_after_s: float,
        games_ttl_s: int,
        on_reaped: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.on_reaped = on_reaped
        self.beats = 0
        self.incarnation = secrets.token_hex(5)
        self.dead_after_s = dead_after_s
        self.games_ttl_s = games_ttl_s
        self.released = 0
        self.loop = Periodic("liveness", max(0.2, dead_after_s / 3), self.round)

    @property
    def client_prefix(self) -> str:
        return f"client_{self.incarnation}_"

    def new_client_id(self) -> str:
        """Unguessable, unique across instances, and traceable to this process."""
        return self.client_prefix + secrets.token_urlsafe(12)

    @property
    def client(self) -> Any:
        return self.store.client

    async def seated(self, game_id: str) -> None:
        """Remember that a client of this process holds a seat in `game_id`."""
        key = keys.instance_games(self.incarnation)
        async with storage_errors(), self.client.pipeline(transaction=False) as pipe:
            pipe.sadd(key, game_id)
            pipe.expire(key, self.games_ttl_s)
            await pipe.execute()

    async def beat(self) -> None:
        async with storage_errors():
            added = await self.client.zadd(keys.instances(), {self.incarnation: self.clock.now_ms()})
        self.beats += 1
        if added and self.beats > 1 and self.on_reaped is not None:
            # Cut off from Redis for so long that another instance released our clients'
            # seats: send them through the normal reconnect path, which restores the seats.
            log.warning("this instance was declared dead while cut off from Redis; closing its sockets")
            await self.on_reaped()

    async def reap(self) -> int:
        """Release the seats of every instance silent for too long; returns games released."""
        cutoff = self.clock.now_ms() - int(self.dead_after_s * 1000)
        released = 0
        async with storage_errors():
            for inc in await self.client.zrangebyscore(keys.instances(), "-inf", cutoff, start=0, num=10):
                if inc == self.incarnation or not await self.client.zrem(keys.instances(), inc):
                    continue
                games_key = keys.instance_games(inc)
                for gid in await self.client.smembers(games_key):
                    if not keys.is_valid_game_id(gid):
                        continue
                    try:
                        out = await self.store.release_clients(gid, f"client_{inc}_")
                    except ServiceError as exc:
                        log.warning("could not release seats of %s in %s: %s", inc, gid, exc)
                        continue
                    released += out.status == "ok"
                await self.client.delete(games_key)
                log.info("instance %s stopped beating; released its seats in %d games", inc, released)
        self.released += released
        return released

    async def leave(self) -> None:
        """On a clean shutdown: sockets released their own seats, so just stop being listed."""
        with contextlib.suppress(Exception):
            await self.client.zrem(keys.instances(), self.incarnation)
            await self.client.delete(keys.instance_games(self.incarnation))

    async def round(self) -> None:
        await self.beat()
        await self.reap()
