"""Instance heartbeats, and releasing the seats of instances that died without saying so.

A socket's seat is released when the socket closes, but an instance killed with SIGKILL
never runs that code, and its clients' ids would keep their seats "claimed" forever (and a
host among them would never count as away). So
each process has an incarnation id, baked into its client ids, and beats in a Redis sorted
set; the games where its clients hold seats or host rights right now are kept in a set (only those: a set of
every game ever seated grows for as long as the process lives, and a dead instance's
successor would walk all of it). Any instance that sees an
incarnation silent for `dead_after_s` removes it (ZREM: only one instance wins) and runs
release_clients on each of its games: seats cleared, tokens kept, its host away. Redis failures are
raised as StorageUnavailable, as by every other caller (service/redis_errors.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from service import keys
from service.clock import GameClock
from service.errors import ServiceError
from service.game import GameStore
from service.periodic import Periodic
from service.redis_errors import storage_errors

log = logging.getLogger(__name__)


@dataclass
class _SharedLock:
    """A lock kept only while someone holds or awaits it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


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
        #: instances that beat within dead_after_s at this one's last beat (itself included);
        #: the frame limit per address divides its budget by it (service/limits.py AddressRates).
        #: Until the first beat, and while Redis is gone, the last count stands.
        self.live_instances = 1
        #: sockets of this process holding a seat or host rights, per game (Session.present)
        self.seats: Counter[str] = Counter()
        #: one set update at a time per game, so the last one to run reflects the last count
        self._set_locks: dict[str, _SharedLock] = {}
        #: set updates started by unseated_soon, referenced until done
        self._background: set[asyncio.Task[None]] = set()
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
        """A socket of this process took a seat in `game_id`."""
        self.seats[game_id] += 1
        await self._record(game_id)

    async def unseated(self, game_id: str) -> None:
        """A socket of this process gave its seat in `game_id` up (or lost it with its socket)."""
        self._count_down(game_id)
        await self._record(game_id)

    def unseated_soon(self, game_id: str) -> None:
        """As unseated, for a caller that cannot wait (a channel delivery: a kicked socket). The
        count changes now, so a seat taken right after is counted against it; the set follows."""
        self._count_down(game_id)
        task = asyncio.get_running_loop().create_task(self._record_or_log(game_id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _count_down(self, game_id: str) -> None:
        if self.seats[game_id] <= 1:
            del self.seats[game_id]
        else:
            self.seats[game_id] -= 1

    async def _record_or_log(self, game_id: str) -> None:
        try:
            await self._record(game_id)
        except ServiceError as exc:
            # the next seat change in the game, or the set's TTL, puts it right
            log.warning("could not update this instance's games set for %s: %s", game_id, exc)

    async def _record(self, game_id: str) -> None:
        """Make the game's membership of this instance's set match the local count.

        Each call decides under the game's lock from the count as it is then, so whatever order
        concurrent claims and leaves finish in, the last update written is the current one.
        """
        key = keys.instance_games(self.incarnation)
        lock = self._set_locks.get(game_id)
        if lock is None:
            lock = self._set_locks[game_id] = _SharedLock()
        lock.users += 1
        try:
            # one per seat change: when thousands of sockets close at once they queue with the
            # actions (GameStore.in_flight), not on the connections the heartbeat needs
            async with lock.lock, storage_errors(), self.store.in_flight:
                if self.seats[game_id] > 0:
                    async with self.client.pipeline(transaction=False) as pipe:
                        pipe.sadd(key, game_id)
                        pipe.expire(key, self.games_ttl_s)
                        await pipe.execute()
                else:
                    await self.client.srem(key, game_id)
        finally:
            lock.users -= 1
            if lock.users == 0:
                del self._set_locks[game_id]

    async def beat(self) -> None:
        now = self.clock.now_ms()
        async with storage_errors(), self.client.pipeline(transaction=False) as pipe:
            pipe.zadd(keys.instances(), {self.incarnation: now})
            # the same count reap() goes by: an instance is live until dead_after_s of silence
            pipe.zcount(keys.instances(), now - int(self.dead_after_s * 1000), "+inf")
            added, live = await pipe.execute()
        self.live_instances = max(1, int(live))
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
