"""The one checker every chaos scenario ends with, in the manner of Jepsen: the clients record
what they were told, the checker reads what Redis holds, and the two must agree.

Clients record, per game, every acknowledged action (its requestId, the action id the log
keeps for it, and the version of the `state` reply), every version they saw in a `state`
frame, every error with its time, and every warning and timeout frame. At the end the checker
reads each game's log (lib/commit.lua: one entry per version, with its action id and the
events it published) and counts:

- lost: an acknowledged action whose id is not in the log;
- duplicated: an action id the log holds more than once;
- out of order: a log whose versions are not contiguous, or an acknowledged action logged at
  a later version than its reply said (a retry's reply may be later: a duplicate is answered
  with the newest state);
- regressions: a client that saw a version lower than one it had seen before;
- deadline faults: a warning threshold or timeout the log fired more than once, or one the
  final state says was due that never fired, and a client that got one event twice.

A scenario may allow some loss (Redis with `appendfsync everysec` loses up to a second of
writes by design); every other count must be zero.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from service import keys

#: lost acknowledgements named one by one in the problems, the rest only counted
MAX_LISTED = 10


@dataclass
class Ack:
    request_id: str
    action_id: str
    version: int
    at: float
    #: from the first send of the request to its reply (retries included), in ms
    latency_ms: float = 0.0


@dataclass
class GameRecord:
    """What the clients of one game were told."""

    game_id: str
    acks: list[Ack] = field(default_factory=list)
    #: (player id, threshold or None for a timeout) -> frames received, per client
    deadline_frames: dict[str, Counter[tuple[int, int | None]]] = field(default_factory=dict)


@dataclass
class History:
    """Everything the scenario's clients recorded, and when the faults were injected."""

    started: float = field(default_factory=time.monotonic)
    games: dict[str, GameRecord] = field(default_factory=dict)
    #: client name -> versions seen, in arrival order, per game
    seen: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    errors: list[tuple[float, str]] = field(default_factory=list)
    faults: list[tuple[float, str]] = field(default_factory=list)
    #: when each fault was over (the process back, the link restored)
    healed: list[float] = field(default_factory=list)

    def game(self, game_id: str) -> GameRecord:
        return self.games.setdefault(game_id, GameRecord(game_id))

    #: the errors of each game's actions, counted by what they were
    game_errors: dict[str, Counter[str]] = field(default_factory=dict)
    #: close codes of the sockets that closed under the clients
    closes: Counter[int | None] = field(default_factory=Counter)
    #: how long each lost socket took to be replaced (s)
    reconnect_gaps: list[float] = field(default_factory=list)

    def ack(self, game_id: str, request_id: str, action_id: str, version: int, sent_at: float | None = None) -> None:
        now = time.monotonic()
        latency = 0.0 if sent_at is None else (now - sent_at) * 1000
        self.game(game_id).acks.append(Ack(request_id, action_id, version, now, latency))

    def closed(self, code: int | None) -> None:
        self.closes[code] += 1

    def back_after(self, seconds: float) -> None:
        """A seat whose socket was gone has a new one, `seconds` after it was found gone."""
        self.reconnect_gaps.append(seconds)

    def latency_percentile(self, q: float, since: float = 0.0, until: float = float("inf")) -> float | None:
        """The q-quantile (0-1) of the latencies (ms) of the actions acknowledged between
        `since` and `until` (monotonic s; by default all of them)."""
        values = sorted(a.latency_ms for g in self.games.values() for a in g.acks if since <= a.at <= until)
        if not values:
            return None
        return values[min(len(values) - 1, int(q * len(values)))]

    #: the largest |serverTime - this process's clock| of an acknowledged action's state (ms)
    worst_server_time_ms: float = 0.0

    def saw(self, client: str, game_id: str, version: int) -> None:
        self.seen.setdefault((client, game_id), []).append(version)

    def committed_at(self, server_time: float) -> None:
        """An acknowledged action's state says it was committed at `server_time` (epoch ms),
        just now: how far is that from this process's clock?"""
        offset = abs(server_time - time.time() * 1000)
        self.worst_server_time_ms = max(self.worst_server_time_ms, offset)

    def deadline_frame(self, client: str, game_id: str, player_id: int, threshold: int | None) -> None:
        self.game(game_id).deadline_frames.setdefault(client, Counter())[(player_id, threshold)] += 1

    def error(self, what: str, game_id: str | None = None) -> None:
        self.errors.append((time.monotonic(), what))
        if game_id is not None:
            self.game_errors.setdefault(game_id, Counter())[what] += 1

    def fault(self, what: str) -> None:
        self.faults.append((time.monotonic(), what))

    def heal(self) -> None:
        self.healed.append(time.monotonic())


@dataclass
class Verdict:
    scenario: str
    acked: int
    lost: int
    duplicated: int
    out_of_order: int
    regressions: int
    deadline_faults: int
    #: warnings and timeouts the logs hold: what the deadline counts were checked against
    deadlines: int
    errors: int
    #: seconds from the run's start to the first and the last error (None without errors)
    error_window: tuple[float, float] | None
    #: the longest time from a fault to the next acknowledged action in every game (s)
    recovery_s: float | None
    #: latency of the acknowledged actions, send to reply, retries included (ms)
    p50_ms: float | None
    p99_ms: float | None
    faults: int
    allowed_loss: int = 0
    problems: list[str] = field(default_factory=list)
    #: what a scenario measures besides (p99, loss bound, …), printed after the counts
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (
            self.lost <= self.allowed_loss
            and not (self.duplicated or self.out_of_order or self.regressions or self.deadline_faults)
            and not self.problems
        )

    def line(self) -> str:
        window = "-" if self.error_window is None else f"{self.error_window[0]:.1f}-{self.error_window[1]:.1f}s"
        recovery = "-" if self.recovery_s is None else f"{self.recovery_s:.2f}s"
        parts = [
            f"{self.scenario}: {'OK' if self.ok else 'FAIL'}",
            f"faults={self.faults}",
            f"acked={self.acked}",
            f"lost={self.lost}" + (f"/{self.allowed_loss} allowed" if self.allowed_loss else ""),
            f"duplicated={self.duplicated}",
            f"out_of_order={self.out_of_order}",
            f"regressions={self.regressions}",
            f"deadlines={self.deadlines}",
            f"deadline_faults={self.deadline_faults}",
            f"errors={self.errors}",
            f"error_window={window}",
            f"recovery={recovery}",
            f"p50={'-' if self.p50_ms is None else f'{self.p50_ms:.0f}ms'}",
            f"p99={'-' if self.p99_ms is None else f'{self.p99_ms:.0f}ms'}",
            *(f"{k}={v}" for k, v in self.extra.items()),
        ]
        return " ".join(parts)


async def read_log(redis: Redis | RedisCluster, game_id: str) -> list[dict[str, Any]]:
    raw = await redis.lrange(keys.log(game_id), 0, -1)
    entries = [json.loads(e) for e in raw]
    entries.reverse()
    return entries


async def read_game(redis: Redis | RedisCluster, game_id: str) -> tuple[list[dict[str, Any]], str | None]:
    """The log and the state of one moment: a game still commits after the clients stop (the
    sockets' close releases their seats, a deadline falls due), so the state is read before
    and after the log until the two reads agree."""
    for _ in range(20):
        before = await redis.hget(keys.game(game_id), "state")
        entries = await read_log(redis, game_id)
        after = await redis.hget(keys.game(game_id), "state")
        if before == after:
            return entries, None if after is None else str(after)
    raise RuntimeError(f"{game_id} kept changing while it was read")


def deadline_events(entries: list[dict[str, Any]]) -> Counter[tuple[int, int | None]]:
    """(player, threshold) of every warning and (player, None) of every timeout the log holds."""
    fired: Counter[tuple[int, int | None]] = Counter()
    for entry in entries:
        for event in json.loads(entry.get("e") or "[]"):
            if event["type"] == "warning":
                fired[(event["data"]["playerId"], event["data"]["threshold"])] += 1
            elif event["type"] == "timeout":
                fired[(event["data"]["playerId"], None)] += 1
    return fired


def due_deadlines(state: dict[str, Any]) -> set[tuple[int, int | None]]:
    """The warnings and timeouts the final state says must have fired: every threshold a
    clock is below and the timeout of a clock at zero. Only for games whose clocks were never
    set by hand and that were never reset (the chaos workload's)."""
    due: set[tuple[int, int | None]] = set()
    for p in state["players"]:
        left = p["timeRemaining"]
        if left >= state["settings"]["initialTime"]:
            continue
        due |= {(p["id"], t) for t in state["settings"]["warningThresholds"] if t >= left}
        if left == 0:
            due.add((p["id"], None))
    return due


async def check(
    redis: Redis | RedisCluster,
    history: History,
    scenario: str,
    *,
    allowed_loss: int = 0,
    steady_clients: set[str] | None = None,
) -> Verdict:
    """Read every recorded game back from Redis and count what does not agree.

    `steady_clients` names the clients whose socket never closed during the run: only they
    must have received every warning and timeout (a reconnecting socket misses the events
    sent while it was away; the state it gets back is what it needs)."""
    problems: list[str] = []
    #: the first lost acknowledgements, named among the problems when the loss is over its bound
    missing: list[str] = []
    lost = duplicated = out_of_order = deadline_faults = deadlines = 0
    acked = 0
    for gid, record in history.games.items():
        entries, raw_state = await read_game(redis, gid)
        if raw_state is None:
            problems.append(f"{gid}: the game is gone from Redis")
            continue
        state = json.loads(raw_state)
        versions = [e["v"] for e in entries]
        if versions and versions != list(range(versions[0], versions[0] + len(versions))):
            out_of_order += 1
            problems.append(f"{gid}: log versions not contiguous")
        if versions and versions[-1] != state["version"]:
            out_of_order += 1
            problems.append(f"{gid}: newest log entry {versions[-1]} but state version {state['version']}")
        ids = Counter(e["a"] for e in entries if e.get("a"))
        duplicated += sum(n - 1 for n in ids.values() if n > 1)
        at_version = {e["a"]: e["v"] for e in entries if e.get("a")}
        for ack in record.acks:
            acked += 1
            logged = at_version.get(ack.action_id)
            if logged is None:
                lost += 1
                if lost <= MAX_LISTED:
                    missing.append(
                        f"{gid}: {ack.request_id} acknowledged at v{ack.version} at "
                        f"{ack.at - history.started:.2f}s is not in the log"
                    )
            elif logged > ack.version:
                # a retry answered as a duplicate carries the newest state, so a later version
                # is right; an earlier one would be a reply from before the commit
                out_of_order += 1
                problems.append(f"{gid}: {ack.request_id} acknowledged at v{ack.version}, logged at v{logged}")
        fired = deadline_events(entries)
        deadlines += sum(fired.values())
        twice = [k for k, n in fired.items() if n > 1]
        never = sorted(due_deadlines(state) - set(fired), key=str)
        if twice or never:
            deadline_faults += len(twice) + len(never)
            problems.append(f"{gid}: deadlines fired twice {twice}, never {never}")
        for client, frames in record.deadline_frames.items():
            doubled = [k for k, n in frames.items() if n > 1]
            missed = sorted(set(fired) - set(frames), key=str) if steady_clients and client in steady_clients else []
            if doubled or missed:
                deadline_faults += len(doubled) + len(missed)
                problems.append(f"{gid}/{client}: deadline frames twice {doubled}, missed {missed}")
    regressions = 0
    for (client, gid), seen in history.seen.items():
        top = 0
        for v in seen:
            if v < top:
                regressions += 1
                problems.append(f"{gid}/{client}: saw v{v} after v{top}")
            top = max(top, v)
    errors = len(history.errors)
    window = None
    if history.errors:
        window = (history.errors[0][0] - history.started, history.errors[-1][0] - history.started)
    return Verdict(
        scenario=scenario,
        acked=acked,
        lost=lost,
        duplicated=duplicated,
        out_of_order=out_of_order,
        regressions=regressions,
        deadline_faults=deadline_faults,
        deadlines=deadlines,
        errors=errors,
        error_window=window,
        recovery_s=recovery(history),
        p50_ms=history.latency_percentile(0.5),
        p99_ms=history.latency_percentile(0.99),
        faults=len(history.faults),
        allowed_loss=allowed_loss,
        problems=(problems + (missing if lost > allowed_loss else []))[:20],
    )


def recovery(history: History) -> float | None:
    """The longest wait, over the faults, until every game that acknowledged anything after
    the fault had done so: how long players stood still."""
    worst: float | None = None
    for at, _ in history.faults:
        firsts = []
        for record in history.games.values():
            after = [a.at for a in record.acks if a.at > at]
            if after:
                firsts.append(min(after) - at)
        if firsts:
            worst = max(worst or 0.0, max(firsts))
    return worst
