"""Capacity model: per-unit costs measured on this machine, and the sizing they give at scale.

Measures, each in the production configuration (per-address limits on but out of reach,
stack.presets.out_of_reach_env; Redis AOF as stated):

- Redis: game scripts per second on one redis-server with AOF `always` and `everysec`, and
  Redis CPU µs per script (from /proc). The script is the pass-turn `switch`, run through
  service.game.GameStore on the production client (service.redis_client.connect: the
  256-connection pool), from as many concurrent tasks as the pool has connections, each on
  its own games. Also the Redis CPU of one deadline peek (DeadlineLoop.due_partitions, the
  pipelined ZRANGEBYSCORE over the 64 partitions every instance sends every DEADLINE_POLL_MS).
- One instance (stack.instance.ServiceProcess) with G games x 4 players over WebSockets,
  driven by bench.load: confirmed actions and frames per second per instance core-second.
- Memory: the instance's RSS growth per connected socket (its players seated, the games
  started), and Redis `used_memory` per game created, and after 10 actions each.

Then prints a sizing table for 10k, 100k and 1M concurrent games (`size`, a pure function of
the figures), and with --check runs 1,000 games on 2 instances and sets the model's
prediction beside what was measured.

Run: `python -m bench.capacity` (about a minute), `--quick` (about 20 s), `--check` (adds
about a minute), `--json PATH`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import redis

from bench import load
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
    tasks: int
    seconds: float
    scripts: int
    scripts_per_s: float
    redis_cpu_percent: float
    client_cpu_percent: float
    cpu_us_per_script: float


@dataclass
class PeekFigures:
    polls: int
    seconds: float
    polls_per_s: float
    cpu_us_per_poll: float


@dataclass
class CoreFigures:
    games: int
    sockets: int
    client_ticks: str
    window_s: float
    actions: int
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


@dataclass
class Figures:
    scripts: dict[str, ScriptFigures]
    peek: PeekFigures
    core: CoreFigures
    memory: MemoryFigures


# -- the model (pure) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """The per-unit costs a sizing rests on."""

    #: Redis CPU µs per game script (AOF always)
    script_us: float
    #: Redis CPU µs per deadline poll (one pipeline of the 64 partition peeks)
    poll_us: float
    actions_per_core_s: float
    bytes_per_socket: float
    #: Redis bytes per game after 10 actions, and per further action up to LOG_CAP
    redis_bytes_per_game: float
    redis_bytes_per_action: float
    #: an instance's RSS before any socket
    instance_base_mb: float

    @classmethod
    def of(cls, f: Figures) -> Unit:
        return cls(
            script_us=f.scripts["always"].cpu_us_per_script,
            poll_us=f.peek.cpu_us_per_poll,
            actions_per_core_s=f.core.actions_per_core_s,
            bytes_per_socket=f.memory.bytes_per_socket,
            redis_bytes_per_game=f.memory.redis_bytes_per_game_10_actions,
            redis_bytes_per_action=f.memory.redis_bytes_per_action,
            instance_base_mb=f.memory.rss_before_mb,
        )


@dataclass(frozen=True)
class Assumptions:
    players: int = 4
    actions_per_s: float = 0.5
    #: the share of a core (instance or Redis shard) the sizing plans to use: the rest is
    #: headroom for bursts, fsync stalls, a failed-over neighbour's load, GC
    utilization: float = 0.5
    #: copies of every game in Redis: a primary and one replica
    replication: int = 2
    #: Settings.deadline_poll_ms default
    poll_ms: int = 50
    #: instances never go below two, so that one can fail
    min_instances: int = 2


@dataclass
class Size:
    games: int
    sockets: int
    actions_per_s: float
    instances: int
    sockets_per_instance: int
    shards: int | None
    #: game slots on the busiest shard (of GAME_SLOTS), its share of the load
    slots_per_shard: int
    scripts_per_s_shard: float
    polls_per_s_shard: float
    shard_cpu_percent: float
    #: what the polls cost the busiest shard, in % of its CPU
    poll_cpu_percent: float
    publishes_per_s_shard: float
    #: instances a game's sockets are on (players spread at random) = deliveries per publish
    instances_per_game: float
    deliveries_per_s_shard: float
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


def size(games: int, u: Unit, a: Assumptions = Assumptions()) -> Size:
    """What `games` concurrent games need, from the unit costs, planning each core at
    `a.utilization`."""
    sockets = games * a.players
    actions = games * a.actions_per_s
    instances = max(a.min_instances, math.ceil(actions / (u.actions_per_core_s * a.utilization)))
    polls_per_s_instance = 1000 / a.poll_ms
    budget_us = a.utilization * 1_000_000

    def shard_cpu_us(shards: int) -> float:
        share = busiest_slots(shards) / GAME_SLOTS
        # every instance sends each shard one pipeline per poll, with that shard's partitions
        # in it; the peek cost scales with the partitions, so the poll cost is split by share
        return actions * share * SCRIPTS_PER_ACTION * u.script_us + instances * polls_per_s_instance * share * u.poll_us

    shards = next((s for s in range(1, GAME_SLOTS + 1) if shard_cpu_us(s) <= budget_us), None)
    s = shards if shards is not None else GAME_SLOTS
    share = busiest_slots(s) / GAME_SLOTS
    per_game = spread(instances, a.players)
    publishes = actions * share
    polls_shard = instances * polls_per_s_instance * share
    result = Size(
        games=games,
        sockets=sockets,
        actions_per_s=actions,
        instances=instances,
        sockets_per_instance=math.ceil(sockets / instances),
        shards=shards,
        slots_per_shard=busiest_slots(s),
        scripts_per_s_shard=actions * share * SCRIPTS_PER_ACTION,
        polls_per_s_shard=polls_shard,
        shard_cpu_percent=100 * shard_cpu_us(s) / 1_000_000,
        poll_cpu_percent=100 * polls_shard * u.poll_us / 1_000_000,
        publishes_per_s_shard=publishes,
        instances_per_game=per_game,
        deliveries_per_s_shard=publishes * per_game,
        pubsub_in_per_s_instance=actions * per_game / instances,
        redis_connections_shard_max=instances * (POOL_CONNECTIONS + 1),
        fds_per_instance_max=math.ceil(sockets / instances) + s * (POOL_CONNECTIONS + 1),
        redis_memory_gb=games * u.redis_bytes_per_game * a.replication / 1e9,
        redis_memory_gb_at_log_cap=games
        * (u.redis_bytes_per_game + (LOG_CAP - 10) * u.redis_bytes_per_action)
        * a.replication
        / 1e9,
        instance_memory_gb=(sockets * u.bytes_per_socket + instances * u.instance_base_mb * 1e6) / 1e9,
        game_id_use_percent=100 * games / GAME_IDS,
    )
    result.bottlenecks = bottlenecks(result, a)
    return result


def bottlenecks(s: Size, a: Assumptions) -> list[str]:
    """What limits this size next, most pressing first."""
    out: list[str] = []
    if s.shards is None:
        out.append(
            f"game slots: even one slot per shard ({GAME_SLOTS} shards) leaves the busiest at "
            f"{s.shard_cpu_percent:.0f}% CPU; more shards need more deadline partitions (keys.PARTITIONS)"
        )
    elif s.shards * 2 > GAME_SLOTS:
        out.append(f"game slots: {s.shards} of the {GAME_SLOTS} shards that can hold games")
    if s.poll_cpu_percent > 0.25 * s.shard_cpu_percent:
        out.append(
            f"deadline polls: {s.polls_per_s_shard:,.0f} pipelines/s on the busiest shard "
            f"({s.poll_cpu_percent:.1f}% of its CPU), growing with the instance count, not the games"
        )
    if s.redis_connections_shard_max > REDIS_MAXCLIENTS:
        out.append(
            f"connections: {s.instances} instances x {POOL_CONNECTIONS + 1} may open "
            f"{s.redis_connections_shard_max:,} to one shard (maxclients {REDIS_MAXCLIENTS:,})"
        )
    if s.deliveries_per_s_shard > 2 * s.scripts_per_s_shard:
        out.append(
            f"pub/sub fan-out: {s.deliveries_per_s_shard:,.0f} deliveries/s per shard, "
            f"{s.instances_per_game:.1f} per publish (players spread over instances); game affinity makes it 1"
        )
    if s.game_id_use_percent > 5:
        out.append(
            f"game ids: {s.game_id_use_percent:.0f}% of the {GAME_IDS:,} issuable ids in use; "
            "creates collide and retry more often"
        )
    if not out:
        out.append(f"none close: Redis shard CPU {s.shard_cpu_percent:.0f}%")
    return out


def sizing_table(sizes: list[Size], a: Assumptions) -> str:
    def row(name: str, cells: list[str]) -> str:
        return f"  {name:<40}" + "".join(f"{c:>16}" for c in cells)

    def n(x: float) -> str:
        return f"{x:,.0f}"

    lines = [
        f"sizing ({a.players} players, {a.actions_per_s:g} actions/s per game; cores planned at "
        f"{100 * a.utilization:.0f}% (headroom x{1 / a.utilization:g}); Redis replication x{a.replication}; "
        f"deadline poll {a.poll_ms} ms)",
        row("concurrent games", [n(s.games) for s in sizes]),
        row("sockets", [n(s.sockets) for s in sizes]),
        row("actions/s", [n(s.actions_per_s) for s in sizes]),
        row("instances (1 core each)", [n(s.instances) for s in sizes]),
        row("sockets per instance", [n(s.sockets_per_instance) for s in sizes]),
        row("Redis Cluster shards (primaries)", [str(s.shards) if s.shards else f">{GAME_SLOTS}" for s in sizes]),
        row("game slots on the busiest shard", [str(s.slots_per_shard) for s in sizes]),
        row("busiest shard: scripts/s", [n(s.scripts_per_s_shard) for s in sizes]),
        row("busiest shard: deadline polls/s", [n(s.polls_per_s_shard) for s in sizes]),
        row("busiest shard: CPU % (polls %)", [f"{s.shard_cpu_percent:.0f} ({s.poll_cpu_percent:.0f})" for s in sizes]),
        row("busiest shard: publishes/s", [n(s.publishes_per_s_shard) for s in sizes]),
        row("instances per game (spread)", [f"{s.instances_per_game:.2f}" for s in sizes]),
        row("busiest shard: pub/sub deliveries/s", [n(s.deliveries_per_s_shard) for s in sizes]),
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


def script_calls(port: int) -> int:
    """EVAL + EVALSHA calls the server has run (INFO commandstats)."""
    with redis.Redis(port=port, decode_responses=True) as c:
        stats = c.info("commandstats")
    return sum(int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ("eval", "evalsha"))


def used_memory(port: int) -> int:
    with redis.Redis(port=port, decode_responses=True) as c:
        return int(c.info("memory")["used_memory"])


def production_store(redis_url: str) -> tuple[Any, GameStore]:
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


async def measure_scripts(aof: str, seconds: float, games: int, tasks: int = POOL_CONNECTIONS) -> ScriptFigures:
    """Pass-turn scripts from `tasks` concurrent tasks, each on its own games, for `seconds`."""
    tasks = min(tasks, games)
    server = await asyncio.to_thread(RedisProcess("--appendonly", "yes", "--appendfsync", aof).start)
    client, store = production_store(server.url)
    try:
        settings = GameSettings(player_count=4, initial_time=load.INITIAL_TIME_MS)
        gate = asyncio.Semaphore(64)

        async def new_game() -> str:
            async with gate:
                gid, _, _ = await store.create("host", settings, new_action_id())
                await store.start(gid, "host", new_action_id())
                return gid

        ids = await asyncio.gather(*(new_game() for _ in range(games)))
        done = 0
        stop_at = 0.0

        async def worker(mine: list[str]) -> None:
            nonlocal done
            i = 0
            while time.perf_counter() < stop_at:
                await store.switch(mine[i % len(mine)], "host", new_action_id(), "next")
                i += 1
                done += 1

        cpu0, me0, t0 = cpu_seconds(server.pid), cpu_seconds(os.getpid()), time.perf_counter()
        stop_at = t0 + seconds
        await asyncio.gather(*(worker(ids[k::tasks]) for k in range(tasks)))
        elapsed = time.perf_counter() - t0
        redis_cpu, my_cpu = cpu_seconds(server.pid) - cpu0, cpu_seconds(os.getpid()) - me0
    finally:
        await client.aclose()
        await asyncio.to_thread(server.close)
    return ScriptFigures(
        aof=aof,
        tasks=tasks,
        seconds=round(elapsed, 2),
        scripts=done,
        scripts_per_s=round(done / elapsed, 1),
        redis_cpu_percent=round(100 * redis_cpu / elapsed, 1),
        client_cpu_percent=round(100 * my_cpu / elapsed, 1),
        cpu_us_per_script=round(1e6 * redis_cpu / done, 1) if done else 0.0,
    )


async def measure_peek(seconds: float, tasks: int = 16) -> PeekFigures:
    """Deadline polls (the instance's own DeadlineLoop.due_partitions) on an index of 64 empty
    partitions but for one game each: what every instance costs Redis whatever its load."""
    server = await asyncio.to_thread(RedisProcess("--appendonly", "yes", "--appendfsync", "always").start)
    client, store = production_store(server.url)
    clock = GameClock()
    loop = DeadlineLoop(store, clock, 0.05)
    try:
        polls = 0
        stop_at = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal polls
            while time.perf_counter() < stop_at:
                await loop.due_partitions()
                polls += 1

        cpu0, t0 = cpu_seconds(server.pid), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(tasks)))
        elapsed = time.perf_counter() - t0
        cpu = cpu_seconds(server.pid) - cpu0
    finally:
        await client.aclose()
        await asyncio.to_thread(server.close)
    return PeekFigures(
        polls=polls,
        seconds=round(elapsed, 2),
        polls_per_s=round(polls / elapsed, 1),
        cpu_us_per_poll=round(1e6 * cpu / polls, 1) if polls else 0.0,
    )


class WindowCounts:
    """bench.load's window hook: Redis's script count and the frames the sockets received,
    within the measurement window (the run's own counts include the set-up)."""

    def __init__(self) -> None:
        self.scripts = 0
        self.frames = 0

    def __call__(self, stack: load.Stack, stats: load.Stats, opening: bool) -> None:
        assert stack.redis is not None
        sign = -1 if opening else 1
        self.scripts += sign * script_calls(stack.redis.port)
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


async def measure_memory(games: int, ticks: str, actions: int = 10, warm: int = 32) -> MemoryFigures:
    """One instance; RSS and Redis used_memory before the games, after `games` games are set up
    (every player's socket open and seated, the game started), and after `actions` passes each.

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
        return memory_kb(svc.pid)[1], used_memory(server.port)

    try:
        await asyncio.to_thread(svc.start)
        warm_games, played = every[:warm], every[warm:]
        if not all(await asyncio.gather(*(setup(g) for g in warm_games))):
            raise RuntimeError(f"{stats.setup_failures} games could not be set up")
        await asyncio.gather(*(play(g) for g in warm_games))
        rss0, redis0 = await settled()
        if not all(await asyncio.gather(*(setup(g) for g in played))):
            raise RuntimeError(f"{stats.setup_failures} games could not be set up")
        rss1, redis1 = await settled()
        await asyncio.gather(*(play(g) for g in played))
        redis2 = used_memory(server.port)
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
    measured_redis_cpu_percent: float


def predict(u: Unit, games: int, instances: int, a: Assumptions = Assumptions()) -> dict[str, float]:
    """The model's figures for one load: instance CPU per action and in all, Redis scripts/s
    and Redis CPU (scripts plus every instance's deadline polls)."""
    actions = games * a.actions_per_s
    scripts = actions * SCRIPTS_PER_ACTION
    polls = instances * 1000 / a.poll_ms
    return {
        "instance_cpu_ms_per_action": 1000 / u.actions_per_core_s,
        "instance_cpu_percent": 100 * actions / u.actions_per_core_s,
        "scripts_per_s": scripts,
        "redis_cpu_percent": 100 * (scripts * u.script_us + polls * u.poll_us) / 1e6,
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
        measured_redis_cpu_percent=procs["redis"].cpu_percent,
    )


# -- report -------------------------------------------------------------------------------------


def figures_report(f: Figures) -> str:
    lines = ["measured (production configuration: limits on, out of reach):"]
    lines.append(
        f"  {'Redis, pass-turn script':<28} {'tasks':>6} {'scripts/s':>10} {'Redis CPU %':>12} "
        f"{'client CPU %':>13} {'µs/script':>10}"
    )
    for s in f.scripts.values():
        lines.append(
            f"  {'AOF ' + s.aof:<28} {s.tasks:>6} {s.scripts_per_s:>10,.0f} {s.redis_cpu_percent:>12.1f} "
            f"{s.client_cpu_percent:>13.1f} {s.cpu_us_per_script:>10.1f}"
        )
    lines.append(
        f"  deadline poll (64 peeks, pipelined): {f.peek.polls_per_s:,.0f} polls/s, "
        f"{f.peek.cpu_us_per_poll:.1f} Redis CPU µs per poll"
    )
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
        f"    Redis used_memory per game: {m.redis_bytes_per_game:,.0f} bytes set up, "
        f"{m.redis_bytes_per_game_10_actions:,.0f} after 10 actions ({m.redis_bytes_per_action:,.0f} per action)",
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
        ]
    )


# -- command line -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    script_s: float
    script_games: int
    peek_s: float
    core_games: int
    core_s: float
    memory_games: int
    memory_warm: int = 32


QUICK = Plan(script_s=3.0, script_games=512, peek_s=1.5, core_games=150, core_s=5.0, memory_games=100)
FULL = Plan(script_s=8.0, script_games=1024, peek_s=3.0, core_games=800, core_s=15.0, memory_games=500)


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
    scripts: dict[str, ScriptFigures] = {}
    for aof in ("always", "everysec"):
        print(f"measuring: scripts/s, AOF {aof}", file=sys.stderr)
        scripts[aof] = await measure_scripts(aof, plan.script_s, plan.script_games)
    print("measuring: deadline polls", file=sys.stderr)
    peek = await measure_peek(plan.peek_s)
    print(f"measuring: one instance, {plan.core_games} games", file=sys.stderr)
    core = await measure_core(plan.core_games, plan.core_s, ticks)
    print(f"measuring: memory, {plan.memory_games} games", file=sys.stderr)
    memory = await measure_memory(plan.memory_games, ticks, warm=plan.memory_warm)
    return Figures(scripts, peek, core, memory)


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
    print(figures_report(figures))
    print()
    print(sizing_table(sizes, a))
    checked: Check | None = None
    if args.check:
        print(f"checking: {args.check_games} games on 2 instances", file=sys.stderr)
        checked = await check(unit, args.check_games, 2, args.check_duration, args.ticks)
        print()
        print(check_report(checked))
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
