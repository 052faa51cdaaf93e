"""Probe: latency of one action through the whole stack, on a quiet machine.

Starts its own Redis and two instances on loopback, seats two players of one game on
different instances, and has the active player pass the turn N times, one action at a time.
Prints percentiles of the acknowledgement (the sender's `state` reply) and of the fan-out
(the other player's `state` of the same version, via the other instance and pub/sub).

This is a probe of the per-action path, not the load benchmark.
Run: `python -m bench.action_latency --actions 500`. `--replicas 2 --wait-replicas 1` gives
Redis two replicas and has the instances wait for one of them (REDIS_WAIT_REPLICAS) before
each acknowledgement: the cost of the durable acknowledgement.
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
from stack.topologies import command


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
    replicas = [RedisProcess("--replicaof", "127.0.0.1", str(redis.port)).start() for _ in range(args.replicas)]
    await asyncio.to_thread(wait_for_replicas, redis, args.replicas)
    durable = (
        {"REDIS_WAIT_REPLICAS": str(args.wait_replicas), "REDIS_WAIT_TIMEOUT_MS": "1000"} if args.wait_replicas else {}
    )
    # --with-limits keeps every limit on but out of reach (as the load benchmark does): the
    # figures then include each check as a production instance pays it. One game of two
    # players; the worst case counts every action in one second
    limits = out_of_reach_env(1, 2, args.actions) if args.with_limits else {}
    instances = [
        ServiceProcess(redis.url, work, f"lat{i}", TAPOTARP_TEST_CLOCK="0", **limits, **durable) for i in range(2)
    ]
    try:
        for inst in instances:
            await asyncio.to_thread(inst.start)
        acks, fanout = await probe(args.actions, instances[0].ws_url, instances[1].ws_url)
    finally:
        for inst in instances:
            inst.kill()
        for replica in replicas:
            replica.close()
        redis.close()
    print(f"replicas {args.replicas}, acknowledged after {args.wait_replicas} confirmed (REDIS_WAIT_REPLICAS)")
    for name, values in (("ack", acks), ("fan-out", fanout)):
        print(
            f"{name:8s} n={len(values)} mean={statistics.fmean(values):.2f} ms p50={pct(values, 0.5):.2f} "
            f"p95={pct(values, 0.95):.2f} p99={pct(values, 0.99):.2f} max={max(values):.2f}"
        )
    return 0


def wait_for_replicas(primary: RedisProcess, count: int, timeout_s: float = 20.0) -> None:
    """Until `count` replicas are online on `primary`."""
    deadline = time.monotonic() + timeout_s
    while command(primary.port, "INFO", "replication").count("state=online") < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{count} replicas did not come online in {timeout_s:.0f} s")
        time.sleep(0.05)


def cli() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--actions", type=int, default=500)
    ap.add_argument("--with-limits", action="store_true", help="keep rate limits on (set out of reach)")
    ap.add_argument("--replicas", type=int, default=0, help="replicas of the Redis primary (0-4)")
    ap.add_argument("--wait-replicas", type=int, default=0, help="REDIS_WAIT_REPLICAS of the instances")
    args = ap.parse_args()
    if not 1 <= args.actions <= 100_000:
        ap.error("--actions must be 1..100000")
    if not 0 <= args.wait_replicas <= args.replicas <= 4:
        ap.error("need 0 <= --wait-replicas <= --replicas <= 4")
    sys.exit(asyncio.run(main(args)))


if __name__ == "__main__":
    cli()
