"""Chaos against real processes: instances killed with SIGKILL, replies lost, Redis down or restarted.

Every test starts its own redis-server (it may kill it) and its own service instances, and
tears all of them down even when it fails. Property checks read the game's log in Redis:
an action a client saw acknowledged (a `state` reply to its requestId) must be there
exactly once, and log versions must run without a gap.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from service import keys
from service.deadlines import LEASE_MS
from stack.client import Client
from stack.instance import ServiceProcess
from stack.redis_server import RedisProcess
from tests.support.instances import (
    Clients,
    action_id,
    actor_of,
    claim,
    create_game,
    game_log,
    game_state,
    http_status,
    kill_all,
    ok,
    services,
    start_services,
    wait_status,
)

pytestmark = pytest.mark.slow

STORAGE_UNAVAILABLE = "Game storage is unavailable, please try again"
AOF_ARGS = ("--appendonly", "yes", "--appendfsync", "always")


@pytest.fixture
def redis_server() -> Iterator[RedisProcess]:
    """A redis-server of this test alone, persisting every write (AOF, fsync always)."""
    with RedisProcess(*AOF_ARGS) as proc:
        yield proc


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    return tmp_path


#: (actor, message type, requestId): what names an action in the game log
Action = tuple[str, str, str]


@dataclass
class Ledger:
    """Every action a test sent with its requestId, and which of them were acknowledged."""

    sent: list[Action] = field(default_factory=list)
    acked: list[Action] = field(default_factory=list)

    async def send(self, client: Client, mtype: str, data: dict[str, Any] | None = None) -> Action:
        actor = actor_of(client)
        action = (actor, mtype, await client.send(mtype, data))
        self.sent.append(action)
        return action

    async def act(self, client: Client, mtype: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send and wait for the `state` reply; the action is then acknowledged."""
        action = await self.send(client, mtype, data)
        reply = await client.wait_for(lambda m: m.get("requestId") == action[2] and m["type"] in ("state", "error"), 10)
        assert reply["type"] == "state", f"{mtype} {data}: {reply}"
        self.acked.append(action)
        state: dict[str, Any] = reply["data"]
        return state

    def collect(self, senders: list[Client], pending: list[Action]) -> list[Action]:
        """Acknowledge those of `pending` that got a state reply; return the others."""
        answered = {m["requestId"] for c in senders for m in c.of_type("state") if "requestId" in m}
        self.acked.extend(a for a in pending if a[2] in answered and a not in self.acked)
        return [a for a in pending if a[2] not in answered]


async def assert_log_intact(r: Redis, gid: str, acked: list[Action]) -> list[dict[str, Any]]:
    """Versions 1..N without a gap, N the stored version, each acknowledged action exactly once."""
    log = await game_log(r, gid)
    state = await game_state(r, gid)
    assert [e["v"] for e in log] == list(range(1, state["version"] + 1))
    counts = Counter(e["a"] for e in log)
    missing = [a for a in acked if counts[action_id(*a)] != 1]
    assert missing == [], "acknowledged actions not in the log exactly once"
    return log


# -- instance death ------------------------------------------------------------------------


async def test_players_of_a_killed_instance_reconnect_elsewhere_and_no_acknowledged_action_is_lost(
    redis_server: RedisProcess, r: Redis, pool: Clients, log_dir: Path
) -> None:
    with services(redis_server.url, log_dir, 2, prefix="death") as (a, b):
        host, p2, p3, p4 = [await pool.connect(i.ws_url) for i in (a, a, b, b)]
        ledger = Ledger()
        create = await ledger.send(host, "create", {"settings": {"playerCount": 4}})
        created = await host.wait_for(lambda m: m["type"] == "created" and m.get("requestId") == create[2], 10)
        await host.reply(create[2], 10)
        ledger.acked.append(create)
        gid, host_token = created["data"]["gameId"], created["data"]["hostToken"]
        tokens = {1: await claim(host, gid, 1, join=False)}
        for pid, c in ((2, p2), (3, p3), (4, p4)):
            tokens[pid] = await claim(c, gid, pid)
        seat = {1: host, 2: p2, 3: p3, 4: p4}
        state = await ledger.act(host, "start")
        for _ in range(8):
            state = await ledger.act(seat[state["activePlayer"]], "passTurn")

        # a burst from instance A's players (each to a different player, so any order ends
        # the same), and A dies while it is in flight
        burst = [
            (host, {"playerId": 1, "life": 11}),
            (p2, {"playerId": 2, "life": 12}),
            (host, {"playerId": 4, "life": 14}),
        ]
        sent = [await ledger.send(c, "updatePlayer", data) for c, data in burst]
        await host.reply(sent[0][2], timeout=10)  # one is surely acknowledged; the others may be anywhere
        a.kill()
        unanswered = ledger.collect([host, p2], sent)
        assert sent[0] not in unanswered

        # B's players go on meanwhile
        await ledger.act(p3, "updatePlayer", {"playerId": 3, "life": 7})

        host2, p2b = await pool.connect(b.ws_url), await pool.connect(b.ws_url)
        back = await ledger.act(
            host2, "reconnect", {"gameId": gid, "playerId": 1, "token": tokens[1], "hostToken": host_token}
        )
        assert back["ownerId"] == host2.client_id
        await ledger.act(p2b, "reconnect", {"gameId": gid, "playerId": 2, "token": tokens[2]})
        # what got no reply is sent again by the same player, with the same requestId
        moved = {host: host2, p2: p2b}
        for (c, data), action in zip(burst, sent, strict=True):
            if action in unanswered:
                assert actor_of(moved[c]) == action[0]  # the same seat acts again
                await moved[c].send("updatePlayer", data, request_id=action[2])
                reply = await moved[c].reply(action[2], 10)
                assert reply["type"] == "state", reply
                ledger.acked.append(action)

        seat = {1: host2, 2: p2b, 3: p3, 4: p4}
        state = await game_state(r, gid)
        for _ in range(8):
            state = await ledger.act(seat[state["activePlayer"]], "passTurn")

        log = await assert_log_intact(r, gid, ledger.acked)
        # every action sent, acknowledged or not, was applied exactly once
        counts = Counter(e["a"] for e in log)
        assert {a: counts[action_id(*a)] for a in ledger.sent} == {a: 1 for a in ledger.sent}
        final = await game_state(r, gid)
        assert [p["life"] for p in final["players"]] == [11, 12, 7, 14]
        assert [p["claimedBy"] for p in final["players"]] == [c.client_id for c in (host2, p2b, p3, p4)]
        for c in (host2, p2b, p3, p4):
            await c.state_at_least(final["version"], timeout=10)


async def test_timeouts_and_warnings_still_fire_exactly_once_when_an_instance_dies_while_they_are_due(
    redis_server: RedisProcess, r: Redis, pool: Clients, log_dir: Path
) -> None:
    initial, thresholds, n_games = 1500, [1000, 500], 4
    with services(redis_server.url, log_dir, 3, prefix="due") as procs:
        hosts = await pool.connect_many([procs[0].ws_url] * n_games)
        watchers = await pool.connect_many([procs[1 + g % 2].ws_url for g in range(n_games)])
        games = await asyncio.gather(
            *(create_game(h, playerCount=2, initialTime=initial, warningThresholds=thresholds) for h in hosts)
        )
        gids = [gid for gid, _, _ in games]
        await asyncio.gather(*(ok(w, "join", {"gameId": gid}) for w, gid in zip(watchers, gids, strict=True)))
        started = await asyncio.gather(*(ok(h, "start") for h in hosts))
        await asyncio.sleep(0.7)  # past the first warning, before the second
        procs[0].kill()

        await asyncio.gather(*(w.wait_for(lambda m: m["type"] == "timeout", timeout=10) for w in watchers))
        await asyncio.sleep(1.0)  # room for any duplicate to show up
        for gid, w, st in zip(gids, watchers, started, strict=True):
            events = [m for m in w.messages if m["type"] in ("warning", "timeout")]
            fired = sorted((m["type"], m["data"].get("threshold", 0)) for m in events)
            assert fired == [("timeout", 0), ("warning", 500), ("warning", 1000)], gid
            state = await game_state(r, gid)
            assert (state["status"], state["players"][0]["penalties"]) == ("paused", 1)
            # a lease held by the dead instance may delay a deadline by at most the lease
            assert 0 <= state["serverTime"] - (st["data"]["serverTime"] + initial) <= LEASE_MS + 250


# -- exactly-once ------------------------------------------------------------------------------


class LossyProxy:
    """A TCP proxy in front of Redis. Armed with a marker, it forwards the next command that
    carries the marker, swallows Redis's reply and drops the client's connection instead."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = 0
        self.marker = b""
        self.armed = False
        self.seen = 0
        self.dropped = 0
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    def arm(self, marker: bytes) -> None:
        self.marker, self.armed, self.seen = marker, True, 0

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for t in list(self._conns):
            t.cancel()
        await asyncio.gather(*self._conns, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(self, creader: asyncio.StreamReader, cwriter: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        try:
            ureader, uwriter = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            cwriter.transport.abort()
            self._conns.discard(task)
            return
        drop = asyncio.Event()

        async def to_redis() -> None:
            tail = b""
            while data := await creader.read(65536):
                window = tail + data
                if self.marker and self.marker in window:
                    self.seen += 1
                    tail = b""
                    if self.armed:
                        self.armed = False
                        drop.set()  # before forwarding, so the reply cannot slip through
                else:
                    tail = window[-len(self.marker) :] if self.marker else b""
                uwriter.write(data)
                await uwriter.drain()

        async def to_client() -> None:
            while data := await ureader.read(65536):
                if drop.is_set():
                    self.dropped += 1
                    return
                cwriter.write(data)
                await cwriter.drain()

        pumps = [asyncio.create_task(to_redis()), asyncio.create_task(to_client())]
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for p in pumps:
                p.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            cwriter.transport.abort()
            uwriter.transport.abort()
            self._conns.discard(task)


@pytest_asyncio.fixture
async def proxied(redis_server: RedisProcess, log_dir: Path) -> AsyncIterator[tuple[LossyProxy, ServiceProcess]]:
    """One instance whose every Redis connection goes through a LossyProxy."""
    proxy = LossyProxy(redis_server.port)
    await proxy.start()
    procs: list[ServiceProcess] = []
    try:
        # start() blocks until ready, and readiness needs the proxy: run it off the event loop
        procs = await asyncio.to_thread(start_services, proxy.url, log_dir, 1, "proxied")
        yield proxy, procs[0]
    finally:
        kill_all(procs)
        await proxy.close()


async def test_an_action_whose_reply_is_lost_is_retried_by_redis_py_and_applied_once(
    proxied: tuple[LossyProxy, ServiceProcess], r: Redis, pool: Clients
) -> None:
    proxy, svc = proxied
    host = await pool.connect(svc.ws_url)
    gid, _, _ = await create_game(host, playerCount=3)
    await claim(host, gid, 1, join=False)
    before = await ok(host, "start")
    v0, llen0 = before["data"]["version"], await r.llen(keys.log(gid))

    rid = "lost-reply-pass"
    aid = action_id(actor_of(host), "passTurn", rid)
    proxy.arm(aid.encode())
    await host.send("passTurn", request_id=rid)
    reply = await host.reply(rid, timeout=10)

    # the script ran, its reply was dropped with the connection, redis-py sent it again
    assert (proxy.dropped, proxy.seen) == (1, 2)
    assert reply["type"] == "state"
    assert (reply["data"]["version"], reply["data"]["activePlayer"]) == (v0 + 1, 2)
    log = await game_log(r, gid)
    assert await r.llen(keys.log(gid)) == llen0 + 1
    assert [e["a"] for e in log].count(aid) == 1
    state = await game_state(r, gid)
    assert (state["version"], state["activePlayer"]) == (v0 + 1, 2)
    # the instance keeps working on fresh connections
    after = await ok(host, "passTurn")
    assert (after["data"]["version"], after["data"]["activePlayer"]) == (v0 + 2, 3)


async def test_an_action_resent_with_the_same_request_id_after_a_dropped_socket_is_applied_once(
    redis_server: RedisProcess, r: Redis, pool: Clients, log_dir: Path
) -> None:
    with services(redis_server.url, log_dir, 1, prefix="retry") as (svc,):
        host = await Client.connect(svc.ws_url)
        try:
            gid, host_token, _ = await create_game(host, playerCount=3)
            token = await claim(host, gid, 1, join=False)
            started = await ok(host, "start")
            assert started["data"]["activePlayer"] == 1
            rid = "resent-after-drop"
            actor = actor_of(host)
            await host.send("passTurn", request_id=rid)
        finally:
            await host.close()  # gone before reading the reply

        aid = action_id(actor, "passTurn", rid)
        for _ in range(200):
            if aid in {e["a"] for e in await game_log(r, gid)}:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the action sent before the socket closed was never applied")

        again = await pool.connect(svc.ws_url)
        rec = await again.request("reconnect", {"gameId": gid, "playerId": 1, "token": token, "hostToken": host_token})
        assert rec["type"] == "reconnected", rec
        assert actor_of(again) == actor
        await again.send("passTurn", request_id=rid)
        reply = await again.reply(rid, timeout=10)

        assert reply["type"] == "state"
        assert reply["data"]["activePlayer"] == 2
        log = await game_log(r, gid)
        assert [e["a"] for e in log].count(aid) == 1
        assert [e["t"] for e in log].count("switch") == 1
        assert [e["v"] for e in log] == list(range(1, len(log) + 1))
        assert (await game_state(r, gid))["activePlayer"] == 2


# -- Redis down, Redis restarted ---------------------------------------------------------------


async def test_while_redis_is_down_actions_get_a_clear_error_and_service_resumes_when_it_returns(
    redis_server: RedisProcess, r: Redis, pool: Clients, log_dir: Path
) -> None:
    with services(redis_server.url, log_dir, 1, prefix="outage") as (svc,):
        host = await pool.connect(svc.ws_url)
        watcher = await pool.connect(svc.ws_url)
        gid, _, _ = await create_game(host, playerCount=2)
        await ok(watcher, "join", {"gameId": gid})
        await ok(host, "start")
        v1 = (await ok(host, "passTurn"))["data"]["version"]
        await watcher.state_at_least(v1)

        redis_server.kill()
        loop = asyncio.get_running_loop()
        for c in (host, watcher):
            t0 = loop.time()
            reply = await c.request("passTurn", timeout=10)
            assert (reply["type"], reply["data"]) == (
                "error",
                {"message": STORAGE_UNAVAILABLE, "code": "STORAGE_UNAVAILABLE"},
            ), reply
            assert loop.time() - t0 < 6.0
        await wait_status(svc.url + "/ready", 503, timeout=10)
        assert await http_status(svc.url + "/health") == 200
        assert svc.proc is not None and svc.proc.poll() is None

        redis_server.start()
        await wait_status(svc.url + "/ready", 200, timeout=10)
        assert (await game_state(r, gid))["version"] == v1
        v2 = (await ok(host, "passTurn"))["data"]["version"]
        assert v2 == v1 + 1
        # fan-out through pub/sub reaches the other socket again
        seen = await watcher.state_at_least(v2, timeout=15)
        assert "requestId" not in seen
        assert [e["v"] for e in await game_log(r, gid)] == list(range(1, v2 + 1))


async def test_acknowledged_actions_survive_a_redis_kill_and_restart_with_aof(
    redis_server: RedisProcess, r: Redis, pool: Clients, log_dir: Path
) -> None:
    with services(redis_server.url, log_dir, 1, prefix="aof") as (svc,):
        host = await pool.connect(svc.ws_url)
        ledger = Ledger()
        gid, host_token, _ = await create_game(host, playerCount=4)
        token = await claim(host, gid, 1, join=False)
        await ledger.act(host, "start")
        for i in range(20):
            if i % 2:
                await ledger.act(host, "updatePlayer", {"playerId": (i % 4) + 1, "life": i})
            else:
                await ledger.act(host, "passTurn")
        before = await game_state(r, gid)
        log_before = await game_log(r, gid)

        redis_server.kill()
        redis_server.start()

        fresh = Redis.from_url(redis_server.url, decode_responses=True)
        try:
            assert await game_state(fresh, gid) == before
            assert await game_log(fresh, gid) == log_before
            await assert_log_intact(fresh, gid, ledger.acked)
        finally:
            await fresh.aclose()
        # players come back to the restarted store with the tokens they hold
        await wait_status(svc.url + "/ready", 200, timeout=10)
        back = await pool.connect(svc.ws_url)
        rec = await back.request("reconnect", {"gameId": gid, "playerId": 1, "token": token, "hostToken": host_token})
        assert rec["type"] == "reconnected", rec
        state = await back.state_at_least(before["version"])
        assert [p["life"] for p in state["data"]["players"]] == [p["life"] for p in before["players"]]
