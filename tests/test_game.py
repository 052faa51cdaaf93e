"""GameStore on a real redis-server: id draws on create, error mapping, tokens and
script arguments."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import signal
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from service import keys
from service.clock import GameClock
from service.errors import NotAuthorized, NotFound, ServiceError, StorageUnavailable
from service.formats import FormatSettings
from service.game import (
    MAX_CREATE_ATTEMPTS,
    GameStore,
    Outcome,
    new_action_id,
    new_token,
    token_digest,
)
from service.metrics import Metrics
from service.protocol import GameSettings
from service.scripts import Scripts
from stack.redis_server import RedisProcess, free_port

HEX64 = re.compile(r"[0-9a-f]{64}")


def candidate(seed: bytes, n: int) -> str:
    """The n-th game id GameStore.create tries for `seed` (service/game.py create)."""
    return keys.new_game_id(seed + n.to_bytes(2, "big"))


@pytest_asyncio.fixture
async def rdb(redis_proc: RedisProcess) -> AsyncIterator[Redis]:
    if not redis_proc.is_running():
        redis_proc.start()
    client = Redis.from_url(redis_proc.url, decode_responses=True)
    await client.flushall()
    try:
        yield client
    finally:
        await client.aclose()


def make_store(client: Any, action_timeout_s: float = 5.0, **kwargs: Any) -> GameStore:
    return GameStore(
        client,
        Scripts(client),
        GameClock(),
        retention_s=3600,
        token_ttl_s=7200,
        action_timeout_s=action_timeout_s,
        **kwargs,
    )


@pytest.fixture
def store(rdb: Redis) -> GameStore:
    return make_store(rdb)


async def owner_of(rdb: Redis, gid: str) -> str:
    raw = await rdb.hget(keys.game(gid), "state")
    assert raw is not None, gid
    return str(json.loads(raw)["ownerId"])


# -- create ------------------------------------------------------------------------------


async def test_create_draws_the_next_candidate_when_the_first_is_taken(store: GameStore, rdb: Redis) -> None:
    seed = b"client-a\0req-1"
    first, _, _ = await store.create("client_a", GameSettings(), "action-a", seed)
    assert first == candidate(seed, 0)

    gid, host_token, out = await store.create("client_b", GameSettings(), "action-b", seed)

    assert gid == candidate(seed, 1) != first
    assert (out.status, out.state["id"], out.state["ownerId"], out.version) == ("ok", gid, "client_b", 1)
    assert await rdb.hget(keys.game(gid), "host") == token_digest(host_token)
    # the game that held the first candidate is untouched
    assert await owner_of(rdb, first) == "client_a"


async def test_a_create_retried_with_its_seed_and_action_id_finds_its_own_game(store: GameStore, rdb: Redis) -> None:
    seed = b"client-a\0req-1"
    gid, _, _ = await store.create("client_a", GameSettings(), "action-a", seed)

    again, token, out = await store.create("client_a", GameSettings(), "action-a", seed)

    assert (again, out.status, out.version) == (gid, "dup", 1)
    # the retry's token is the one that now proves host rights
    assert await rdb.hget(keys.game(gid), "host") == token_digest(token)
    assert len([k async for k in rdb.scan_iter(f"{keys.PREFIX}:{{*}}")]) == 1


async def test_create_gives_up_after_max_create_attempts_taken_ids(store: GameStore, rdb: Redis) -> None:
    seed = b"crowded"
    taken = [
        (await store.create(f"client_{n}", GameSettings(), f"action-{n}", seed))[0] for n in range(MAX_CREATE_ATTEMPTS)
    ]
    assert taken == [candidate(seed, n) for n in range(MAX_CREATE_ATTEMPTS)]

    with pytest.raises(ServiceError) as info:
        await store.create("client_x", GameSettings(), "action-x", seed)

    assert (info.value.message, info.value.code) == ("Failed to generate unique game ID", "CREATE_FAILED")
    assert not isinstance(info.value, StorageUnavailable)
    # the next candidate was never tried
    assert await rdb.exists(keys.game(candidate(seed, MAX_CREATE_ATTEMPTS))) == 0
    assert [await owner_of(rdb, gid) for gid in taken] == [f"client_{n}" for n in range(MAX_CREATE_ATTEMPTS)]


async def test_create_without_a_seed_draws_a_fresh_valid_id_each_time(store: GameStore) -> None:
    ids = {(await store.create("client_a", GameSettings(), new_action_id()))[0] for _ in range(5)}
    assert len(ids) == 5
    assert all(keys.is_valid_game_id(gid) for gid in ids)


async def test_create_stores_the_settings_it_was_given(store: GameStore) -> None:
    settings = GameSettings(
        player_count=4,
        initial_time=90_000,
        warning_thresholds=(60_000, 10_000),
        penalty_type="time_deduction",
        penalty_time_deduction=5_000,
    )
    _, _, out = await store.create("client_a", settings, new_action_id())
    assert out.state["settings"] == {
        "playerCount": 4,
        "initialTime": 90_000,
        "warningThresholds": [60_000, 10_000],
        "penaltyType": "time_deduction",
        "penaltyTimeDeduction": 5_000,
        "audioEnabled": True,
        **FormatSettings().to_settings(),
    }
    assert [p["timeRemaining"] for p in out.state["players"]] == [90_000] * 4


# -- tokens ------------------------------------------------------------------------------


def test_new_token_is_64_lower_case_hex_characters_and_never_repeats() -> None:
    tokens = [new_token() for _ in range(100)]
    assert all(HEX64.fullmatch(t) for t in tokens)
    assert len(set(tokens)) == 100


def test_token_digest_is_the_sha256_hex_of_the_token() -> None:
    assert token_digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    token = new_token()
    assert token_digest(token) == hashlib.sha256(token.encode()).hexdigest()
    assert token_digest(token) != token


def test_new_action_id_is_32_hex_characters_and_never_repeats() -> None:
    ids = [new_action_id() for _ in range(100)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", a) for a in ids)
    assert len(set(ids)) == 100


async def test_claim_returns_a_fresh_token_and_stores_only_its_digest(store: GameStore, rdb: Redis) -> None:
    gid, host_token, _ = await store.create("client_a", GameSettings(), new_action_id())
    token, out = await store.claim(gid, "client_b", 2, new_action_id())
    assert HEX64.fullmatch(token) and token != host_token
    assert out.state["players"][1]["claimedBy"] == "client_b"
    stored = await rdb.hgetall(keys.game(gid))
    assert stored["tok:2"] == token_digest(token)
    assert token not in stored.values() and host_token not in stored.values()


# -- arguments and replies ---------------------------------------------------------------


def test_game_args_are_the_seven_common_arguments_then_the_scripts_own() -> None:
    client = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")  # never connects: only builds arguments
    plain = make_store(client)
    plain.clock.offset_ms = -250
    assert plain.game_args("ABCDEF", "act", "client_a", 3, "x") == [
        -250,
        "act",
        "client_a",
        keys.channel("ABCDEF"),
        "PUBLISH",
        "3600:3600",
        "ABCDEF",
        3,
        "x",
    ]
    sharded = make_store(client, sharded_pubsub=True)
    assert sharded.game_args("ABCDEF", "", "")[4] == "SPUBLISH"
    # a finished or seatless game is kept for the idle retention (lib/commit.lua expire)
    assert make_store(client, idle_retention_s=600).game_args("ABCDEF", "", "")[5] == "3600:600"


def test_an_outcome_decodes_its_state_once_and_reads_the_version() -> None:
    out = Outcome(status="ok", state_json='{"version": 7, "status": "waiting"}')
    assert out.state == {"version": 7, "status": "waiting"}
    assert out.state is out.state
    assert out.version == 7
    assert out.events_json == "[]"


# -- errors ------------------------------------------------------------------------------


async def test_a_script_error_code_raises_its_domain_exception(store: GameStore) -> None:
    missing = keys.new_game_id(b"never created")
    with pytest.raises(NotFound) as not_found:
        await store.join(missing)
    assert (not_found.value.code, not_found.value.message) == ("GAME_NOT_FOUND", "Game not found")

    gid, _, _ = await store.create("client_a", GameSettings(), new_action_id())
    with pytest.raises(NotFound) as no_player:
        await store.claim(gid, "client_b", 5, new_action_id())
    assert (no_player.value.code, no_player.value.message) == ("PLAYER_NOT_FOUND", "Player not found")

    with pytest.raises(NotAuthorized) as not_owner:
        await store.reset(gid, "client_b", new_action_id())
    assert (not_owner.value.code, not_owner.value.message) == ("NOT_OWNER_RESET", "Only the game owner can reset")


async def test_a_response_error_that_is_not_a_game_error_is_re_raised(store: GameStore, rdb: Redis) -> None:
    gid = keys.new_game_id(b"wrong type")
    await rdb.set(keys.game(gid), "not a hash")
    with pytest.raises(ResponseError, match="^WRONGTYPE") as read:
        await store.read_state(gid)
    assert not isinstance(read.value, ServiceError)
    # the same from inside a script
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        await store.join(gid)


async def test_a_primary_that_may_not_write_for_want_of_replicas_is_storage_unavailable() -> None:
    """min-replicas-to-write with no replica: Redis refuses every script with NOREPLICAS,
    which a player must see as the storage error (retry later), not as an internal one."""
    with RedisProcess("--min-replicas-to-write", "1", "--min-replicas-max-lag", "10") as server:
        client = Redis.from_url(server.url, decode_responses=True)
        store = make_store(client)
        try:
            with pytest.raises(StorageUnavailable) as create:
                await store.create("client_x", GameSettings(), "a1")
            assert create.value.message == "redis refused the write"
            assert "NOREPLICAS" in str(create.value.__cause__)
            # reads still work: only writes need the replicas
            assert await store.read_state(keys.new_game_id(b"x")) is None
        finally:
            await client.aclose()


async def test_a_connection_error_is_storage_unavailable() -> None:
    client = Redis.from_url(
        f"redis://127.0.0.1:{free_port()}/0",
        decode_responses=True,
        socket_connect_timeout=0.2,
        socket_timeout=0.2,
    )
    store = make_store(client, action_timeout_s=2.0)
    try:
        with pytest.raises(StorageUnavailable) as read:
            await store.read_state(keys.new_game_id(b"x"))
        assert read.value.message == "redis unavailable: ConnectionError"
        with pytest.raises(StorageUnavailable) as join:
            await store.join(keys.new_game_id(b"x"))
        assert join.value.message == "redis unavailable: ConnectionError"
    finally:
        await client.aclose()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield int(s.getsockname()[1])


async def test_an_action_that_outlasts_the_action_timeout_is_storage_unavailable(silent_server: int) -> None:
    client = Redis.from_url(f"redis://127.0.0.1:{silent_server}/0", decode_responses=True, socket_timeout=30)
    store = make_store(client, action_timeout_s=0.3)
    t0 = time.monotonic()
    try:
        with pytest.raises(StorageUnavailable) as info:
            await store.join(keys.new_game_id(b"x"))
    finally:
        await client.aclose()
    assert info.value.message == "redis unavailable: TimeoutError"
    # bounded by the action timeout, not by the 30 s socket timeout
    assert time.monotonic() - t0 < 10


@pytest.mark.parametrize("moved", [False, True])
async def test_a_refusal_read_while_the_primary_moved_is_the_storage_error(engine: Redis, moved: bool) -> None:
    # Sentinel: a refusal writes nothing, so a replaced primary still awake answers it from
    # its stale copy; the store asks whether the primary moved before believing one
    asked: list[int] = []

    async def primary_moved() -> bool:
        asked.append(1)
        return moved

    store = GameStore(
        engine,
        Scripts(engine),
        GameClock(),
        retention_s=60,
        token_ttl_s=60,
        action_timeout_s=2.0,
        primary_moved=primary_moved,
    )
    gid, _, _ = await store.create("host", GameSettings(), new_action_id())
    await store.start(gid, "host", new_action_id())
    assert asked == []  # a commit is never questioned: its write proves the primary

    expected = StorageUnavailable if moved else NotAuthorized
    with pytest.raises(expected):
        await store.start(gid, "someone else", new_action_id())
    assert asked == [1]


# -- durable acknowledgement (REDIS_WAIT_REPLICAS) ----------------------------------------


@pytest.fixture
def replicated() -> Iterator[tuple[RedisProcess, RedisProcess]]:
    """A primary and one replica whose link is up."""
    with RedisProcess() as primary, RedisProcess("--replicaof", "127.0.0.1", str(primary.port)) as replica:
        probe = SyncRedis(port=replica.port, decode_responses=True)
        try:
            deadline = time.monotonic() + 10
            while probe.info("replication").get("master_link_status") != "up":
                assert time.monotonic() < deadline, "the replica never synced"
                time.sleep(0.05)
        finally:
            probe.close()
        yield primary, replica


async def test_with_wait_an_action_is_answered_once_the_replica_has_it(
    replicated: tuple[RedisProcess, RedisProcess],
) -> None:
    primary, replica = replicated
    client = Redis.from_url(primary.url, decode_responses=True)
    mirror = Redis.from_url(replica.url, decode_responses=True)
    store = make_store(client, wait_replicas=1, wait_timeout_ms=2000)
    try:
        gid, _, out = await store.create("client_x", GameSettings(), "a1")
        assert out.status == "ok"
        assert await mirror.exists(keys.game(gid)) == 1
    finally:
        await client.aclose()
        await mirror.aclose()


async def test_with_wait_a_commit_no_replica_confirms_is_the_storage_error_and_its_retry_too(
    replicated: tuple[RedisProcess, RedisProcess],
) -> None:
    primary, replica = replicated
    client = Redis.from_url(primary.url, decode_responses=True)
    metrics = Metrics()
    store = make_store(client, wait_replicas=1, wait_timeout_ms=300, metrics=metrics)
    gid, _, _ = await store.create("client_x", GameSettings(), "a1")
    os.kill(replica.pid, signal.SIGSTOP)
    try:
        for _ in range(2):
            started = time.monotonic()
            with pytest.raises(StorageUnavailable, match="0 of 1 replicas confirmed"):
                await store.start(gid, "client_x", "a2")
            assert time.monotonic() - started >= 0.3
        # the commit is on the primary: the retry was answered as a duplicate, not applied again
        state = json.loads(str(await client.hget(keys.game(gid), "state")))
        assert state["status"] == "running"
        assert state["version"] == 2
        assert metrics.replica_wait_shortfalls._value.get() == 2
    finally:
        os.kill(replica.pid, signal.SIGCONT)
        await client.aclose()


# -- retries of the storage error (Cluster) ------------------------------------------------


@pytest.mark.parametrize("retry_s", [0.0, 3.0])
async def test_an_action_is_tried_again_for_its_retry_time_while_redis_is_away(retry_s: float) -> None:
    with RedisProcess() as server:
        client = Redis.from_url(server.url, decode_responses=True, socket_connect_timeout=0.2)
        store = make_store(client, unavailable_retry_s=retry_s)
        try:
            server.kill()
            attempt = asyncio.create_task(store.create("client_x", GameSettings(), "a1"))
            await asyncio.sleep(0.5)
            await asyncio.to_thread(server.start)
            if retry_s:
                gid, _, out = await attempt
                assert out.status == "ok"
                assert await client.exists(keys.game(gid)) == 1
            else:
                with pytest.raises(StorageUnavailable):
                    await attempt
        finally:
            await client.aclose()


async def test_a_reply_read_across_a_change_of_primary_is_the_storage_error(store: GameStore, rdb: Redis) -> None:
    """Sentinel's primary_epoch: a fence or a new primary between the call and its reply."""
    gid, _, _ = await store.create("client_x", GameSettings(), "a1")
    epochs = iter([0, 1])
    moved = make_store(rdb, primary_epoch=lambda: next(epochs))
    with pytest.raises(StorageUnavailable, match="the primary changed while the action ran"):
        await moved.start(gid, "client_x", "a2")
    # the same action again, on a steady primary: answered as the duplicate it is
    steady = make_store(rdb, primary_epoch=lambda: 1)
    assert (await steady.start(gid, "client_x", "a2")).status == "dup"


def bounded_store(max_in_flight: int, action_timeout_s: float = 5.0) -> GameStore:
    """A store whose calls are given by the test (GameStore._guard), bounded in flight."""
    scripts: Any = {}
    return GameStore(
        None,
        scripts,
        GameClock(),
        retention_s=60,
        token_ttl_s=60,
        action_timeout_s=action_timeout_s,
        max_in_flight=max_in_flight,
    )


async def test_calls_waiting_on_redis_at_once_are_bounded_and_the_others_queue_in_order() -> None:
    store = bounded_store(3)
    gate = asyncio.Event()
    running: list[int] = []
    started: list[int] = []

    def call(i: int) -> Any:
        async def run() -> int:
            started.append(i)
            running.append(i)
            await gate.wait()
            running.remove(i)
            return i

        return run

    tasks = [asyncio.create_task(store._guard(call(i))) for i in range(10)]
    for _ in range(20):
        await asyncio.sleep(0)
    # three hold a connection's worth of Redis; the pool's other connections stay free
    assert running == [0, 1, 2]
    gate.set()
    assert await asyncio.gather(*tasks) == list(range(10))
    assert started == list(range(10))


async def test_a_call_that_cannot_get_a_slot_within_the_action_timeout_gets_the_storage_error() -> None:
    store = bounded_store(1, action_timeout_s=0.2)
    forever = asyncio.Event()

    async def holds() -> None:
        await forever.wait()

    async def quick() -> str:
        return "ran"

    first = asyncio.create_task(store._guard(holds))
    await asyncio.sleep(0)
    t0 = time.monotonic()
    with pytest.raises(StorageUnavailable):
        await store._guard(quick)
    assert 0.15 < time.monotonic() - t0 < 2
    # the slot the first call held goes to the next one once it is given up
    with pytest.raises(StorageUnavailable):
        await first
    assert await store._guard(quick) == "ran"
