"""How many bytes of Redis one game takes, per key family: `python -m bench.game_bytes`.

Plays a few games of different sizes through the real scripts on a throw-away redis-server
(free loopback port), ends each as players do (every seat released), then prints
`MEMORY USAGE … SAMPLES 0` of the game's own four keys (state, log, action ids, undo stack).
docs/operations.md's sizing table and formula are built from its output.
"""

from __future__ import annotations

import argparse
import asyncio

from redis.asyncio import Redis

from service import keys
from service.clock import GameClock
from service.game import GameStore, new_action_id
from service.protocol import GameSettings
from service.scripts import Scripts
from stack.redis_server import RedisProcess

#: (players, actions): a quick game, a typical one, a long one, and the largest the log allows
GAMES = ((2, 10), (4, 30), (4, 100), (8, 300))


async def play(store: GameStore, players: int, actions: int) -> str:
    gid, _, _ = await store.create("host", GameSettings(player_count=players), new_action_id())
    for p in range(1, players + 1):
        await store.claim(gid, f"c{p}", p, new_action_id())
    await store.start(gid, "host", new_action_id())
    for i in range(actions):
        if i % 2:
            await store.switch(gid, "host", new_action_id(), "next")
        else:
            await store.update_player(gid, "host", new_action_id(), 1 + i % players, {"life": 20 - i % 7})
    for p in range(1, players + 1):
        await store.leave(gid, f"c{p}", new_action_id(), "disconnect")
    return gid


async def measure() -> list[tuple[int, int, list[int], int]]:
    proc = RedisProcess().start()
    client = Redis.from_url(proc.url, decode_responses=True)
    try:
        store = GameStore(
            client, Scripts(client), GameClock(), retention_s=86_400, token_ttl_s=7 * 86_400, action_timeout_s=5
        )
        out = []
        for players, actions in GAMES:
            gid = await play(store, players, actions)
            own = (keys.game(gid), keys.log(gid), keys.actions(gid), keys.undo(gid))
            sizes = [int(await client.memory_usage(k, samples=0) or 0) for k in own]
            out.append((players, actions, sizes, int(await client.llen(keys.log(gid)))))
        return out
    finally:
        await client.aclose()
        proc.close()


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(prog="python -m bench.game_bytes", description=__doc__.split("\n\n")[0]).parse_args(argv)
    print("| players | actions | log entries | game hash | log | actions hash | undo stack | total |")
    print("|---|---|---|---|---|---|---|---|")
    for players, actions, (game, log, acts, undo), entries in asyncio.run(measure()):
        total = game + log + acts + undo
        print(f"| {players} | {actions} | {entries} | {game} B | {log} B | {acts} B | {undo} B | {total} B |")


if __name__ == "__main__":
    main()
