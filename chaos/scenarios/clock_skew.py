"""clock-skew: instances whose own clocks are 30 s fast and 30 s slow (Debian's libfaketime,
preloaded into the service process itself, so that killing it kills the service) beside one
whose clock is right, while games play and clocks run out.

Game time is Redis's `TIME`, read inside the scripts; an instance's own clock only paces its
loops. Must hold: every state's `serverTime`, from whichever instance, is the true time
(within SKEW_BOUND_MS of this process's clock), every deadline fires exactly once, nothing
is lost.
"""

from __future__ import annotations

import asyncio
import glob
import time
from typing import Any

from chaos.base import AOF_ALWAYS, Options, instances, play_through
from chaos.checker import History, Verdict
from stack.redis_server import RedisProcess

NAME = "clock-skew"
FAULT = "instances under faketime +30 s and -30 s beside one on the true clock"
SKEWS = ("+30s", "-30s")
#: how far a state's serverTime may be from the true time when it arrives (loopback, loaded)
SKEW_BOUND_MS = 1_000


def libfaketime() -> str:
    """The multithreaded libfaketime (the service has threads), from Debian's `faketime`."""
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1"))
    if not found:
        raise RuntimeError("libfaketime not found: install it with `apt-get install faketime` (or `make faketime`)")
    return found[0]


async def run(opts: Options) -> Verdict:
    preload = libfaketime()
    with RedisProcess(*AOF_ALWAYS) as redis:
        count = max(len(SKEWS) + 1, opts.instances)
        async with instances(redis.url, count, start=False) as procs:
            for proc, skew in zip(procs[1:], SKEWS, strict=False):
                proc.env.update(LD_PRELOAD=preload, FAKETIME=skew)
            for proc in procs:
                await asyncio.to_thread(proc.start)

            async def fault(history: History, until: float) -> dict[str, Any]:
                history.fault(f"clocks {', '.join(SKEWS)}")
                await asyncio.sleep(max(0.0, until - time.monotonic()))
                history.heal()
                return {"skews": "/".join(SKEWS)}

            def judge(history: History, verdict: Verdict) -> None:
                worst = history.worst_server_time_ms
                verdict.extra["worst_server_time_offset"] = f"{worst:.0f}ms"
                if worst > SKEW_BOUND_MS:
                    verdict.problems.append(f"a state's serverTime was {worst:.0f} ms off the true time")
                if verdict.deadlines == 0:
                    verdict.problems.append("no deadline fired: the clock games did not run out")

            return await play_through(NAME, opts, redis.url, lambda: [p.ws_url for p in procs], fault, judge=judge)
