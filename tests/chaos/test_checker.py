"""chaos/checker.py against a real Redis holding hand-written game logs: each count it reports
moves with exactly the fault it is meant to catch, and a clean history counts nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from redis.asyncio import Redis

from chaos.checker import History, check, due_deadlines
from service import keys
from stack.redis_server import RedisProcess

GID = "ABC234"
SETTINGS = {"initialTime": 10_000, "warningThresholds": [6_000, 3_000]}


@pytest_asyncio.fixture
async def redis(redis_proc: RedisProcess) -> AsyncIterator[Redis]:
    if not redis_proc.is_running():
        redis_proc.start()
    client = Redis.from_url(redis_proc.url, decode_responses=True)
    await client.delete(keys.game(GID), keys.log(GID))
    try:
        yield client
    finally:
        await client.delete(keys.game(GID), keys.log(GID))
        await client.aclose()


def entry(v: int, aid: str = "", events: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"v": v, "t": "switch", "a": aid, "c": "", "at": 0}
    if events:
        out["e"] = json.dumps(events)
    return out


def warning(pid: int, threshold: int) -> dict[str, Any]:
    return {"type": "warning", "data": {"playerId": pid, "threshold": threshold}}


def timeout(pid: int) -> dict[str, Any]:
    return {"type": "timeout", "data": {"playerId": pid}}


async def store(redis: Redis, entries: list[dict[str, Any]], left: tuple[int, int] = (10_000, 10_000)) -> None:
    """The log (oldest first here; Redis keeps it newest first) and a state at its last version."""
    await redis.lpush(keys.log(GID), *[json.dumps(e) for e in entries])
    players = [{"id": pid, "timeRemaining": ms} for pid, ms in enumerate(left, start=1)]
    state = {"version": entries[-1]["v"], "players": players, "settings": SETTINGS}
    await redis.hset(keys.game(GID), "state", json.dumps(state))


def history(acks: list[tuple[str, int]], seen: list[int] | None = None) -> History:
    h = History()
    # what the workload does for every game it creates: checked even if nothing was acknowledged
    h.game(GID)
    for aid, version in acks:
        h.ack(GID, f"r-{aid}", aid, version)
    for v in seen or []:
        h.saw("alice", GID, v)
    return h


async def test_a_clean_history_counts_nothing(redis: Redis) -> None:
    await store(redis, [entry(1), entry(2, "a"), entry(3, "b")])
    v = await check(redis, history([("a", 2), ("b", 3)], seen=[1, 2, 2, 3]), "clean")
    assert (v.acked, v.lost, v.duplicated, v.out_of_order, v.regressions, v.deadline_faults) == (2, 0, 0, 0, 0, 0)
    assert v.ok and v.problems == []
    assert v.line().startswith("clean: OK faults=0 acked=2 lost=0 ")


async def test_an_acknowledged_action_missing_from_the_log_is_lost(redis: Redis) -> None:
    await store(redis, [entry(1), entry(2, "a")])
    v = await check(redis, history([("a", 2), ("gone", 3)]), "lost")
    assert (v.acked, v.lost) == (2, 1)
    assert not v.ok
    # named, so that its time can be set beside the fault's
    assert [p for p in v.problems if "acknowledged at v3" in p] == [
        "ABC234: r-gone acknowledged at v3 at 0.00s is not in the log"
    ]
    # a scenario that allows the loss (appendfsync everysec) passes with it
    allowed = await check(redis, history([("a", 2), ("gone", 3)]), "lost", allowed_loss=1)
    assert allowed.ok and allowed.line().split()[4] == "lost=1/1"
    assert allowed.problems == []


async def test_an_action_logged_twice_is_a_duplicate(redis: Redis) -> None:
    await store(redis, [entry(1, "a"), entry(2, "a"), entry(3, "b")])
    v = await check(redis, history([("a", 1)]), "dup")
    assert v.duplicated == 1
    assert not v.ok


async def test_a_gap_in_the_log_or_an_ack_at_another_version_is_out_of_order(redis: Redis) -> None:
    await store(redis, [entry(1), entry(2, "a"), entry(4, "b")])
    v = await check(redis, history([("a", 2), ("b", 3)]), "order")
    # the gap, and b acknowledged at 3 but logged at 4
    assert v.out_of_order == 2
    assert any("not contiguous" in p for p in v.problems)


async def test_a_client_that_saw_a_version_go_back_is_a_regression(redis: Redis) -> None:
    await store(redis, [entry(1), entry(2), entry(3)])
    v = await check(redis, history([], seen=[1, 3, 2, 3]), "back")
    assert v.regressions == 1
    assert v.problems == [f"{GID}/alice: saw v2 after v3"]


async def test_each_due_warning_and_timeout_must_be_logged_once(redis: Redis) -> None:
    # player 1 ran out: both warnings and the timeout were due; one warning fired twice and
    # the timeout never
    await store(
        redis,
        [entry(1, events=[warning(1, 6_000)]), entry(2, events=[warning(1, 6_000), warning(1, 3_000)])],
        left=(0, 10_000),
    )
    v = await check(redis, history([]), "deadlines")
    assert (v.deadlines, v.deadline_faults) == (3, 2)
    assert v.problems == [f"{GID}: deadlines fired twice [(1, 6000)], never [(1, None)]"]


async def test_a_steady_client_must_get_every_deadline_once_and_a_reconnecting_one_none_twice(redis: Redis) -> None:
    await store(
        redis,
        [entry(1, events=[warning(1, 6_000)]), entry(2, events=[warning(1, 3_000), timeout(1)])],
        left=(0, 10_000),
    )
    h = history([])
    h.deadline_frame("steady", GID, 1, 6_000)
    h.deadline_frame("steady", GID, 1, None)
    h.deadline_frame("flaky", GID, 1, 3_000)
    h.deadline_frame("flaky", GID, 1, 3_000)
    v = await check(redis, h, "frames", steady_clients={"steady"})
    # steady missed the 3000 warning; flaky got one twice (its gaps are not counted)
    assert v.deadline_faults == 2
    assert sorted(v.problems) == [
        f"{GID}/flaky: deadline frames twice [(1, 3000)], missed []",
        f"{GID}/steady: deadline frames twice [], missed [(1, 3000)]",
    ]


def test_due_deadlines_are_the_thresholds_a_clock_is_below_and_the_timeout_at_zero() -> None:
    def state(*left: int) -> dict[str, Any]:
        return {"players": [{"id": i, "timeRemaining": ms} for i, ms in enumerate(left, 1)], "settings": SETTINGS}

    assert due_deadlines(state(10_000, 6_001)) == set()
    assert due_deadlines(state(6_000, 2_999)) == {(1, 6_000), (2, 6_000), (2, 3_000)}
    assert due_deadlines(state(0, 10_000)) == {(1, 6_000), (1, 3_000), (1, None)}


async def test_recovery_is_the_longest_wait_after_a_fault_until_every_game_acknowledged_again(redis: Redis) -> None:
    await store(redis, [entry(1), entry(2, "a")])
    h = history([])
    h.fault("kill")
    at = h.faults[0][0]
    h.ack(GID, "r-a", "a", 2)
    h.games[GID].acks[-1].at = at + 1.5
    v = await check(redis, h, "recovery")
    assert v.faults == 1
    assert v.recovery_s == 1.5


async def test_a_retry_answered_with_a_later_state_is_in_order(redis: Redis) -> None:
    # a lost reply, the same requestId again: the duplicate is answered with the newest state
    await store(redis, [entry(1), entry(2, "a"), entry(3), entry(4)])
    v = await check(redis, history([("a", 4)]), "retry")
    assert (v.acked, v.lost, v.out_of_order) == (1, 0, 0)
    assert v.ok
