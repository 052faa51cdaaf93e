"""pubsub-drop: every instance's pub/sub connection killed (`CLIENT KILL TYPE pubsub`), again
and again, while games play and clocks run out.

The commits published while an instance resubscribes never reach it. It finds the gap by the
versions, re-reads the game and replays the lost versions' events from the game's log
(lua/missed_events.lua). Must hold: no client misses a warning or a timeout, or gets one
twice; versions only go up on every socket.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from chaos.base import AOF_ALWAYS, Options, instances, play_through, rounds
from chaos.checker import History, Verdict
from stack.instance import get_json
from stack.redis_server import RedisProcess

NAME = "pubsub-drop"
FAULT = "CLIENT KILL TYPE pubsub on every instance's subscriber, every second or two"


async def run(opts: Options) -> Verdict:
    with RedisProcess(*AOF_ALWAYS) as redis:
        async with instances(redis.url, opts.instances) as procs:
            every = max(1.0, opts.seconds / 8)

            async def fault(history: History, until: float) -> dict[str, Any]:
                admin = Redis.from_url(redis.url)
                killed = 0
                try:
                    async for _ in rounds(until, every):
                        killed += int(await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub"))  # type: ignore[no-untyped-call]
                        history.fault("CLIENT KILL TYPE pubsub")
                        history.heal()
                finally:
                    await admin.aclose()
                gaps = replayed = 0
                for p in procs:
                    _, health = await get_json(p.url + "/health")
                    gaps += int(str(health.get("versionGaps", 0)))
                    replayed += int(str(health.get("eventsReplayed", 0)))
                return {"subscribers_killed": killed, "version_gaps": gaps, "events_replayed": replayed}

            return await play_through(NAME, opts, redis.url, lambda: [p.ws_url for p in procs], fault)
