"""script-flush: `SCRIPT FLUSH` under load, a few times.

redis-py's scripts run by EVALSHA; on NOSCRIPT they load the script and run it again
(service/scripts.py). Must hold: every action still applies, none twice (a reload between a
commit and its reply must not let the retry commit again).
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from chaos.base import AOF_ALWAYS, Options, instances, play_through, rounds
from chaos.checker import History, Verdict
from stack.redis_server import RedisProcess

NAME = "script-flush"
FAULT = "SCRIPT FLUSH every second or two while the games play"


async def run(opts: Options) -> Verdict:
    with RedisProcess(*AOF_ALWAYS) as redis:
        async with instances(redis.url, opts.instances) as procs:
            every = max(1.0, opts.seconds / 8)

            async def fault(history: History, until: float) -> dict[str, Any]:
                admin = Redis.from_url(redis.url)
                try:
                    async for _ in rounds(until, every):
                        await admin.script_flush()
                        history.fault("SCRIPT FLUSH")
                        history.heal()
                finally:
                    await admin.aclose()
                return {}

            return await play_through(NAME, opts, redis.url, lambda: [p.ws_url for p in procs], fault)
