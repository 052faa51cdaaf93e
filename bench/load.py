"""Load benchmark: many games played at once over real WebSockets, with latency and cost figures.

Starts its own Redis (AOF on) and N service instances on loopback (or drives running ones
with --target), connects G games x P players (every player its own socket, the players of a
game spread round-robin over the instances), starts every game, and then has each game's
active player pass the turn (`passTurn`) R times a second, each game on its own randomly
phased and jittered schedule so the load is smooth. For --duration seconds it measures:

- confirmed actions per second (an action is confirmed by the sender's `state` reply that
  echoes its requestId);
- acknowledgement latency (send -> that reply) and fan-out latency (send -> each other
  player of the game receiving the `state` of the new version): p50/p95/p99/max;
- errors: error frames, unexpected closes, acknowledgements or fan-outs missing after
  --timeout seconds, games that could not be set up;
- CPU seconds (user+sys, from /proc, over the measurement window) and peak RSS (VmHWM) of
  every instance, of Redis and of this load generator;
- where a slow action waited: Redis PING round trips (every 20 ms), each instance's /health
  answer time (every 100 ms: its event loop's lag) and this process's own loop lag.

The instances it starts run as in production, with every per-address limit on, but set out of
reach of the run (all its sockets share 127.0.0.1: stack.presets.out_of_reach_env, 4 times the
most the run can produce); `--limits off` turns them all off instead. The report and the JSON
say which ran, with the values.

Then it closes every socket, stops what it started, prints a report and exits. Frames are
JSON text, as browsers send them (--encoding msgpack uses the `msgpack` subprotocol). The
sockets use a lean client (bench/wsproto.py) and the collector is off during the window, so
the load generator, which shares the machine, adds as little as it can to what it measures.
Each game sends its next action only once the previous one is acknowledged and fanned out
(or timed out), so an overloaded stack shows as late sends and fewer actions per second,
not as an ever-growing queue.

One process holds at most as many sockets as the open-file limit allows (`ulimit -Hn`), so a
large run spreads its games over several load-generator processes (--loadgen-procs; by default
the fewest that keep each well under the limit, which is one up to 4,250 games of 4 players at
20,000). Each drives a block of whole games, so fan-out is still timed within one process; all
open their window together on the parent's signal; the parent, which keeps the stack and the
probes, merges their raw samples and counts, and reports the CPU and memory of all of them as
the load generator's.

Run: `python -m bench.load --games 100,500 --duration 30 --json artifacts/load.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import aiohttp
import msgpack
from prometheus_client.parser import text_string_to_metric_families

from bench import wsproto
from bench.procinfo import ProcWatch, can_attach, py_spy, summarize_collapsed
from bench.wsproto import OP_TEXT, WsClient
from service.gcpolicy import PAUSE_BUCKETS
from stack.instance import ServiceProcess
from stack.presets import AOF_REWRITE_MIN_SIZE, AOF_REWRITE_PERCENTAGE, out_of_reach_env
from stack.redis_server import RedisProcess

#: every tick frame starts so (the service encodes the envelope with `type` first): ticks are
#: counted without being parsed, they are most of what a socket receives
TICK_JSON = b'{"type":"tick"'
TICK_MSGPACK = b"\x82\xa4type\xa4tick"
#: long enough that no clock runs out or crosses a warning during any run: every version
#: change then comes from the benchmark's own actions
INITIAL_TIME_MS = 24 * 3_600_000
SETUP_TIMEOUT_S = 20.0
LEAD_IN_S = 0.5
AOF_MODES = ("off", "everysec", "always")
LIMIT_MODES = ("on", "off")


# -- figures ----------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class Dist:
    n: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, values: list[float]) -> Dist:
        return cls(
            len(values),
            percentile(values, 0.50),
            percentile(values, 0.95),
            percentile(values, 0.99),
            max(values, default=0.0),
        )


@dataclass
class Stats:
    """Raw counts and samples of one run, filled by the socket readers and game drivers."""

    measuring: bool = False
    sent: int = 0
    acked: int = 0
    ack_ms: list[float] = field(default_factory=list)
    fanout_ms: list[float] = field(default_factory=list)
    #: when each ack / fan-out sample's action was sent (perf_counter), for --samples
    ack_at: list[float] = field(default_factory=list)
    fanout_at: list[float] = field(default_factory=list)
    #: how late each action left against its game's schedule (the loadgen or the game behind)
    send_lag_ms: list[float] = field(default_factory=list)
    #: how late the loadgen's event loop woke up from a 50 ms sleep
    loop_lag_ms: list[float] = field(default_factory=list)
    #: PING round trips to Redis, and /health answer times of each instance
    redis_ping_ms: list[float] = field(default_factory=list)
    health_ms: dict[str, list[float]] = field(default_factory=dict)
    error_frames: Counter[str] = field(default_factory=Counter)
    closes: Counter[str] = field(default_factory=Counter)
    ack_timeouts: int = 0
    fanout_missing: int = 0
    send_failures: int = 0
    setup_failures: int = 0
    #: actions whose turn never came before the window closed (the game was still waiting)
    skipped: int = 0
    #: acknowledgements whose version was not the one after the action's base: something else
    #: changed the game meanwhile (not an error by itself, but the latencies assume it is rare)
    version_skew: int = 0
    ticks: int = 0
    frames: int = 0

    @property
    def errors(self) -> int:
        return (
            sum(self.error_frames.values())
            + sum(self.closes.values())
            + self.ack_timeouts
            + self.fanout_missing
            + self.send_failures
            + self.setup_failures
        )


# -- clients ----------------------------------------------------------------------------------


class Waiter:
    """The frames echoing one setup request's requestId, until its `state` or `error`."""

    __slots__ = ("done", "frames", "rid")

    def __init__(self, rid: str) -> None:
        self.rid = rid
        self.frames: list[dict[str, Any]] = []
        self.done: asyncio.Future[list[dict[str, Any]]] = asyncio.get_running_loop().create_future()


class Player:
    """One seat of one game on its own socket. Everything it receives is handled in the
    socket's data callback: no task per socket."""

    __slots__ = ("awaiting", "binary", "closed", "game", "seat", "stats", "version", "waiter", "ws")

    def __init__(self, game: Game, seat: int, stats: Stats) -> None:
        self.game = game
        self.seat = seat
        self.stats = stats
        self.ws: WsClient | None = None
        self.binary = False
        self.version = 0
        #: whether this player still has to see the state of the game's action in flight
        self.awaiting = False
        self.waiter: Waiter | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def connect(self, url: str, encoding: str) -> None:
        self.ws, chosen = await wsproto.connect(
            url, self.on_message, self.on_closed, "msgpack" if encoding == "msgpack" else None
        )
        self.binary = chosen == "msgpack"
        if encoding == "msgpack" and not self.binary:
            raise RuntimeError("the instance did not accept the msgpack subprotocol")

    def send(self, mtype: str, rid: str, data: dict[str, Any] | None = None) -> None:
        ws = self.ws
        if ws is None:
            raise ConnectionError("not connected")
        if self.binary:
            ws.send_bytes(msgpack.packb({"type": mtype, "data": data or {}, "requestId": rid}))
        elif data is None:
            # the hot path: no json.dumps for a frame whose shape never changes
            ws.send_text('{"type":"' + mtype + '","data":{},"requestId":"' + rid + '"}')
        else:
            ws.send_text(json.dumps({"type": mtype, "data": data, "requestId": rid}))

    async def request(self, mtype: str, rid: str, data: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Send a setup request; the frames answering it, the last being its `state` or `error`."""
        self.waiter = waiter = Waiter(rid)
        try:
            self.send(mtype, rid, data)
            async with asyncio.timeout(SETUP_TIMEOUT_S):
                return await waiter.done
        finally:
            self.waiter = None

    def on_message(self, opcode: int, payload: bytes) -> None:
        stats = self.stats
        stats.frames += 1
        if opcode == OP_TEXT:
            if payload.startswith(TICK_JSON):
                stats.ticks += 1
                return
            self.on_frame(json.loads(payload))
        else:
            if payload.startswith(TICK_MSGPACK):
                stats.ticks += 1
                return
            self.on_frame(msgpack.unpackb(payload))

    def on_closed(self, code: int | None, asked: bool) -> None:
        if not asked:
            self.stats.closes[f"closed {code}"] += 1
        waiter = self.waiter
        if waiter is not None and not waiter.done.done():
            waiter.done.set_exception(ConnectionError(f"socket closed ({code})"))
        if not self.closed.done():
            self.closed.set_result(None)

    def on_frame(self, obj: dict[str, Any]) -> None:
        mtype = obj.get("type")
        rid = obj.get("requestId")
        if mtype == "state":
            self.game.on_state(self, obj["data"], rid)
        elif mtype == "error":
            self.game.on_error(self, obj["data"].get("message", "?"), rid)
        waiter = self.waiter
        # frames after the state (e.g. `claimed`) are not waited for
        if waiter is not None and rid == waiter.rid and not waiter.done.done():
            waiter.frames.append(obj)
            if mtype in ("state", "error"):
                waiter.done.set_result(waiter.frames)

    async def close(self, timeout: float = 5.0) -> None:
        if self.ws is not None:
            await wsproto.close_within(self.ws, self.closed, timeout)


class Inflight:
    """The one action a game has on its way: its sender, timing and who has yet to see it."""

    __slots__ = ("acked", "base", "left", "rid", "sender", "t0", "timer")

    def __init__(self, sender: Player, rid: str, base: int, left: int) -> None:
        self.sender = sender
        self.rid = rid
        self.base = base
        self.left = left
        self.acked = False
        self.t0 = 0.0
        self.timer: asyncio.TimerHandle | None = None


class Game:
    """One game's players and its action schedule, driven by loop callbacks (no task)."""

    def __init__(self, index: int, stats: Stats, timeout_s: float) -> None:
        self.index = index
        self.stats = stats
        self.timeout_s = timeout_s
        self.players: list[Player] = []
        self.game_id = ""
        #: the newest state any of the game's sockets has seen: who is active in it
        self.seen_version = 0
        self.seen_active = 1
        self.inflight: Inflight | None = None
        self.actions = 0
        self.slots: list[float] = []
        self.next_slot = 0
        self.start = 0.0
        self.stop_at = 0.0
        self.on_done: Callable[[], None] = lambda: None

    # -- frames (called by the sockets) ---------------------------------------------------

    def on_state(self, player: Player, data: dict[str, Any], rid: str | None) -> None:
        version = data["version"]
        if version > player.version:
            player.version = version
        if version > self.seen_version:
            self.seen_version = version
            self.seen_active = data["activePlayer"] or 1
        inf = self.inflight
        # with one action in flight and nothing else changing the game, the first state
        # newer than the action's base is that action's
        if inf is None or version <= inf.base:
            return
        now = time.perf_counter()
        if player is inf.sender:
            if rid == inf.rid and not inf.acked:
                inf.acked = True
                self.stats.acked += 1
                self.stats.ack_ms.append((now - inf.t0) * 1000)
                self.stats.ack_at.append(inf.t0)
                if version != inf.base + 1:
                    self.stats.version_skew += 1
        elif player.awaiting:
            player.awaiting = False
            inf.left -= 1
            self.stats.fanout_ms.append((now - inf.t0) * 1000)
            self.stats.fanout_at.append(inf.t0)
        if inf.acked and inf.left == 0:
            self._finish()

    def on_error(self, player: Player, message: str, rid: str | None) -> None:
        inf = self.inflight
        if self.stats.measuring or (inf is not None and rid == inf.rid):
            self.stats.error_frames[message] += 1
        if inf is not None and player is inf.sender and rid == inf.rid:
            # refused: nothing was committed, so nobody is to see anything
            self._finish()

    # -- the action schedule --------------------------------------------------------------

    def begin(self, start: float, slots: list[float], stop_at: float, on_done: Callable[[], None]) -> None:
        """Pass the turn at each slot (seconds after `start`, loop clock), one action at a
        time: a slot that comes while the previous action is out waits for it."""
        self.start, self.slots, self.stop_at, self.on_done = start, slots, stop_at, on_done
        self.next_slot = 0
        self._arm()

    def _arm(self) -> None:
        if self.next_slot >= len(self.slots):
            self.on_done()
            return
        loop = asyncio.get_running_loop()
        due = self.start + self.slots[self.next_slot]
        if due <= loop.time():
            loop.call_soon(self._fire)
        else:
            loop.call_at(due, self._fire)

    def _fire(self) -> None:
        loop = asyncio.get_running_loop()
        stats = self.stats
        now = loop.time()
        if now >= self.stop_at:
            stats.skipped += len(self.slots) - self.next_slot
            self.next_slot = len(self.slots)
            self.on_done()
            return
        stats.send_lag_ms.append(max(0.0, now - self.start - self.slots[self.next_slot]) * 1000)
        self.next_slot += 1
        sender = self.players[self.seen_active - 1]
        self.actions += 1
        rid = f"g{self.index}a{self.actions}"
        inf = Inflight(sender, rid, self.seen_version, len(self.players) - 1)
        for p in self.players:
            p.awaiting = p is not sender
        self.inflight = inf
        inf.timer = loop.call_later(self.timeout_s, self._expire)
        inf.t0 = time.perf_counter()
        try:
            sender.send("passTurn", rid)
        except Exception:
            stats.send_failures += 1
            self._finish()
            return
        stats.sent += 1

    def _finish(self) -> None:
        inf = self.inflight
        if inf is None:
            return
        self.inflight = None
        if inf.timer is not None:
            inf.timer.cancel()
        for p in self.players:
            p.awaiting = False
        if self.slots:
            self._arm()

    def _expire(self) -> None:
        inf = self.inflight
        if inf is None:
            return
        if not inf.acked:
            self.stats.ack_timeouts += 1
        self.stats.fanout_missing += sum(1 for p in self.players if p.awaiting)
        self._finish()


def schedule(rng: random.Random, rate: float, duration: float) -> list[float]:
    """round(duration x rate) send times for one game: evenly spaced from a random phase, each
    moved by up to 10 % of the period, so that games neither start together nor stay in step."""
    period = 1.0 / rate
    count = max(1, round(duration * rate))
    phase = rng.random()
    return [max(0.0, (k + phase + rng.uniform(-0.1, 0.1)) * period) for k in range(count)]


# -- one run ----------------------------------------------------------------------------------


@dataclass
class Config:
    games: int = 100
    players: int = 4
    rate: float = 0.5
    duration: float = 30.0
    instances: int = 2
    targets: list[str] = field(default_factory=list)
    target_pids: list[int] = field(default_factory=list)
    redis_pid: int | None = None
    aof: str = "always"
    #: when Redis rewrites its AOF (auto-aof-rewrite-percentage and -min-size): by default
    #: as stack/redis.conf and docs/operations.md set it; Redis's own defaults are 100, 64mb
    aof_rewrite_percentage: int = AOF_REWRITE_PERCENTAGE
    aof_rewrite_min_size: str = AOF_REWRITE_MIN_SIZE
    #: "on": every per-address limit on, out of reach (stack.presets.out_of_reach_env); "off": all off
    limits: str = "on"
    tick_ms: int | None = None
    encoding: str = "json"
    #: "off": every socket connects with `?ticks=0`, as the web client does, and gets no ticks
    ticks: str = "on"
    ramp_concurrency: int = 32
    timeout_s: float = 5.0
    profile: bool = False
    profile_instance: int = 0
    artifacts: Path = Path("artifacts")
    seed: int | None = None
    #: CSV of every latency sample (kind, seconds into the window when sent, ms)
    samples: Path | None = None
    #: processes the games are spread over (each game whole in one); None: the fewest that keep
    #: each process's sockets within SOCKET_SHARE of the open-file limit (auto_loadgen_procs)
    loadgen_procs: int | None = None
    #: called with the stack, the run's counts and True as the measurement window opens, False
    #: as it closes: bench.capacity reads Redis's script count and the frames there
    on_window: Callable[[Stack, Stats, bool], None] | None = None


@dataclass
class ProcFigures:
    name: str
    pid: int
    cpu_s: float
    cpu_percent: float
    peak_rss_mb: float
    rss_mb: float


@dataclass
class Result:
    games: int
    players: int
    connections: int
    instances: int
    rate: float
    duration: float
    encoding: str
    #: whether the clients asked for ticks ("on") or connected with `?ticks=0` ("off")
    client_ticks: str
    aof: str
    #: "on", "off", or "n/a" (--target: the targets' own)
    limits: str
    #: the limit variables the instances ran with ({} with --target)
    limit_env: dict[str, str]
    tick_ms: int | None
    ramp_s: float
    window_s: float
    sent: int
    acked: int
    actions_per_s: float
    expected_actions: int
    ack: Dist
    fanout: Dist
    fanout_expected: int
    errors: int
    error_detail: dict[str, int]
    skipped: int
    version_skew: int
    send_lag: Dist
    loop_lag: Dist
    redis_ping: Dist
    health: dict[str, Dist]
    frames: int
    ticks: int
    version_gaps: int
    pubsub_messages: int
    processes: list[ProcFigures]
    #: each instance's garbage collections in the window
    gc_pauses: list[GcPauses]
    #: Redis's AOF rewrites in the window, and the acknowledgements of the actions sent while
    #: one ran against the others (None with --target or without AOF)
    rewrites: RewriteFigures | None
    #: CPU milliseconds of the instances and Redis per confirmed action
    cost_ms_per_action: float | None
    profile: dict[str, Any] | None = None
    #: processes the load generator ran in; with more than one, the `loadgen` row of
    #: `processes` is their sum (the parent, which probes, and the workers, which play)
    loadgen_procs: int = 1
    loadgen_workers: list[WorkerFigures] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def write_samples(path: Path, stats: Stats, origin: float) -> None:
    """Every sample with the time its action left: shows whether slow ones come in bursts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = ["kind,sent_s,ms"]
    for kind, at, ms in (("ack", stats.ack_at, stats.ack_ms), ("fanout", stats.fanout_at, stats.fanout_ms)):
        rows += [f"{kind},{t - origin:.4f},{v:.3f}" for t, v in zip(at, ms, strict=True)]
    path.write_text("\n".join(rows) + "\n")


def with_ticks(ws_url: str, ticks: str) -> str:
    """The socket URL of a client that wants ticks ("on", the original's clients) or renders
    its clocks itself ("off": `?ticks=0`, as the web client)."""
    if ticks == "on":
        return ws_url
    return ws_url + ("&" if "?" in ws_url else "?") + "ticks=0"


def http_url(ws_url: str) -> str:
    return ws_url.replace("ws://", "http://", 1).replace("wss://", "https://", 1).rstrip("/")


async def health_counters(session: aiohttp.ClientSession, urls: list[str]) -> tuple[int, int]:
    """(version gaps, pub/sub messages) summed over the instances' /health; zeros if unreadable."""
    gaps = messages = 0
    for url in urls:
        try:
            async with session.get(http_url(url) + "/health", timeout=aiohttp.ClientTimeout(total=5)) as r:
                body = await r.json()
            gaps += int(body.get("versionGaps", 0))
            messages += int(body.get("pubsubMessages", 0))
        except (aiohttp.ClientError, TimeoutError, ValueError):
            pass
    return gaps, messages


@dataclass
class GcPauses:
    """One instance's garbage-collection pauses in the window (tapotarp_gc_pause_seconds)."""

    name: str
    #: collections per generation (0, 1, 2)
    collections: list[int]
    #: seconds the collections of each generation stopped the instance, in all, and the CPU
    #: seconds they took (less when the instance was descheduled during a collection)
    pause_s: list[float]
    cpu_s: list[float]
    #: collections that stopped it for more than 10 ms
    over_10ms: int
    #: the histogram bound the longest pause was under (0: no collection)
    longest_under_s: float


#: one instance's pause histogram: generation -> (count, sum, {bucket bound: cumulative count},
#: CPU seconds)
PauseSamples = dict[str, tuple[float, float, dict[float, float], float]]


def pause_histogram(text: str) -> PauseSamples:
    """The `tapotarp_gc_pause_seconds` histogram of an exposition."""
    count: dict[str, float] = {}
    total: dict[str, float] = {}
    buckets: dict[str, dict[float, float]] = {}
    cpu: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name == "tapotarp_gc_cpu_seconds":
            cpu.update((sample.labels["generation"], sample.value) for sample in family.samples)
        if family.name != "tapotarp_gc_pause_seconds":
            continue
        for sample in family.samples:
            gen = sample.labels["generation"]
            if sample.name.endswith("_count"):
                count[gen] = sample.value
            elif sample.name.endswith("_sum"):
                total[gen] = sample.value
            elif sample.name.endswith("_bucket"):
                buckets.setdefault(gen, {})[float(sample.labels["le"])] = sample.value
    return {gen: (count[gen], total.get(gen, 0.0), buckets.get(gen, {}), cpu.get(gen, 0.0)) for gen in count}


async def gc_pauses(session: aiohttp.ClientSession, urls: list[str]) -> list[PauseSamples]:
    """Each instance's pause histogram from /metrics (empty if unreadable)."""
    out = []
    for url in urls:
        try:
            async with session.get(http_url(url) + "/metrics", timeout=aiohttp.ClientTimeout(total=5)) as r:
                out.append(pause_histogram(await r.text()))
        except (aiohttp.ClientError, TimeoutError, ValueError):
            out.append({})
    return out


def pauses_between(name: str, before: PauseSamples, after: PauseSamples) -> GcPauses:
    """What the instance's collections cost between two readings."""
    empty: tuple[float, float, dict[float, float], float] = (0.0, 0.0, {}, 0.0)
    collections, pause_s, cpu_s, over_10ms, longest = [], [], [], 0.0, 0.0
    for gen in ("0", "1", "2"):
        n1, s1, b1, c1 = after.get(gen, empty)
        n0, s0, b0, c0 = before.get(gen, empty)
        collections.append(round(n1 - n0))
        # to the microsecond: a young collection of a small run can take well under 0.1 ms
        pause_s.append(round(s1 - s0, 6))
        cpu_s.append(round(c1 - c0, 6))
        over_10ms += (n1 - n0) - (b1.get(0.01, 0.0) - b0.get(0.01, 0.0))
        # the smallest bound that holds every pause of the window
        for bound in sorted(b1):
            if b1[bound] - b0.get(bound, 0.0) == n1 - n0:
                if n1 > n0:
                    longest = max(longest, bound)
                break
    return GcPauses(name, collections, pause_s, cpu_s, round(over_10ms), longest)


async def setup_game(game: Game, urls: list[str], config: Config, stats: Stats) -> bool:
    """Connect the game's players (player i on instance (game + i) mod N), create, seat, start."""
    try:
        game.players = [Player(game, seat, stats) for seat in range(1, config.players + 1)]
        await asyncio.gather(
            *(
                p.connect(with_ticks(urls[(game.index + p.seat - 1) % len(urls)], config.ticks), config.encoding)
                for p in game.players
            )
        )
        host = game.players[0]
        settings = {"playerCount": config.players, "initialTime": INITIAL_TIME_MS}
        frames = await host.request("create", f"g{game.index}c", {"settings": settings})
        created = [f for f in frames if f["type"] == "created"]
        if not created or frames[-1]["type"] != "state":
            raise RuntimeError(f"create failed: {frames[-1]}")
        game.game_id = created[0]["data"]["gameId"]

        async def take_seat(p: Player) -> None:
            if p is not host:
                reply = await p.request("join", f"g{game.index}j{p.seat}", {"gameId": game.game_id})
                if reply[-1]["type"] != "state":
                    raise RuntimeError(f"join failed: {reply[-1]}")
            reply = await p.request("claim", f"g{game.index}s{p.seat}", {"playerId": p.seat})
            if reply[-1]["type"] != "state":
                raise RuntimeError(f"claim failed: {reply[-1]}")

        await asyncio.gather(*(take_seat(p) for p in game.players))
        reply = await host.request("start", f"g{game.index}start")
        if reply[-1]["type"] != "state" or reply[-1]["data"]["status"] != "running":
            raise RuntimeError(f"start failed: {reply[-1]}")
        return True
    except Exception as exc:
        stats.setup_failures += 1
        if stats.setup_failures <= 3:
            print(f"  game {game.index}: setup failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        await asyncio.gather(*(p.close() for p in game.players))
        game.players.clear()
        return False


async def watch_loop_lag(stats: Stats) -> None:
    loop = asyncio.get_running_loop()
    while True:
        t = loop.time()
        await asyncio.sleep(0.05)
        stats.loop_lag_ms.append(max(0.0, loop.time() - t - 0.05) * 1000)


async def probe_redis(port: int, samples: list[float]) -> None:
    """PING round trips to Redis on a connection of its own, every 20 ms: when acks are slow,
    this tells whether Redis was (e.g. waiting on fsync) or the instances were."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while True:
            t = time.perf_counter()
            writer.write(b"PING\r\n")
            await reader.readline()
            samples.append((time.perf_counter() - t) * 1000)
            await asyncio.sleep(0.02)
    finally:
        writer.close()


@dataclass
class Rewrites:
    """What probe_rewrites saw: each AOF rewrite's (start, end), perf_counter seconds, and
    how long the fork that began it stopped Redis."""

    spans: list[tuple[float, float]] = field(default_factory=list)
    fork_ms: list[float] = field(default_factory=list)


@dataclass
class RewriteFigures:
    #: rewrites begun in the window (INFO persistence aof_rewrites)
    count: int
    #: seconds of the window a rewrite ran in (polled every REWRITE_POLL_S)
    running_s: float
    #: the longest fork of those rewrites (latest_fork_usec, read as each one ended)
    longest_fork_ms: float
    #: acks of the actions sent while a rewrite ran, and of the others
    ack_during: Dist
    ack_outside: Dist
    #: AOF `always`: each second of the window whose slowest fsync took LATENCY_MONITOR_MS
    #: or more, that fsync's ms (Redis's latency monitor); every reply of that event-loop
    #: turn waited for it
    slowest_fsync_ms: Dist


#: how often probe_rewrites asks whether a rewrite is running
REWRITE_POLL_S = 0.05


async def info_section(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, section: str) -> dict[str, str]:
    """One INFO section's `field:value` lines, asked on a bare connection (RESP inline)."""
    writer.write(f"INFO {section}\r\n".encode())
    head = await reader.readline()
    if not head.startswith(b"$"):
        raise RuntimeError(f"INFO {section}: {head!r}")
    body = await reader.readexactly(int(head[1:]) + 2)
    return dict(line.split(":", 1) for line in body.decode().splitlines() if ":" in line)


async def probe_rewrites(port: int, seen: Rewrites) -> None:
    """INFO persistence every REWRITE_POLL_S on a connection of its own: when a rewrite ran,
    so that the acks of actions sent meanwhile can be told from the rest. A bare stream, as
    probe_redis's: it is cancelled at the window's end, and closing it then awaits nothing."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    began: float | None = None
    try:
        while True:
            info = await info_section(reader, writer, "persistence")
            now = time.perf_counter()
            running = info["aof_rewrite_in_progress"] == "1" or info["aof_rewrite_scheduled"] == "1"
            if running and began is None:
                began = now
            elif not running and began is not None:
                seen.spans.append((began, now))
                seen.fork_ms.append(int((await info_section(reader, writer, "stats"))["latest_fork_usec"]) / 1000)
                began = None
            await asyncio.sleep(REWRITE_POLL_S)
    finally:
        if began is not None:
            seen.spans.append((began, time.perf_counter()))
        writer.close()


async def aof_rewrites(port: int) -> int:
    """How many AOF rewrites this Redis has begun."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        return int((await info_section(reader, writer, "persistence"))["aof_rewrites"])
    finally:
        writer.close()


#: Redis's latency monitor records each second's slowest event at or above this (ms)
LATENCY_MONITOR_MS = 1


async def latency_history(port: int, event: str) -> list[tuple[int, int]]:
    """LATENCY HISTORY of one event: (unix second, its slowest ms) for each second, up to the
    last 160, in which the event took LATENCY_MONITOR_MS or more."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"LATENCY HISTORY {event}\r\n".encode())
        head = await reader.readline()
        if not head.startswith(b"*"):
            raise RuntimeError(f"LATENCY HISTORY {event}: {head!r}")
        out = []
        for _ in range(int(head[1:])):
            await reader.readline()  # *2
            at, ms = await reader.readline(), await reader.readline()
            out.append((int(at[1:]), int(ms[1:])))
        return out
    finally:
        writer.close()


def split_by_spans(
    at: list[float], values: list[float], spans: list[tuple[float, float]]
) -> tuple[list[float], list[float]]:
    """`values` whose time in `at` falls within one of `spans`, and the others."""
    inside: list[float] = []
    outside: list[float] = []
    for t, v in zip(at, values, strict=True):
        (inside if any(lo <= t <= hi for lo, hi in spans) else outside).append(v)
    return inside, outside


async def probe_health(session: aiohttp.ClientSession, url: str, samples: list[float]) -> None:
    """GET /health every 100 ms: its answer waits for everything queued on the instance's
    event loop, so its latency is that loop's lag (plus a loopback round trip)."""
    timeout = aiohttp.ClientTimeout(total=10)
    while True:
        t = time.perf_counter()
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with session.get(http_url(url) + "/health", timeout=timeout) as r:
                await r.read()
            samples.append((time.perf_counter() - t) * 1000)
        await asyncio.sleep(0.1)


@dataclass
class Stack:
    """The processes a run drives: started here, or given with --target."""

    urls: list[str]
    watches: list[ProcWatch]
    names: list[str] = field(default_factory=list)
    redis: RedisProcess | None = None
    services: list[ServiceProcess] = field(default_factory=list)
    log_dir: Path | None = None

    def stop(self) -> None:
        for svc in self.services:
            with contextlib.suppress(Exception):
                svc.stop()
        if self.redis is not None:
            self.redis.close()


def limit_env(config: Config) -> dict[str, str]:
    """The limit variables the instances of `config`'s run start with."""
    if config.targets or config.limits == "off":
        return {}
    return out_of_reach_env(config.games, config.players, config.rate)


async def start_stack(config: Config, log_dir: Path) -> Stack:
    if config.targets:
        watches = [ProcWatch(f"target{i}", pid) for i, pid in enumerate(config.target_pids)]
        if config.redis_pid is not None:
            watches.append(ProcWatch("redis", config.redis_pid))
        names = [f"target{i}" for i in range(len(config.targets))]
        return Stack(urls=list(config.targets), watches=watches, names=names)
    persistence = ("no",) if config.aof == "off" else ("yes", "--appendfsync", config.aof)
    redis_args = (
        "--appendonly",
        *persistence,
        "--auto-aof-rewrite-percentage",
        str(config.aof_rewrite_percentage),
        "--auto-aof-rewrite-min-size",
        config.aof_rewrite_min_size,
        # each second's slowest fsync (aof-fsync-always), for RewriteFigures
        "--latency-monitor-threshold",
        str(LATENCY_MONITOR_MS),
    )
    redis = await asyncio.to_thread(RedisProcess(*redis_args).start)
    stack = Stack(urls=[], watches=[], redis=redis, log_dir=log_dir)
    try:
        env = {"TAPOTARP_TEST_CLOCK": "0"}
        if config.tick_ms is not None:
            env["TICK_INTERVAL_MS"] = str(config.tick_ms)
        # ServiceProcess turns every per-address limit off (stack.presets.UNLIMITED_ENV); with
        # the limits on they are set out of reach, since all the benchmark's sockets come from
        # 127.0.0.1
        env.update(limit_env(config))
        stack.services = [ServiceProcess(redis.url, log_dir, f"inst{i}", **env) for i in range(config.instances)]
        await asyncio.gather(*(asyncio.to_thread(s.start) for s in stack.services))
    except BaseException:
        stack.stop()
        raise
    stack.urls = [s.ws_url for s in stack.services]
    stack.names = [s.name for s in stack.services]
    stack.watches = [ProcWatch(s.name, s.pid) for s in stack.services] + [ProcWatch("redis", redis.pid)]
    return stack


async def start_profile(config: Config, stack: Stack, label: str) -> tuple[asyncio.subprocess.Process, Path] | None:
    """py-spy on one instance for the measurement window; None (and why, printed) if it cannot."""
    exe = py_spy()
    if exe is None:
        print("profile: py-spy not found; install it with `pip install -e '.[bench]'`", file=sys.stderr)
        return None
    instances = [w for w in stack.watches if w.name != "redis"]
    if not instances:
        print("profile: no instance pid to attach to (give --target-pids)", file=sys.stderr)
        return None
    why = await asyncio.to_thread(can_attach, exe)
    if why is not None:
        print(f"profile: py-spy cannot attach here ({why}); no profile", file=sys.stderr)
        return None
    target = instances[min(config.profile_instance, len(instances) - 1)]
    config.artifacts.mkdir(parents=True, exist_ok=True)
    out = config.artifacts / f"profile-{label}-{target.name}.txt"
    # --nonblocking: reading the target without stopping it, so the profile does not add to
    # the latencies it is measured alongside
    proc = await asyncio.create_subprocess_exec(
        exe,
        "record",
        "--pid",
        str(target.pid),
        "--duration",
        str(max(1, int(config.duration))),
        "--rate",
        "100",
        "--nonblocking",
        "--format",
        "raw",
        "--output",
        str(out),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    return proc, out


async def finish_profile(running: tuple[asyncio.subprocess.Process, Path], timeout_s: float) -> dict[str, Any] | None:
    proc, out = running
    try:
        async with asyncio.timeout(timeout_s):
            _, err = await proc.communicate()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        print("profile: py-spy did not finish in time", file=sys.stderr)
        return None
    if proc.returncode != 0 or not out.is_file():
        print(f"profile: py-spy failed: {err.decode(errors='replace').strip()[-300:]}", file=sys.stderr)
        return None
    summary = summarize_collapsed(out.read_text())
    text_path = out.with_suffix(".summary.txt")
    text_path.write_text("\n".join(summary.lines(15)) + "\n")
    return {"raw": str(out), "summary": str(text_path), "lines": summary.lines(8), **asdict(summary)}


# -- the games of one load-generator process ---------------------------------------------------


class Slice:
    """Games lo..hi-1 of the run with all their players: every game in a single-process run, one
    worker's block otherwise. A game never spans two processes, so that its fan-out latency
    (every player receiving a state) is timed on one clock, in one event loop."""

    def __init__(self, config: Config, urls: list[str], lo: int, hi: int, stats: Stats) -> None:
        self.config = config
        self.urls = urls
        self.stats = stats
        self.games = [Game(i, stats, config.timeout_s) for i in range(lo, hi)]
        self.playing: list[Game] = []

    @property
    def sockets(self) -> int:
        return sum(len(g.players) for g in self.playing)

    @property
    def scheduled(self) -> int:
        return sum(len(g.slots) for g in self.playing)

    async def set_up(self) -> None:
        gate = asyncio.Semaphore(self.config.ramp_concurrency)

        async def gated(game: Game) -> bool:
            async with gate:
                return await setup_game(game, self.urls, self.config, self.stats)

        ok = await asyncio.gather(*(gated(g) for g in self.games))
        self.playing = [g for g, good in zip(self.games, ok, strict=True) if good]
        # every socket should hold its game's started state before the clock runs
        for _ in range(100):
            if all(p.version >= g.seen_version for g in self.playing for p in g.players):
                break
            await asyncio.sleep(0.1)

    def arm(self, start: float, slots: Callable[[Game], list[float]]) -> asyncio.Future[None]:
        """Give every game its schedule from `start` (loop clock); done when every game is.

        Every game is armed before the first slot, so arming thousands of timers is not
        charged to the first actions."""
        loop = asyncio.get_running_loop()
        stop_at = start + self.config.duration + self.config.timeout_s
        all_done: asyncio.Future[None] = loop.create_future()
        remaining = len(self.playing)

        def game_done() -> None:
            nonlocal remaining
            remaining -= 1
            if remaining == 0 and not all_done.done():
                all_done.set_result(None)

        for g in self.playing:
            g.begin(start, slots(g), stop_at, game_done)
        if not self.playing:
            all_done.set_result(None)
        # The loadgen's garbage in the window is acyclic (parsed frames, freed by reference
        # counting); a collection would only stall it and show up as latency of the service.
        # What the ramp built is moved out of the collector's reach first.
        gc.collect()
        gc.freeze()
        gc.disable()
        return all_done

    async def close(self) -> None:
        await asyncio.gather(*(p.close() for g in self.games for p in g.players))


# -- several load-generator processes ----------------------------------------------------------

#: the share of the hard open-file limit that one load-generator process's sockets may take; the
#: rest is left for Python's own files, the /health session, pipes and slack. At 0.85 of 20,000,
#: runs up to 4,250 games of 4 players stay in one process, as every run did before the limit
#: was met (it was at about 4,500)
SOCKET_SHARE = 0.85
MAX_LOADGEN_PROCS = 32
ROOT = Path(__file__).resolve().parents[1]


def auto_loadgen_procs(sockets: int, open_file_limit: int, share: float = SOCKET_SHARE) -> int:
    """The fewest processes among which `sockets` can be split so that each holds at most
    `share` of `open_file_limit` (the hard limit: each process raises its soft limit to it).
    A limit of 0 or less (RLIM_INFINITY is -1 here) bounds nothing."""
    if open_file_limit <= 0 or open_file_limit == resource.RLIM_INFINITY:
        return 1
    per_process = max(1, int(open_file_limit * share))
    return max(1, math.ceil(sockets / per_process))


def hard_open_files() -> int:
    return resource.getrlimit(resource.RLIMIT_NOFILE)[1]


def loadgen_procs(config: Config) -> int:
    """How many processes drive `config`'s games: its own number, or the automatic one."""
    most = min(config.games, MAX_LOADGEN_PROCS)
    if config.loadgen_procs is None:
        procs = min(most, auto_loadgen_procs(config.games * config.players, hard_open_files()))
    elif 1 <= config.loadgen_procs <= most:
        procs = config.loadgen_procs
    else:
        raise ValueError(f"loadgen_procs must be 1..{most}, not {config.loadgen_procs}")
    if procs > 1 and config.on_window is not None:
        # the hook reads the sockets' live counts, which are in the workers
        raise ValueError(f"on_window needs a single load-generator process, and this run needs {procs}")
    return procs


def game_blocks(games: int, procs: int) -> list[tuple[int, int]]:
    """Contiguous (lo, hi) blocks of game indexes, one a process, sizes differing by at most 1.
    Each game keeps its index, so its players sit on the same instances as in one process."""
    return [(k * games // procs, (k + 1) * games // procs) for k in range(procs)]


def stats_to_wire(stats: Stats, origin: float) -> dict[str, Any]:
    """Every raw count and sample of a worker, the send times made relative to its window's
    start (`origin`, perf_counter), so that the parent merges them as if counted in one place."""
    out: dict[str, Any] = {}
    for f in fields(Stats):
        value = getattr(stats, f.name)
        if f.name == "measuring":
            continue
        if f.name in ("ack_at", "fanout_at"):
            value = [t - origin for t in value]
        elif isinstance(value, dict):
            value = dict(value)
        out[f.name] = value
    return out


def merge_stats(stats: Stats, wire: dict[str, Any]) -> None:
    """Add one worker's counts and samples to `stats`: sums and concatenations, so the
    percentiles are taken over every sample of the run (not combined from per-worker ones)."""
    for f in fields(Stats):
        if f.name == "measuring" or f.name not in wire:
            continue
        mine, theirs = getattr(stats, f.name), wire[f.name]
        if isinstance(mine, Counter):
            mine.update(theirs)
        elif isinstance(mine, list):
            mine.extend(theirs)
        elif isinstance(mine, dict):
            for key, values in theirs.items():
                mine.setdefault(key, []).extend(values)
        else:
            setattr(stats, f.name, mine + theirs)


@dataclass
class WorkerFigures:
    """One load-generator worker of a multi-process run: its block of games and its share."""

    index: int
    pid: int
    first_game: int
    games: int
    set_up: int
    #: actions on the schedules of its games that were set up
    scheduled: int
    sent: int
    acked: int
    ramp_s: float
    cpu_s: float
    peak_rss_mb: float


class Workers:
    """The worker processes of a multi-process run (`python -m bench.load --worker`), each
    driving one block of games against the parent's stack.

    They talk in lines of JSON: the parent sends the spec on stdin; a worker answers `ready`
    when its games are set up; the parent sends `go` with the window's start (monotonic clock,
    which every process shares) once all are ready; a worker answers `done` when its schedule
    has run; the parent sends `close` when the window has closed for all; a worker closes its
    sockets, writes its raw figures (msgpack) to a file in the run's log dir and answers
    `results` with its path."""

    def __init__(self) -> None:
        self.procs: list[asyncio.subprocess.Process] = []
        self.blocks: list[tuple[int, int]] = []
        self.watches: list[ProcWatch] = []

    async def start(self, config: Config, urls: list[str], procs: int, log_dir: Path) -> None:
        self.blocks = game_blocks(config.games, procs)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        base = {
            "players": config.players,
            "rate": config.rate,
            "duration": config.duration,
            "encoding": config.encoding,
            "ticks": config.ticks,
            "timeout_s": config.timeout_s,
            "seed": config.seed,
            # the option is the number of games being set up at once over the whole run
            "ramp_concurrency": max(1, math.ceil(config.ramp_concurrency / procs)),
        }
        for k, (lo, hi) in enumerate(self.blocks):
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.load",
                "--worker",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env=env,
            )
            self.procs.append(proc)
            self.watches.append(ProcWatch(f"loadgen{k}", proc.pid))
            spec = {
                "kind": "spec",
                "index": k,
                "lo": lo,
                "hi": hi,
                "urls": urls,
                "config": base,
                "out": str(log_dir / f"loadgen{k}.msgpack"),
            }
            self.send(k, spec)

    def send(self, k: int, msg: dict[str, Any]) -> None:
        stdin = self.procs[k].stdin
        assert stdin is not None
        stdin.write((json.dumps(msg) + "\n").encode())

    def send_all(self, msg: dict[str, Any]) -> None:
        for k in range(len(self.procs)):
            self.send(k, msg)

    async def receive(self, k: int, kind: str) -> dict[str, Any]:
        proc = self.procs[k]
        assert proc.stdout is not None
        line = await proc.stdout.readline()
        if not line:
            code = await proc.wait()
            raise RuntimeError(
                f"load-generator worker {k} exited (code {code}) before its `{kind}` (see its stderr above)"
            )
        msg: dict[str, Any] = json.loads(line)
        if msg.get("kind") != kind:
            raise RuntimeError(f"load-generator worker {k} sent {msg!r}, expected `{kind}`")
        return msg

    async def each(self, kind: str) -> list[dict[str, Any]]:
        """Every worker's next message, which must be `kind`; the first failure stops the wait."""
        tasks = [asyncio.create_task(self.receive(k, kind)) for k in range(len(self.procs))]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        # the failure itself, not the cancellation it caused in the others
        for t in tasks:
            exc = None if t.cancelled() else t.exception()
            if exc is not None:
                raise exc
        return [t.result() for t in tasks]

    async def results(self) -> list[dict[str, Any]]:
        """Close the window for every worker; their raw figures, each with its `ready` facts."""
        self.send_all({"kind": "close"})
        replies = await self.each("results")
        for reply in replies:
            raw = await asyncio.to_thread(Path(reply.pop("path")).read_bytes)
            reply["stats"] = msgpack.unpackb(raw)
        await self.stop()
        return replies

    async def stop(self) -> None:
        """Wait for the workers to exit; kill the ones that have not within 10 s (or on an error)."""
        for proc in self.procs:
            if proc.stdin is not None and not proc.stdin.is_closing():
                proc.stdin.close()
        for proc in self.procs:
            try:
                async with asyncio.timeout(10):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def worker_main() -> int:
    """One load-generator worker (`python -m bench.load --worker`, started by `Workers`)."""
    raise_open_files()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    pipe, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        return await worker(reader)
    finally:
        pipe.close()


async def worker(reader: asyncio.StreamReader) -> int:
    loop = asyncio.get_running_loop()

    async def receive(kind: str) -> dict[str, Any]:
        line = await reader.readline()
        if not line:
            raise ConnectionError(f"the parent is gone (waiting for `{kind}`)")
        msg: dict[str, Any] = json.loads(line)
        if msg.get("kind") != kind:
            raise ConnectionError(f"the parent sent {msg!r}, expected `{kind}`")
        return msg

    def send(kind: str, **facts: Any) -> None:
        sys.stdout.write(json.dumps({"kind": kind, **facts}) + "\n")
        sys.stdout.flush()

    spec = await receive("spec")
    lo, hi = int(spec["lo"]), int(spec["hi"])
    config = Config(games=hi - lo, **spec["config"])
    stats = Stats()
    part = Slice(config, list(spec["urls"]), lo, hi, stats)
    probe: asyncio.Task[None] | None = None
    try:
        ramp_started = loop.time()
        await part.set_up()
        send("ready", set_up=len(part.playing), sockets=part.sockets, ramp_s=loop.time() - ramp_started)
        go = await receive("go")
        start = loop.time() + (float(go["start"]) - time.monotonic())
        # every process draws the schedules of the whole run in game order and keeps its own:
        # with a seed, each game gets the schedule it would get in one process
        rng = random.Random(config.seed)
        slots = [schedule(rng, config.rate, config.duration) for _ in range(hi)][lo:]
        all_done = part.arm(start, lambda g: slots[g.index - lo])
        await asyncio.sleep(start - loop.time())
        probe = asyncio.create_task(watch_loop_lag(stats))
        stats.measuring = True
        window_started = time.perf_counter()
        await all_done
        await asyncio.sleep(max(0.0, start + config.duration - loop.time()))
        send("done")
        # until the last worker is done, errors still count, as in one process
        await receive("close")
        stats.measuring = False
    except ConnectionError as exc:
        print(f"  load-generator worker {spec.get('index')}: {exc}", file=sys.stderr)
        return 1
    finally:
        gc.enable()
        gc.unfreeze()
        if probe is not None:
            probe.cancel()
            await asyncio.gather(probe, return_exceptions=True)
        await part.close()
    out = Path(spec["out"])
    await asyncio.to_thread(out.write_bytes, msgpack.packb(stats_to_wire(stats, window_started)))
    send("results", path=str(out), scheduled=part.scheduled)
    return 0


# -- the run, in one process or several ----------------------------------------------------------


def summed(name: str, watches: list[ProcWatch], window_s: float) -> ProcFigures:
    """One row for several processes: CPU and resident memory added up."""
    cpu = sum(w.cpu_s for w in watches)
    return ProcFigures(
        name,
        watches[0].pid,
        round(cpu, 3),
        round(100 * cpu / window_s, 1) if window_s else 0.0,
        round(sum(w.peak_rss_kb for w in watches) / 1024, 1),
        round(sum(w.rss_kb for w in watches) / 1024, 1),
    )


async def run(config: Config) -> Result:
    procs = loadgen_procs(config)
    stats = Stats()
    log_dir = Path(tempfile.mkdtemp(prefix="load-"))
    per_process = math.ceil(config.games * config.players / procs)
    if per_process > hard_open_files() > 0:
        print(
            f"  warning: {per_process} sockets per load-generator process, over the open-file limit "
            f"{hard_open_files()}: give more --loadgen-procs",
            file=sys.stderr,
        )
    stack = await start_stack(config, log_dir)
    label = f"{config.games}g"
    loop = asyncio.get_running_loop()
    part: Slice | None = None
    workers: Workers | None = None
    replies: list[dict[str, Any]] = []
    ready: list[dict[str, Any]] = []
    probes: list[asyncio.Task[None]] = []
    profile: dict[str, Any] | None = None
    rewrites = Rewrites()
    rewrites_in_window = 0
    fsyncs: list[tuple[int, int]] = []
    try:
        # the game sockets do not use it: only the /health reads
        async with aiohttp.ClientSession() as session:
            ramp_started = loop.time()
            if procs == 1:
                part = Slice(config, stack.urls, 0, config.games, stats)
                await part.set_up()
                sockets, running = part.sockets, len(part.playing)
            else:
                workers = Workers()
                await workers.start(config, stack.urls, procs, log_dir)
                ready = await workers.each("ready")
                sockets = sum(int(r["sockets"]) for r in ready)
                running = sum(int(r["set_up"]) for r in ready)
            ramp_s = loop.time() - ramp_started
            print(
                f"  ramp-up: {sockets} sockets, {running} games running in {ramp_s:.1f} s"
                + (f" ({procs} load-generator processes)" if procs > 1 else ""),
                file=sys.stderr,
            )
            await asyncio.sleep(1.0)

            gaps0, messages0 = await health_counters(session, stack.urls)
            pauses0 = await gc_pauses(session, stack.urls)
            rewrites0 = await aof_rewrites(stack.redis.port) if stack.redis is not None else 0
            profiler = await start_profile(config, stack, label) if config.profile else None
            start = loop.time() + LEAD_IN_S
            all_done: asyncio.Future[Any]
            if part is not None:
                rng = random.Random(config.seed)
                all_done = part.arm(start, lambda _: schedule(rng, config.rate, config.duration))
            else:
                assert workers is not None
                workers.send_all({"kind": "go", "start": time.monotonic() + (start - loop.time())})
            await asyncio.sleep(start - loop.time())
            me = ProcWatch("loadgen", os.getpid())
            watches = [*stack.watches, me, *(workers.watches if workers is not None else [])]
            for w in watches:
                w.begin()
            if config.on_window is not None:
                config.on_window(stack, stats, True)
            # with workers, each times its own loop: those are the loops the sockets wait on
            if part is not None:
                probes.append(asyncio.create_task(watch_loop_lag(stats)))
            if stack.redis is not None:
                probes.append(asyncio.create_task(probe_redis(stack.redis.port, stats.redis_ping_ms)))
                probes.append(asyncio.create_task(probe_rewrites(stack.redis.port, rewrites)))
            for name, url in zip(stack.names, stack.urls, strict=True):
                probes.append(asyncio.create_task(probe_health(session, url, stats.health_ms.setdefault(name, []))))
            stats.measuring = True
            window_started = time.perf_counter()
            # Redis's latency monitor stamps whole unix seconds
            wall_from = int(time.time())
            if part is not None:
                await all_done
            else:
                assert workers is not None
                await workers.each("done")
            # the window is never shorter than the schedule it carries, so actions/s compares
            # with games x rate
            await asyncio.sleep(max(0.0, start + config.duration - loop.time()))
            window_s = loop.time() - start
            wall_to = int(time.time())
            if config.samples is not None and part is not None:
                write_samples(config.samples, stats, window_started)
            stats.measuring = False
            gc.enable()
            for w in watches:
                w.end()
            if config.on_window is not None:
                config.on_window(stack, stats, False)
            for task in probes:
                task.cancel()
            await asyncio.gather(*probes, return_exceptions=True)
            gaps1, messages1 = await health_counters(session, stack.urls)
            if stack.redis is not None:
                rewrites_in_window = await aof_rewrites(stack.redis.port) - rewrites0
                fsyncs = await latency_history(stack.redis.port, "aof-fsync-always")
            pauses = [
                pauses_between(name, before, after)
                for name, before, after in zip(stack.names, pauses0, await gc_pauses(session, stack.urls), strict=True)
            ]
            if profiler is not None:
                profile = await finish_profile(profiler, config.duration + 30)
            if part is not None:
                await part.close()
            else:
                assert workers is not None
                replies = await workers.results()
                for reply in replies:
                    merge_stats(stats, reply["stats"])
                if config.samples is not None:
                    # the workers' send times are already relative to the common window start
                    write_samples(config.samples, stats, 0.0)
    finally:
        # after a failure in the window, too: their exceptions are then taken here, not logged
        for task in probes:
            task.cancel()
        await asyncio.gather(*probes, return_exceptions=True)
        gc.enable()
        gc.unfreeze()
        if workers is not None:
            for proc in workers.procs:
                if proc.returncode is None and not replies:
                    proc.kill()
            await workers.stop()
        await asyncio.to_thread(stack.stop)

    per_game = max(1, round(config.duration * config.rate))
    processes = [
        ProcFigures(
            w.name,
            w.pid,
            round(w.cpu_s, 3),
            round(100 * w.cpu_s / window_s, 1) if window_s else 0.0,
            round(w.peak_rss_kb / 1024, 1),
            round(w.rss_kb / 1024, 1),
        )
        for w in stack.watches
    ]
    # the load generator's cost is that of all its processes
    processes.append(summed("loadgen", [me, *(workers.watches if workers is not None else [])], window_s))
    worker_figures = [
        WorkerFigures(
            index=k,
            pid=w.pid,
            first_game=lo,
            games=hi - lo,
            set_up=int(r["set_up"]),
            scheduled=int(reply["scheduled"]),
            sent=int(reply["stats"]["sent"]),
            acked=int(reply["stats"]["acked"]),
            ramp_s=round(float(r["ramp_s"]), 2),
            cpu_s=round(w.cpu_s, 3),
            peak_rss_mb=round(w.peak_rss_kb / 1024, 1),
        )
        for k, ((lo, hi), r, reply, w) in enumerate(
            zip(workers.blocks, ready, replies, workers.watches, strict=True) if workers is not None else []
        )
    ]
    server_cpu = sum(w.cpu_s for w in stack.watches)
    rewrite_figures: RewriteFigures | None = None
    if stack.redis is not None and config.aof != "off":
        # the workers' send times are relative to the window's start already, the parent's not
        sent_at = [t - window_started for t in stats.ack_at] if part is not None else stats.ack_at
        spans = [(lo - window_started, hi - window_started) for lo, hi in rewrites.spans]
        during, outside = split_by_spans(sent_at, stats.ack_ms, spans)
        rewrite_figures = RewriteFigures(
            count=rewrites_in_window,
            running_s=round(sum(min(hi, window_s) - max(lo, 0.0) for lo, hi in spans if hi > 0 and lo < window_s), 2),
            longest_fork_ms=max(rewrites.fork_ms, default=0.0),
            ack_during=Dist.of(during),
            ack_outside=Dist.of(outside),
            slowest_fsync_ms=Dist.of([float(ms) for at, ms in fsyncs if wall_from <= at <= wall_to]),
        )
    detail: dict[str, int] = {
        **{f"error frame: {k}": v for k, v in stats.error_frames.items()},
        **{f"close: {k}": v for k, v in stats.closes.items()},
        "ack timeouts": stats.ack_timeouts,
        "fan-out missing": stats.fanout_missing,
        "send failures": stats.send_failures,
        "setup failures": stats.setup_failures,
    }
    return Result(
        games=config.games,
        players=config.players,
        connections=config.games * config.players,
        instances=len(stack.urls),
        rate=config.rate,
        duration=config.duration,
        encoding=config.encoding,
        client_ticks=config.ticks,
        aof=config.aof if not config.targets else "n/a",
        limits=config.limits if not config.targets else "n/a",
        limit_env=limit_env(config),
        tick_ms=config.tick_ms,
        ramp_s=round(ramp_s, 2),
        window_s=round(window_s, 3),
        sent=stats.sent,
        acked=stats.acked,
        actions_per_s=round(stats.acked / window_s, 1) if window_s else 0.0,
        expected_actions=per_game * config.games,
        ack=Dist.of(stats.ack_ms),
        fanout=Dist.of(stats.fanout_ms),
        fanout_expected=stats.acked * (config.players - 1),
        errors=stats.errors,
        error_detail={k: v for k, v in detail.items() if v},
        skipped=stats.skipped,
        version_skew=stats.version_skew,
        send_lag=Dist.of(stats.send_lag_ms),
        loop_lag=Dist.of(stats.loop_lag_ms),
        redis_ping=Dist.of(stats.redis_ping_ms),
        health={name: Dist.of(v) for name, v in stats.health_ms.items()},
        frames=stats.frames,
        ticks=stats.ticks,
        version_gaps=gaps1 - gaps0,
        pubsub_messages=messages1 - messages0,
        processes=processes,
        gc_pauses=pauses,
        rewrites=rewrite_figures,
        cost_ms_per_action=round(1000 * server_cpu / stats.acked, 3) if stats.acked and stack.watches else None,
        profile=profile,
        loadgen_procs=procs,
        loadgen_workers=worker_figures,
    )


# -- report -----------------------------------------------------------------------------------


def report(r: Result) -> str:
    def dist(name: str, d: Dist) -> str:
        return f"  {name:<22} {d.n:>8} {d.p50:>8.2f} {d.p95:>8.2f} {d.p99:>8.2f} {d.max:>8.2f}"

    lines = [
        f"load: {r.games} games x {r.players} players = {r.connections} sockets on {r.instances} instances, "
        f"{r.rate:g} actions/s per game, {r.duration:g} s, {r.encoding}, AOF {r.aof}, "
        f"tick {r.tick_ms or 'default'} ms, limits {r.limits}, client ticks {r.client_ticks}",
        *(["  limits (out of reach): " + " ".join(f"{k}={v}" for k, v in r.limit_env.items())] if r.limit_env else []),
        f"  ramp-up {r.ramp_s:.1f} s; window {r.window_s:.1f} s; actions sent {r.sent}, confirmed {r.acked} "
        f"of {r.expected_actions} scheduled ({r.actions_per_s:.1f}/s), not sent in time {r.skipped}",
        f"  {'latency ms':<22} {'n':>8} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}",
        dist("ack", r.ack),
        dist(f"fan-out (of {r.fanout_expected})", r.fanout),
        dist("send lag (schedule)", r.send_lag),
        dist("loadgen loop lag", r.loop_lag),
        *([dist("Redis PING", r.redis_ping)] if r.redis_ping.n else []),
        *(dist(f"{name} /health", d) for name, d in r.health.items()),
        *(
            [
                f"  Redis AOF rewrites begun in the window: {r.rewrites.count}, running {r.rewrites.running_s:.1f} s "
                f"of it, longest fork {r.rewrites.longest_fork_ms:.1f} ms",
                dist("ack, sent in a rewrite", r.rewrites.ack_during),
                dist("ack, sent outside one", r.rewrites.ack_outside),
                dist(f"slowest fsync/s >={LATENCY_MONITOR_MS}ms", r.rewrites.slowest_fsync_ms),
            ]
            if r.rewrites is not None
            else []
        ),
        f"  errors: {r.errors}" + (f" {r.error_detail}" if r.error_detail else ""),
        f"  frames received {r.frames} ({r.ticks} ticks); version gaps {r.version_gaps}; "
        f"pub/sub messages {r.pubsub_messages}; version skew {r.version_skew}",
        *(
            f"  {g.name} GC in the window: collections {'/'.join(map(str, g.collections))} (gen 0/1/2), "
            f"paused {'/'.join(f'{1000 * x:.0f}' for x in g.pause_s)} ms "
            f"(CPU {'/'.join(f'{1000 * x:.0f}' for x in g.cpu_s)} ms), {g.over_10ms} over 10 ms, "
            + (
                f"longest over {1000 * PAUSE_BUCKETS[-1]:g} ms"
                if math.isinf(g.longest_under_s)
                else f"longest under {1000 * g.longest_under_s:g} ms"
            )
            for g in r.gc_pauses
        ),
        f"  {'process':<10} {'pid':>8} {'CPU s':>8} {'CPU %':>7} {'peak RSS MB':>12} {'RSS MB':>8}",
    ]
    lines += [
        f"  {p.name:<10} {p.pid:>8} {p.cpu_s:>8.2f} {p.cpu_percent:>7.1f} {p.peak_rss_mb:>12.1f} {p.rss_mb:>8.1f}"
        for p in r.processes
    ]
    if r.loadgen_workers:
        lines.append(
            f"  loadgen: the sum of {r.loadgen_procs + 1} processes, the parent (probes) and {r.loadgen_procs} workers:"
        )
        lines += [
            f"    worker {w.index} (pid {w.pid}): games {w.first_game}-{w.first_game + w.games - 1}, {w.set_up} set up "
            f"in {w.ramp_s:.1f} s, confirmed {w.acked} of {w.scheduled} scheduled, CPU {w.cpu_s:.2f} s, "
            f"peak RSS {w.peak_rss_mb:.1f} MB"
            for w in r.loadgen_workers
        ]
    if r.cost_ms_per_action is not None:
        lines.append(f"  cost: {r.cost_ms_per_action:.3f} CPU ms (instances + Redis) per confirmed action")
    if r.profile is not None:
        lines.append(f"  profile ({r.profile['raw']}):")
        lines += ["    " + line for line in r.profile["lines"]]
    return "\n".join(lines)


def summary_table(results: list[Result]) -> str:
    """One markdown row per run: the figures docs/benchmark.md's table is made of."""
    names = [p.name for p in results[0].processes] if results else []
    head = (
        "| games | limits | sockets | actions/s | ack p50/p95/p99/max ms | fan-out p50/p95/p99/max ms | errors | "
        + " | ".join(f"{n} CPU s / peak MB" for n in names)
        + " | CPU ms/action |"
    )
    rows = [head, "|" + "---|" * (8 + len(names))]
    for r in results:
        procs = {p.name: p for p in r.processes}
        cells = [
            str(r.games),
            r.limits,
            str(r.connections),
            f"{r.actions_per_s:.1f}",
            f"{r.ack.p50:.1f} / {r.ack.p95:.1f} / {r.ack.p99:.1f} / {r.ack.max:.1f}",
            f"{r.fanout.p50:.1f} / {r.fanout.p95:.1f} / {r.fanout.p99:.1f} / {r.fanout.max:.1f}",
            str(r.errors),
            *(f"{procs[n].cpu_s:.1f} / {procs[n].peak_rss_mb:.0f}" if n in procs else "-" for n in names),
            f"{r.cost_ms_per_action:.3f}" if r.cost_ms_per_action is not None else "-",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


# -- command line ------------------------------------------------------------------------------


def raise_open_files() -> int:
    """Lift the soft open-file limit to the hard one before anything starts: the instances and
    Redis inherit it, and each socket of the run is a descriptor on both ends."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[Config]]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--games", default="100", help="games at once; a comma list runs each in turn (default 100)")
    ap.add_argument("--players", type=int, default=4, help="players (sockets) per game, 2-8 (default 4)")
    ap.add_argument("--rate", type=float, default=0.5, help="actions per second per game (default 0.5)")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of measurement (default 30)")
    ap.add_argument("--instances", type=int, default=2, help="service instances to start (default 2)")
    ap.add_argument("--target", default="", help="drive running instances instead: ws://host:port/[,...]")
    ap.add_argument("--target-pids", default="", help="with --target: their pids (same order) for CPU/RSS")
    ap.add_argument("--redis-pid", type=int, default=None, help="with --target: Redis's pid for CPU/RSS")
    ap.add_argument("--aof", choices=AOF_MODES, default="always", help="Redis persistence (default always)")
    ap.add_argument(
        "--aof-rewrite-percentage",
        type=int,
        default=AOF_REWRITE_PERCENTAGE,
        help=f"Redis's auto-aof-rewrite-percentage ({AOF_REWRITE_PERCENTAGE} as stack/redis.conf; Redis: 100)",
    )
    ap.add_argument(
        "--aof-rewrite-min-size",
        default=AOF_REWRITE_MIN_SIZE,
        help=f"Redis's auto-aof-rewrite-min-size ({AOF_REWRITE_MIN_SIZE} as stack/redis.conf; Redis: 64mb)",
    )
    ap.add_argument(
        "--limits",
        choices=LIMIT_MODES,
        default="on",
        help="per-address limits: on, out of reach of the run (default), or off",
    )
    ap.add_argument("--tick-ms", type=int, default=None, help="TICK_INTERVAL_MS of the instances (default: theirs)")
    ap.add_argument("--encoding", choices=("json", "msgpack"), default="json", help="frame encoding (default json)")
    ap.add_argument(
        "--ticks",
        choices=("on", "off"),
        default="on",
        help="on: clients get ticks (the original's); off: they connect with ?ticks=0, as the web client (default on)",
    )
    ap.add_argument("--ramp-concurrency", type=int, default=32, help="games being set up at once (default 32)")
    ap.add_argument("--timeout", type=float, default=5.0, help="ack / fan-out missing after this many s (5)")
    ap.add_argument("--profile", action="store_true", help="py-spy one instance during the window")
    ap.add_argument("--profile-instance", type=int, default=0, help="which instance to profile (default 0)")
    ap.add_argument("--artifacts", type=Path, default=Path("artifacts"), help="where profiles go")
    ap.add_argument("--json", type=Path, default=None, help="write every figure to this file")
    ap.add_argument("--seed", type=int, default=None, help="seed of the schedules' phases and jitter")
    ap.add_argument("--samples", type=Path, default=None, help="CSV of every latency sample (per run: -<G>g)")
    ap.add_argument(
        "--loadgen-procs",
        default="auto",
        help="processes driving the games, each game whole in one (default auto: the fewest whose sockets "
        f"stay within {round(100 * SOCKET_SHARE)}%% of the hard open-file limit; 1 up to 4,250 games of 4 at 20,000)",
    )
    args = ap.parse_args(argv)
    try:
        counts = [int(x) for x in args.games.split(",") if x.strip()]
    except ValueError:
        ap.error("--games must be a number or a comma list of numbers")
    if not counts or any(not 1 <= g <= 20_000 for g in counts):
        ap.error("--games must be 1..20000")
    if not 2 <= args.players <= 8:
        ap.error("--players must be 2..8")
    if not 0 < args.rate <= 20:
        ap.error("--rate must be in (0, 20]")
    if not 0 < args.duration <= 3600:
        ap.error("--duration must be in (0, 3600]")
    if not 1 <= args.instances <= 16:
        ap.error("--instances must be 1..16")
    targets = [u.strip().replace("http://", "ws://", 1) for u in args.target.split(",") if u.strip()]
    if any(not t.startswith("ws://") for t in targets):
        ap.error("--target takes ws:// (or http://) URLs; TLS is not supported")
    pids = [int(p) for p in args.target_pids.split(",") if p.strip()]
    if pids and not targets:
        ap.error("--target-pids needs --target")
    procs: int | None = None
    if args.loadgen_procs != "auto":
        try:
            procs = int(args.loadgen_procs)
        except ValueError:
            ap.error("--loadgen-procs must be auto or a number")
        if not 1 <= procs <= MAX_LOADGEN_PROCS:
            ap.error(f"--loadgen-procs must be auto or 1..{MAX_LOADGEN_PROCS}")
        if procs > min(counts):
            ap.error(
                f"--loadgen-procs {procs} is more than the {min(counts)} games of a run: each process needs a game"
            )
    configs = [
        Config(
            games=g,
            players=args.players,
            rate=args.rate,
            duration=args.duration,
            instances=args.instances,
            targets=targets,
            target_pids=pids,
            redis_pid=args.redis_pid,
            aof=args.aof,
            aof_rewrite_percentage=args.aof_rewrite_percentage,
            aof_rewrite_min_size=args.aof_rewrite_min_size,
            limits=args.limits,
            tick_ms=args.tick_ms,
            encoding=args.encoding,
            ticks=args.ticks,
            ramp_concurrency=args.ramp_concurrency,
            timeout_s=args.timeout,
            profile=args.profile,
            profile_instance=args.profile_instance,
            artifacts=args.artifacts,
            seed=args.seed,
            samples=None
            if args.samples is None
            else args.samples.with_name(f"{args.samples.stem}-{g}g{args.samples.suffix}"),
            loadgen_procs=procs,
        )
        for g in counts
    ]
    return args, configs


async def main(args: argparse.Namespace, configs: list[Config]) -> int:
    results: list[Result] = []
    for config in configs:
        print(f"run: {config.games} games x {config.players} players", file=sys.stderr)
        result = await run(config)
        results.append(result)
        print(report(result), flush=True)
        print(flush=True)
    if len(results) > 1:
        print(summary_table(results))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"command": ["python", "-m", "bench.load", *sys.argv[1:]], "runs": [r.to_json() for r in results]}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 1 if any(r.errors for r in results) else 0


def cli() -> None:
    if sys.argv[1:] == ["--worker"]:
        # one of the processes of a multi-process run (Workers): not a command for people
        sys.exit(asyncio.run(worker_main()))
    args, configs = parse_args()
    raise_open_files()
    sys.exit(asyncio.run(main(args, configs)))


if __name__ == "__main__":
    cli()
