"""What an AOF costs on disk and at a restart: `python -m bench.aof_replay`.

Plays games through the real scripts on a throw-away redis-server with AOF and automatic
rewrites off, so that every action stays in the file; then restarts that server and times
how long it takes to load the file (from the start to the first PONG, not LOADING).
docs/operations.md weighs `auto-aof-rewrite-percentage` with its figures: how many bytes an
action appends, and how fast a restart replays them.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from redis.asyncio import Redis

from service.clock import GameClock
from service.game import GameStore, new_action_id
from service.protocol import GameSettings
from service.scripts import Scripts
from stack.redis_server import RedisProcess

PLAYERS = 4
#: games played at once: enough to keep Redis busy, within the client's pool
CONCURRENCY = 48


@dataclass(frozen=True)
class Replay:
    games: int
    passes: int
    #: bytes the passes added to the AOF, and the whole file when Redis was restarted
    pass_bytes: int
    aof_bytes: int
    play_s: float
    load_s: float

    @property
    def bytes_per_pass(self) -> float:
        return self.pass_bytes / (self.games * self.passes)

    @property
    def mb_per_s(self) -> float:
        return self.aof_bytes / 1e6 / self.load_s


def aof_bytes(data_dir: Path) -> int:
    """The size of every file of the AOF (Redis 7 keeps a base, increments and a manifest)."""
    return sum(f.stat().st_size for f in (data_dir / "appendonlydir").iterdir())


async def play(games: int, passes: int) -> Replay:
    proc = RedisProcess(
        "--appendonly", "yes", "--appendfsync", "everysec", "--auto-aof-rewrite-percentage", "0", startup_timeout=300
    )
    proc.start()
    try:
        client = Redis.from_url(proc.url, decode_responses=True, max_connections=CONCURRENCY + 4)
        store = GameStore(client, Scripts(client), GameClock(), retention_s=3600, token_ttl_s=7200, action_timeout_s=30)
        ready: list[str] = []
        gate = asyncio.Semaphore(CONCURRENCY)

        async def set_up() -> None:
            async with gate:
                gid, _, _ = await store.create("host", GameSettings(player_count=PLAYERS), new_action_id())
                for p in range(1, PLAYERS + 1):
                    await store.claim(gid, f"c{p}", p, new_action_id())
                await store.start(gid, "host", new_action_id())
                ready.append(gid)

        async def pass_turns(gid: str) -> None:
            async with gate:
                for i in range(passes):
                    await store.switch(gid, f"c{i % PLAYERS + 1}", new_action_id(), "next")

        try:
            await asyncio.gather(*(set_up() for _ in range(games)))
            before = aof_bytes(proc.data_dir)
            started = time.perf_counter()
            await asyncio.gather(*(pass_turns(gid) for gid in ready))
            play_s = time.perf_counter() - started
        finally:
            await client.aclose()
        # a clean stop flushes the file; nothing is rewritten on the way down
        await asyncio.to_thread(proc.stop)
        total = aof_bytes(proc.data_dir)
        started = time.perf_counter()
        # start() returns at the first PONG: LOADING is not one
        await asyncio.to_thread(proc.start)
        load_s = time.perf_counter() - started
        return Replay(games, passes, total - before, total, round(play_s, 2), round(load_s, 3))
    finally:
        proc.close()


def report(r: Replay) -> str:
    return (
        f"{r.games} games x {r.passes} passes of the turn: {r.bytes_per_pass:,.0f} AOF bytes per pass, "
        f"played in {r.play_s:.1f} s; a restart loaded the {r.aof_bytes / 1e6:,.0f} MB file in {r.load_s:.2f} s "
        f"({r.mb_per_s:,.0f} MB/s)"
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.aof_replay", description=__doc__.splitlines()[0])
    ap.add_argument("--games", type=int, default=1000, help="games of 4 players (default 1000)")
    ap.add_argument("--passes", type=int, default=100, help="turn passes per game (default 100)")
    args = ap.parse_args(argv)
    if args.games < 1 or args.passes < 1:
        ap.error("--games and --passes must be at least 1")
    print(report(asyncio.run(play(args.games, args.passes))))


if __name__ == "__main__":
    main()
