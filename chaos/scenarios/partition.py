"""partition: one instance cut off from Redis (a black hole: nothing forwarded, nothing
refused) while its players are connected, then the link restored.

The instance's Redis calls time out; after REDIS_LOST_CLOSE_S (2 s here) it closes its
sockets with 1012 and refuses upgrades, so its players reconnect to the other instances and
play on. Must hold: nothing lost or applied twice (no split brain: the cut-off instance cannot
write), the instance cut itself off, and it serves again after the link is back.

A real Prometheus scrapes the instances meanwhile, with stack/monitoring/alerts.yml (its
`for:` cut to 1 s): TapotarpRedisUnreachable must fire for the cut-off instance during the
cut and clear within ALERT_CLEARS_S of the link coming back.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from typing import Any

from chaos.base import AOF_ALWAYS, Options, behind_proxies, play_through
from chaos.checker import History, Verdict
from chaos.prometheus import PrometheusProcess, watch_alert
from stack.instance import get_json
from stack.redis_server import RedisProcess

NAME = "partition"
FAULT = "one instance cut off from Redis for 12 s (its TCP proxy black-holes), then the link restored"
CLOSE_AFTER_S = 2.0
#: long enough for the instance to notice (its loops' calls time out), wait CLOSE_AFTER_S and
#: close, and for its players to play on elsewhere
CUT_S = 12.0
ALERT = "TapotarpRedisUnreachable"
#: the instance's probe (0.5 s while Redis is lost), a scrape and an evaluation (500 ms each)
ALERT_CLEARS_S = 5.0


async def run(opts: Options) -> Verdict:
    # the cut and some play before and after it
    opts = dataclasses.replace(opts, seconds=max(opts.seconds, CUT_S + 6))
    with RedisProcess(*AOF_ALWAYS) as redis:
        env = {"REDIS_LOST_CLOSE_S": str(CLOSE_AFTER_S), "REDIS_TIMEOUT_MS": "500"}
        async with behind_proxies(redis, max(2, opts.instances), **env) as (proxies, procs):
            prom = await asyncio.to_thread(PrometheusProcess([f"127.0.0.1:{p.port}" for p in procs]).start)
            alert_seen: list[tuple[float, bool]] = []

            async def fault(history: History, until: float) -> dict[str, Any]:
                await asyncio.sleep((until - time.monotonic() - CUT_S) / 2)
                n = random.randrange(len(proxies))
                proxies[n].cut()
                history.fault(f"partition {procs[n].name}")
                watcher = asyncio.create_task(
                    watch_alert(prom, ALERT, time.monotonic() + CUT_S + ALERT_CLEARS_S + 1, alert_seen)
                )
                await asyncio.sleep(CUT_S)
                proxies[n].heal()
                history.heal()
                # back in service: /ready 200 again
                ready_after = None
                for _ in range(100):
                    status, _ = await get_json(procs[n].url + "/ready")
                    if status == 200:
                        ready_after = time.monotonic() - history.healed[-1]
                        break
                    await asyncio.sleep(0.1)
                await watcher
                healed = history.healed[-1]
                fired = [t for t, on in alert_seen if on and history.faults[-1][0] <= t <= healed + 1]
                cleared = [t for t, on in alert_seen if t > healed and not on]
                return {
                    "closes_1012": history.closes[1012],
                    "ready_again": "never" if ready_after is None else f"{ready_after:.1f}s",
                    "alert_fired_after": f"{fired[0] - history.faults[-1][0]:.1f}s" if fired else "never",
                    "alert_cleared_after": f"{cleared[0] - healed:.1f}s" if cleared else "never",
                    "_cleared_s": cleared[0] - healed if cleared else None,
                }

            try:
                verdict = await play_through(NAME, opts, redis.url, lambda: [p.ws_url for p in procs], fault)
            finally:
                await asyncio.to_thread(prom.stop)
            cleared_s = verdict.extra.pop("_cleared_s", None)
            if verdict.extra.get("alert_fired_after") == "never":
                verdict.problems.append(f"{ALERT} never fired during the cut")
            if cleared_s is None or cleared_s > ALERT_CLEARS_S:
                verdict.problems.append(f"{ALERT} did not clear within {ALERT_CLEARS_S:.0f} s of the link coming back")
            if verdict.extra.get("closes_1012", 0) == 0:
                verdict.problems.append("the cut-off instance closed no socket with 1012")
            if verdict.extra.get("ready_again") == "never":
                verdict.problems.append("the cut-off instance did not become ready after the link was back")
            return verdict
