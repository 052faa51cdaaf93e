"""What the frame limit per address costs per frame: `python -m bench.limiter`.

Two ways to hold one frame budget per client address across instances, measured on this
machine:

- shared: the EVALSHA of lua/rate_limit.lua per frame (service/limits.py SharedLimiter), against
  a redis-server this script starts on a free loopback port (AOF as `--aof` says: the
  production setting is `always`, which fsyncs each script's write). Once one frame at a time
  (the latency a frame waits) and once `--concurrency` frames at once (the throughput a busy
  instance sees);
- local: this instance's share, checked in process (service/limits.py AddressRates), over a
  table of `--addresses` addresses, and again with the table full and a new address every frame
  (each frame an eviction).

Each line gives microseconds per frame: wall time, CPU of this process, and for the shared
check the CPU redis-server spent. docs/operations.md "The frame limit per address" quotes it.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import tracemalloc
from collections.abc import Callable

from redis.asyncio import Redis

from bench.procinfo import cpu_seconds
from service.limits import AddressRates, Limit, SharedLimiter
from service.scripts import Scripts
from stack.redis_server import RedisProcess

#: out of reach, so every check is a full allowed check (a refusal writes nothing and is cheaper)
BUDGET = 1_000_000
AOF = {
    "no": ("--appendonly", "no"),
    "everysec": ("--appendonly", "yes", "--appendfsync", "everysec"),
    "always": ("--appendonly", "yes", "--appendfsync", "always"),
}


def addresses(n: int) -> list[str]:
    return [f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}" for i in range(n)]


def line(label: str, frames: int, wall_s: float, cpu_s: float, redis_cpu_s: float | None = None) -> str:
    us = 1_000_000 / frames
    out = f"{label}: wall {wall_s * us:.2f} µs/frame, CPU here {cpu_s * us:.2f} µs/frame"
    if redis_cpu_s is not None:
        out += f", redis-server CPU {redis_cpu_s * us:.2f} µs/frame"
    return out + f" ({frames} frames)"


async def shared(aof: str, frames: int, concurrency: int) -> list[str]:
    out = []
    with RedisProcess(*AOF[aof]) as redis:
        client = Redis.from_url(redis.url, decode_responses=True, max_connections=concurrency + 4)
        try:
            limiter = SharedLimiter(Scripts(client)["rate_limit"], 5.0)
            limit = Limit("ip", BUDGET, 1.0)
            ips = addresses(1000)
            for ip in ips[:100]:  # the script loaded, the pool's connections opened
                await limiter.check(ip, limit)

            async def run(workers: int) -> str:
                per = frames // workers

                async def worker(w: int) -> None:
                    for i in range(per):
                        await limiter.check(ips[(w * per + i) % len(ips)], limit)

                r0, c0, t0 = cpu_seconds(redis.pid), time.process_time(), time.perf_counter()
                await asyncio.gather(*(worker(w) for w in range(workers)))
                wall, cpu, rcpu = time.perf_counter() - t0, time.process_time() - c0, cpu_seconds(redis.pid) - r0
                label = f"shared EVALSHA, AOF {aof}, " + ("1 at a time" if workers == 1 else f"{workers} at once")
                return line(label, per * workers, wall, cpu, rcpu)

            out.append(await run(1))
            out.append(await run(concurrency))
            assert limiter.errors == 0, "Redis failed during the measurement"
        finally:
            await client.aclose()
    return out


def local(frames: int, table: int) -> list[str]:
    out = []
    live = 2

    def instances() -> int:
        return live

    def timed(label: str, rates: AddressRates, ips: list[str], check: Callable[[str], bool]) -> str:
        n = len(ips)
        c0, t0 = time.process_time(), time.perf_counter()
        for i in range(frames):
            check(ips[i % n])
        return line(label, frames, time.perf_counter() - t0, time.process_time() - c0)

    rates = AddressRates(BUDGET, 1.0, table, instances)
    ips = addresses(table)
    for ip in ips:
        rates.allow(ip)
    out.append(timed(f"local AddressRates, {table} addresses", rates, ips, rates.allow))
    # a new address every frame: the table is full, so each frame evicts the oldest
    churn = AddressRates(BUDGET, 1.0, table, instances)
    fresh = addresses(2 * table)
    for ip in fresh[:table]:
        churn.allow(ip)
    out.append(timed("local AddressRates, table full, a new address a frame", churn, fresh[table:], churn.allow))
    assert churn.evictions >= min(frames, table)

    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    sized = AddressRates(BUDGET, 1.0, table, instances)
    for ip in addresses(table):
        sized.allow(ip)
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    out.append(f"local AddressRates table: {grown / table:.0f} bytes per address ({table} addresses, keys included)")
    return out


async def measure(frames: int, concurrency: int, table: int, aofs: list[str]) -> list[str]:
    out = []
    for aof in aofs:
        out.extend(await shared(aof, frames, concurrency))
    out.extend(local(frames * 20, table))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--frames", type=int, default=20_000, help="shared checks per line (local: 20 times as many)")
    ap.add_argument("--concurrency", type=int, default=64, help="shared checks at once in the second line")
    ap.add_argument("--addresses", type=int, default=100_000, help="local table size (RATE_LIMIT_ADDRESS_TABLE_SIZE)")
    ap.add_argument("--aof", default="always", help="comma list of Redis AOF modes: no, everysec, always")
    ap.add_argument("--quick", action="store_true", help="a few hundred frames, for the test of this script")
    args = ap.parse_args(argv)
    aofs = [a.strip() for a in args.aof.split(",") if a.strip()]
    for a in aofs:
        if a not in AOF:
            ap.error(f"--aof {a!r}: choose from {', '.join(AOF)}")
    if args.quick:
        args.frames, args.concurrency, args.addresses = 400, 8, 1000
    for text in asyncio.run(measure(args.frames, args.concurrency, args.addresses, aofs)):
        print(text)


if __name__ == "__main__":
    main()
