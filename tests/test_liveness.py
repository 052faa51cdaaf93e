"""Seats held through an instance that dies without closing its sockets are released (defect C4),
and the liveness round reports a Redis it cannot use as StorageUnavailable, as GameStore does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from service import keys
from service.clock import GameClock
from service.errors import StorageUnavailable
from service.game import GameStore
from service.liveness import Liveness
from service.scripts import Scripts
from stack.redis_server import RedisProcess
from tests.support.instances import claim, clients, create_game, game_state, ok, services


@pytest.fixture
def redis_server() -> Iterator[RedisProcess]:
    proc = RedisProcess().start()
    try:
        yield proc
    finally:
        proc.close()


@pytest.mark.slow
async def test_a_killed_instances_seats_are_released_and_its_tokens_still_work(
    redis_server: RedisProcess, tmp_path: Path
) -> None:
    r = Redis.from_url(redis_server.url, decode_responses=True)
    try:
        with services(redis_server.url, tmp_path, 2, INSTANCE_DEAD_AFTER_S="1") as (doomed, survivor):
            async with clients() as pool:
                host = await pool.connect(survivor.ws_url)
                gid, _, _ = await create_game(host, playerCount=3)
                player = await pool.connect(doomed.ws_url)
                token = await claim(player, gid, 2)
                await claim(host, gid, 1, join=False)
                assert (await game_state(r, gid))["players"][1]["claimedBy"] == player.client_id
                assert await r.sismember(keys.instance_games(player.client_id.split("_")[1]), gid)

                seen = len(host.messages)
                doomed.kill()

                released = await host.wait_for(
                    lambda m: m["type"] == "state" and m["data"]["players"][1]["claimedBy"] is None,
                    timeout=15,
                    start=seen,
                )
                # only the dead instance's seat was released; the survivor's client keeps its own
                assert released["data"]["players"][0]["claimedBy"] == host.client_id
                assert released["data"]["status"] == "waiting"
                entries = await r.lrange(keys.log(gid), 0, 0)
                assert '"t":"release"' in entries[0]

                back = await pool.connect(survivor.ws_url)
                reply = await back.request("reconnect", {"gameId": gid, "playerId": 2, "token": token})
                assert reply["type"] == "reconnected"
                state = await ok(back, "join", {"gameId": gid})
                assert state["data"]["players"][1]["claimedBy"] == back.client_id
                # the dead incarnation is no longer listed; the survivor still is
                listed = await r.zrange(keys.instances(), 0, -1)
                assert len(listed) == 1 and host.client_id.startswith(f"client_{listed[0]!s}_")
    finally:
        await r.aclose()


@pytest.mark.slow
async def test_a_cleanly_stopped_instance_leaves_the_registry(redis_server: RedisProcess, tmp_path: Path) -> None:
    r = Redis.from_url(redis_server.url, decode_responses=True)
    try:
        with services(redis_server.url, tmp_path, 1) as (inst,):
            async with clients() as pool:
                c = await pool.connect(inst.ws_url)
                incarnation = c.client_id.split("_")[1]
                assert await r.zscore(keys.instances(), incarnation) is not None
            assert inst.terminate() == 0
            assert await r.zscore(keys.instances(), incarnation) is None
    finally:
        await r.aclose()


@pytest.mark.slow
async def test_an_instance_that_finds_itself_declared_dead_sends_its_clients_to_reconnect(
    redis_server: RedisProcess, tmp_path: Path
) -> None:
    """As if another instance had reaped it while it was cut off from Redis: its clients'
    seats are gone, so it closes their sockets with 1012 and they come back via reconnect."""
    r = Redis.from_url(redis_server.url, decode_responses=True)
    try:
        with services(redis_server.url, tmp_path, 1, INSTANCE_DEAD_AFTER_S="1") as (inst,):
            async with clients() as pool:
                c = await pool.connect(inst.ws_url)
                gid, _, _ = await create_game(c)
                incarnation = c.client_id.split("_")[1]
                assert await r.zrem(keys.instances(), incarnation) == 1

                for _ in range(50):
                    if c.closed_code is not None:
                        break
                    await asyncio.sleep(0.1)
                assert c.closed_code == 1012
                # and it is listed again, alive
                assert await r.zscore(keys.instances(), incarnation) is not None
                assert (await game_state(r, gid))["id"] == gid
    finally:
        await r.aclose()


# -- Redis failures ----------------------------------------------------------------------


@pytest_asyncio.fixture
async def liveness(redis_server: RedisProcess) -> AsyncIterator[Liveness]:
    """An instance's liveness on its own redis-server, which the test may stop or fill."""
    client = Redis.from_url(redis_server.url, decode_responses=True)
    clock = GameClock()
    store = GameStore(client, Scripts(client), clock, retention_s=60, token_ttl_s=60, action_timeout_s=2.0)
    try:
        yield Liveness(store, clock, dead_after_s=1.0, games_ttl_s=60)
    finally:
        await client.aclose()


async def test_a_round_against_a_stopped_redis_raises_storage_unavailable(
    liveness: Liveness, redis_server: RedisProcess
) -> None:
    await liveness.round()
    redis_server.stop()
    with pytest.raises(StorageUnavailable):
        await liveness.round()
    with pytest.raises(StorageUnavailable):
        await liveness.reap()
    with pytest.raises(StorageUnavailable):
        await liveness.seated("ABCDEF")


async def test_a_beat_redis_refuses_to_write_raises_storage_unavailable(
    liveness: Liveness, redis_server: RedisProcess
) -> None:
    admin = Redis.from_url(redis_server.url, decode_responses=True)
    try:
        await admin.config_set("maxmemory-policy", "noeviction")
        await admin.config_set("maxmemory", "1")
        with pytest.raises(StorageUnavailable, match="refused"):
            await liveness.beat()
    finally:
        await admin.config_set("maxmemory", "0")
        await admin.aclose()


# -- the live-instance count ------------------------------------------------------------


async def test_each_beat_counts_the_instances_that_beat_within_dead_after_s(liveness: Liveness) -> None:
    """The frame limit per address divides its budget by this count (service/limits.py)."""
    assert liveness.live_instances == 1
    other = Liveness(liveness.store, liveness.clock, dead_after_s=1.0, games_ttl_s=60)
    await other.beat()
    await liveness.beat()
    assert (liveness.live_instances, other.live_instances) == (2, 1)
    # an instance silent for longer than dead_after_s is no longer counted, reaped or not
    silent = Liveness(liveness.store, liveness.clock, dead_after_s=1.0, games_ttl_s=60)
    await liveness.client.zadd(keys.instances(), {silent.incarnation: liveness.clock.now_ms() - 1500})
    await liveness.beat()
    await other.beat()
    assert (liveness.live_instances, other.live_instances) == (2, 2)
    await other.leave()
    await liveness.beat()
    assert liveness.live_instances == 1


# -- the instance's games set ------------------------------------------------------------


async def members(liveness: Liveness) -> set[str]:
    found: set[str] = await liveness.client.smembers(keys.instance_games(liveness.incarnation))
    return found


async def test_the_games_set_holds_a_game_only_while_a_socket_of_this_instance_is_seated(liveness: Liveness) -> None:
    await liveness.seated("AAAAAA")
    await liveness.seated("AAAAAA")
    await liveness.seated("BBBBBB")
    assert await members(liveness) == {"AAAAAA", "BBBBBB"}

    await liveness.unseated("AAAAAA")
    assert await members(liveness) == {"AAAAAA", "BBBBBB"}
    await liveness.unseated("AAAAAA")
    await liveness.unseated("BBBBBB")

    assert await members(liveness) == set()
    assert (dict(liveness.seats), liveness._set_locks) == ({}, {})


async def test_concurrent_seats_and_leaves_leave_exactly_the_games_still_seated(liveness: Liveness) -> None:
    """Claims and leaves of one game finish in any order; the set must end as the counts do."""
    games = [f"G{i:05d}" for i in range(40)]
    await asyncio.gather(*(liveness.seated(g) for g in games for _ in range(3)))
    # every game loses its three seats, and odd games take one more, all at once
    await asyncio.gather(
        *(liveness.unseated(g) for g in games for _ in range(3)),
        *(liveness.seated(g) for g in games[1::2]),
    )

    assert await members(liveness) == set(games[1::2])
    assert dict(liveness.seats) == dict.fromkeys(games[1::2], 1)
    assert liveness._set_locks == {}


async def test_games_set_updates_wait_for_a_slot_of_the_stores_bound_and_the_heartbeat_does_not(
    liveness: Liveness,
) -> None:
    liveness.store.in_flight = bounded = asyncio.Semaphore(1)
    await bounded.acquire()  # every slot taken, as by actions queued on a saturated Redis
    seating = asyncio.create_task(liveness.seated("AAAAAA"))
    await asyncio.sleep(0.2)
    assert not seating.done() and await members(liveness) == set()
    # the heartbeat goes straight to the client, on the connections the bound leaves free
    await asyncio.wait_for(liveness.beat(), 2.0)
    assert liveness.beats == 1
    bounded.release()
    await asyncio.wait_for(seating, 2.0)
    assert await members(liveness) == {"AAAAAA"}
