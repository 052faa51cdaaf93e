"""The deadline loop every instance runs: find due timeouts and warnings, claim, fire.

Polling is a cheap peek at every partition: one script call on one Redis
(lua/due_partitions.lua), one pipelined ZRANGEBYSCORE per partition on a Cluster, whose
shards hold them apart. Only partitions with something due pay for the claim script.
Claims are leases, and firing re-checks the game's state, so with any number of instances
each deadline fires exactly once.
"""

from __future__ import annotations

from service import keys
from service.clock import GameClock
from service.game import GameStore
from service.metrics import Metrics
from service.periodic import Periodic
from service.redis_errors import storage_errors

CLAIM_LIMIT = 100
LEASE_MS = 2000


class DeadlineLoop:
    def __init__(
        self,
        store: GameStore,
        clock: GameClock,
        poll_s: float,
        metrics: Metrics | None = None,
        sharded: bool = False,
    ) -> None:
        self.store = store
        #: the partitions are spread over a Cluster's shards: peek at each on its own
        self.sharded = sharded
        self.clock = clock
        self.metrics = metrics
        self.fired = 0
        #: polls answered (each a peek at every partition)
        self.polls = 0
        self.loop = Periodic("deadlines", poll_s, self.poll_once)

    async def due_partitions(self) -> list[int]:
        if self.sharded:
            due = await self._peek_each()
        else:
            # one command instead of 64: the poll's CPU on both sides was the same whether
            # anything was due or not (1.1 ms of the instance per poll, 20 polls a second)
            due = await self.store.due_partitions()
        self.polls += 1
        return due

    async def _peek_each(self) -> list[int]:
        now = self.clock.now_ms()
        client = self.store.client
        async with storage_errors(self.store.action_timeout_s), client.pipeline(transaction=False) as pipe:
            for p in range(keys.PARTITIONS):
                pipe.zrangebyscore(keys.deadline_partition(p), "-inf", now, start=0, num=1)
            replies = await pipe.execute()
        return [p for p, r in enumerate(replies) if r]

    async def poll_once(self) -> int:
        fired = 0
        for p in await self.due_partitions():
            for gid, due_ms in await self.store.claim_deadlines(p, CLAIM_LIMIT, LEASE_MS):
                out = await self.store.fire_deadline(gid)
                if out.status == "ok":
                    fired += 1
                    if self.metrics is not None:
                        # due_ms is the lease's end when an earlier claimant died: lag since then
                        lag_ms = self.clock.now_ms() - due_ms
                        self.metrics.deadline_lag.observe(max(0, lag_ms) / 1000)
        self.fired += fired
        return fired
