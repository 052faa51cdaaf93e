"""The limits of real service processes: budgets shared across instances (through Redis, or for
frames each instance's share of the live-instance count), the client address (spoofed headers
ignored, a trusted proxy header believed), the socket cap, games per hour, the per-socket frame
rate, and failing open when Redis is gone.

The instances of this module run on a redis-server of the module's, each with the limits under
test set small and every other limit off (stack/presets.py); the two that share a frame budget
have a redis-server of their own, so that the live-instance count their shares come from is 2.
Budgets live in Redis, so each test starts by deleting the rate-limit keys (never FLUSHALL: an
instance that finds its own heartbeat gone takes itself for dead and closes its sockets).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import math
import os
import random
import re
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from service import keys
from stack.client import Client
from stack.instance import ServiceProcess
from stack.redis_server import RedisProcess
from tests.support.instances import kill_all, wait_status

pytestmark = pytest.mark.slow

RATE_LIMITED = "Rate limit exceeded"
STORAGE_UNAVAILABLE = "Game storage is unavailable, please try again"
TOO_MANY_CONNECTIONS = "Too Many Requests: Too many open connections"
CONNECTION_RATE = "Too Many Requests: Connection rate limit exceeded"
GAME_KEY = re.compile(r"tot:\{[A-Z2-9]{6}\}")
#: no deadline is due in these tests: poll rarely, so idle instances leave the CPU to the bursts
QUIET = {"DEADLINE_POLL_MS": "1000", "DRAIN_TIMEOUT_S": "1"}


@dataclass
class Instances:
    a: ServiceProcess  # a and b, alone on their Redis: 10 frames/s and 3 upgrades/min per address, shared
    b: ServiceProcess
    pair_url: str  # a's and b's Redis
    fly: ServiceProcess  # 3 upgrades/min per address, address from Fly-Client-IP
    capped: ServiceProcess  # 2 open sockets per address (and 1000 upgrades/min, as in production both on)
    games: ServiceProcess  # 2 games/hour per address, 5 frames/s per socket


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisProcess]:
    with RedisProcess() as proc:
        yield proc


@pytest.fixture(scope="module")
def pair_redis() -> Iterator[RedisProcess]:
    with RedisProcess() as proc:
        yield proc


@pytest.fixture(scope="module")
def instances(
    redis_server: RedisProcess, pair_redis: RedisProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Instances]:
    log_dir: Path = tmp_path_factory.mktemp("limits-logs")
    url = redis_server.url
    # a heartbeat a second, so both count each other soon after they start
    shared = {"RATE_LIMIT_MESSAGES_PER_S": "10", "RATE_LIMIT_CONNECTIONS_PER_MIN": "3", "INSTANCE_DEAD_AFTER_S": "3"}
    procs = Instances(
        a=ServiceProcess(pair_redis.url, log_dir, "lim-a", **QUIET, **shared),
        b=ServiceProcess(pair_redis.url, log_dir, "lim-b", **QUIET, **shared),
        pair_url=pair_redis.url,
        fly=ServiceProcess(
            url, log_dir, "lim-fly", **QUIET, RATE_LIMIT_CONNECTIONS_PER_MIN="3", CLIENT_IP_HEADER="Fly-Client-IP"
        ),
        capped=ServiceProcess(
            url, log_dir, "lim-cap", **QUIET, MAX_SOCKETS_PER_IP="2", RATE_LIMIT_CONNECTIONS_PER_MIN="1000"
        ),
        games=ServiceProcess(
            url, log_dir, "lim-games", **QUIET, RATE_LIMIT_GAMES_PER_HOUR="2", RATE_LIMIT_SOCKET_MESSAGES_PER_S="5"
        ),
    )
    every = [procs.a, procs.b, procs.fly, procs.capped, procs.games]
    try:
        with ThreadPoolExecutor(max_workers=len(every)) as pool:
            for fut in [pool.submit(p.start) for p in every]:
                fut.result()
        yield procs
    finally:
        kill_all(every)


async def scan(r: Redis, match: str) -> set[str]:
    return {k async for k in r.scan_iter(match=match, count=1000)}


@pytest_asyncio.fixture
async def pair_r(instances: Instances) -> AsyncIterator[Redis]:
    """A client of a's and b's Redis."""
    client = Redis.from_url(instances.pair_url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


@pytest_asyncio.fixture
async def fresh(r: Redis, pair_r: Redis) -> Redis:
    """The module's Redis (returned) and a's and b's with every rate-limit budget full again."""
    for client in (r, pair_r):
        stale = await scan(client, "tot:rl:*")
        if stale:
            await client.delete(*stale)
    return r


@pytest_asyncio.fixture
async def opened() -> AsyncIterator[list[Client]]:
    """Clients a test opens; every one is closed at teardown."""
    out: list[Client] = []
    try:
        yield out
    finally:
        await asyncio.gather(*(c.close() for c in out), return_exceptions=True)


async def connect(opened: list[Client], svc: ServiceProcess, headers: dict[str, str] | None = None) -> Client:
    c = await Client.connect(svc.ws_url, headers=headers or {})
    opened.append(c)
    return c


@dataclass
class Handshake:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: str


async def handshake(svc: ServiceProcess, headers: dict[str, str] | None = None) -> Handshake:
    """One WebSocket upgrade by hand, to see a refusal's status, headers and body text; an
    accepted upgrade (101) is dropped at once."""
    reader, writer = await asyncio.open_connection("127.0.0.1", svc.port)
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            "GET / HTTP/1.1",
            f"Host: 127.0.0.1:{svc.port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
            *(f"{k}: {v}" for k, v in (headers or {}).items()),
        ]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await writer.drain()
        head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)).decode("latin-1")
        status_line, *header_lines = head.strip().split("\r\n")
        fields = dict(line.split(":", 1) for line in header_lines)
        hdrs = {k.strip().lower(): v.strip() for k, v in fields.items()}
        body = b""
        if "content-length" in hdrs:
            body = await asyncio.wait_for(reader.readexactly(int(hdrs["content-length"])), 5)
        return Handshake(int(status_line.split()[1]), hdrs, body.decode())
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def random_ip(rng: random.Random) -> str:
    return ".".join(str(rng.randrange(1, 255)) for _ in range(4))


async def counter(svc: ServiceProcess, name: str, **labels: str) -> float:
    """One sample of the instance's /metrics (0 when the labelled series does not exist yet)."""
    async with aiohttp.ClientSession() as session, session.get(svc.url + "/metrics") as resp:
        text = await resp.text()
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return float(s.value)
    return 0.0


def assert_retry_after(refusal: Handshake, interval_s: int, elapsed_s: float) -> None:
    """A refused upgrade names when the next one is allowed: the emission interval of the
    limit less the time since the first unit of the burst, rounded up to whole seconds."""
    assert (refusal.status, refusal.body) == (429, CONNECTION_RATE), refusal
    retry = int(refusal.headers["retry-after"])
    assert math.ceil(interval_s - elapsed_s) <= retry <= interval_s, (retry, elapsed_s)


@dataclass
class Burst:
    accepted: list[str]
    refused: list[str]
    span_s: float


async def burst(senders: list[tuple[Client, int]]) -> Burst:
    """Every client sends its `time` frames back to back, all clients at once; each frame's
    reply is sorted into accepted (a `time` reply) and refused (`Rate limit exceeded`)."""
    t0 = time.monotonic()

    async def send(c: Client, n: int) -> list[str]:
        return [await c.send("time", {"clientTime": i}) for i in range(n)]

    rids = await asyncio.gather(*(send(c, n) for c, n in senders))
    replies = await asyncio.gather(*(c.reply(rid) for (c, _), ids in zip(senders, rids, strict=True) for rid in ids))
    span = time.monotonic() - t0
    out = Burst([], [], span)
    for m in replies:
        if m["type"] == "time":
            out.accepted.append(m["requestId"])
        else:
            assert (m["type"], m["data"]) == ("error", {"message": RATE_LIMITED, "code": "RATE_LIMITED"}), m
            out.refused.append(m["requestId"])
    # one reply per frame, none lost, none doubled
    for (c, _), ids in zip(senders, rids, strict=True):
        answered = [m["requestId"] for m in c.messages if m.get("requestId") in set(ids)]
        assert sorted(answered) == sorted(ids)
    return out


def assert_burst_allowed(b: Burst, burst_size: int, interval_s: float) -> None:
    """A GCRA budget lets exactly `burst_size` through at once, plus one more per interval
    that passed meanwhile; the client-side span bounds the time the server took."""
    extra = int(b.span_s // interval_s)
    assert burst_size <= len(b.accepted) <= burst_size + extra, (len(b.accepted), b.span_s)
    if b.span_s < interval_s:
        assert len(b.accepted) == burst_size


# -- one budget across instances -------------------------------------------------------------


async def wait_counted(pair: list[ServiceProcess], live: int) -> None:
    """Until every instance of `pair` divides its frame budgets by `live` (its heartbeat counted them)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + 10
    while [await counter(p, "tapotarp_rate_limit_instances") for p in pair] != [live] * len(pair):
        assert loop.time() < end, "the instances did not count each other within 10 s"
        await asyncio.sleep(0.1)


async def test_two_instances_share_one_frame_budget_per_address(
    instances: Instances, fresh: Redis, pair_r: Redis, opened: list[Client]
) -> None:
    pair = [instances.a, instances.b]
    await wait_counted(pair, 2)
    on_a = await connect(opened, instances.a)
    on_b = await connect(opened, instances.b)
    refused_before = [await counter(p, "tapotarp_rate_limit_exceeded_total", type="ip") for p in pair]

    # each instance alone would let its client's 10 frames through: together they get 10,
    # 5 here and 5 there, each instance then one more every 0.2 s (together one every 0.1 s)
    result = await burst([(on_a, 10), (on_b, 10)])

    assert_burst_allowed(result, 10, 0.1)
    assert len(result.accepted) + len(result.refused) == 20
    refused_after = [await counter(p, "tapotarp_rate_limit_exceeded_total", type="ip") for p in pair]
    refused_each = [after - before for after, before in zip(refused_after, refused_before, strict=True)]
    assert sum(refused_each) == len(result.refused)
    if result.span_s < 0.2:
        assert refused_each == [5, 5]
    # the frames never asked Redis: the only budget there is the upgrades'
    assert await scan(pair_r, "tot:rl:*") == {keys.rate_limit("127.0.0.1", "connection")}
    assert [await counter(p, "tapotarp_rate_limit_addresses") for p in pair] == [1, 1]


async def test_two_instances_share_one_connection_budget_per_address(
    instances: Instances, fresh: Redis, opened: list[Client]
) -> None:
    t0 = time.monotonic()
    for svc in (instances.a, instances.b, instances.a):
        await connect(opened, svc)
    fourth = await handshake(instances.b)
    # 3 a minute: one every 20 s once the burst of 3 is spent
    assert_retry_after(fourth, 20, time.monotonic() - t0)
    # a refusal costs nothing: the next attempt, on the other instance, waits no longer
    fifth = await handshake(instances.a)
    assert_retry_after(fifth, 20, time.monotonic() - t0)
    assert await counter(instances.b, "tapotarp_rate_limit_exceeded_total", type="connection") >= 1


# -- the client address ---------------------------------------------------------------------


async def test_a_spoofed_x_forwarded_for_does_not_buy_a_new_budget(
    instances: Instances, fresh: Redis, pair_r: Redis, opened: list[Client]
) -> None:
    rng = random.Random(7)
    t0 = time.monotonic()
    for _ in range(3):
        await connect(opened, instances.a, {"X-Forwarded-For": random_ip(rng)})
    refusal = await handshake(instances.a, {"X-Forwarded-For": random_ip(rng), "X-Real-IP": random_ip(rng)})
    assert_retry_after(refusal, 20, time.monotonic() - t0)
    # every attempt was charged to the peer address, and only to it
    assert await scan(pair_r, "tot:rl:*") == {keys.rate_limit("127.0.0.1", "connection")}


async def test_a_configured_client_ip_header_gives_each_address_its_own_budget_and_x_forwarded_for_stays_ignored(
    instances: Instances, fresh: Redis, opened: list[Client]
) -> None:
    fly = instances.fly
    rng = random.Random(11)
    one, two = "203.0.113.7", "203.0.113.8"
    t0 = time.monotonic()
    for _ in range(3):
        await connect(opened, fly, {"Fly-Client-IP": one, "X-Forwarded-For": random_ip(rng)})
    refusal = await handshake(fly, {"Fly-Client-IP": one, "X-Forwarded-For": random_ip(rng)})
    assert_retry_after(refusal, 20, time.monotonic() - t0)
    # another address behind the proxy has its own budget, as has the peer itself without the header
    for _ in range(3):
        await connect(opened, fly, {"Fly-Client-IP": two})
    await connect(opened, fly)
    await connect(opened, fly, {"Fly-Client-IP": "not-an-ip", "X-Forwarded-For": one})
    assert (await handshake(fly, {"Fly-Client-IP": two})).status == 429
    assert await scan(fresh, "tot:rl:*") == {
        keys.rate_limit(one, "connection"),
        keys.rate_limit(two, "connection"),
        keys.rate_limit("127.0.0.1", "connection"),
    }


# -- open sockets per address ---------------------------------------------------------------


async def test_the_third_concurrent_socket_of_an_address_is_refused_until_one_closes(
    instances: Instances, fresh: Redis, opened: list[Client]
) -> None:
    capped = instances.capped
    first = await connect(opened, capped)
    await connect(opened, capped)
    third = await handshake(capped)
    assert (third.status, third.body) == (429, TOO_MANY_CONNECTIONS)

    await first.close()
    # the server frees the slot once its side of the socket is done: poll with a deadline,
    # and every refusal meanwhile is the socket cap's
    loop = asyncio.get_running_loop()
    end = loop.time() + 5
    while True:
        try:
            await connect(opened, capped)
            break
        except aiohttp.WSServerHandshakeError as exc:
            assert exc.status == 429
            assert loop.time() < end, "the closed socket's slot was not freed within 5 s"
            await asyncio.sleep(0.02)
    again = await handshake(capped)
    assert (again.status, again.body) == (429, TOO_MANY_CONNECTIONS)
    async with aiohttp.ClientSession() as session, session.get(capped.url + "/health") as resp:
        assert (await resp.json())["activeConnections"] == 2


async def test_concurrent_upgrades_of_one_address_cannot_open_more_sockets_than_the_cap(
    instances: Instances, fresh: Redis, opened: list[Client]
) -> None:
    """With a connection rate limit on (as by default), each upgrade waits on Redis for the
    rate check; the socket slot must be taken before that wait, or every upgrade of a burst
    passes the cap while the others wait."""
    capped = instances.capped

    async def attempt() -> Client | int:
        try:
            return await connect(opened, capped)
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status

    results = await asyncio.gather(*(attempt() for _ in range(10)))
    accepted = [c for c in results if isinstance(c, Client)]
    refused = [status for status in results if isinstance(status, int)]
    assert refused == [429] * len(refused)
    async with aiohttp.ClientSession() as session, session.get(capped.url + "/health") as resp:
        open_now = (await resp.json())["activeConnections"]
    assert len(accepted) == 2, (
        f"MAX_SOCKETS_PER_IP=2 but {len(accepted)} of 10 concurrent upgrades were accepted ({open_now} sockets open)"
    )


# -- games per hour -------------------------------------------------------------------------


async def test_the_third_game_of_the_hour_is_refused_and_not_created(
    instances: Instances, fresh: Redis, opened: list[Client]
) -> None:
    before = {k for k in await scan(fresh, "tot:{*}") if GAME_KEY.fullmatch(k)}
    first, second = await connect(opened, instances.games), await connect(opened, instances.games)
    created = []
    for c in (first, first):
        rid = await c.send("create", {"settings": {"playerCount": 2}})
        reply = await c.reply(rid)
        assert reply["type"] == "created", reply
        created.append(keys.game(reply["data"]["gameId"]))
    # the third, from another socket of the same address
    rid = await second.send("create", {"settings": {"playerCount": 3}})
    refusal = await second.reply(rid)
    assert refusal == {"type": "error", "data": {"message": RATE_LIMITED, "code": "RATE_LIMITED"}, "requestId": rid}
    assert [m for m in second.messages if m["type"] in ("created", "state")] == []
    after = {k for k in await scan(fresh, "tot:{*}") if GAME_KEY.fullmatch(k)}
    assert after - before == set(created)
    assert len(set(created)) == 2


# -- frames per socket ----------------------------------------------------------------------


async def test_a_socket_gets_five_frames_a_second_and_another_socket_of_the_address_its_own_five(
    instances: Instances, fresh: Redis, opened: list[Client]
) -> None:
    flooder = await connect(opened, instances.games)
    other = await connect(opened, instances.games)
    flood = await burst([(flooder, 20)])
    assert_burst_allowed(flood, 5, 0.2)
    # the per-socket budget is the socket's: the other socket of the address still has 5
    calm = await burst([(other, 5)])
    assert (len(calm.accepted), calm.refused) == (5, [])


# -- Redis gone ------------------------------------------------------------------------------


async def test_with_redis_down_the_limits_fail_open_and_frames_get_the_storage_error(
    tmp_path: Path, opened: list[Client]
) -> None:
    with RedisProcess() as redis:
        svc = ServiceProcess(
            redis.url,
            tmp_path,
            "failopen",
            **QUIET,
            RATE_LIMIT_CONNECTIONS_PER_MIN="1",
            RATE_LIMIT_GAMES_PER_HOUR="1",
        )
        svc.start()
        try:
            # the limits are in force: the second upgrade of the minute is refused
            await connect(opened, svc)
            assert (await handshake(svc)).status == 429

            redis.stop()
            # no Redis to ask: upgrades and frames are let through, past every budget
            late = [await connect(opened, svc) for _ in range(3)]
            gid = keys.new_game_id()
            answers: list[dict[str, Any]] = []
            for c in late:
                answers.append(await c.request("join", {"gameId": gid}, timeout=10))
                answers.append(await c.request("create", {"settings": {}}, timeout=10))
                answers.append(await c.request("time", {"clientTime": 5}, timeout=10))
            kinds = [(m["type"], m["data"].get("message")) for m in answers]
            assert kinds == [("error", STORAGE_UNAVAILABLE), ("error", STORAGE_UNAVAILABLE), ("time", None)] * 3
            assert await counter(svc, "tapotarp_rate_limiter_errors_total") >= 1
            assert await counter(svc, "tapotarp_rate_limit_exceeded_total", type="create") == 0

            # Redis back on the same port: the limits hold again
            redis.start()
            await wait_status(svc.url + "/ready", 200, 10)
            loop = asyncio.get_running_loop()
            end = loop.time() + 5
            while (attempt := await handshake(svc)).status == 101:
                assert loop.time() < end, "upgrades still unlimited 5 s after Redis came back"
                await asyncio.sleep(0.05)
            assert (attempt.status, attempt.body) == (429, CONNECTION_RATE)
        finally:
            svc.kill()
