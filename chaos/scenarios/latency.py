"""latency: 50 ms ± 20 ms added between every instance and Redis, each way, for the middle
half of the run.

Every Redis round trip of an action (the script, the reply) pays it, and pub/sub fan-out too.
Must hold: nothing lost, versions only rising, every deadline once; the p99 of the actions'
latency during the fault and the errors are reported.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from chaos.base import AOF_ALWAYS, Options, behind_proxies, play_through
from chaos.checker import History, Verdict
from stack.redis_server import RedisProcess

NAME = "latency"
FAULT = "50 ms ± 20 ms added each way between the instances and Redis (a TCP proxy each)"
DELAY_MS = 50.0
JITTER_MS = 20.0


async def run(opts: Options) -> Verdict:
    with RedisProcess(*AOF_ALWAYS) as redis:
        async with behind_proxies(redis, opts.instances) as (proxies, procs):

            async def fault(history: History, until: float) -> dict[str, Any]:
                quarter = (until - time.monotonic()) / 4
                await asyncio.sleep(quarter)
                for proxy in proxies:
                    proxy.delay_ms, proxy.jitter_ms = DELAY_MS, JITTER_MS
                history.fault(f"+{DELAY_MS:.0f}±{JITTER_MS:.0f} ms to Redis")
                started = len([a for g in history.games.values() for a in g.acks])
                await asyncio.sleep(2 * quarter)
                for proxy in proxies:
                    proxy.delay_ms = proxy.jitter_ms = 0.0
                history.heal()
                began, ended = history.faults[0][0], history.healed[0]
                during = sum(1 for g in history.games.values() for a in g.acks if began <= a.at <= ended)
                p99 = history.latency_percentile(0.99, began, ended)
                return {
                    "acked_during": during,
                    "p99_during": "-" if p99 is None else f"{p99:.0f}ms",
                    "acked_before": started,
                }

            return await play_through(NAME, opts, redis.url, lambda: [p.ws_url for p in procs], fault)
