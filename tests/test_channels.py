"""service/channels.py: node addresses, and a cluster's subscriptions surviving a node's restart.

The full fan-out over a real Cluster is exercised by tests/test_multi_instance.py; here one
node of a real 3-primary cluster is restarted under the listener, which must rebuild its
connections and report the gap so that the hub re-reads what it may have missed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import pytest
from redis.asyncio.cluster import RedisCluster

from service import keys
from service.channels import ClusterChannels, SingleChannels, node_client_factory, node_url
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
