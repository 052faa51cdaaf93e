"""service/channels.py: node addresses, and a cluster's subscriptions surviving a node's restart.

The full fan-out over a real Cluster is exercised by tests/test_multi_instance.py; here one
node of a real 3-primary cluster is restarted under the listener, which must rebuild its
connections and report the gap so that the hub re-reads what it may have missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator

import pytest
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from tenacity import AsyncRetrying, RetryCallState, wait_fixed

from service import channels as channels_module
from service import keys
from service.channels import RESUBSCRIBE_WAIT, ClusterChannels, SingleChannels, node_client_factory, node_url
from stack.redis_server import RedisProcess
from stack.topologies import ClusterSet


@pytest.mark.parametrize(
    ("url", "host", "port", "expected"),
    [
        ("redis://seed:7000", "10.0.0.2", 7001, "redis://10.0.0.2:7001"),
        ("rediss://user:pw@seed:7000/0", "10.0.0.2", 7001, "rediss://user:pw@10.0.0.2:7001"),
        ("redis://:pw@seed:7000?protocol=3", "::1", 7002, "redis://:pw@[::1]:7002?protocol=3"),
    ],
)
def test_a_node_url_keeps_credentials_scheme_and_options_and_swaps_the_address(
    url: str, host: str, port: int, expected: str
) -> None:
    assert node_url(url, host, port) == expected


@pytest.fixture(scope="module")
def cluster() -> Iterator[ClusterSet]:
    with ClusterSet() as c:
        yield c


class Recorder:
    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []
        self.gaps = 0
        self.new = asyncio.Event()

    def on_message(self, channel: str, payload: str) -> None:
        self.messages.append((channel, payload))
        self.new.set()

    async def on_gap(self) -> None:
        self.gaps += 1

    async def wait(self, n: int, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.messages) < n:
                self.new.clear()
                await self.new.wait()


def spread_games(cluster_client: RedisCluster, per_node: int) -> list[str]:
    """Game ids whose channels land `per_node` on each primary."""
    by_node: dict[str, list[str]] = {}
    n = 0
    while min((len(v) for v in by_node.values()), default=0) < per_node or len(by_node) < 3:
        gid = keys.new_game_id(seed=f"spread-{n}".encode())
        n += 1
        node = cluster_client.get_node_from_key(keys.channel(gid))
        assert node is not None
        by_node.setdefault(node.name, []).append(gid)
    return [g for v in by_node.values() for g in v[:per_node]]


async def test_sharded_channels_on_every_primary_deliver_and_survive_a_node_restart(cluster: ClusterSet) -> None:
    client = RedisCluster.from_url(cluster.url, decode_responses=True)
    channels = ClusterChannels(client, node_client_factory(cluster.url, decode_responses=True))
    rec = Recorder()
    try:
        await channels.start(rec.on_message, rec.on_gap)
        await client.initialize()
        gids = spread_games(client, 2)
        for gid in gids:
            await channels.add(keys.channel(gid))
        assert len(channels.listeners) == 3
        for i, gid in enumerate(gids):
            await client.execute_command("SPUBLISH", keys.channel(gid), f"m{i}")
        await rec.wait(len(gids))
        assert sorted(rec.messages) == sorted((keys.channel(g), f"m{i}") for i, g in enumerate(gids))

        # one primary goes away and comes back (same port, no replica takes over)
        victim: RedisProcess = cluster.node_for_slot(client.keyslot(keys.channel(gids[0])))
        victim.kill()
        victim.start()
        await asyncio.sleep(0.1)
        deadline = asyncio.get_running_loop().time() + 15
        delivered = len(rec.messages)
        # publishing until the rebuilt listener hears it: the rebuild runs on its own time
        while len(rec.messages) == delivered:
            assert asyncio.get_running_loop().time() < deadline, "no delivery after the node came back"
            with contextlib.suppress(Exception):
                await client.execute_command("SPUBLISH", keys.channel(gids[0]), "after")
            await asyncio.sleep(0.2)
        assert rec.messages[-1] == (keys.channel(gids[0]), "after")
        assert rec.gaps >= 1
        # and the channels on the other primaries still deliver
        await client.execute_command("SPUBLISH", keys.channel(gids[-1]), "others")
        await rec.wait(len(rec.messages) + 1)
        assert (keys.channel(gids[-1]), "others") in rec.messages

        await channels.remove(keys.channel(gids[-1]))
        assert keys.channel(gids[-1]) not in channels.wanted
    finally:
        await channels.stop()
        await client.aclose()


async def test_single_channels_refuse_use_before_start() -> None:
    channels = SingleChannels(client=None)
    with pytest.raises(RuntimeError, match="not started"):
        await channels.add("x")


# -- one Redis going away and coming back --------------------------------------------------


@pytest.fixture
def redis_server() -> Iterator[RedisProcess]:
    with RedisProcess() as proc:
        yield proc


def plain_client(url: str) -> aioredis.Redis:
    # no retries of redis-py's own: each failure reaches the listener's loop at once
    return aioredis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():  # noqa: ASYNC110 (log records come with no event to wait on)
            await asyncio.sleep(0.02)


async def test_an_outage_logs_one_warning_then_debug_lines_then_one_info_and_delivery_resumes(
    redis_server: RedisProcess, caplog: pytest.LogCaptureFixture
) -> None:
    client = plain_client(redis_server.url)
    channels = SingleChannels(client)
    rec = Recorder()
    with caplog.at_level(logging.DEBUG, logger="service.channels"):
        try:
            await channels.start(rec.on_message, rec.on_gap)
            await channels.add("ch")
            await client.publish("ch", "before")
            await rec.wait(1)

            redis_server.kill()

            def attempts() -> int:
                return sum(r.levelno == logging.DEBUG and "still down" in r.getMessage() for r in caplog.records)

            # a few failed attempts while Redis is away (0.1, 0.2, 0.4 s … apart)
            await eventually(lambda: attempts() >= 3)
            redis_server.start()
            await eventually(lambda: any(r.levelno == logging.INFO for r in caplog.records))
            # one gap per outage: the pool's connection, reused by the new pub/sub, must not
            # report its connect as a second reconnect
            assert rec.gaps == 1
            # (a client of its own: this one's pooled connection died with the server)
            async with plain_client(redis_server.url) as publisher:
                await publisher.publish("ch", "after")
            await rec.wait(2)
            assert rec.messages[-1] == ("ch", "after")
        finally:
            await channels.stop()
            await client.aclose()

    ours = [r for r in caplog.records if r.name == "service.channels"]
    loud = [(r.levelname, r.getMessage()) for r in ours if r.levelno >= logging.INFO]
    assert len(loud) == 2, loud
    assert loud[0][0] == "WARNING" and loud[0][1].startswith("pub/sub pubsub lost (ConnectionError")
    assert loud[1] == ("INFO", "pub/sub pubsub subscribed again")
    assert not [r for r in ours if r.exc_info]


async def test_a_listener_stopped_during_its_pause_stops_at_once_and_tries_nothing_more(
    redis_server: RedisProcess, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(channels_module, "RESUBSCRIBE_WAIT", wait_fixed(30))
    client = plain_client(redis_server.url)
    channels = SingleChannels(client)
    rec = Recorder()
    with caplog.at_level(logging.DEBUG, logger="service.channels"):
        await channels.start(rec.on_message, rec.on_gap)
        await channels.add("ch")
        redis_server.kill()
        try:
            await eventually(lambda: any(r.levelno == logging.WARNING for r in caplog.records))
            # the listener now sleeps 30 s before its next attempt
            listener = channels._live()
            assert listener._task is not None and not listener._task.done()
            async with asyncio.timeout(1.0):
                await channels.stop()
            assert listener._task.cancelled()
            logged = len(caplog.records)
            redis_server.start()
            await asyncio.sleep(0.3)
            assert len(caplog.records) == logged
            assert rec.gaps == 0
        finally:
            await client.aclose()


def test_the_pauses_between_resubscribe_attempts_double_up_to_5s_with_jitter() -> None:
    state = RetryCallState(AsyncRetrying(), fn=None, args=(), kwargs={})
    draws = {}
    for n in range(1, 9):
        state.attempt_number = n
        draws[n] = [RESUBSCRIBE_WAIT(state) for _ in range(50)]
    for n, values in draws.items():
        base = min(0.1 * 2 ** (n - 1), 5.0)
        assert all(base <= v <= base + 0.25 for v in values), (n, values)
        assert len(set(values)) > 1, "no jitter"
    assert min(draws[8]) >= 5.0
