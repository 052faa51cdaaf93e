"""sentinel-failover: a primary with two replicas and three sentinels (down-after 2 s,
min-replicas-to-write 1), 2 instances following the sentinels; under load the primary is
SIGKILLed, and in further runs hung (SIGSTOP) for each of HANGS seconds, then woken (SIGCONT).

Must hold: nothing acknowledged lost, for the kill and for every hang length. A hang just
past down-after is the hard case: the woken old primary still has a replica attached, so it
meets min-replicas-to-write and would acknowledge writes that the replica's resync from the
new primary throws away. The instances fence it (no writes to an address any sentinel flags
o_down or failover_in_progress) and re-read every cached game once the new primary is named.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Any

from chaos.base import Options, instances, play_through
from chaos.checker import History, Verdict
from stack.topologies import SentinelSet

NAME = "sentinel-failover"
FAULT = "the Sentinel-managed primary SIGKILLed, then hung (SIGSTOP) 2.5-10 s and woken, under load"
DOWN_AFTER_MS = 2_000
#: the hang lengths of the issue's table (s); the short form runs the kill and the first
HANGS = (2.5, 3.0, 3.5, 4.0, 5.0, 10.0)


async def one(opts: Options, hang_s: float | None) -> Verdict:
    with SentinelSet(down_after_ms=DOWN_AFTER_MS, failover_timeout_ms=6_000) as topo:
        env = {"REDIS_SENTINELS": topo.addresses, "REDIS_TIMEOUT_MS": "500"}
        async with instances("", max(2, opts.instances), env=env) as procs:

            async def fault(history: History, until: float) -> dict[str, Any]:
                await asyncio.sleep(max(1.0, (until - time.monotonic()) / 3))
                port = await asyncio.to_thread(topo.master_port)
                primary = topo.server(port)
                if hang_s is None:
                    primary.kill()
                    history.fault(f"SIGKILL primary :{port}")
                else:
                    os.kill(primary.pid, signal.SIGSTOP)
                    history.fault(f"SIGSTOP primary :{port} for {hang_s:.1f}s")
                    await asyncio.sleep(hang_s)
                    os.kill(primary.pid, signal.SIGCONT)
                # the sentinels name another primary (a hang shorter than down-after: the same one)
                for _ in range(150):
                    if await asyncio.to_thread(topo.master_port) != port:
                        break
                    await asyncio.sleep(0.1)
                history.heal()
                if hang_s is None:
                    await asyncio.to_thread(primary.start)
                return {"fault": "kill" if hang_s is None else f"hang {hang_s:.1f}s"}

            def judge(history: History, verdict: Verdict) -> None:
                if verdict.faults == 0:
                    verdict.problems.append("the primary was never failed over")

            # the checker reads from whoever is primary at the end
            current = await asyncio.to_thread(topo.master_port)
            label = f"{NAME}[{'kill' if hang_s is None else f'hang {hang_s:g}s'}]"
            return await play_through(
                label,
                opts,
                f"redis://127.0.0.1:{current}/0",
                lambda: [p.ws_url for p in procs],
                fault,
                judge=judge,
                primary_url=lambda: f"redis://127.0.0.1:{topo.master_port()}/0",
            )


async def run(opts: Options) -> list[Verdict]:
    hangs = HANGS[:1] if opts.seconds <= Options.short().seconds else HANGS
    verdicts = [await one(opts, None)]
    for h in hangs:
        verdicts.append(await one(opts, h))
    return verdicts
