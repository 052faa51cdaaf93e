"""Probe: latency of one action through the whole stack, on a quiet machine.

Starts its own Redis and two instances on loopback, seats two players of one game on
different instances, and has the active player pass the turn N times, one action at a time.
Prints percentiles of the acknowledgement (the sender's `state` reply) and of the fan-out
(the other player's `state` of the same version, via the other instance and pub/sub).

This is a probe of the per-action path, not the load benchmark.
Run: `python -m bench.action_latency --actions 500`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from stack.client import Client
from stack.instance import ServiceProcess
from stack.presets import out_of_reach_env
from stack.redis_server import RedisProcess


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def probe(actions: int, a_url: str, b_url: str) -> tuple[list[float], list[float]]:
    a, b = await Client.connect(a_url), await Client.connect(b_url)
    try:
        await a.request("create", {"settings": {"playerCount": 2, "initialTime": 3_600_000}})
        gid = (await a.next("created"))["data"]["gameId"]
        await a.request("claim", {"playerId": 1})
        await b.request("join", {"gameId": gid})
        await b.request("claim", {"playerId": 2})
        active = (await a.request("start"))["data"]["activePlayer"]
        acks: list[float] = []
        fanout: list[float] = []
        players = {1: a, 2: b}
        for _ in range(actions):
            sender, other = players[active], players[3 - active]
            t0 = time.perf_counter()
            reply = await sender.request("passTurn")
            acks.append((time.perf_counter() - t0) * 1000)
            await other.state_at_least(reply["data"]["version"])
            fanout.append((time.perf_counter() - t0) * 1000)
            active = reply["data"]["activePlayer"]
        return acks, fanout
    finally:
        await a.close()
        await b.close()


async def main(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="latency-"))
    redis = RedisProcess().start()
    # --with-limits keeps every limit on but out of reach (as the load benchmark does): the
    # figures then include each check as a production instance pays it. One game of two
    # players; the worst case counts every action in one second
    limits = out_of_reach_env(1, 2, args.actions) if args.with_limits else {}
    instances = [ServiceProcess(redis.url, work, f"lat{i}", TAPOTARP_TEST_CLOCK="0", **limits) for i in range(2)]
    try:
        for inst in instances:
            await asyncio.to_thread(inst.start)
        acks, fanout = await probe(args.actions, instances[0].ws_url, instances[1].ws_url)
    finally:
        for inst in instances:
            inst.kill()
        redis.close()
    for name, values in (("ack", acks), ("fan-out", fanout)):
        print(
            f"{name:8s} n={len(values)} mean={statistics.fmean(values):.2f} ms p50={pct(values, 0.5):.2f} "
            f"p95={pct(values, 0.95):.2f} p99={pct(values, 0.99):.2f} max={max(values):.2f}"
        )
    return 0


def cli() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--actions", type=int, default=500)
    ap.add_argument("--with-limits", action="store_true", help="keep rate limits on (set out of reach)")
    args = ap.parse_args()
    if not 1 <= args.actions <= 100_000:
        ap.error("--actions must be 1..100000")
    sys.exit(asyncio.run(main(args)))


if __name__ == "__main__":
    cli()
