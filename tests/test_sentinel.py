"""Two real instances on a Sentinel-managed primary and two replicas, through two failovers during play.

The topology is real processes: a primary, two replicas and three sentinels (quorum 2) on
free ports, every data node with `min-replicas-to-write 1` and `min-replicas-max-lag 1`.
The instances are given only REDIS_SENTINELS and the primary's name. First the primary is
killed with SIGKILL, so the sentinels promote a replica. Then, with the dead one back as a
replica, the new primary hangs (SIGSTOP) until it is failed over, and wakes up (SIGCONT)
still calling itself primary, with connections of both instances open to it.

Through both, a game is played without pause by a player on each instance. What must hold:
actions fail only inside the failover window, with the storage error and nothing else; the
game then goes on where it was, with versions still rising (nothing acknowledged was lost,
and the two instances never wrote to different primaries), and both players see it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from service import keys
from service.errors import STORAGE_UNAVAILABLE_MESSAGE
from stack.client import Client
from stack.instance import ServiceProcess
from stack.topologies import MASTER_NAME, SentinelSet, command, wait_for
from tests.support.instances import Clients, claim, create_game, ok, services, stream_faults

pytestmark = pytest.mark.slow

#: Detection (down-after 2 s), election and promotion; generous for a loaded 2-core machine.
FAILOVER_BOUND_S = 20.0


@pytest.fixture(scope="module")
def sentinels() -> Iterator[SentinelSet]:
    # down-after (2 s) above min-replicas-max-lag (1 s): a primary that hung long enough to be
    # failed over has no good replica left when it wakes, so it refuses the writes that
    # arrive before Sentinel demotes it (docs/scaling.md, "What asynchronous replication can lose")
    with SentinelSet(down_after_ms=2000, failover_timeout_ms=2000) as s:
        yield s


@pytest.fixture(scope="module")
def instances(sentinels: SentinelSet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ServiceProcess]]:
    log_dir: Path = tmp_path_factory.mktemp("sentinel-logs")
    env = {"REDIS_SENTINELS": sentinels.addresses, "REDIS_SENTINEL_MASTER": MASTER_NAME, "REDIS_TIMEOUT_MS": "500"}
    with services("", log_dir, 2, prefix="sentinel", **env) as procs:
        yield procs


@dataclass
class Outcome:
    sent: float
    at: float
    kind: str
    version: int = 0
    message: str = ""


@dataclass
class Play:
    """Both players pass the turn in turn, without pause, recording every reply. Seat 1 is
    the host's."""

    seats: dict[int, Client]
    active: int
    outcomes: list[Outcome] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        uncertain = False
        while not self.stop.is_set():
            # after an error the turn may have passed anyway (applied, reply lost): the host
            # may pass whoever's turn it is, and its reply says whose turn it now is
            client = self.seats[1] if uncertain else self.seats[self.active]
            sent = time.monotonic()
            rid = await client.send("passTurn")
            m = await client.wait_for(
                lambda m, rid=rid: m.get("requestId") == rid and m["type"] in ("state", "error"), 15
            )
            now = time.monotonic()
            if m["type"] == "state":
                self.outcomes.append(Outcome(sent, now, "state", m["data"]["version"]))
                self.active = m["data"]["activePlayer"]
                uncertain = False
            else:
                uncertain = True
                self.outcomes.append(Outcome(sent, now, "error", message=m["data"]["message"]))
                await asyncio.sleep(0.05)

    def successes_after(self, t: float) -> int:
        return sum(1 for o in self.outcomes if o.kind == "state" and o.sent > t)

    def last_error(self) -> float:
        return max((o.at for o in self.outcomes if o.kind == "error"), default=0.0)


async def start_game(pool: Clients, instances: list[ServiceProcess]) -> tuple[str, Play]:
    host = await pool.connect(instances[0].ws_url)
    other = await pool.connect(instances[1].ws_url)
    gid, _, _ = await create_game(host, playerCount=2, initialTime=600_000)
    await claim(host, gid, 1, join=False)
    await claim(other, gid, 2)
    state = (await ok(host, "start"))["data"]
    return gid, Play({1: host, 2: other}, state["activePlayer"])


async def play_through(play: Play, failover: Any, sentinels: SentinelSet, old_port: int, settle: Any = None) -> float:
    """Play, cause the failover of the primary on `old_port`, keep playing until 20 actions
    succeed on the new primary (after `settle`, if given, has returned true). Returns when
    the failover was caused."""
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(play.run())
    try:
        await wait_until(lambda: play.successes_after(0) >= 10, 10, "play before the failover")
        caused = time.monotonic()
        failover()
        await loop.run_in_executor(
            None, wait_for, lambda: sentinels.master_port() != old_port, FAILOVER_BOUND_S, "a new primary"
        )
        if settle is not None:
            await loop.run_in_executor(None, wait_for, settle, FAILOVER_BOUND_S, "the topology to settle")
        mark = time.monotonic()
        await wait_until(
            lambda: play.successes_after(max(mark, play.last_error())) >= 20,
            FAILOVER_BOUND_S,
            lambda: f"play after the failover; last replies {play.outcomes[-5:]}",
        )
    finally:
        play.stop.set()
        await task
    return caused


async def wait_until(check: Any, timeout: float, what: str | Callable[[], str]) -> None:
    end = time.monotonic() + timeout
    while not check():
        if time.monotonic() > end:
            raise TimeoutError(what() if callable(what) else what)
        await asyncio.sleep(0.02)


def check_window(play: Play, caused: float) -> tuple[list[int], list[int]]:
    """Errors only inside one window that opens with the failover and closes within the
    bound, all of them the storage error (the two instances may find the new primary a
    moment apart); after it, play goes on without error. Returns the versions acknowledged
    before the failover and after it."""
    errors = [o for o in play.outcomes if o.kind == "error"]
    assert errors, "a failover with no error at all: was the primary really lost?"
    assert {o.message for o in errors} == {STORAGE_UNAVAILABLE_MESSAGE}, [(o.sent - caused, o.message) for o in errors]
    closed = max(o.at for o in errors)
    assert min(o.at for o in errors) >= caused and closed - caused < FAILOVER_BOUND_S
    assert sum(1 for o in play.outcomes if o.kind == "state" and o.sent > closed) >= 20
    before = [o.version for o in play.outcomes if o.kind == "state" and o.at < caused]
    after = [o.version for o in play.outcomes if o.kind == "state" and o.at > caused]
    # never a version twice, never one going back: nothing acknowledged was lost, and the
    # two instances never wrote to two different primaries
    versions = before + after
    assert versions == sorted(set(versions)), versions
    return before, after


async def primary_state(port: int, gid: str) -> tuple[int, list[int]]:
    r = Redis(host="127.0.0.1", port=port, decode_responses=True)
    try:
        raw = await r.hget(keys.game(gid), "state")
        log = [json.loads(e)["v"] for e in await r.lrange(keys.log(gid), 0, -1)]
    finally:
        await r.aclose()
    assert raw is not None
    return int(json.loads(raw)["version"]), sorted(log)


async def test_instances_find_the_primary_through_the_sentinels(
    sentinels: SentinelSet, instances: list[ServiceProcess], pool: Clients
) -> None:
    gid, play = await start_game(pool, instances)
    last = (await ok(play.seats[play.active], "passTurn"))["data"]["version"]
    assert sentinels.master_port() == sentinels.primary.port
    assert "role:master" in command(sentinels.primary.port, "INFO", "replication")
    # the game was written on the primary the sentinels name
    assert await primary_state(sentinels.primary.port, gid) == (last, list(range(1, last + 1)))


async def test_a_killed_primary_costs_errors_only_during_its_window_and_loses_nothing(
    sentinels: SentinelSet, instances: list[ServiceProcess], pool: Clients
) -> None:
    first = sentinels.server(sentinels.master_port())
    gid, play = await start_game(pool, instances)

    # 1. the primary dies: the sentinels promote a replica
    caused = await play_through(play, first.kill, sentinels, first.port)
    before, after = check_window(play, caused)
    assert before and len(after) >= 20
    second = sentinels.server(sentinels.master_port())
    version, log = await primary_state(second.port, gid)
    # the new primary holds every acknowledged commit, numbered without a hole
    assert version == after[-1] and log == list(range(version - len(log) + 1, version + 1))

    # both players, one per instance, saw the game go on to its last version
    for c in play.seats.values():
        await c.state_at_least(version, timeout=5)
        assert not [f for f in stream_faults(c) if f.startswith("stale")], stream_faults(c)


async def health(proc: ServiceProcess) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(proc.url + "/health") as resp:
        body: dict[str, Any] = await resp.json()
        return body


async def test_a_primary_that_wakes_while_its_replica_is_promoted_is_fenced_and_loses_nothing(
    sentinels: SentinelSet, instances: list[ServiceProcess], pool: Clients
) -> None:
    # whatever the test before left dead comes back, as a replica of the current primary
    for server in sentinels.servers:
        if not server.is_running():
            server.start()
    hung = sentinels.server(sentinels.master_port())
    replicas = [s for s in sentinels.servers if s is not hung]
    wait_for(
        lambda: all("master_link_status:up" in command(r.port, "INFO", "replication") for r in replicas),
        FAILOVER_BOUND_S,
        "both replicas in sync",
    )
    counts = [await health(p) for p in instances]
    gid, play = await start_game(pool, instances)

    def hang_until_a_replica_is_promoted() -> None:
        # The worst moment to wake: one replica is promoted, the other still follows the old
        # primary (Sentinel reconfigures it only after the promotion shows), so the woken
        # primary meets min-replicas-to-write and acknowledges every write it gets.
        os.kill(hung.pid, signal.SIGSTOP)
        try:
            wait_for(
                lambda: any("role:master" in command(r.port, "INFO", "replication", timeout=0.5) for r in replicas),
                FAILOVER_BOUND_S,
                "a replica promoted",
            )
        finally:
            os.kill(hung.pid, signal.SIGCONT)

    def fail_over() -> None:
        threading.Thread(target=hang_until_a_replica_is_promoted, daemon=True).start()

    caused = await play_through(play, fail_over, sentinels, hung.port)
    before, after = check_window(play, caused)
    assert before and len(after) >= 20
    version, log = await primary_state(sentinels.master_port(), gid)
    assert version == after[-1] and log == list(range(version - len(log) + 1, version + 1))
    for c in play.seats.values():
        await c.state_at_least(version, timeout=5)
        assert not [f for f in stream_faults(c) if f.startswith("stale")], stream_faults(c)
    # each instance stopped reading the old primary when its failover began, and then
    # followed the new one once
    for proc, was in zip(instances, counts, strict=True):
        now = await health(proc)
        assert now["sentinelFences"] > was["sentinelFences"], (proc.name, was, now)
        assert now["primaryChanges"] == was["primaryChanges"] + 1, (proc.name, was, now)
        # a fence loses nothing acknowledged, so no snapshot was ahead of the new primary
        assert now["gamesRewound"] == was["gamesRewound"] == 0
