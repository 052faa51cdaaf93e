"""Two real instances on a Sentinel-managed primary/replica pair, through two failovers during play.

The topology is real processes: a primary, a replica and three sentinels (quorum 2) on free
ports. The instances are given only REDIS_SENTINELS and the primary's name. First the
primary is killed with SIGKILL, so the sentinels promote the replica; then, with the old
primary back as a replica, a coordinated `SENTINEL FAILOVER` hands the role back, which
the service sees as READONLY replies and closed connections on the demoted server.

Through both, a game is played without pause by a player on each instance. What must hold:
actions fail only inside the failover window, with the storage error and nothing else; the
game then goes on where it was, with versions still rising, and both players see it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from service import keys
from service.errors import STORAGE_UNAVAILABLE_MESSAGE
from tests.cluster import Clients, claim, create_game, ok, services, stream_faults
from tests.redis_topologies import MASTER_NAME, SentinelSet, command, wait_for
from tests.service_proc import ServiceProcess
from tests.wsclient import Client

pytestmark = pytest.mark.slow

#: Detection (down-after 1 s), election and promotion; generous for a loaded 2-core machine.
FAILOVER_BOUND_S = 20.0


@pytest.fixture(scope="module")
def sentinels() -> Iterator[SentinelSet]:
    with SentinelSet(down_after_ms=1000, failover_timeout_ms=2000) as s:
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
        return sum(1 for o in self.outcomes if o.kind == "state" and o.at > t)


async def start_game(pool: Clients, instances: list[ServiceProcess]) -> tuple[str, Play]:
    host = await pool.connect(instances[0].ws_url)
    other = await pool.connect(instances[1].ws_url)
    gid, _, _ = await create_game(host, playerCount=2, initialTime=600_000)
    await claim(host, gid, 1, join=False)
    await claim(other, gid, 2)
    state = (await ok(host, "start"))["data"]
    return gid, Play({1: host, 2: other}, state["activePlayer"])


async def play_through(play: Play, failover: Any, sentinels: SentinelSet, new_port: int, settle: Any = None) -> float:
    """Play, cause the failover, keep playing until 20 actions succeed on the new primary
    (after `settle`, if given, has returned true). Returns when the failover was caused."""
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(play.run())
    try:
        await wait_until(lambda: play.successes_after(0) >= 10, 10, "play before the failover")
        caused = time.monotonic()
        failover()
        await loop.run_in_executor(
            None, wait_for, lambda: sentinels.master_port() == new_port, FAILOVER_BOUND_S, "the new primary"
        )
        if settle is not None:
            await loop.run_in_executor(None, wait_for, settle, FAILOVER_BOUND_S, "the topology to settle")
        mark = time.monotonic()
        await wait_until(
            lambda: play.successes_after(mark) >= 20,
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
    """Errors only between the failover and the first success after it, all of them the
    storage error; returns the versions acknowledged before and after."""
    before = [o.version for o in play.outcomes if o.kind == "state" and o.at < caused]
    # the first action sent after the failover began and acknowledged: the new primary serves
    resumed = next(o.sent for o in play.outcomes if o.kind == "state" and o.sent > caused)
    errors = [o for o in play.outcomes if o.kind == "error"]
    window = [(round(o.sent - caused, 3), round(o.at - caused, 3)) for o in errors]
    assert all(caused <= o.at and o.sent < resumed for o in errors), (round(resumed - caused, 3), window)
    assert {o.message for o in errors} <= {STORAGE_UNAVAILABLE_MESSAGE}, errors
    after = [o.version for o in play.outcomes if o.kind == "state" and o.at > caused]
    # never a version twice, never one going back: nothing acknowledged was lost
    versions = before + after
    assert versions == sorted(set(versions)), versions
    assert resumed - caused < FAILOVER_BOUND_S
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


async def test_a_killed_primary_then_a_coordinated_failover_cost_errors_only_during_each_window(
    sentinels: SentinelSet, instances: list[ServiceProcess], pool: Clients
) -> None:
    old, new = sentinels.primary, sentinels.replica
    gid, play = await start_game(pool, instances)

    # 1. the primary dies: the sentinels promote the replica
    caused = await play_through(play, old.kill, sentinels, new.port)
    before, after = check_window(play, caused)
    assert before and len(after) >= 20
    version, log = await primary_state(new.port, gid)
    # the new primary holds every acknowledged commit, numbered without a hole
    assert version == after[-1] and log == list(range(1, version + 1))

    # 2. the old primary returns, as a replica; then the new primary hangs (SIGSTOP) long
    # enough to be failed over, and wakes up still believing it is the primary
    old.start()
    await asyncio.get_running_loop().run_in_executor(
        None,
        wait_for,
        lambda: "master_link_status:up" in command(old.port, "INFO", "replication"),
        FAILOVER_BOUND_S,
        "the old primary to rejoin as a replica",
    )

    def hang() -> None:
        os.kill(new.pid, signal.SIGSTOP)

    def wake_and_demoted() -> bool:
        os.kill(new.pid, signal.SIGCONT)
        # played on until Sentinel has turned the woken server into a replica: any write
        # it had taken meanwhile would now be gone, and the versions below would repeat
        return "role:slave" in command(new.port, "INFO", "replication")

    second = Play(play.seats, play.active)
    caused2 = await play_through(second, hang, sentinels, old.port, settle=wake_and_demoted)
    before2, after2 = check_window(second, caused2)
    assert before2[0] > after[-1] and len(after2) >= 20
    version, log = await primary_state(old.port, gid)
    assert version == after2[-1] and log == list(range(1, version + 1))

    # both players, one per instance, saw the game go on to its last version
    for c in play.seats.values():
        await c.state_at_least(version, timeout=5)
        assert not [f for f in stream_faults(c) if f.startswith("stale")], stream_faults(c)
