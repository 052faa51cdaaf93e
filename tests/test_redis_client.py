"""The Redis client: embedded engine or a real server, and what the service reports about Redis."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator

import fakeredis
import pytest
import pytest_asyncio
from redis.asyncio import Redis
from redis.asyncio.sentinel import MasterNotFoundError
from redis.crc import key_slot
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException

from service.redis_client import FENCING_FLAGS, NewestConfigSentinel, PrimaryFenced, connect, describe_redis
from service.scripts import Scripts
from service.settings import Settings
from stack.redis_server import RedisProcess
from stack.topologies import MASTER_NAME, ClusterSet, SentinelSet, command, wait_for


def server(*args: str) -> Iterator[RedisProcess]:
    with RedisProcess(*args) as proc:
        yield proc


@pytest_asyncio.fixture
async def shared(redis_proc: RedisProcess) -> AsyncIterator[str]:
    """The session's redis-server (started with `--appendonly no`, default eviction policy)."""
    if not redis_proc.is_running():
        redis_proc.start()
    yield redis_proc.url


async def described(url: str, caplog: pytest.LogCaptureFixture) -> dict[str, object]:
    caplog.set_level(logging.INFO, logger="service.redis_client")
    settings = Settings(redis_url=url)
    client = connect(settings).client
    try:
        return await describe_redis(client, settings)
    finally:
        await client.aclose()


def client_records(caplog: pytest.LogCaptureFixture, level: int = logging.WARNING) -> list[tuple[str, str]]:
    return [
        (r.levelname, r.getMessage()) for r in caplog.records if r.name == "service.redis_client" and r.levelno >= level
    ]


async def redis_version(url: str) -> str:
    client = Redis.from_url(url, decode_responses=True)
    try:
        return str((await client.info("server"))["redis_version"])
    finally:
        await client.aclose()


# -- connect -----------------------------------------------------------------------------


async def test_connect_without_a_url_returns_a_working_embedded_client(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="service.redis_client")
    client = connect(Settings()).client
    try:
        assert isinstance(client, fakeredis.FakeAsyncRedis)
        await client.set("k", "v")
        assert await client.get("k") == "v"
        # the scripts run on it as on a real server
        scripts = Scripts(client)
        await scripts.load_all(client)
        assert await client.script_exists(scripts["create"].sha) == [True]
    finally:
        await client.aclose()
    [(level, message)] = client_records(caplog)
    assert level == "WARNING"
    assert "REDIS_URL is not set" in message and "lost when the process stops" in message


async def test_each_embedded_client_has_its_own_data() -> None:
    a, b = connect(Settings()).client, connect(Settings()).client
    try:
        await a.set("k", "a")
        assert await b.get("k") is None
    finally:
        await a.aclose()
        await b.aclose()


async def test_connect_with_a_url_uses_the_configured_timeouts_on_the_real_server(shared: str) -> None:
    client = connect(Settings(redis_url=shared, redis_timeout_ms=750)).client
    try:
        kwargs = client.connection_pool.connection_kwargs
        assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (0.75, 0.75)
        assert await client.ping() is True
        await client.set("storage-test", "v")
        # decoded to str, as every caller expects
        assert await client.get("storage-test") == "v"
        await client.delete("storage-test")
    finally:
        await client.aclose()


async def test_more_calls_in_flight_than_the_pool_holds_wait_for_a_connection_instead_of_failing(
    shared: str,
) -> None:
    """A burst past the pool's 256 connections used to fail at once ("Too many
    connections", a storage error for the player); now the extra calls wait their turn."""
    client = connect(Settings(redis_url=shared, redis_timeout_ms=5000)).client
    try:
        # each call holds its connection for 0.2 s, so 300 at once need more than 256
        replies = await asyncio.gather(*(client.blpop([f"storage-test-empty-{i}"], timeout=0.2) for i in range(300)))
        assert replies == [None] * 300
    finally:
        await client.aclose()


# -- describe_redis ----------------------------------------------------------------------


async def test_describe_embedded_reports_the_embedded_engine() -> None:
    settings = Settings()
    client = connect(settings).client
    try:
        assert await describe_redis(client, settings) == {
            "engine": "fakeredis",
            "version": "embedded",
            "maxmemoryPolicy": "noeviction",
            "aof": False,
        }
    finally:
        await client.aclose()


async def test_describe_a_real_server_reports_version_policy_and_persistence(
    shared: str, caplog: pytest.LogCaptureFixture
) -> None:
    out = await described(shared, caplog)
    assert out == {
        "engine": "redis",
        "version": await redis_version(shared),
        "maxmemoryPolicy": "noeviction",
        "aof": False,
        "appendfsync": "everysec",
    }
    # AOF off is worth a warning; the eviction policy is fine
    assert client_records(caplog) == [
        ("WARNING", "Redis AOF is off: a Redis restart loses every game since its last snapshot")
    ]


async def test_start_up_logs_what_it_found_in_one_line(shared: str, caplog: pytest.LogCaptureFixture) -> None:
    await described(shared, caplog)
    version = await redis_version(shared)
    assert client_records(caplog, logging.INFO)[0] == (
        "INFO",
        f"redis {version}: maxmemory-policy noeviction, appendonly no, appendfsync everysec",
    )


@pytest.fixture
def evicting() -> Iterator[RedisProcess]:
    yield from server("--maxmemory-policy", "allkeys-lru")


async def test_an_evicting_policy_is_logged_as_an_error_naming_noeviction(
    evicting: RedisProcess, caplog: pytest.LogCaptureFixture
) -> None:
    out = await described(evicting.url, caplog)
    assert out["maxmemoryPolicy"] == "allkeys-lru"
    errors = [m for level, m in client_records(caplog) if level == "ERROR"]
    assert errors == ["Redis maxmemory-policy is allkeys-lru: Redis may evict games. Set maxmemory-policy noeviction."]


@pytest.fixture
def durable() -> Iterator[RedisProcess]:
    yield from server("--appendonly", "yes", "--appendfsync", "always")


async def test_a_server_with_aof_always_is_reported_durable_and_nothing_is_logged(
    durable: RedisProcess, caplog: pytest.LogCaptureFixture
) -> None:
    out = await described(durable.url, caplog)
    assert (out["aof"], out["appendfsync"], out["maxmemoryPolicy"]) == (True, "always", "noeviction")
    assert client_records(caplog) == []


@pytest.fixture
def no_config() -> Iterator[RedisProcess]:
    # as managed Redis often does: every command but CONFIG
    yield from server("--user", "default", "on", "nopass", "~*", "&*", "+@all", "-config")


async def test_a_server_that_forbids_config_is_described_with_unknown_settings_and_no_error(
    no_config: RedisProcess, caplog: pytest.LogCaptureFixture
) -> None:
    out = await described(no_config.url, caplog)
    assert (out["engine"], out["version"]) == ("redis", await redis_version(no_config.url))
    assert (out["maxmemoryPolicy"], out["appendfsync"]) == ("unknown", "unknown")
    assert [level for level, _ in client_records(caplog)].count("ERROR") == 0


async def test_a_server_that_forbids_config_is_not_said_to_run_without_aof(
    no_config: RedisProcess, caplog: pytest.LogCaptureFixture
) -> None:
    """Whether AOF is on cannot be read here ("report unknown rather than fail"): reporting it
    off, with a warning on every start, is a false alarm on exactly the managed servers that
    forbid CONFIG."""
    out = await described(no_config.url, caplog)
    assert out["aof"] == "unknown"
    assert client_records(caplog) == []


class OldRedis:
    """Answers what describe_redis asks, as a Redis 6.2 would."""

    async def info(self, section: str) -> dict[str, str]:
        return {"redis_version": "6.2.14"}

    CONFIG = {"maxmemory-policy": "noeviction", "appendonly": "yes", "appendfsync": "always"}

    async def config_get(self, name: str) -> dict[str, str]:
        return {name: self.CONFIG[name]}


async def test_a_redis_older_than_7_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="service.redis_client")
    out = await describe_redis(OldRedis(), Settings(redis_url="redis://old:6379/0"))
    assert out["version"] == "6.2.14"
    assert client_records(caplog) == [("WARNING", "Redis 6.2.14 is older than 7.0, which this service is tested with")]


@pytest.mark.slow
async def test_a_sentinel_announced_failover_is_followed_at_once_not_at_the_next_poll() -> None:
    with SentinelSet(down_after_ms=1000, failover_timeout_ms=2000) as sentinels:
        settings = Settings.from_env({"REDIS_SENTINELS": sentinels.addresses, "REDIS_SENTINEL_MASTER": MASTER_NAME})
        backend = connect(settings)
        try:
            await backend.follow_primary()
            old = backend.primary
            assert old == ("127.0.0.1", sentinels.master_port())
            # nothing announced: the wait ends empty
            assert await backend.await_switch(wait_s=0.2) is False
            waiting = asyncio.create_task(backend.await_switch(wait_s=6))
            await asyncio.sleep(0.3)
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, command, sentinels.sentinels[0].port, "SENTINEL", "FAILOVER", MASTER_NAME)

            assert await asyncio.wait_for(waiting, 20) is True
            # followed on the announcement itself: the new primary is known, no poll ran
            assert backend.primary is not None and backend.primary != old
            assert backend.primary[1] == sentinels.master_port()
        finally:
            await backend.aclose()


class AnswersMasters:
    """A sentinel that answers SENTINEL MASTERS with one fixed view of the primary, or not at all."""

    def __init__(self, view: dict[str, object] | None) -> None:
        self.view = view

    async def sentinel_masters(self) -> dict[str, dict[str, object]]:
        if self.view is None:
            raise ConnectionError("sentinel down")
        return {MASTER_NAME: self.view}


def view(port: int, epoch: int, flags: str = "master") -> dict[str, object]:
    """One sentinel's view of the primary, parsed as redis-py parses SENTINEL MASTERS."""
    flag_set = set(flags.split(","))
    return {
        "ip": "10.0.0.1",
        "port": port,
        "config-epoch": epoch,
        "flags": flag_set,
        "is_master": "master" in flag_set,
        "is_sdown": "s_down" in flag_set,
        "is_odown": "o_down" in flag_set,
        "num-other-sentinels": 2,
    }


def sentinels_saying(*views: dict[str, object] | None) -> NewestConfigSentinel:
    sentinel = NewestConfigSentinel([("127.0.0.1", 1)])
    sentinel.sentinels = [AnswersMasters(v) for v in views]  # type: ignore[misc]
    return sentinel


@pytest.mark.parametrize(
    ("views", "expected"),
    [
        # the newest epoch wins over a majority still in the old one
        ([view(1, 1), view(1, 1), view(2, 2)], ("10.0.0.1", 2)),
        # a sentinel that does not answer has no say
        ([None, view(1, 1), view(1, 1)], ("10.0.0.1", 1)),
        # within one epoch, the address most sentinels name
        ([view(1, 3), view(1, 3), view(2, 3)], ("10.0.0.1", 1)),
    ],
)
async def test_the_primary_followed_is_the_newest_epochs(
    views: list[dict[str, object] | None], expected: tuple[str, int]
) -> None:
    assert await sentinels_saying(*views).discover_master(MASTER_NAME) == expected


@pytest.mark.parametrize("flag", sorted(FENCING_FLAGS))
async def test_one_sentinel_failing_the_primary_over_fences_it_whatever_the_others_say(flag: str) -> None:
    """The woken primary looks healthy to the sentinels not leading its failover."""
    sentinel = sentinels_saying(view(1, 1), view(1, 1), view(1, 1, f"master,{flag}"))
    with pytest.raises(PrimaryFenced):
        await sentinel.discover_master(MASTER_NAME)


async def test_a_fence_on_the_old_primary_leaves_the_promoted_one_followed() -> None:
    sentinel = sentinels_saying(view(1, 1, "master,o_down"), view(2, 2), view(2, 2))
    assert await sentinel.discover_master(MASTER_NAME) == ("10.0.0.1", 2)


async def test_no_answer_at_all_is_no_primary_not_a_fence() -> None:
    with pytest.raises(MasterNotFoundError) as raised:
        await sentinels_saying(None, None, None).discover_master(MASTER_NAME)
    assert not isinstance(raised.value, PrimaryFenced)


async def test_a_minority_of_sentinels_names_no_primary() -> None:
    with pytest.raises(MasterNotFoundError, match="Only 1 of 3 sentinels answered"):
        await sentinels_saying(None, None, view(1, 1)).discover_master(MASTER_NAME)


async def test_a_fence_stays_up_while_a_sentinel_does_not_answer_and_lifts_when_all_answer_without_it() -> None:
    """The leader of the failover is the only one that flags a primary woken from a hang; a
    leader too slow to answer the next question must not let the others' 'healthy' through."""
    sentinel = sentinels_saying(view(1, 1), view(1, 1), view(1, 1, "master,failover_in_progress"))
    with pytest.raises(PrimaryFenced):
        await sentinel.discover_master(MASTER_NAME)
    sentinel.sentinels[2].view = None  # type: ignore[attr-defined]
    with pytest.raises(PrimaryFenced):
        await sentinel.discover_master(MASTER_NAME)
    # the failover was given up: every sentinel answers and none flags it
    sentinel.sentinels[2].view = view(1, 1)  # type: ignore[attr-defined]
    assert await sentinel.discover_master(MASTER_NAME) == ("10.0.0.1", 1)


# -- Cluster -----------------------------------------------------------------------------


def key_in(lo: int, hi: int) -> str:
    """A key whose slot is in [lo, hi]."""
    return next(k for k in (f"k{n}" for n in range(100_000)) if lo <= key_slot(k.encode()) <= hi)


async def test_a_cluster_whose_default_node_died_still_serves_the_other_shards() -> None:
    # redis-py's cluster client refreshes its map after a CLUSTERDOWN, an uncovered slot or
    # repeated MOVED replies by closing every connection (aclose) and initialising again,
    # which reloaded the command table from the default node: with that node dead, the
    # refresh failed, and so did every command on the healthy shards
    with ClusterSet(3, 0, "--cluster-require-full-coverage", "no") as cluster:
        client = connect(Settings(redis_url=cluster.url, redis_cluster=True)).client
        try:
            await client.ping()
            dead_port = client.get_default_node().port
            ranges = cluster.slot_ranges()
            healthy = [key_in(lo, hi) for lo, hi, port in ranges if port != dead_port]
            doomed = next(key_in(lo, hi) for lo, hi, port in ranges if port == dead_port)
            next(n for n in cluster.nodes if n.port == dead_port).kill()
            # the refresh itself, as redis-py runs it next: explicitly, because the first
            # command after aclose() is routed to a random primary (no default node to read
            # the key's slot with), and that may be the dead one
            await client.aclose()
            await client.initialize()
            for attempt in range(3):
                for key in healthy:
                    assert await client.set(key, attempt) is True
                    assert await client.get(key) == str(attempt)
                with pytest.raises((RedisConnectionError, RedisClusterException)):
                    await client.set(doomed, attempt)
        finally:
            await client.close_all()


async def test_closing_a_cluster_client_due_a_refresh_closes_every_connection() -> None:
    with ClusterSet(3, 0, "--cluster-require-full-coverage", "no") as cluster:
        client = connect(Settings(redis_url=cluster.url, redis_cluster=True)).client
        ranges = cluster.slot_ranges()
        live = [port for _, _, port in ranges[1:]]
        try:
            for lo, hi, _ in ranges:
                await client.set(key_in(lo, hi), 1)
            next(n for n in cluster.nodes if n.port == ranges[0][2]).kill()
            with pytest.raises((RedisConnectionError, RedisClusterException)):
                await client.set(key_in(ranges[0][0], ranges[0][1]), 2)
        finally:
            await client.close_all()
        for port in live:
            # CLIENT LIST shows the asking connection alone once ours are gone
            wait_for(
                lambda p=port: len(command(p, "CLIENT", "LIST", "TYPE", "normal").splitlines()) == 1,
                3,
                f"no connection of ours left on :{port}",
            )
