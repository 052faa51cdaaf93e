"""bench/script_call.py: both call paths pass every turn they are asked to, and the report
has a row per path and task count."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aredis
from redis.exceptions import ResponseError

from bench import script_call
from stack.redis_server import RedisProcess


async def test_both_paths_commit_every_call_and_report_it() -> None:
    rows, staged = await script_call.measure([1, 3], seconds=0.3, games=6, stage_calls=50)

    assert [(r.path, r.tasks) for r in rows] == [("store", 1), ("pipelined", 1), ("store", 3), ("pipelined", 3)]
    for r in rows:
        # each call asserted its own "ok"; a run that made none would divide by zero above
        assert r.calls > 0 and r.seconds > 0.2
        assert r.client_cpu_us > 0 and r.redis_cpu_us > 0
        assert r.line().split()[:3] == [r.path, str(r.tasks), str(r.calls)]
    # a stage that broke the script (a helper renamed in lua/lib) would have raised above
    names = [name for name, _ in staged]
    assert names == [name for name, _ in script_call.STAGES] + ["the whole switch (commits)"]
    assert all(us > 0 for _, us in staged)
    # the libraries' top level alone costs more than an empty script, and committing more than both
    assert staged[0][1] < staged[1][1] < staged[-1][1]


async def test_a_refusal_reaches_its_caller_and_the_replies_behind_it_stay_in_order() -> None:
    with RedisProcess() as server:
        client = aredis.Redis.from_url(server.url, decode_responses=True)
        conn = await client.connection_pool.get_connection()  # type: ignore[no-untyped-call, unused-ignore]
        pipe = script_call.Pipelined(conn)
        try:
            calls = [
                pipe.call("EVAL", "return ARGV[1]", 0, "first"),
                pipe.call("EVAL", "return redis.error_reply('NOT_YOUR_TURN')", 0),
                pipe.call("EVAL", "return ARGV[1]", 0, "third"),
            ]
            first, refused, third = await asyncio.gather(*calls, return_exceptions=True)
            assert (first, third) == ("first", "third")
            assert isinstance(refused, ResponseError) and "NOT_YOUR_TURN" in str(refused)
        finally:
            await pipe.close()
            await client.connection_pool.release(conn)
            await client.aclose()


def test_bad_counts_are_refused() -> None:
    with pytest.raises(SystemExit):
        script_call.parse_args(["--tasks", "0"])
    with pytest.raises(SystemExit):
        script_call.parse_args(["--tasks", "8", "--games", "4"])
