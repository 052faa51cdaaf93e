"""kill-instance: SIGKILL of a random instance every few seconds under load, then its restart.

No shutdown code runs, as when a machine dies. The players of the killed instance reconnect to
another one with their seat tokens; the deadline loop of the others takes over the killed
one's leases. Must hold: nothing lost, every deadline exactly once.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from chaos.base import AOF_ALWAYS, Options, instances, play_through, rounds
from chaos.checker import History, Verdict
from stack.redis_server import RedisProcess

NAME = "kill-instance"
FAULT = "SIGKILL of random instances under load, each restarted a second later"


async def run(opts: Options) -> Verdict:
    with RedisProcess(*AOF_ALWAYS) as redis:
        async with instances(redis.url, max(2, opts.instances)) as procs:
            every = max(2.0, opts.seconds / 4)

            async def fault(history: History, until: float) -> dict[str, Any]:
                async for _ in rounds(until, every):
                    victim = random.choice(procs)
                    victim.kill()
                    history.fault(f"SIGKILL {victim.name}")
                    await asyncio.sleep(1.0)
                    await asyncio.to_thread(victim.start)
                    history.heal()
                return {}

            return await play_through(NAME, opts, redis.url, lambda: [p.ws_url for p in procs], fault)
