"""lb-restart: HAProxy killed under load (every socket through it drops at once, no close
frame) and started again a second later.

Must hold: nothing lost; every player reconnects (through the new HAProxy) and plays on.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Any

from chaos.base import Options, haproxy_stack, play_through
from chaos.checker import History, Verdict
from stack import local

NAME = "lb-restart"
FAULT = "SIGKILL of HAProxy under load, started again a second later"


async def run(opts: Options) -> Verdict:
    async with haproxy_stack(max(2, opts.instances)) as (stack, env):

        async def fault(history: History, until: float) -> dict[str, Any]:
            await asyncio.sleep(max(1.0, (until - time.monotonic()) / 3))
            pid = local.read_pid(stack.pidfile("haproxy"))
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            history.fault("SIGKILL haproxy")
            await asyncio.to_thread(local.stop, [pid], 5.0)
            await asyncio.sleep(1.0)
            await asyncio.to_thread(local.start_haproxy, stack, env)
            history.heal()
            return {}

        seats = opts.players * (opts.games + opts.clock_games)

        def judge(history: History, verdict: Verdict) -> None:
            back = len(history.reconnect_gaps)
            verdict.extra["slowest_back"] = f"{max(history.reconnect_gaps, default=0.0):.1f}s"
            if back < seats:
                verdict.problems.append(f"only {back} of {seats} players reconnected after the restart")

        endpoint = f"ws://127.0.0.1:{stack.port}/"
        return await play_through(NAME, opts, stack.redis_url, lambda: [endpoint], fault, judge=judge)
