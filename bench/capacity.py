"""Capacity model: per-unit costs measured on this machine, and the sizing they give at scale.

Measures, each in the production configuration (per-address limits on but out of reach,
stack.presets.out_of_reach_env; Redis AOF as stated):

- Redis: game scripts per second on one redis-server with AOF `always` and `everysec`, and
  Redis CPU µs per script (from /proc). The script is the pass-turn `switch`, run through
  service.game.GameStore on the production client (service.redis_client.connect: the
  256-connection pool), from as many concurrent tasks as the pool has connections, each on
  its own games. Then the same with pub/sub connections subscribed to every game's channel
  (the Redis CPU of one delivery), and the Redis CPU of a deadline poll
  (DeadlineLoop.due_partitions: the pipelined peek at the 64 partitions every instance sends
  every DEADLINE_POLL_MS) and of a pipeline of one peek (what a Cluster shard gets per poll).
- One instance (stack.instance.ServiceProcess) with G games x 4 players over WebSockets,
  driven by bench.load: confirmed actions and frames per second per instance core-second.
- Memory: the instance's RSS growth per connected socket (its players seated, the games
  started), and the Redis bytes per game (MEMORY USAGE over the keyspace) created, and after 10
  actions each;
  `MEMORY USAGE` of a game whose log is full (more than LOG_CAP actions); the instance's CPU
  at rest (no socket: its deadline polls, heartbeats and housekeeping).

Then prints a sizing table for 10k, 100k and 1M concurrent games (`size`, a pure function of
the unit costs), and with --check runs 1,000 games on 2 instances and sets the model's
prediction beside what was measured.

Run: `python -m bench.capacity` (about a minute), `--quick` (about 20 s), `--check` (adds
about a minute), `--json PATH`.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import os
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import redis

from bench import game_bytes, load
from bench.procinfo import cpu_seconds, memory_kb
from service import keys
from service.clock import GameClock
from service.deadlines import DeadlineLoop
from service.game import GameStore, new_action_id
from service.protocol import GameSettings
from service.redis_client import connect
from service.scripts import Scripts
from service.settings import Settings
from stack.instance import ServiceProcess
from stack.presets import out_of_reach_env
from stack.redis_server import RedisProcess

#: the production pool of one instance (service/redis_client.py): every Redis client it makes
#: holds at most this many connections, per node in a Cluster
POOL_CONNECTIONS = 256
#: redis-server's default `maxclients`
REDIS_MAXCLIENTS = 10_000
#: an action is one script (the per-frame limits are local: docs/configuration.md)
SCRIPTS_PER_ACTION = 1
#: the game slots of a Cluster: game ids are only issued in the deadline partitions' slots
#: (service/keys.py), so no more than this many shards can hold games
GAME_SLOTS = keys.PARTITIONS
#: every id this service issues: the 6-character ids whose slot is one of GAME_SLOTS
GAME_IDS = len(keys.ALPHABET) ** keys.ID_LENGTH * GAME_SLOTS // 16384
#: lua/lib/commit.lua LOG_CAP: a game's log (and its action-id hash) stops growing there
LOG_CAP = 256
SIZES = (10_000, 100_000, 1_000_000)


# -- measured figures -------------------------------------------------------------------------


@dataclass
class ScriptFigures:
    aof: str
    #: pub/sub connections on every game's channel while the scripts ran
    subscribers: int
    tasks: int
    seconds: float
    scripts: int
    scripts_per_s: float
    redis_cpu_percent: float
    client_cpu_percent: float
    cpu_us_per_script: float
    #: messages Redis sent to the subscribers
    deliveries: int


@dataclass
class PeekFigures:
    polls: int
    polls_per_s: float
    #: one deadline poll: a pipeline of the 64 partition peeks (DeadlineLoop.due_partitions)
    cpu_us_per_poll: float
    #: a pipeline of one peek: what a Cluster shard holding one partition gets per poll
    cpu_us_per_single: float


@dataclass
class CoreFigures:
    games: int
    sockets: int
    client_ticks: str
    window_s: float
    actions: int
    #: frames the sockets received in the window (states and ticks)
    frames_out: int
    instance_cpu_s: float
    redis_cpu_s: float
    redis_scripts: int
    errors: int
    actions_per_core_s: float
    frames_per_core_s: float
    instance_cpu_ms_per_action: float


@dataclass
class MemoryFigures:
    games: int
    sockets: int
    rss_before_mb: float
    rss_after_mb: float
    bytes_per_socket: float
    redis_bytes_per_game: float
    redis_bytes_per_game_10_actions: float
    redis_bytes_per_action: float
    #: MEMORY USAGE of a game's own keys once its log is full
    redis_bytes_per_game_full_log: float
    #: the instance with no socket, in % of a core, and Redis meanwhile (its own upkeep and
    #: that instance's deadline polls)
    idle_cpu_percent: float
    redis_idle_cpu_percent: float


@dataclass
class Figures:
    #: by AOF mode, without subscribers
    scripts: dict[str, ScriptFigures]
    #: AOF always, with subscribers on every game's channel
    fanout: ScriptFigures
    peek: PeekFigures
    core: CoreFigures
    memory: MemoryFigures


# -- the model (pure) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """The per-unit costs a sizing rests on."""

    #: Redis CPU µs per game script (AOF always), nobody subscribed, Redis saturated: a busy
    #: shard runs many scripts per event-loop turn and pays one fsync for them all
    script_us: float
    #: the same at light load (the one-instance run, less Redis at rest): a script often has
    #: its turn, its fsync and its reply's write to itself; one delivery included
    script_us_light: float
    #: Redis at rest with one instance connected, in cores
    redis_base_cores: float
    #: Redis CPU µs per pub/sub message delivered to a subscribed instance
    delivery_us: float
    #: Redis CPU µs of one deadline-poll pipeline, besides its peeks, and per peek
    pipeline_us: float
    peek_us: float
    #: actions per instance core-second above what the instance takes at rest
    actions_per_core_s: float
    #: an instance at rest (no socket), in cores
    instance_idle_cores: float
    bytes_per_socket: float
    #: Redis bytes per game after 10 actions, and once its log is full
    redis_bytes_per_game: float
    redis_bytes_per_game_full_log: float
    #: an instance's RSS before any socket
    instance_base_mb: float

    @classmethod
    def of(cls, f: Figures) -> Unit:
        plain = f.scripts["always"]
        per_script = f.fanout.deliveries / f.fanout.scripts if f.fanout.scripts else 0.0
        extra = f.fanout.cpu_us_per_script - plain.cpu_us_per_script
        peek = max(0.0, (f.peek.cpu_us_per_poll - f.peek.cpu_us_per_single) / (GAME_SLOTS - 1))
        idle = f.memory.idle_cpu_percent / 100
        # the instance's CPU in the load run less what it takes at rest: what the actions cost
        busy = f.core.instance_cpu_s - idle * f.core.window_s
        base = f.memory.redis_idle_cpu_percent / 100
        light = (f.core.redis_cpu_s - base * f.core.window_s) / f.core.redis_scripts if f.core.redis_scripts else 0.0
        return cls(
            script_us=plain.cpu_us_per_script,
            script_us_light=round(max(0.0, 1e6 * light), 1),
            redis_base_cores=base,
            delivery_us=round(max(0.0, extra / per_script), 2) if per_script else 0.0,
            pipeline_us=round(max(0.0, f.peek.cpu_us_per_single - peek), 2),
            peek_us=round(peek, 3),
            actions_per_core_s=round(f.core.actions / busy, 1) if busy > 0 else f.core.actions_per_core_s,
            instance_idle_cores=idle,
            bytes_per_socket=f.memory.bytes_per_socket,
            redis_bytes_per_game=f.memory.redis_bytes_per_game_10_actions,
            redis_bytes_per_game_full_log=f.memory.redis_bytes_per_game_full_log,
            instance_base_mb=f.memory.rss_before_mb,
        )

    @property
    def poll_us(self) -> float:
        """One instance's poll of all 64 partitions on one Redis."""
        return self.pipeline_us + GAME_SLOTS * self.peek_us


@dataclass(frozen=True)
class Assumptions:
    players: int = 4
    actions_per_s: float = 0.5
    #: the share of a core (instance or Redis shard) the sizing plans to use: the rest is
    #: headroom for bursts, fsync stalls, a failed-over neighbour's load, GC
    utilization: float = 0.5
    #: copies of every game in Redis: a primary and one replica
    replication: int = 2
    #: how often every instance polls the deadline partitions (the setting's default)
    poll_ms: int = Settings().deadline_poll_ms
    #: instances never go below two, so that one can fail
    min_instances: int = 2
    #: False: every script at the light-load cost, as when each has Redis's event-loop turn,
    #: its fsync and its reply's write to itself (the check's load: 500 scripts/s on one
    #: Redis); True: at the saturated cost, many scripts batched per turn and per fsync
    batched: bool = False


@dataclass
class Size:
    games: int
    sockets: int
    actions_per_s: float
    instances: int
    sockets_per_instance: int
    #: Redis Cluster primaries; None: more than GAME_SLOTS would be needed
    shards: int | None
    #: the same if scripts cost what they cost on a saturated Redis (Assumptions.batched)
    shards_batched: int | None
    #: game slots on the busiest shard (of GAME_SLOTS): its share of the games
    slots_per_shard: int
    scripts_per_s_shard: float
    #: instances a game's sockets are on (players spread at random): deliveries per publish
    instances_per_game: float
    deliveries_per_s_shard: float
    #: deadline-poll pipelines the busiest shard answers per second (one per instance per poll)
    polls_per_s_shard: float
    #: the busiest shard's CPU, and the parts of it its deliveries and the polls take
    shard_cpu_percent: float
    delivery_cpu_percent: float
    poll_cpu_percent: float
    pubsub_in_per_s_instance: float
    redis_connections_shard_max: int
    fds_per_instance_max: int
    redis_memory_gb: float
    redis_memory_gb_at_log_cap: float
    instance_memory_gb: float
    game_id_use_percent: float
    bottlenecks: list[str] = field(default_factory=list)


def busiest_slots(shards: int) -> int:
    """Game slots on the busiest of `shards` shards, the slots spread as evenly as they go."""
    return math.ceil(GAME_SLOTS / shards)


def spread(instances: int, players: int) -> float:
    """Expected number of distinct instances `players` sockets land on, each placed on one of
    `instances` at random (a balancer without game affinity)."""
    return instances * (1 - (1 - 1 / instances) ** players)


@dataclass(frozen=True)
class ShardLoad:
    """One shard's Redis CPU µs per second, by what it is spent on."""

    scripts_us: float
    deliveries_us: float
    polls_us: float

    @property
    def total_us(self) -> float:
        return self.scripts_us + self.deliveries_us + self.polls_us


def shard_load(actions: float, instances: int, shards: int, u: Unit, a: Assumptions) -> ShardLoad:
    """The busiest of `shards` shards: its share of the scripts and their deliveries, and one
    poll pipeline from every instance per DEADLINE_POLL_MS with the peeks of its partitions."""
    share = busiest_slots(shards) / GAME_SLOTS
    scripts = actions * share * SCRIPTS_PER_ACTION
    polls = instances * 1000 / a.poll_ms
    # the light-load cost has one delivery in it: counted with the others
    script_us = u.script_us if a.batched else max(0.0, u.script_us_light - u.delivery_us)
    return ShardLoad(
        scripts_us=scripts * script_us,
        deliveries_us=scripts * spread(instances, a.players) * u.delivery_us,
        polls_us=polls * (u.pipeline_us + busiest_slots(shards) * u.peek_us),
    )


def size(games: int, u: Unit, a: Assumptions = Assumptions()) -> Size:
    """What `games` concurrent games need, from the unit costs, planning each core at
    `a.utilization`."""
    sockets = games * a.players
    actions = games * a.actions_per_s
    if u.instance_idle_cores >= a.utilization:
        raise ValueError(f"an instance at rest already takes {u.instance_idle_cores:.2f} cores")
    instances = max(
        a.min_instances, math.ceil(actions / (u.actions_per_core_s * (a.utilization - u.instance_idle_cores)))
    )
    budget_us = a.utilization * 1_000_000

    def shards_for(a: Assumptions) -> int | None:
        fits = (n for n in range(1, GAME_SLOTS + 1) if shard_load(actions, instances, n, u, a).total_us <= budget_us)
        return next(fits, None)

    shards = shards_for(a)
    n = shards if shards is not None else GAME_SLOTS
    load_ = shard_load(actions, instances, n, u, a)
    share = busiest_slots(n) / GAME_SLOTS
    per_game = spread(instances, a.players)
    result = Size(
        games=games,
        sockets=sockets,
        actions_per_s=actions,
        instances=instances,
        sockets_per_instance=math.ceil(sockets / instances),
        shards=shards,
        shards_batched=shards_for(dataclasses.replace(a, batched=True)),
        slots_per_shard=busiest_slots(n),
        scripts_per_s_shard=actions * share * SCRIPTS_PER_ACTION,
        instances_per_game=per_game,
        deliveries_per_s_shard=actions * share * SCRIPTS_PER_ACTION * per_game,
        polls_per_s_shard=instances * 1000 / a.poll_ms,
        shard_cpu_percent=load_.total_us / 1e4,
        delivery_cpu_percent=load_.deliveries_us / 1e4,
        poll_cpu_percent=load_.polls_us / 1e4,
        pubsub_in_per_s_instance=actions * per_game / instances,
        redis_connections_shard_max=instances * (POOL_CONNECTIONS + 1),
        fds_per_instance_max=math.ceil(sockets / instances) + n * (POOL_CONNECTIONS + 1),
        redis_memory_gb=games * u.redis_bytes_per_game * a.replication / 1e9,
        redis_memory_gb_at_log_cap=games * u.redis_bytes_per_game_full_log * a.replication / 1e9,
        instance_memory_gb=(sockets * u.bytes_per_socket + instances * u.instance_base_mb * 1e6) / 1e9,
        game_id_use_percent=100 * games / GAME_IDS,
    )
    result.bottlenecks = bottlenecks(result)
    return result


#: a part of a shard's CPU above this share of the whole is named as a bottleneck
PART_SHARE = 0.25
#: the usual default hard limit of open files a process may raise itself to
FD_LIMIT = 65_536


def bottlenecks(s: Size) -> list[str]:
    """What limits this size next, in the order the checks run."""
    out: list[str] = []
    if s.shards is None:
        out.append(
            f"game slots: even one game slot per shard ({GAME_SLOTS} shards) leaves the busiest at "
            f"{s.shard_cpu_percent:.0f}% CPU; more shards need more deadline partitions (keys.PARTITIONS)"
        )
    elif s.shards * 2 >= GAME_SLOTS:
        out.append(f"game slots: {s.shards} shards of the {GAME_SLOTS} that can hold games")
    if s.poll_cpu_percent > PART_SHARE * s.shard_cpu_percent:
        out.append(
            f"deadline polls: {s.polls_per_s_shard:,.0f} pipelines/s into every shard "
            f"({s.poll_cpu_percent:.0f}% of the busiest one's CPU); they grow with the instances, "
            "not with the games, and more shards do not spread them"
        )
    if s.delivery_cpu_percent > PART_SHARE * s.shard_cpu_percent:
        out.append(
            f"pub/sub fan-out: {s.deliveries_per_s_shard:,.0f} deliveries/s from the busiest shard "
            f"({s.instances_per_game:.2f} per publish, players spread over instances; "
            f"{s.delivery_cpu_percent:.0f}% of its CPU); routing a game's players to one instance makes it 1"
        )
    if s.redis_connections_shard_max > REDIS_MAXCLIENTS:
        out.append(
            f"connections: {s.instances:,} instances x {POOL_CONNECTIONS + 1} may open "
            f"{s.redis_connections_shard_max:,} to one shard (maxclients {REDIS_MAXCLIENTS:,})"
        )
    if s.fds_per_instance_max > FD_LIMIT:
        out.append(f"file descriptors: up to {s.fds_per_instance_max:,} per instance (limit often {FD_LIMIT:,})")
    if s.game_id_use_percent > 5:
        out.append(
            f"game ids: {s.game_id_use_percent:.0f}% of the {GAME_IDS:,} issuable ids in use; "
            "creates collide and retry more often"
        )
    if not out:
        out.append(f"none close: the busiest Redis shard at {s.shard_cpu_percent:.0f}% CPU")
    return out


def sizing_table(sizes: list[Size], a: Assumptions) -> str:
    def row(name: str, cells: list[str]) -> str:
        return f"  {name:<40}" + "".join(f"{c:>16}" for c in cells)

    def n(x: float) -> str:
        return f"{x:,.0f}"

    lines = [
        f"sizing ({a.players} players, {a.actions_per_s:g} actions/s per game; cores planned at "
        f"{100 * a.utilization:.0f}% (headroom x{1 / a.utilization:g}); Redis replication x{a.replication}; "
        f"deadline poll {a.poll_ms} ms; scripts at the {'saturated' if a.batched else 'light-load'} cost)",
        row("concurrent games", [n(s.games) for s in sizes]),
        row("sockets", [n(s.sockets) for s in sizes]),
        row("actions/s", [n(s.actions_per_s) for s in sizes]),
        row("instances (1 core each)", [n(s.instances) for s in sizes]),
        row("sockets per instance", [n(s.sockets_per_instance) for s in sizes]),
        row("Redis Cluster shards (primaries)", [str(s.shards) if s.shards else f">{GAME_SLOTS}" for s in sizes]),
        row(
            "  if scripts batch (saturated cost)",
            [str(s.shards_batched) if s.shards_batched else f">{GAME_SLOTS}" for s in sizes],
        ),
        row("game slots on the busiest shard", [str(s.slots_per_shard) for s in sizes]),
        row("busiest shard: scripts/s (= publishes)", [n(s.scripts_per_s_shard) for s in sizes]),
        row("instances per game (players spread)", [f"{s.instances_per_game:.2f}" for s in sizes]),
        row("busiest shard: pub/sub deliveries/s", [n(s.deliveries_per_s_shard) for s in sizes]),
        row("every shard: deadline poll pipelines/s", [n(s.polls_per_s_shard) for s in sizes]),
        row("busiest shard: CPU %", [f"{s.shard_cpu_percent:.0f}" for s in sizes]),
        row(
            "  of which deliveries / polls %",
            [f"{s.delivery_cpu_percent:.0f} / {s.poll_cpu_percent:.0f}" for s in sizes],
        ),
        row("pub/sub messages/s into an instance", [n(s.pubsub_in_per_s_instance) for s in sizes]),
        row("Redis connections per shard (max)", [n(s.redis_connections_shard_max) for s in sizes]),
        row("fds per instance (max)", [n(s.fds_per_instance_max) for s in sizes]),
        row("Redis memory GB (10 actions/game)", [f"{s.redis_memory_gb:.2f}" for s in sizes]),
        row("Redis memory GB (logs full)", [f"{s.redis_memory_gb_at_log_cap:.1f}" for s in sizes]),
        row("instance memory GB (all instances)", [f"{s.instance_memory_gb:.1f}" for s in sizes]),
        row("issuable game ids in use %", [f"{s.game_id_use_percent:.2f}" for s in sizes]),
        "next bottleneck:",
    ]
    for s in sizes:
        lines.append(f"  {s.games:,} games:")
        lines += [f"    - {b}" for b in s.bottlenecks]
    return "\n".join(lines)


# -- measurements -------------------------------------------------------------------------------


def command_calls(port: int, *names: str) -> int:
    """Calls of the named commands the server has run, those of scripts included (INFO
    commandstats)."""
    with redis.Redis(port=port, decode_responses=True) as c:
        stats = c.info("commandstats")
    return sum(int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in names)


def script_calls(port: int) -> int:
    return command_calls(port, "eval", "evalsha")


def data_bytes(port: int) -> int:
    """The games' data: `MEMORY USAGE` (exact: SAMPLES 0) summed over every key but the
    rate-limit and liveness ones, whose entries come and go with time rather than with games.
    Unlike INFO's `used_memory_dataset` it does not move with the allocator and the server's
    buffers, which a handful of games would be lost in (a 4-game run read it 13 kB lower after
    the games were set up than before)."""
    with redis.Redis(port=port, decode_responses=True) as c:
        names = [k for k in c.scan_iter(count=1000) if not k.startswith(f"{keys.PREFIX}:rl:") and k != keys.instances()]
        total = 0
        for i in range(0, len(names), 1000):
            pipe = c.pipeline(transaction=False)
            for k in names[i : i + 1000]:
                pipe.memory_usage(k, samples=0)
            total += sum(int(n or 0) for n in pipe.execute())
        return total


def own_bytes(port: int, game_id: str) -> int:
    """MEMORY USAGE (exact: SAMPLES 0) of a game's own keys: state, log, action ids, undo."""
    own = (keys.game(game_id), keys.log(game_id), keys.actions(game_id), keys.undo(game_id))
    with redis.Redis(port=port, decode_responses=True) as c:
        return sum(int(c.memory_usage(k, samples=0) or 0) for k in own)


def production_store(redis_url: str) -> tuple[Any, GameStore]:
    """The client (service.redis_client.connect: the 256-connection pool) and store an
    instance makes."""
    settings = Settings.from_env({"REDIS_URL": redis_url})
    backend = connect(settings)
    store = GameStore(
        backend.client,
        Scripts(backend.client),
        GameClock(),
        retention_s=settings.game_retention_s,
        idle_retention_s=settings.idle_game_retention_s,
        token_ttl_s=settings.token_ttl_s,
        action_timeout_s=settings.action_timeout_ms / 1000,
    )
    return backend.client, store


@dataclass
class Timed:
    count: int
    seconds: float
    redis_cpu_s: float
    client_cpu_s: float


async def timed(pid: int, seconds: float, tasks: int, step: Callable[[int, int], Awaitable[None]]) -> Timed:
    """`step(task, i)` from `tasks` concurrent tasks until `seconds` are up; Redis's (`pid`) and
    this process's CPU over that time."""
    count = 0
    stop_at = time.perf_counter() + seconds

    async def worker(k: int) -> None:
        nonlocal count
        i = 0
        while time.perf_counter() < stop_at:
            await step(k, i)
            i += 1
            count += 1

    cpu0, me0, t0 = cpu_seconds(pid), cpu_seconds(os.getpid()), time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(tasks)))
    elapsed = time.perf_counter() - t0
    return Timed(count, elapsed, cpu_seconds(pid) - cpu0, cpu_seconds(os.getpid()) - me0)


async def subscriber(port: int, channels: list[str], ready: asyncio.Event) -> None:
    """A pub/sub connection on every channel of `channels` that reads and drops what comes,
    as cheaply as it can: Redis pays each delivery, this process as little as possible."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        parts = [f"*{len(channels) + 2}\r\n$9\r\nSUBSCRIBE\r\n"]
        parts += [f"${len(ch)}\r\n{ch}\r\n" for ch in [*channels, "capacity-ready"]]
        writer.write("".join(parts).encode())
        await writer.drain()
        seen = b""
        # the confirmations come in order: the last channel's means every one is subscribed
        while b"capacity-ready" not in seen:
            seen = seen[-64:] + await reader.read(1 << 16)
        ready.set()
        while await reader.read(1 << 16):
            pass
    finally:
        writer.close()


async def measure_redis(
    aof: str, seconds: float, games: int, subscribers: int = 0, peek_s: float = 0.0, tasks: int = POOL_CONNECTIONS
) -> tuple[ScriptFigures, ScriptFigures | None, PeekFigures | None]:
    """On one redis-server with AOF `aof`: pass-turn scripts from `tasks` concurrent tasks, each
    on its own of `games` games, for `seconds`; then, with `subscribers`, the same with that
    many pub/sub connections on every game's channel; then, with `peek_s`, deadline polls."""
    tasks = min(tasks, games)
    server = await asyncio.to_thread(RedisProcess("--appendonly", "yes", "--appendfsync", aof).start)
    client, store = production_store(server.url)
    listeners: list[asyncio.Task[None]] = []
    try:
        settings = GameSettings(player_count=4, initial_time=load.INITIAL_TIME_MS)
        gate = asyncio.Semaphore(64)

        async def new_game() -> str:
            async with gate:
                gid, _, _ = await store.create("host", settings, new_action_id())
                await store.start(gid, "host", new_action_id())
                return gid

        ids = await asyncio.gather(*(new_game() for _ in range(games)))

        async def switch(k: int, i: int) -> None:
            mine = ids[k::tasks]
            await store.switch(mine[i % len(mine)], "host", new_action_id(), "next")

        def figures(t: Timed, subs: int, published: int) -> ScriptFigures:
            return ScriptFigures(
                aof=aof,
                subscribers=subs,
                tasks=tasks,
                seconds=round(t.seconds, 2),
                scripts=t.count,
                scripts_per_s=round(t.count / t.seconds, 1),
                redis_cpu_percent=round(100 * t.redis_cpu_s / t.seconds, 1),
                client_cpu_percent=round(100 * t.client_cpu_s / t.seconds, 1),
                cpu_us_per_script=round(1e6 * t.redis_cpu_s / t.count, 1) if t.count else 0.0,
                deliveries=published * subs,
            )

        before = command_calls(server.port, "publish")
        plain = figures(await timed(server.pid, seconds, tasks, switch), 0, 0)
        fanout: ScriptFigures | None = None
        if subscribers:
            ready = [asyncio.Event() for _ in range(subscribers)]
            channels = [keys.channel(gid) for gid in ids]
            listeners = [asyncio.create_task(subscriber(server.port, channels, r)) for r in ready]
            await asyncio.wait_for(asyncio.gather(*(r.wait() for r in ready)), 30)
            before = command_calls(server.port, "publish")
            t = await timed(server.pid, seconds, tasks, switch)
            fanout = figures(t, subscribers, command_calls(server.port, "publish") - before)
        peek: PeekFigures | None = None
        if peek_s:
            # the sizing is for Cluster shards, where the poll is a pipeline of peeks
            deadlines = DeadlineLoop(store, GameClock(), 0.05, sharded=True)
            partition = keys.deadline_partition(0)

            async def poll(k: int, i: int) -> None:
                await deadlines.due_partitions()

            async def single(k: int, i: int) -> None:
                async with client.pipeline(transaction=False) as pipe:
                    pipe.zrangebyscore(partition, "-inf", 0, start=0, num=1)
                    await pipe.execute()

            polls = await timed(server.pid, peek_s, 16, poll)
            singles = await timed(server.pid, peek_s, 16, single)
            peek = PeekFigures(
                polls=polls.count,
                polls_per_s=round(polls.count / polls.seconds, 1),
                cpu_us_per_poll=round(1e6 * polls.redis_cpu_s / polls.count, 2) if polls.count else 0.0,
                cpu_us_per_single=round(1e6 * singles.redis_cpu_s / singles.count, 2) if singles.count else 0.0,
            )
    finally:
        for task in listeners:
            task.cancel()
        await asyncio.gather(*listeners, return_exceptions=True)
        await client.aclose()
        await asyncio.to_thread(server.close)
    return plain, fanout, peek


def deadline_polls(services: list[ServiceProcess]) -> int:
    """The deadline polls the instances answered so far (their /metrics): on one Redis each
    poll is a script call too, and not an action's."""
    total = 0
    for svc in services:
        with urllib.request.urlopen(svc.url + "/metrics", timeout=5) as page:
            for line in page.read().decode().splitlines():
                if line.startswith("tapotarp_deadline_polls_total "):
                    total += int(float(line.split()[1]))
    return total


class WindowCounts:
    """bench.load's window hook: Redis's count of the actions' scripts and the frames the
    sockets received, within the measurement window (the run's own counts include the
    set-up)."""

    def __init__(self) -> None:
        self.scripts = 0
        self.frames = 0

    def __call__(self, stack: load.Stack, stats: load.Stats, opening: bool) -> None:
        assert stack.redis is not None
        sign = -1 if opening else 1
        self.scripts += sign * (script_calls(stack.redis.port) - deadline_polls(stack.services))
        self.frames += sign * stats.frames


async def run_load(games: int, instances: int, duration: float, ticks: str) -> tuple[load.Result, WindowCounts]:
    counts = WindowCounts()
    config = load.Config(
        games=games, instances=instances, duration=duration, aof="always", ticks=ticks, seed=1, on_window=counts
    )
    return await load.run(config), counts


async def measure_core(games: int, duration: float, ticks: str) -> CoreFigures:
    r, counts = await run_load(games, 1, duration, ticks)
    procs = {p.name: p for p in r.processes}
    cpu = procs["inst0"].cpu_s
    return CoreFigures(
        games=games,
        sockets=r.connections,
        client_ticks=ticks,
        window_s=r.window_s,
        actions=r.acked,
        frames_out=counts.frames,
        instance_cpu_s=cpu,
        redis_cpu_s=procs["redis"].cpu_s,
        redis_scripts=counts.scripts,
        errors=r.errors,
        actions_per_core_s=round(r.acked / cpu, 1) if cpu else 0.0,
        frames_per_core_s=round(counts.frames / cpu, 1) if cpu else 0.0,
        instance_cpu_ms_per_action=round(1000 * cpu / r.acked, 3) if r.acked else 0.0,
    )


async def measure_memory(
    games: int, ticks: str, actions: int = 10, warm: int = 32, idle_s: float = 2.0, full: int = 4
) -> MemoryFigures:
    """One instance: its CPU at rest for `idle_s`; its RSS and the games' Redis bytes
    (data_bytes) before the games, after `games` games are set up (every player's socket open and seated,
    the game started), and after `actions` passes each; then `full` games played past LOG_CAP
    through the scripts (bench.game_bytes.play), their own keys' MEMORY USAGE.

    `warm` games are set up and played first, outside the figures: they load the scripts into
    Redis and open the pool's connections, whose memory is no game's.
    """
    config = load.Config(games=games, instances=1, ticks=ticks)
    server = await asyncio.to_thread(RedisProcess("--appendonly", "yes", "--appendfsync", "always").start)
    log_dir = Path(tempfile.mkdtemp(prefix="capacity-"))
    env = {"TAPOTARP_TEST_CLOCK": "0", **out_of_reach_env(games + warm, config.players, config.rate)}
    svc = ServiceProcess(server.url, log_dir, "inst0", **env)
    stats = load.Stats()
    every = [load.Game(i, stats, config.timeout_s) for i in range(warm + games)]
    gate = asyncio.Semaphore(config.ramp_concurrency)

    async def setup(g: load.Game) -> bool:
        async with gate:
            return await load.setup_game(g, [svc.ws_url], config, stats)

    async def play(g: load.Game) -> None:
        async with gate:
            for k in range(actions):
                sender = g.players[g.seen_active - 1]
                reply = await sender.request("passTurn", f"g{g.index}m{k}")
                if reply[-1]["type"] != "state":
                    raise RuntimeError(f"passTurn failed: {reply[-1]}")

    async def settled() -> tuple[int, int]:
        await asyncio.sleep(1.0)
        return memory_kb(svc.pid)[1], data_bytes(server.port)

    try:
        await asyncio.to_thread(svc.start)
        await asyncio.sleep(0.5)
        idle0, redis_idle0, t0 = cpu_seconds(svc.pid), cpu_seconds(server.pid), time.perf_counter()
        await asyncio.sleep(idle_s)
        rest_s = time.perf_counter() - t0
        idle = (cpu_seconds(svc.pid) - idle0) / rest_s
        redis_idle = (cpu_seconds(server.pid) - redis_idle0) / rest_s
        warm_games, played = every[:warm], every[warm:]
        if not all(await asyncio.gather(*(setup(g) for g in warm_games))):
            raise RuntimeError(f"{stats.setup_failures} games could not be set up")
        await asyncio.gather(*(play(g) for g in warm_games))
        rss0, redis0 = await settled()
        if not all(await asyncio.gather(*(setup(g) for g in played))):
            raise RuntimeError(f"{stats.setup_failures} games could not be set up")
        rss1, redis1 = await settled()
        await asyncio.gather(*(play(g) for g in played))
        redis2 = data_bytes(server.port)
        client, store = production_store(server.url)
        try:
            ids = await asyncio.gather(*(game_bytes.play(store, config.players, LOG_CAP + 44) for _ in range(full)))
        finally:
            await client.aclose()
        full_bytes = sum(own_bytes(server.port, gid) for gid in ids) / full
    finally:
        await asyncio.gather(*(p.close() for g in every for p in g.players), return_exceptions=True)
        await asyncio.to_thread(svc.stop)
        await asyncio.to_thread(server.close)
    sockets = games * config.players
    return MemoryFigures(
        games=games,
        sockets=sockets,
        rss_before_mb=round(rss0 / 1024, 1),
        rss_after_mb=round(rss1 / 1024, 1),
        bytes_per_socket=round((rss1 - rss0) * 1024 / sockets),
        redis_bytes_per_game=round((redis1 - redis0) / games),
        redis_bytes_per_game_10_actions=round((redis2 - redis0) / games),
        redis_bytes_per_action=round((redis2 - redis1) / (games * actions)),
        redis_bytes_per_game_full_log=round(full_bytes),
        idle_cpu_percent=round(100 * idle, 2),
        redis_idle_cpu_percent=round(100 * redis_idle, 2),
    )


# -- the check against a measured point ---------------------------------------------------------


@dataclass
class Check:
    games: int
    instances: int
    window_s: float
    actions: int
    errors: int
    predicted_instance_cpu_ms_per_action: float
    measured_instance_cpu_ms_per_action: float
    predicted_instance_cpu_percent: float
    measured_instance_cpu_percent: float
    predicted_scripts_per_s: float
    measured_scripts_per_s: float
    predicted_redis_cpu_percent: float
    predicted_redis_cpu_percent_saturated_cost: float
    measured_redis_cpu_percent: float


def predict(u: Unit, games: int, instances: int, a: Assumptions = Assumptions()) -> dict[str, float]:
    """The model's figures for one load on one Redis: instance CPU per action and in all, Redis
    scripts/s and Redis CPU, from the light-load script cost (a load like the check's) and,
    as the sizing counts it, from the saturated one."""
    actions = games * a.actions_per_s
    scripts = actions * SCRIPTS_PER_ACTION
    cores = instances * u.instance_idle_cores + actions / u.actions_per_core_s
    # Redis at rest with one instance, the other instances' polls, and each script at the
    # light-load cost (one delivery in it) plus its further deliveries
    polls_us = (instances - 1) * 1000 / a.poll_ms * u.poll_us
    per_script = u.script_us_light + (spread(instances, a.players) - 1) * u.delivery_us
    return {
        "instance_cpu_ms_per_action": 1000 * cores / actions,
        "instance_cpu_percent": 100 * cores,
        "scripts_per_s": scripts,
        "redis_cpu_percent": 100 * u.redis_base_cores + (polls_us + scripts * per_script) / 1e4,
        "redis_cpu_percent_saturated_cost": shard_load(
            actions, instances, 1, u, dataclasses.replace(a, batched=True)
        ).total_us
        / 1e4,
    }


async def check(u: Unit, games: int, instances: int, duration: float, ticks: str) -> Check:
    p = predict(u, games, instances)
    r, counts = await run_load(games, instances, duration, ticks)
    procs = {x.name: x for x in r.processes}
    inst_cpu = sum(x.cpu_s for x in r.processes if x.name.startswith("inst"))
    return Check(
        games=games,
        instances=instances,
        window_s=r.window_s,
        actions=r.acked,
        errors=r.errors,
        predicted_instance_cpu_ms_per_action=round(p["instance_cpu_ms_per_action"], 3),
        measured_instance_cpu_ms_per_action=round(1000 * inst_cpu / r.acked, 3) if r.acked else 0.0,
        predicted_instance_cpu_percent=round(p["instance_cpu_percent"], 1),
        measured_instance_cpu_percent=round(100 * inst_cpu / r.window_s, 1),
        predicted_scripts_per_s=round(p["scripts_per_s"], 1),
        measured_scripts_per_s=round(counts.scripts / r.window_s, 1),
        predicted_redis_cpu_percent=round(p["redis_cpu_percent"], 1),
        predicted_redis_cpu_percent_saturated_cost=round(p["redis_cpu_percent_saturated_cost"], 1),
        measured_redis_cpu_percent=procs["redis"].cpu_percent,
    )


# -- report -------------------------------------------------------------------------------------


def figures_report(f: Figures, u: Unit) -> str:
    lines = ["measured (production configuration: limits on, out of reach):"]
    lines.append(
        f"  {'Redis, pass-turn script':<34} {'tasks':>6} {'scripts/s':>10} {'Redis CPU %':>12} "
        f"{'client CPU %':>13} {'µs/script':>10}"
    )
    for s in (*f.scripts.values(), f.fanout):
        name = f"AOF {s.aof}" + (f", {s.subscribers} subscribers" if s.subscribers else "")
        lines.append(
            f"  {name:<34} {s.tasks:>6} {s.scripts_per_s:>10,.0f} {s.redis_cpu_percent:>12.1f} "
            f"{s.client_cpu_percent:>13.1f} {s.cpu_us_per_script:>10.1f}"
        )
    lines += [
        f"  pub/sub: {f.fanout.deliveries:,} deliveries, {u.delivery_us:.2f} Redis CPU µs each",
        f"  deadline poll (64 peeks, pipelined): {f.peek.polls_per_s:,.0f} polls/s, "
        f"{f.peek.cpu_us_per_poll:.1f} Redis CPU µs per poll, {f.peek.cpu_us_per_single:.1f} for a pipeline of one "
        f"peek (so {u.pipeline_us:.1f} per pipeline + {u.peek_us:.2f} per peek)",
    ]
    c = f.core
    lines += [
        f"  one instance, {c.games} games x 4 players ({c.sockets} sockets, client ticks {c.client_ticks}), "
        f"AOF always, {c.window_s:.1f} s:",
        f"    {c.actions} actions confirmed, {c.frames_out} frames sent, {c.errors} errors, "
        f"instance CPU {c.instance_cpu_s:.2f} s, Redis CPU {c.redis_cpu_s:.2f} s, {c.redis_scripts} scripts",
        f"    per instance core-second: {c.actions_per_core_s:,.0f} actions, {c.frames_per_core_s:,.0f} frames "
        f"({c.instance_cpu_ms_per_action:.3f} CPU ms per action)",
    ]
    m = f.memory
    lines += [
        f"  memory, {m.games} games x 4 players ({m.sockets} sockets) on one instance:",
        f"    instance RSS {m.rss_before_mb:.1f} -> {m.rss_after_mb:.1f} MB: "
        f"{m.bytes_per_socket:,.0f} bytes per socket",
        f"    Redis MEMORY USAGE per game: {m.redis_bytes_per_game:,.0f} bytes set up, "
        f"{m.redis_bytes_per_game_10_actions:,.0f} after 10 actions ({m.redis_bytes_per_action:,.0f} per action); "
        f"{m.redis_bytes_per_game_full_log:,.0f} with its log full (MEMORY USAGE)",
        f"    instance at rest (no socket): {m.idle_cpu_percent:.1f}% of a core (Redis meanwhile "
        f"{m.redis_idle_cpu_percent:.1f}%); so per instance core-second above rest: "
        f"{u.actions_per_core_s:,.0f} actions",
        f"    Redis CPU per script in the one-instance run, less Redis at rest: {u.script_us_light:.0f} µs "
        f"(light load; saturated: {u.script_us:.0f} µs)",
    ]
    return "\n".join(lines)


def check_report(c: Check) -> str:
    def row(name: str, p: float, m: float, fmt: str) -> str:
        ratio = f"{m / p:.2f}" if p else "-"
        return f"  {name:<28} {format(p, fmt):>12} {format(m, fmt):>12} {ratio:>8}"

    return "\n".join(
        [
            f"check: {c.games} games x 4 players on {c.instances} instances, 0.5 actions/s per game, AOF always "
            f"({c.actions} actions in {c.window_s:.1f} s, {c.errors} errors)",
            f"  {'':<28} {'predicted':>12} {'measured':>12} {'ratio':>8}",
            row(
                "instance CPU ms per action",
                c.predicted_instance_cpu_ms_per_action,
                c.measured_instance_cpu_ms_per_action,
                ".3f",
            ),
            row("instance CPU % (all)", c.predicted_instance_cpu_percent, c.measured_instance_cpu_percent, ".1f"),
            row("Redis scripts/s", c.predicted_scripts_per_s, c.measured_scripts_per_s, ".1f"),
            row("Redis CPU %", c.predicted_redis_cpu_percent, c.measured_redis_cpu_percent, ".1f"),
            row(
                "  (at the saturated cost)",
                c.predicted_redis_cpu_percent_saturated_cost,
                c.measured_redis_cpu_percent,
                ".1f",
            ),
        ]
    )


# -- command line -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    script_s: float
    script_games: int
    #: pub/sub connections on every game's channel for the fan-out measurement
    subscribers: int
    peek_s: float
    core_games: int
    core_s: float
    memory_games: int
    memory_warm: int = 32
    idle_s: float = 2.0


QUICK = Plan(script_s=2.0, script_games=512, subscribers=4, peek_s=1.0, core_games=150, core_s=5.0, memory_games=100)
FULL = Plan(
    script_s=6.0,
    script_games=1024,
    subscribers=4,
    peek_s=3.0,
    core_games=800,
    core_s=15.0,
    memory_games=500,
    idle_s=4.0,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="short runs (about 20 s in all)")
    ap.add_argument("--check", action="store_true", help="then run --check-games on 2 instances against the model")
    ap.add_argument("--check-games", type=int, default=1000, help="games of the check run (default 1000)")
    ap.add_argument("--check-duration", type=float, default=30.0, help="seconds of the check run (default 30)")
    ap.add_argument("--core-games", type=int, default=None, help="games on the one instance (default 800, quick 150)")
    ap.add_argument(
        "--ticks", choices=("on", "off"), default="on", help="clients get ticks (on, default) or render clocks (off)"
    )
    ap.add_argument("--utilization", type=float, default=0.5, help="share of each core the sizing plans (0.5)")
    ap.add_argument("--json", type=Path, default=None, help="write every figure to this file")
    args = ap.parse_args(argv)
    if not 0 < args.utilization <= 1:
        ap.error("--utilization must be in (0, 1]")
    if not 1 <= args.check_games <= 20_000:
        ap.error("--check-games must be 1..20000")
    return args


async def measure(plan: Plan, ticks: str) -> Figures:
    print("measuring: scripts/s, AOF always (and with subscribers, and deadline polls)", file=sys.stderr)
    always, fanout, peek = await measure_redis(
        "always", plan.script_s, plan.script_games, subscribers=plan.subscribers, peek_s=plan.peek_s
    )
    print("measuring: scripts/s, AOF everysec", file=sys.stderr)
    everysec, _, _ = await measure_redis("everysec", plan.script_s, plan.script_games)
    assert fanout is not None and peek is not None
    print(f"measuring: one instance, {plan.core_games} games", file=sys.stderr)
    core = await measure_core(plan.core_games, plan.core_s, ticks)
    print(f"measuring: memory, {plan.memory_games} games", file=sys.stderr)
    memory = await measure_memory(plan.memory_games, ticks, warm=plan.memory_warm, idle_s=plan.idle_s)
    return Figures({"always": always, "everysec": everysec}, fanout, peek, core, memory)


async def main(args: argparse.Namespace) -> int:
    plan = QUICK if args.quick else FULL
    if args.core_games is not None:
        plan = Plan(**{**asdict(plan), "core_games": args.core_games})
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load1 = os.getloadavg()[0]
    figures = await measure(plan, args.ticks)
    a = Assumptions(utilization=args.utilization)
    unit = Unit.of(figures)
    sizes = [size(g, unit, a) for g in SIZES]
    print(f"capacity model, {started}, {os.cpu_count()} cores, load average {load1:.2f} at the start")
    print(figures_report(figures, unit))
    print()
    print(sizing_table(sizes, a))
    checked: Check | None = None
    if args.check:
        print(f"checking: {args.check_games} games on 2 instances", file=sys.stderr)
        checked = await check(unit, args.check_games, 2, args.check_duration, args.ticks)
        print()
        print(check_report(checked))
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f} (1 min)")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "command": ["python", "-m", "bench.capacity", *sys.argv[1:]],
            "started": started,
            "figures": asdict(figures),
            "unit": asdict(unit),
            "assumptions": asdict(a),
            "sizes": [asdict(s) for s in sizes],
            "check": asdict(checked) if checked else None,
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    errors = figures.core.errors + (checked.errors if checked else 0)
    return 1 if errors else 0


def cli() -> None:
    args = parse_args()
    load.raise_open_files()
    sys.exit(asyncio.run(main(args)))


if __name__ == "__main__":
    cli()
