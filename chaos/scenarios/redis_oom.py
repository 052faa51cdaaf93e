"""redis-oom: Redis filled to its `maxmemory` (policy noeviction) under load, then freed.

A filler key grows until Redis refuses writes (OOM); the games' scripts are refused before
they write anything. Must hold: while full, the players get the clear storage error
(STORAGE_UNAVAILABLE, "Game storage is unavailable, please try again") and nothing else; no
acknowledged action is lost; once the filler is deleted every game goes on.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import OutOfMemoryError

from chaos.base import AOF_ALWAYS, Options, instances, play_through
from chaos.checker import History, Verdict
from stack.redis_server import RedisProcess

NAME = "redis-oom"
FAULT = "Redis filled to maxmemory (noeviction) for a third of the run, then the filler deleted"
FILLER = "chaos:filler"
#: headroom given above what Redis uses when the fault starts, filled at once
HEADROOM = 4 * 1024 * 1024
#: errors the players may see while Redis is full: the storage error, and a request whose
#: reply did not come in time while every retry was refused
EXPECTED_ERRORS = {"STORAGE_UNAVAILABLE", "TimeoutError"}


async def fill(admin: Redis) -> int:
    """Appends to the filler key until Redis refuses: the bytes written."""
    chunk = b"x" * 65_536
    written = 0
    while True:
        try:
            await admin.append(FILLER, chunk)
        except OutOfMemoryError:
            return written
        written += len(chunk)


async def run(opts: Options) -> Verdict:
    with RedisProcess(*AOF_ALWAYS, "--maxmemory-policy", "noeviction") as redis:
        async with instances(redis.url, opts.instances) as procs:

            async def fault(history: History, until: float) -> dict[str, Any]:
                third = (until - time.monotonic()) / 3
                await asyncio.sleep(third)
                admin = Redis.from_url(redis.url)
                try:
                    used = int((await admin.info("memory"))["used_memory"])
                    await admin.config_set("maxmemory", str(used + HEADROOM))
                    written = await fill(admin)
                    history.fault(f"maxmemory reached after {written // 1024} KiB")
                    await asyncio.sleep(third)
                    await admin.delete(FILLER)
                    history.heal()
                finally:
                    await admin.aclose()
                return {"filled_kib": written // 1024}

            def judge(history: History, verdict: Verdict) -> None:
                kinds = {what for _, what in history.errors}
                if "STORAGE_UNAVAILABLE" not in kinds:
                    verdict.problems.append("no player got the storage error: Redis never refused a write")
                other = sorted(kinds - EXPECTED_ERRORS)
                if other:
                    verdict.problems.append(f"errors besides the storage error: {other}")
                freed = history.healed[0] if history.healed else float("inf")
                if not any(a.at > freed for g in history.games.values() for a in g.acks):
                    verdict.problems.append("no action was acknowledged after the memory was freed")

            return await play_through(NAME, opts, redis.url, lambda: [p.ws_url for p in procs], fault, judge=judge)
