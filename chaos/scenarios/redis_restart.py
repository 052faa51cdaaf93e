"""redis-restart: SIGKILL of Redis under load, and its restart from its AOF, twice over:
with `appendfsync always` and with `appendfsync everysec`.

With `always` every acknowledged write is on disk before the reply: nothing may be lost. With
`everysec` Redis may lose the last second of writes by design; the loss is measured and held
against that bound (the acknowledgements of the second before each kill).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from chaos.base import Options, instances, play_through, rounds
from chaos.checker import History, Verdict
from stack.redis_server import RedisProcess

NAME = "redis-restart"
FAULT = "SIGKILL of Redis, restarted from its AOF 1 s later (appendfsync always, then everysec)"
#: Redis's own bound for everysec: the writes of the last second, and a little for the fsync
#: that was running when the kill came (it may take longer than a second on a slow disk)
EVERYSEC_WINDOW_S = 2.0


async def run_with(opts: Options, fsync: str) -> Verdict:
    with RedisProcess("--appendonly", "yes", "--appendfsync", fsync) as redis:
        async with instances(redis.url, opts.instances) as procs:
            every = max(3.0, opts.seconds / 3)
            kills: list[float] = []

            async def fault(history: History, until: float) -> dict[str, Any]:
                async for _ in rounds(until, every):
                    redis.kill()
                    kills.append(time.monotonic())
                    history.fault("SIGKILL redis-server")
                    await asyncio.sleep(1.0)
                    await asyncio.to_thread(redis.start)
                    history.heal()
                return {"fsync": fsync}

            def bound(history: History) -> int:
                if fsync == "always":
                    return 0
                # the acknowledgements everysec may lose: those of the window before a kill
                return sum(
                    1
                    for g in history.games.values()
                    for a in g.acks
                    if any(k - EVERYSEC_WINDOW_S <= a.at <= k for k in kills)
                )

            endpoints = [p.ws_url for p in procs]
            name = f"{NAME}[{fsync}]"
            verdict = await play_through(name, opts, redis.url, lambda: endpoints, fault, allowed_loss=bound)
            verdict.extra["loss_bound"] = verdict.allowed_loss
            return verdict


async def run(opts: Options) -> list[Verdict]:
    return [await run_with(opts, "always"), await run_with(opts, "everysec")]
