"""The Redis client: one server, a Sentinel-managed primary, a Cluster, or the embedded engine.

The same code runs on all four; only the client object and the pub/sub arrangement differ.
Every script touches the keys of one game (or one client address), all hash-tagged alike,
so each runs in one Cluster slot; game channels are hash-tagged the same way and, in a
Cluster, published with SPUBLISH so that a commit travels only within its shard.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from redis._parsers.commands import AsyncCommandsParser
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import MasterNotFoundError, Sentinel, SentinelConnectionPool
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from service.channels import Channels, ClusterChannels, SingleChannels, node_client_factory
from service.settings import Settings

log = logging.getLogger(__name__)

#: connections in each pool (per Redis node)
POOL_CONNECTIONS = 256
#: of which game scripts may hold at most POOL_CONNECTIONS - CONTROL_RESERVE at once
#: (GameStore's in-flight bound): the heartbeat and the Redis probe, which use the client
#: directly, always find a connection. When actions queued on a saturated Redis took every
#: connection, an instance's heartbeat waited for one past INSTANCE_DEAD_AFTER_S, and the
#: other instances declared it dead while it still served 12,000 sockets (6,000 games here).
CONTROL_RESERVE = 16

#: maxmemory policies that never delete a key on their own
NON_EVICTING_POLICIES = ("noeviction",)

#: the sentinel channels that announce a failover: due (quorum agrees the primary is down),
#: begun, given up because the primary came back, and done
FAILOVER_ANNOUNCEMENTS = ("+odown", "+try-failover", "-odown", "+switch-master")


@dataclass
class Backend:
    """The client every module shares, and how game channels are subscribed."""

    client: Any
    channels: Channels
    #: publish game commits with SPUBLISH (a Cluster) rather than PUBLISH
    sharded: bool
    mode: str
    #: closed after the client: the sentinel connections
    extras: list[Any] = field(default_factory=list)

    #: the primary follow_primary last found (Sentinel only)
    primary: tuple[str, int] | None = None
    #: how often follow_primary fenced a primary being failed over, and how often the
    #: primary it follows changed (including back after a fence)
    fences: int = 0
    changes: int = 0
    #: the primary followed before the current one (a fence does not forget it)
    last_primary: tuple[str, int] | None = None
    #: run after the primary changed: the caches re-read their games from the new one
    on_primary_change: Callable[[], Coroutine[Any, Any, None]] | None = None
    #: one subscription to the failover announcements per sentinel (await_switch)
    _switches: list[Any] = field(default_factory=list)
    _following: asyncio.Lock = field(default_factory=asyncio.Lock)
    _reread: asyncio.Task[None] | None = None

    @property
    def primary_epoch(self) -> int:
        """Goes up with every fence and every change of primary: a reply read across a change
        may come from a primary whose writes the failover throws away."""
        return self.fences + self.changes

    async def follow_primary(self) -> bool:
        """Sentinel only: ask who the primary is, and on a change cut every connection.
        True when it changed since the last look, or no primary is named just now."""
        # the poll and each sentinel's announcement may ask at once: one look at a time
        async with self._following:
            return await self._follow_primary()

    async def _follow_primary(self) -> bool:
        """redis-py asks the sentinels only when it opens a connection, and a demoted primary
        goes on accepting writes until Sentinel reconfigures it, seconds later; every write
        it takes meanwhile is lost when it resyncs as a replica. So the instance asks twice
        a second and, when the answer changes, drops its connections, in use or idle: their
        commands fail over to the new primary through the client's retries.
        """
        pool = self.client.connection_pool
        try:
            address = tuple(await pool.get_master_address())
        except PrimaryFenced as exc:
            # a failover of the primary has begun: the replies still to come from it may be
            # of writes the failover will throw away, so none of them is read (fencing)
            pool.fenced = True
            if self.primary is not None:
                log.warning("%s; dropping every connection to it", exc)
                self.primary = None
                self.fences += 1
                await pool.disconnect(inuse_connections=True)
            return True
        except MasterNotFoundError:
            # between primaries: commands fail with the storage error until one is elected
            return True
        pool.fenced = False
        before, self.primary = self.primary, (str(address[0]), int(address[1]))
        if before is not None and self.primary != before:
            await pool.disconnect(inuse_connections=True)
        previous, self.last_primary = self.last_primary, self.primary
        if previous is not None and previous != self.primary:
            self.changes += 1
            log.warning("Sentinel names a new primary %s:%s (was %s:%s); following it", *self.primary, *previous)
            if self.on_primary_change is not None:
                # not under the lock: re-reading the games may itself ask who the primary is
                self._reread = asyncio.get_running_loop().create_task(self.on_primary_change())
        return self.primary != before

    async def await_switch(self, wait_s: float = 1.0) -> bool:
        """Sentinel only: wait up to `wait_s` for a sentinel to announce that a failover is
        due, has begun, was given up or is done (FAILOVER_ANNOUNCEMENTS) and follow it at
        once. True when one was announced.

        The twice-a-second poll (follow_primary) leaves up to half a second in which a
        primary that hung and woke up during its failover still answers this instance's
        commands, and it acknowledges writes the failover then throws away. The announcement
        closes that window to the time the message takes to arrive: the fence is up before
        the primary wakes, since the sentinels decide it is down while it still hangs.
        """

        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s

        async def listen(ps: Any) -> bool:
            heard = False
            # to the deadline, not to the first message: a failover is announced in steps
            # (down, begun, done), each of which changes what follow_primary decides
            while (left := deadline - loop.time()) > 0:
                # None also for a subscription's confirmation, before the deadline
                if await ps.get_message(ignore_subscribe_messages=True, timeout=left) is None:
                    continue
                heard = True
                # followed as soon as this sentinel speaks, not when the others' waits end
                await self.follow_primary()
            return heard

        try:
            if not self._switches:
                for sentinel_client in self.extras[0].sentinels:
                    ps = sentinel_client.pubsub()
                    self._switches.append(ps)
                    await ps.subscribe(*FAILOVER_ANNOUNCEMENTS)
            done = await asyncio.gather(*(listen(ps) for ps in self._switches))
        except Exception:
            # a sentinel went away: subscribe afresh next time (the poll still follows)
            await self._drop_switches()
            raise
        return any(done)

    async def _drop_switches(self) -> None:
        subs, self._switches = self._switches, []
        for ps in subs:
            with contextlib.suppress(Exception):
                await ps.aclose()

    async def aclose(self) -> None:
        await self._drop_switches()
        await self.channels.stop()
        for c in (self.client, *self.extras):
            with contextlib.suppress(Exception):
                await (c.close_all() if isinstance(c, StableCluster) else c.aclose())


def _flags(state: dict[str, Any]) -> set[str]:
    flags = state.get("flags", "")
    return set(flags) if isinstance(flags, set) else set(str(flags).split(","))


class PrimaryFenced(MasterNotFoundError):
    """A sentinel has begun failing the primary over: no server is to take writes now."""


#: the flags with which a sentinel says a failover of that primary has begun or is due
FENCING_FLAGS = frozenset({"o_down", "failover_in_progress"})


class NewestConfigSentinel(Sentinel):
    """Asks every sentinel, follows the newest configuration (highest config-epoch) only, and
    names no primary at all while any sentinel is failing it over.

    redis-py takes the first sentinel that names a healthy primary. Right after a failover a
    sentinel that has not heard of it yet still names the old primary, and to that sentinel a
    primary that was failed over while it hung looks healthy again once it wakes. Following
    that answer sends writes to a server about to become a replica, which loses them; with
    the epoch rule an instance never goes back to a primary an election has replaced.

    The fence covers the time before the new epoch is known. A primary that hangs past
    down-after and wakes after a replica was promoted, but before the sentinels reconfigure
    the other replica, still has that replica attached: it meets min-replicas-to-write and
    acknowledges writes that the resync then throws away. Meanwhile the sentinels that are not
    leading the failover see it answer again and call it healthy, in the old epoch; only the
    leader says otherwise (failover_in_progress, o_down). So one such sentinel is enough to
    refuse that address, whatever the others say.
    """

    #: addresses fenced by the last answers (see discover_master)
    fenced: set[tuple[str, int]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call, unused-ignore]
        self.fenced = set()

    async def discover_master(self, service_name: str) -> tuple[str, int]:
        async def ask(sentinel: Any) -> dict[str, Any] | None:
            try:
                state: dict[str, Any] | None = (await sentinel.sentinel_masters()).get(service_name)
            except (RedisConnectionError, RedisTimeoutError, OSError):
                return None
            return state

        states = [st for st in await asyncio.gather(*(ask(s) for s in self.sentinels)) if st]
        if not states:
            raise MasterNotFoundError(f"No sentinel answered for {service_name!r}")
        if 2 * len(states) <= len(self.sentinels):
            # the sentinels that did not answer may be the ones failing the primary over
            raise MasterNotFoundError(f"Only {len(states)} of {len(self.sentinels)} sentinels answered")
        flagged = {(str(st["ip"]), int(st["port"])) for st in states if _flags(st) & FENCING_FLAGS}
        # A fence stays up until every sentinel answers without it. The sentinel leading the
        # failover is the only one that flags a primary woken from a hang: if that one alone
        # is slow to answer the next question, the others would call the old primary healthy.
        if len(states) == len(self.sentinels):
            self.fenced = flagged
        else:
            self.fenced |= flagged
        fenced = self.fenced
        # Only the newest epoch counts. A sentinel leading a failover already carries it, with
        # the old address until the promotion completes: then there is no primary to follow
        # yet, and the instance waits rather than take an older epoch's answer.
        epoch = max(int(st.get("config-epoch", 0)) for st in states)
        current = [
            (str(st["ip"]), int(st["port"]))
            for st in states
            if int(st.get("config-epoch", 0)) == epoch and self.check_master_state(st, service_name)
        ]
        votes = Counter(address for address in current if address not in fenced)
        if not votes:
            # fenced even when no sentinel calls it healthy either (the others see it down
            # until it wakes): the fence has to be up before that
            if fenced:
                raise PrimaryFenced(f"{service_name!r} is being failed over from {', '.join(map(str, fenced))}")
            raise MasterNotFoundError(f"No master found for {service_name!r}")
        (ip, port), _ = votes.most_common(1)[0]
        return ip, port


class PrimaryOnlyPool(SentinelConnectionPool):
    """Hands out only connections to the primary the pool last heard of.

    A command in flight on the old primary when the pool learns of a failover returns its
    connection afterwards, still open to the old server; redis-py's async pool would hand
    it out again, and writes on it are lost when that server becomes a replica.
    """

    #: set while the primary is fenced (Backend.follow_primary): no connection is handed out
    fenced: bool = False

    async def ensure_connection(self, connection: Any) -> None:
        primary = self.master_address
        if primary is not None and connection.is_connected and (connection.host, connection.port) != tuple(primary):
            await connection.disconnect()
        await super().ensure_connection(connection)
        # Checked again once connected: a connection opened to the primary just before the
        # fence went up completes its handshake only when that primary wakes, and a command
        # sent on it then runs on the timeline the failover throws away.
        if self.fenced or (
            self.master_address is not None and (connection.host, connection.port) != tuple(self.master_address)
        ):
            await connection.disconnect()
            raise PrimaryFenced(f"{connection.host}:{connection.port} is not the primary to write to now")


def _client_options(settings: Settings) -> dict[str, Any]:
    timeout = settings.redis_timeout_ms / 1000
    # Retrying a script call is safe: every action carries an action id that the script
    # deduplicates, so a retry after a lost reply answers "dup" instead of applying twice.
    return {
        "decode_responses": True,
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "retry": Retry(ExponentialBackoff(cap=0.25, base=0.025), 2),
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
        "health_check_interval": 15,
    }


def connect(settings: Settings) -> Backend:
    mode = settings.redis_mode
    if mode == "embedded":
        import fakeredis

        log.warning(
            "REDIS_URL is not set: running the embedded engine (fakeredis) in this process. "
            "Game state lives in memory only and is lost when the process stops; run a single "
            "instance. Set REDIS_URL for production."
        )
        fake = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer(), decode_responses=True)
        return Backend(fake, SingleChannels(fake), sharded=False, mode=mode)
    options = _client_options(settings)
    if mode == "sentinel":
        timeout = settings.redis_timeout_ms / 1000
        sentinel = NewestConfigSentinel(
            list(settings.redis_sentinels),
            sentinel_kwargs={
                "socket_timeout": timeout,
                "socket_connect_timeout": timeout,
                "password": settings.redis_sentinel_password or None,
            },
            password=settings.redis_password or None,
            **options,
        )
        # the pool asks the sentinels for the primary on every new connection, and drops its
        # connections when the old primary answers READONLY: a failover needs no restart
        client = sentinel.master_for(
            settings.redis_sentinel_master, connection_pool_class=PrimaryOnlyPool, max_connections=POOL_CONNECTIONS
        )
        return Backend(client, SingleChannels(client), sharded=False, mode=mode, extras=[sentinel])
    if mode == "cluster":
        # health checks are per connection in redis-py's cluster client; its own retries
        # follow MOVED/ASK and refresh the slot map after a failover
        options.pop("health_check_interval")
        cluster = StableCluster.from_url(settings.redis_url, max_connections=POOL_CONNECTIONS, **options)
        channels = ClusterChannels(cluster, node_client_factory(settings.redis_url, **_client_options(settings)))
        return Backend(cluster, channels, sharded=True, mode=mode)
    # a burst of actions waits (up to the Redis timeout) for one of the connections instead
    # of failing at once with "Too many connections": under load that error was what clients got
    pool = aioredis.BlockingConnectionPool.from_url(
        settings.redis_url, max_connections=POOL_CONNECTIONS, timeout=settings.redis_timeout_ms / 1000, **options
    )
    client = aioredis.Redis.from_pool(pool)
    return Backend(client, SingleChannels(client), sharded=False, mode=mode)


class CommandTableOnce(AsyncCommandsParser):
    """Redis's command table, loaded once per client.

    redis-py's cluster client reloads the table from its default node (the first primary of
    its map) each time it refreshes the map, and a failed reload closes the connections to
    every node and fails the command that asked. So while a killed primary was the default
    node, every action on the healthy shards failed too, until the failover took it out of
    the map (the chaos scenario cluster-failover saw 0-3 such actions per run). The table
    belongs to the Redis version and does not change with the map; a command missing from
    it still reloads it (the parser's own fallback, which passes no node).
    """

    async def initialize(self, node: ClusterNode | None = None) -> None:
        if node is not None:
            self.node = node
            if self.commands:
                return
        await super().initialize()


class StableCluster(RedisCluster):
    """RedisCluster whose map refreshes do not depend on the default node answering."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands_parser = CommandTableOnce()

    async def close_all(self) -> None:
        """aclose(), and every node's connections even when a map refresh is due: redis-py's
        aclose() closes nothing then (it takes the due refresh for a closed client), so a
        client whose last command met a dead node kept all its connections open. Not an
        override of aclose(): redis-py calls that itself to force a refresh, and closing
        every node again there would cut the healthy shards' commands in flight."""
        await self.aclose()
        await self.nodes_manager.aclose()
        await self.nodes_manager.aclose("startup_nodes")


async def describe_redis(client: Any, settings: Settings) -> dict[str, Any]:
    """Version, eviction policy and persistence settings, for start-up logs and /ready."""
    if settings.embedded:
        return {"engine": "fakeredis", "version": "embedded", "maxmemoryPolicy": "noeviction", "aof": False}
    info = await client.info("server")
    cfg: dict[str, str] = {}
    for name in ("maxmemory-policy", "appendonly", "appendfsync"):
        try:
            cfg.update(await client.config_get(name))
        except Exception:
            # managed Redis often forbids CONFIG; report unknown rather than fail
            cfg[name] = "unknown"
    out = {
        "engine": "redis",
        "version": info.get("redis_version", "unknown"),
        "maxmemoryPolicy": cfg.get("maxmemory-policy", "unknown"),
        "aof": {"yes": True, "no": False}.get(cfg.get("appendonly", "unknown"), "unknown"),
        "appendfsync": cfg.get("appendfsync", "unknown"),
    }
    log.info(
        "redis %s: maxmemory-policy %s, appendonly %s, appendfsync %s",
        out["version"],
        out["maxmemoryPolicy"],
        cfg.get("appendonly", "unknown"),
        out["appendfsync"],
    )
    major = str(out["version"]).split(".", 1)[0]
    if major.isdigit() and int(major) < 7:
        log.warning("Redis %s is older than 7.0, which this service is tested with", out["version"])
    if out["maxmemoryPolicy"] not in (*NON_EVICTING_POLICIES, "unknown"):
        log.error(
            "Redis maxmemory-policy is %s: Redis may evict games. Set maxmemory-policy noeviction.",
            out["maxmemoryPolicy"],
        )
    if out["aof"] is False:
        log.warning("Redis AOF is off: a Redis restart loses every game since its last snapshot")
    return out
