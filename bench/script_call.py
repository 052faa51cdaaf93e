"""What one game script costs the instance that calls it, and what a leaner call would save.

The load profiles (docs/benchmark.md) put redis-py's script call at 15-29 % of an instance's
samples, and named "EVALSHA written straight on a connection" as a way to the issue's
targets. This measures the size of that lever before anyone builds it:

- `store`: the pass-turn `switch` through service.game.GameStore on the production client
  (service.redis_client.connect, as bench.capacity), the path every action takes: redis-py's
  AsyncScript, its pool, the per-call timeout and the store's error translation;
- `pipelined`: the same EVALSHA, same keys and arguments, on one connection held for the run,
  the calls of each event-loop turn written in one send and their replies read in order by
  one task (redis-py's own packer and parser): about the least a Python client can do per call.

Both run from `tasks` concurrent tasks, each passing the turn in its own games, for `seconds`;
the figure is this process's CPU per call (the Redis side is the same in both). The client
runs on uvloop, as the service does.

With `--stages`, then, where Redis's own time in the script goes: `switch` cut short after
each stage of its work (STAGES: the script's text up to its main function, with a shorter
main), each run `--stage-calls` times on one game, timed by Redis (INFO commandstats, µs per
EVALSHA, so without the network or the client); then the whole script, which commits.

Run: `python -m bench.script_call` (about 20 s), `--tasks 1,4,32 --seconds 3 --games 64`,
`--stages`.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import sys
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aredis
from redis.exceptions import ResponseError

from bench.capacity import Timed, production_store, timed
from service import keys
from service.game import GameStore, new_action_id
from service.protocol import GameSettings
from stack.redis_server import RedisProcess

PLAYERS = 4

#: `switch` cut short: what the main function does before it answers, each stage adding to
#: the one before (the names of lua/lib's helpers); "nothing" is a script without the libraries
STAGES: list[tuple[str, str]] = [
    ("nothing (EVALSHA itself)", ""),
    ("the libraries' top level, context()", "local c = context()"),
    ("+ load(): HGET, decode, summary", "local c = context() local st = load(c)"),
    ("+ settle()", "local c = context() local st = load(c) settle(st, c)"),
    ("+ encode_state()", "local c = context() local st = load(c) settle(st, c) encode_state(st)"),
    (
        "+ changes() for the log",
        "local c = context() local st = load(c) settle(st, c) encode_state(st) changes(c.before, st)",
    ),
]


class Pipelined:
    """EVALSHA calls on one connection: each turn's calls go out in one send, one reader
    task hands the replies to the callers in order (Redis answers a connection in order)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.batch: list[tuple[Any, ...]] = []
        self.waiting: collections.deque[asyncio.Future[Any]] = collections.deque()
        self.flush_due = asyncio.Event()
        self.tasks = [asyncio.create_task(self._write()), asyncio.create_task(self._read())]

    def call(self, *args: Any) -> asyncio.Future[Any]:
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.batch.append(args)
        self.waiting.append(fut)
        self.flush_due.set()
        return fut

    async def _write(self) -> None:
        while True:
            await self.flush_due.wait()
            self.flush_due.clear()
            batch, self.batch = self.batch, []
            await self.conn.send_packed_command(self.conn.pack_commands(batch), check_health=False)

    async def _read(self) -> None:
        while True:
            try:
                reply, error = await self.conn.read_response(), None
            except ResponseError as e:
                reply, error = None, e
            fut = self.waiting.popleft()
            if error is not None:
                fut.set_exception(error)
            else:
                fut.set_result(reply)

    async def close(self) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


@dataclass
class Row:
    path: str
    tasks: int
    calls: int
    seconds: float
    client_cpu_us: float
    redis_cpu_us: float

    def line(self) -> str:
        return (
            f"{self.path:<10} {self.tasks:>5} {self.calls:>8} {self.calls / self.seconds:>9.0f}"
            f" {self.client_cpu_us:>13.1f} {self.redis_cpu_us:>12.1f}"
        )


HEADER = f"{'path':<10} {'tasks':>5} {'calls':>8} {'calls/s':>9} {'client µs/call':>13} {'Redis µs/call':>12}"


async def measure(
    task_counts: list[int], seconds: float, games: int, stage_calls: int = 0
) -> tuple[list[Row], list[tuple[str, float]]]:
    """The rows of both paths for each task count, and with `stage_calls` the stages' figures."""
    server = await asyncio.to_thread(RedisProcess().start)
    client, store = production_store(server.url)
    rows: list[Row] = []
    staged: list[tuple[str, float]] = []
    try:
        await store.scripts.load_all(client)
        settings = GameSettings(player_count=PLAYERS, initial_time=3_600_000)

        async def new_game() -> str:
            gid, _, _ = await store.create("host", settings, new_action_id())
            await store.start(gid, "host", new_action_id())
            return gid

        ids = [await new_game() for _ in range(games)]
        for tasks in task_counts:
            rows.append(await through_store(store, server, ids, tasks, seconds))
            rows.append(await pipelined(client, store, server, ids, tasks, seconds))
        if stage_calls:
            staged = await stages(store, server, ids[0], stage_calls)
    finally:
        await client.aclose()
        server.stop()
    return rows, staged


def per_call(path: str, tasks: int, t: Timed) -> Row:
    return Row(path, tasks, t.count, t.seconds, t.client_cpu_s / t.count * 1e6, t.redis_cpu_s / t.count * 1e6)


async def through_store(store: GameStore, server: RedisProcess, ids: list[str], tasks: int, seconds: float) -> Row:
    async def switch(k: int, i: int) -> None:
        mine = ids[k::tasks]
        out = await store.switch(mine[i % len(mine)], "host", new_action_id(), "next")
        assert out.status == "ok", out.status

    return per_call("store", tasks, await timed(server.pid, seconds, tasks, switch))


async def pipelined(
    client: Any, store: GameStore, server: RedisProcess, ids: list[str], tasks: int, seconds: float
) -> Row:
    sha = store.scripts["switch"].sha
    conn = await client.connection_pool.get_connection()
    pipe = Pipelined(conn)
    try:

        async def switch(k: int, i: int) -> None:
            mine = ids[k::tasks]
            gid = mine[i % len(mine)]
            key_list = keys.GameKeys(gid).as_list()
            argv = store.game_args(gid, new_action_id(), "host", "next")
            reply = await pipe.call("EVALSHA", sha, len(key_list), *key_list, *argv)
            assert reply[0] == "ok", reply[0]

        return per_call("pipelined", tasks, await timed(server.pid, seconds, tasks, switch))
    finally:
        await pipe.close()
        await client.connection_pool.release(conn)


async def stages(store: GameStore, server: RedisProcess, gid: str, calls: int) -> list[tuple[str, float]]:
    """Redis µs per EVALSHA of each of STAGES, then of the whole `switch`, on the started game `gid`."""
    text = store.scripts.sources["switch"].text
    head = store.scripts.prefix + text[: text.index("return run(function()")]
    key_list = keys.GameKeys(gid).as_list()
    admin = aredis.Redis.from_url(server.url)
    out: list[tuple[str, float]] = []
    try:

        async def timed_calls(sha: str) -> float:
            await admin.config_resetstat()
            for _ in range(calls):
                argv = store.game_args(gid, new_action_id(), "host", "next")
                await admin.evalsha(sha, len(key_list), *key_list, *argv)  # type: ignore[misc, unused-ignore]
            stats = await admin.info("commandstats")
            return float(stats["cmdstat_evalsha"]["usec_per_call"])

        for name, body in STAGES:
            src = head + f"return run(function() {body} return {{'noop', '', '[]'}} end)" if body else "return 1"
            out.append((name, await timed_calls(await admin.script_load(src))))
        out.append(("the whole switch (commits)", await timed_calls(store.scripts["switch"].sha)))
    finally:
        await admin.aclose()
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--tasks", default="1,4,32", help="concurrent callers; a comma list runs each (1,4,32)")
    ap.add_argument("--seconds", type=float, default=3.0, help="seconds per path and task count (3)")
    ap.add_argument("--games", type=int, default=64, help="games the callers pass turns in (64)")
    ap.add_argument("--stages", action="store_true", help="then Redis's time per stage of the script")
    ap.add_argument("--stage-calls", type=int, default=2000, help="calls per stage (2000)")
    args = ap.parse_args(argv)
    args.task_counts = [int(x) for x in args.tasks.split(",")]
    if any(t < 1 for t in args.task_counts) or args.games < max(args.task_counts):
        ap.error("--tasks must be positive, and --games at least the largest of them")
    if args.stage_calls < 1:
        ap.error("--stage-calls must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import uvloop

        run: Any = uvloop.run
    except ImportError:
        run = asyncio.run
    rows, staged = run(measure(args.task_counts, args.seconds, args.games, args.stage_calls if args.stages else 0))
    print(f"one redis-server (no AOF), pass-turn scripts, {args.seconds:g} s each, pid {os.getpid()}")
    print(HEADER)
    for r in rows:
        print(r.line())
    if staged:
        print(f"\nRedis µs per call of switch cut short ({args.stage_calls} calls each, INFO commandstats)")
        for name, us in staged:
            print(f"  {name:<40} {us:7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
