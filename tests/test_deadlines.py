"""The deadline loop: polling, and stopping cleanly."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from service import keys
from service.clock import GameClock
from service.deadlines import DeadlineLoop
from service.errors import StorageUnavailable
from service.game import GameStore, new_action_id
from service.protocol import GameSettings, TimeoutRules
from service.scripts import Scripts
from stack.redis_server import RedisProcess
from tests.support.lua_harness import Published


class _InstantPipeline:
    """A pipeline whose execute() completes at once and has the poller cancelled right then."""

    def __init__(self, on_execute: Callable[[], None]) -> None:
        self.on_execute = on_execute

    async def __aenter__(self) -> _InstantPipeline:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def zrangebyscore(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def execute(self) -> list[list[str]]:
        self.on_execute()
        return [[] for _ in range(keys.PARTITIONS)]


class _FakeClient:
    def __init__(self, pipe: _InstantPipeline) -> None:
        self.pipe = pipe

    def pipeline(self, transaction: bool = True) -> _InstantPipeline:
        return self.pipe


async def test_the_deadline_loop_stops_when_cancelled_just_as_a_poll_completes() -> None:
    """Regression: asyncio.wait_for on 3.11 could swallow a cancellation landing as the
    pipeline completed, and app cleanup then waited forever for the loop. (The pipelined
    peek is a Cluster's; on one Redis the peek is one script call, through the same guard.)"""
    loop = asyncio.get_running_loop()
    deadlines: DeadlineLoop | None = None

    def cancel_soon() -> None:
        assert deadlines is not None and deadlines.loop._task is not None
        loop.call_soon(deadlines.loop._task.cancel)

    clock = GameClock()
    store = GameStore(
        _FakeClient(_InstantPipeline(cancel_soon)),
        Scripts.__new__(Scripts),
        clock,
        retention_s=60,
        token_ttl_s=60,
        action_timeout_s=4.0,
    )
    deadlines = DeadlineLoop(store, clock, poll_s=0.01, sharded=True)
    deadlines.loop.start()
    task = deadlines.loop._task
    assert task is not None
    done, _ = await asyncio.wait([task], timeout=2.0)
    try:
        assert done == {task}, "the deadline loop swallowed its cancellation and kept running"
    finally:
        while not task.done():
            task.cancel()
            await asyncio.wait([task], timeout=0.5)


async def test_two_loops_polling_together_fire_a_due_timeout_once(
    store: tuple[GameStore, GameClock], engine: Redis
) -> None:
    game_store, clock = store
    gid, _, _ = await game_store.create("host", GameSettings(initial_time=1000, warning_thresholds=(500,)), "a1")
    await game_store.start(gid, "host", "a2")
    a, b = DeadlineLoop(game_store, clock, 0.05), DeadlineLoop(game_store, clock, 0.05)
    assert await a.poll_once() + await b.poll_once() == 0

    clock.offset_ms = 600
    fired = await asyncio.gather(a.poll_once(), b.poll_once())
    assert sorted(fired) == [0, 1]
    clock.offset_ms = 1200
    fired = await asyncio.gather(a.poll_once(), b.poll_once())
    assert sorted(fired) == [0, 1]
    assert await a.poll_once() + await b.poll_once() == 0

    kinds = [e for e in await engine.lrange(keys.log(gid), 0, -1) if '"t":"deadline"' in e]
    assert len(kinds) == 2
    assert await engine.zscore(keys.deadline_partition(keys.partition_of(gid) or 0), gid) is None


async def test_instances_racing_on_a_due_grace_deadline_resolve_the_choice_once(redis_url: str) -> None:
    """Four instances (their own connections and scripts, one clock) on one game whose timeout
    choice has run out: their deadline loops claim and fire together, then every instance
    fires the game directly at once; the choice resolves as "die" exactly once."""
    clock = GameClock()
    clients = [Redis.from_url(redis_url, decode_responses=True) for _ in range(4)]
    try:
        stores = [
            GameStore(c, Scripts(c), clock, retention_s=60, token_ttl_s=60, action_timeout_s=5.0) for c in clients
        ]
        loops = [DeadlineLoop(s, clock, 0.05) for s in stores]
        # three players: the expiry decides nothing, so it is a commit without any event
        settings = GameSettings(3, 1_000, (500,), name="Race", timeout=TimeoutRules(grace_period=5_000))
        gids = []
        for n in range(2):
            gid, _, _ = await stores[0].create("host", settings, f"c{n}")
            await stores[0].start(gid, "host", f"s{n}")
            gids.append(gid)
        clock.offset_ms = 1_200
        # one timeout per game, whichever loops leased them
        assert sum(await asyncio.gather(*(lp.poll_once() for lp in loops))) == 2
        for gid in gids:
            state = json.loads(await stores[0].read_state(gid) or "null")
            assert state["players"][0]["timeoutPending"] is True
            due = await clients[0].zscore(keys.deadline_partition(keys.partition_of(gid) or 0), gid)
            assert due == state["players"][0]["timeoutChoiceDeadline"]

        clock.offset_ms = 6_300
        # the loops (claim_deadlines leases each entry to one of them) and every instance firing
        # both games by hand, all at once
        fired, outs = await asyncio.gather(
            asyncio.gather(*(lp.poll_once() for lp in loops)),
            asyncio.gather(*(s.fire_deadline(gid) for s in stores for gid in gids)),
        )
        assert sum(fired) + sum(o.status == "ok" for o in outs) == 2
        assert await asyncio.gather(*(lp.poll_once() for lp in loops)) == [0, 0, 0, 0]

        for gid in gids:
            state = json.loads(await stores[0].read_state(gid) or "null")
            assert (state["players"][0]["isEliminated"], state["activePlayer"]) == (True, 2)
            log = [json.loads(e) for e in await clients[0].lrange(keys.log(gid), 0, -1)]
            # create, start, the timeout, the expiry: one commit each, versions contiguous
            assert [e["t"] for e in reversed(log)] == ["create", "start", "deadline", "deadline"]
            assert [e["v"] for e in reversed(log)] == [1, 2, 3, 4]
    finally:
        for c in clients:
            await c.aclose()


async def test_two_target_clocks_running_at_once_each_time_out_once_while_stores_race(
    store: tuple[GameStore, GameClock], engine: Redis
) -> None:
    """Three instances' stores race fire_deadline (and their loops) over every stretch of
    the clocks of two targets responding at once: each warning and each timeout fires once."""
    game_store, clock = store
    stores = [game_store] + [
        GameStore(engine, Scripts(engine), clock, retention_s=3600, token_ttl_s=7200, action_timeout_s=5)
        for _ in range(2)
    ]
    loops = [DeadlineLoop(s, clock, 0.05) for s in stores]
    settings = GameSettings(player_count=3, initial_time=60_000, warning_thresholds=(2_000,))
    gid, _, _ = await game_store.create("host", settings, new_action_id())
    for pid in (1, 2, 3):
        await game_store.claim(gid, f"p{pid}", pid, new_action_id())
    await game_store.start(gid, "host", new_action_id())
    await game_store.update_player(gid, "host", new_action_id(), 2, {"time": 3_000})
    await game_store.update_player(gid, "host", new_action_id(), 3, {"time": 4_500})
    for pid in (2, 3):
        await game_store.toggle_target(gid, "p1", new_action_id(), pid)
    await game_store.confirm_targets(gid, "p1", new_action_id())
    published = Published(engine)
    await published.start()
    try:
        for step in range(1, 25):
            clock.offset_ms = step * 250
            await asyncio.gather(*(s.fire_deadline(gid) for s in stores), *(loop.poll_once() for loop in loops))
            st = await game_store.read_state(gid)
            assert st is not None
            if '"status":"paused"' in st:
                # a timeout pauses the game (v1's rule); play on so the other clock runs out too
                await game_store.pause(gid, "host", new_action_id())
        messages = await published.drain()
    finally:
        await published.close()

    events = [e for _, m in messages for e in json.loads(m.split("\n", 2)[1])]
    fired = sorted((e["type"], e["data"]["playerId"]) for e in events if e["type"] in ("warning", "timeout"))
    assert fired == [("timeout", 2), ("timeout", 3), ("warning", 2), ("warning", 3)]
    final = json.loads(await game_store.read_state(gid) or "{}")
    left = [p["timeRemaining"] for p in final["players"]]
    # both targets ran out; the original player's clock stood all along (it ran only while
    # targets were picked, in real time)
    assert left[1:] == [0, 0]
    assert left[0] > 59_000
    assert (final["targetingState"], final["awaitingPriority"]) == ("resolving", [2, 3])


async def test_a_poll_against_a_stopped_redis_raises_storage_unavailable() -> None:
    proc = RedisProcess().start()
    client = Redis.from_url(proc.url, decode_responses=True)
    clock = GameClock()
    store = GameStore(client, Scripts(client), clock, retention_s=60, token_ttl_s=60, action_timeout_s=2.0)
    try:
        assert await DeadlineLoop(store, clock, 0.05).poll_once() == 0
        proc.stop()
        with pytest.raises(StorageUnavailable):
            await DeadlineLoop(store, clock, 0.05).poll_once()
    finally:
        await client.aclose()
        proc.close()
