"""What every scenario shares: its options, its processes, and the run that plays the games
while the fault is injected and ends with the checker's verdict."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from chaos.checker import History, Verdict, check
from chaos.proxy import FaultProxy
from chaos.workload import Workload
from stack import local
from stack.instance import ServiceProcess
from stack.presets import UNLIMITED_ENV
from stack.redis_server import RedisProcess

AOF_ALWAYS = ("--appendonly", "yes", "--appendfsync", "always")


@dataclass(frozen=True)
class Options:
    seconds: float = 30.0
    #: games whose players pass the turn, and games whose clocks run out during the fault
    games: int = 6
    clock_games: int = 2
    players: int = 4
    #: turn passes per second per load game
    rate: float = 2.0
    instances: int = 3

    @classmethod
    def short(cls) -> Options:
        """The bounded form CI runs: one fault or two, a few games."""
        return cls(seconds=6.0, games=3, clock_games=1, players=3, rate=3.0, instances=2)

    def check(self) -> None:
        if not (2 <= self.seconds <= 600 and 1 <= self.games <= 200 and 0 <= self.clock_games <= 50):
            raise ValueError("bounds: seconds 2-600, games 1-200, clock games 0-50")
        if not (2 <= self.players <= 8 and 0.1 <= self.rate <= 20 and 1 <= self.instances <= 8):
            raise ValueError("bounds: players 2-8, rate 0.1-20 per second, instances 1-8")

    @property
    def clock_ms(self) -> int:
        """A clock game's time: it runs out at about two thirds of the run."""
        return max(3_000, int(self.seconds * 1000 * 2 / 3))


async def rounds(until: float, every: float) -> AsyncIterator[int]:
    """A fault's rounds: one every `every` s while another fits before `until` (monotonic s);
    yields the round's number."""
    n = 0
    while time.monotonic() + every < until:
        await asyncio.sleep(every)
        n += 1
        yield n


#: A fault: injects itself into the running stack while the games play, records each
#: injection (History.fault) and its end (History.heal), stops by `until` (monotonic s), and
#: returns what it measured besides the checker's counts.
Fault = Callable[[History, float], Coroutine[Any, Any, dict[str, Any]]]


@contextlib.asynccontextmanager
async def instances(
    redis_url: str, count: int, first: int = 0, start: bool = True, env: Mapping[str, str] | None = None
) -> AsyncIterator[list[ServiceProcess]]:
    """`count` service instances on `redis_url` (named i<first>, i<first+1>, …), started
    unless `start` is false (the caller adjusts them first), killed on the way out whatever
    happened."""
    work = Path(tempfile.mkdtemp(prefix="chaos-"))
    extra = {"DRAIN_TIMEOUT_S": "2", **(env or {})}
    procs = [ServiceProcess(redis_url, work, f"i{first + n}", **extra) for n in range(count)]
    try:
        if start:
            for p in procs:
                await asyncio.to_thread(p.start)
        yield procs
    finally:
        for p in procs:
            p.kill()


@contextlib.asynccontextmanager
async def behind_proxies(
    redis: RedisProcess, count: int, **env: str
) -> AsyncIterator[tuple[list[FaultProxy], list[ServiceProcess]]]:
    """`count` instances, each reaching Redis through its own FaultProxy."""
    proxies = [await FaultProxy(redis.port).start() for _ in range(count)]
    try:
        procs: list[ServiceProcess] = []
        async with contextlib.AsyncExitStack() as stack:
            for n, proxy in enumerate(proxies):
                procs += await stack.enter_async_context(instances(proxy.url, 1, first=n, env=env))
            yield proxies, procs
    finally:
        for proxy in proxies:
            await proxy.stop()


#: how long the games go on after a fault is over, before the clients stop and the checker
#: reads: longer than a pub/sub resubscription's backoff and a reconnect
SETTLE_S = 3.0

#: HAProxy's health check of the instances in the scenarios' stacks
CHECK_INTERVAL_MS = 200


@contextlib.asynccontextmanager
async def haproxy_stack(count: int, **env: str) -> AsyncIterator[tuple[local.Stack, dict[str, str]]]:
    """A stack.local stack (Redis with AOF, `count` instances, HAProxy in front) on free ports
    in a temporary directory, brought down on the way out; yields it and the environment its
    instances were started with (for restarting one)."""
    directory = Path(tempfile.mkdtemp(prefix="chaos-stack-"))
    i0, *_, front, redis_port, stats = local.free_ports(count + 3, consecutive=count)
    notice = (local.CHECK_FALL + 1) * CHECK_INTERVAL_MS / 1000 + 0.5
    stack = local.Stack(
        dir=directory,
        instances=count,
        port=front,
        instance_port=i0,
        redis_port=redis_port,
        stats_port=stats,
        check_interval_ms=CHECK_INTERVAL_MS,
        drain_notice_s=notice,
    )
    base = {**os.environ, **UNLIMITED_ENV, "DRAIN_TIMEOUT_S": "5", **env}
    try:
        await asyncio.to_thread(local.up, stack, base)
        yield local.Stack.load(directory) or stack, base
    finally:
        await asyncio.to_thread(local.down, stack)


async def play_through(
    name: str,
    opts: Options,
    redis_url: str,
    endpoints: Callable[[], list[str]],
    fault: Fault,
    *,
    allowed_loss: Callable[[History], int] | None = None,
    judge: Callable[[History, Verdict], None] | None = None,
    cluster: bool = False,
    primary_url: Callable[[], str] | None = None,
) -> Verdict:
    """Sets the games up, plays them for `opts.seconds` while `fault` runs, then checks.
    `judge` adds the scenario's own findings to the verdict (problems, extra figures)."""
    history = History()
    workload = Workload(endpoints, history)
    try:
        await workload.setup(opts.games, opts.clock_games, opts.players, opts.clock_ms)
        until = time.monotonic() + opts.seconds
        fault_task = asyncio.create_task(fault(history, until))

        def going() -> bool:
            # the run's length, and past it until the fault is over and SETTLE_S more: what a
            # fault delays (a resubscription, a replay, a reconnect) must reach the clients
            # before they stop
            now = time.monotonic()
            if now < until or not fault_task.done():
                return True
            return bool(history.healed) and now < history.healed[-1] + SETTLE_S

        await workload.run_while(going, opts.rate)
        extra = await fault_task
    finally:
        await workload.close()
    if primary_url is not None:
        # a failover moved the primary: read what the surviving timeline holds
        redis_url = await asyncio.to_thread(primary_url)
    redis: Redis | RedisCluster = (
        RedisCluster.from_url(redis_url, decode_responses=True)
        if cluster
        else Redis.from_url(redis_url, decode_responses=True)
    )
    try:
        verdict = await check(
            redis,
            history,
            name,
            allowed_loss=allowed_loss(history) if allowed_loss else 0,
            steady_clients=workload.steady(),
        )
    finally:
        await redis.aclose()
    verdict.extra = {"reconnects": workload.reconnects, **extra}
    if judge is not None:
        judge(history, verdict)
    return verdict
