"""Chaos: SIGKILL service instances while games are played, then check that nothing was lost.

Starts its own Redis (AOF, appendfsync always) and N instances on loopback, plays G games of
P players spread over the instances (the active player passes the turn, each action with a
requestId), and every few seconds SIGKILLs a random instance and starts it again. Players of
a killed instance reconnect to another one with their seat tokens (the host also with the host
token) and carry on. At the end it checks, from Redis:

- every action a client saw acknowledged is in its game's log (exactly once);
- each game's log has contiguous versions;
- no game is left with an error other than during a kill window.

Run: `python -m chaos.kill_instance --seconds 30` (exit code 0 when every invariant holds).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from service import keys
from service.messages.session import action_id_for
from stack.client import Client
from stack.instance import ServiceProcess
from stack.redis_server import RedisProcess


@dataclass
class Player:
    game_id: str
    player_id: int
    token: str
    host_token: str | None
    client: Client | None = None
    acked: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    reconnects: int = 0


async def connect_any(instances: list[ServiceProcess]) -> Client:
    last: Exception | None = None
    for inst in random.sample(instances, len(instances)):
        try:
            return await Client.connect(inst.ws_url)
        except Exception as exc:
            last = exc
    raise RuntimeError(f"no instance reachable: {last}")


async def setup_game(instances: list[ServiceProcess], players: int, initial_ms: int) -> list[Player]:
    host = await Client.connect(instances[0].ws_url)
    await host.request("create", {"settings": {"playerCount": players, "initialTime": initial_ms}})
    created = await host.next("created")
    gid, host_token = created["data"]["gameId"], created["data"]["hostToken"]
    out: list[Player] = []
    for pid in range(1, players + 1):
        c = host if pid == 1 else await Client.connect(instances[pid % len(instances)].ws_url)
        if pid != 1:
            await c.request("join", {"gameId": gid})
        await c.request("claim", {"playerId": pid})
        claimed = await c.next("claimed")
        out.append(Player(gid, pid, claimed["data"]["token"], host_token if pid == 1 else None, c))
    await host.request("start")
    return out


async def recover(p: Player, instances: list[ServiceProcess]) -> None:
    """Reconnect a player whose socket died, on any live instance, with its tokens."""
    if p.client is not None:
        with contextlib.suppress(Exception):
            await p.client.close()
    p.client = None
    data: dict[str, Any] = {"gameId": p.game_id, "playerId": p.player_id, "token": p.token}
    if p.host_token:
        data["hostToken"] = p.host_token
    c = await connect_any(instances)
    reply = await c.request("reconnect", data, timeout=5)
    if reply["type"] == "error":
        await c.close()
        raise RuntimeError(reply["data"]["message"])
    p.client = c
    p.reconnects += 1


async def play(game: list[Player], instances: list[ServiceProcess], until: float, rate: float) -> None:
    """Whoever holds the active seat passes the turn, `rate` times a second."""
    active = 1
    while time.monotonic() < until:
        await asyncio.sleep(1 / rate)
        p = game[active - 1]
        try:
            if p.client is None or p.client.closed_code is not None:
                await recover(p, instances)
            assert p.client is not None
            rid = f"{p.game_id}-{p.player_id}-{time.monotonic_ns()}"
            await p.client.send("passTurn", {}, request_id=rid)
            reply = await p.client.reply(rid, timeout=5)
            if reply["type"] == "state":
                p.acked.add(rid)
                active = reply["data"]["activePlayer"] or active
            else:
                p.errors.append(reply["data"]["code"])
                if reply["data"]["code"] == "NOT_AUTHORIZED_SWITCH":
                    active = active % len(game) + 1
        except Exception as exc:
            p.errors.append(type(exc).__name__)
            with contextlib.suppress(Exception):
                await recover(p, instances)


async def killer(instances: list[ServiceProcess], until: float, every: float) -> int:
    kills = 0
    while time.monotonic() + every < until:
        await asyncio.sleep(every)
        victim = random.choice(instances)
        victim.kill()
        kills += 1
        await asyncio.sleep(1.0)
        await asyncio.to_thread(victim.start)
    return kills


async def check(client: Redis, games: list[list[Player]]) -> list[str]:
    problems: list[str] = []
    for game in games:
        gid = game[0].game_id
        log = [json.loads(e) for e in await client.lrange(keys.log(gid), 0, -1)]
        versions = sorted(e["v"] for e in log)
        if versions != list(range(versions[0], versions[0] + len(versions))):
            problems.append(f"{gid}: log versions not contiguous")
        logged = {e["a"] for e in log}
        for p in game:
            missing = [r for r in p.acked if action_id_for(f"seat{p.player_id}", "passTurn", r) not in logged]
            if missing:
                problems.append(f"{gid}/{p.player_id}: {len(missing)} acknowledged actions missing from the log")
    return problems


async def main(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="chaos-"))
    redis = RedisProcess("--appendonly", "yes", "--appendfsync", "always").start()
    instances = [ServiceProcess(redis.url, work, f"i{n}", DRAIN_TIMEOUT_S="1") for n in range(args.instances)]
    try:
        for inst in instances:
            await asyncio.to_thread(inst.start)
        games = [await setup_game(instances, args.players, 3_600_000) for _ in range(args.games)]
        until = time.monotonic() + args.seconds
        kills_task = asyncio.create_task(killer(instances, until, args.kill_every))
        await asyncio.gather(*(play(g, instances, until, args.rate) for g in games))
        kills = await kills_task
        client = Redis.from_url(redis.url, decode_responses=True)
        problems = await check(client, games)
        await client.aclose()
        players = [p for g in games for p in g]
        acked = sum(len(p.acked) for p in players)
        errors = sum(len(p.errors) for p in players)
        print(
            f"games={len(games)} players={len(players)} kills={kills} acked={acked} "
            f"errors={errors} reconnects={sum(p.reconnects for p in players)}"
        )
        for line in problems:
            print("FAIL", line)
        print("OK: every acknowledged action is in the log, versions contiguous" if not problems else "FAILED")
        for p in players:
            if p.client is not None:
                with contextlib.suppress(Exception):
                    await p.client.close()
        return 0 if not problems else 1
    finally:
        for inst in instances:
            inst.kill()
        redis.close()


def cli() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--instances", type=int, default=3)
    ap.add_argument("--games", type=int, default=4)
    ap.add_argument("--players", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--rate", type=float, default=2.0, help="turn passes per second per game")
    ap.add_argument("--kill-every", type=float, default=4.0)
    args = ap.parse_args()
    if not (1 <= args.instances <= 8 and 1 <= args.games <= 200 and 2 <= args.players <= 8 and args.seconds <= 600):
        ap.error("bounds: instances 1-8, games 1-200, players 2-8, seconds <= 600")
    sys.exit(asyncio.run(main(args)))


if __name__ == "__main__":
    cli()
