"""slow-clients: sockets that join a busy game and then never read, while the players of the
other games play on.

The busy game has 8 seats with long names (a ~2 KiB state) and a driver changing life totals
as fast as it can; every change is broadcast to the slow sockets too. The instance queues at
most MAX_SEND_QUEUE_BYTES (64 KiB here) for a socket and closes one past it with 1008
"Buffer overflow"; no other socket waits for it. Must hold: every slow socket is cut off,
nothing of the players' is lost, and the players' p99 stays within P99_BOUND_MS.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
import urllib.request
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from chaos.base import AOF_ALWAYS, Options, instances, play_through
from chaos.checker import History, Verdict
from stack.client import Client
from stack.instance import ServiceProcess
from stack.redis_server import RedisProcess
from stack.slow_reader import SlowReader

NAME = "slow-clients"
FAULT = "sockets that join a busy game and never read, while the other games play on"
QUEUE_BYTES = 65_536
#: slow sockets per instance
PER_INSTANCE = 3
#: the players' bound while the busy game floods the slow sockets: the flood, the players,
#: the instances and Redis share this machine's 2 cores
P99_BOUND_MS = 1000.0
#: drivers changing the busy game at once, and how long the flood may take: the kernel holds
#: twice SOCKET_SEND_BUFFER_BYTES (64 KiB) for a socket before the instance's own queue fills.
#: Left to the kernel, that buffer grew to 4 MiB (tcp_wmem), and under a loaded CI the drivers
#: did not fill it within the flood
DRIVERS = 3
FLOOD_S = 12.0


def overflows(svc: ServiceProcess) -> float:
    with urllib.request.urlopen(svc.url + "/metrics", timeout=3) as resp:
        text = resp.read().decode()
    return sum(
        s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == "tapotarp_websocket_buffer_overflows_total"
    )


def join_and_stop_reading(slow: SlowReader, game_id: str) -> None:
    slow.send_json({"type": "join", "data": {"gameId": game_id}, "requestId": "slow-join"})
    while True:
        opcode, payload = slow.frame()
        if opcode == 0x1 and b'"slow-join"' in payload:
            return


async def busy_game(svc: ServiceProcess) -> tuple[Client, str]:
    host = await Client.connect(svc.ws_url)
    await host.request("create", {"settings": {"playerCount": 8}})
    gid = str((await host.next("created"))["data"]["gameId"])
    for pid in range(1, 9):
        await host.request("updatePlayer", {"playerId": pid, "name": f"{pid}" * 50})
    return host, gid


def close_code(slow: SlowReader) -> int | None:
    """Read what is left up to the server's close frame: its code, or None if the server reset
    the connection first (it gives a closing socket a grace period only)."""
    try:
        _, code, _ = slow.until_close()
        return code
    except (ConnectionError, OSError):
        return None
    finally:
        slow.close()


async def run(opts: Options) -> Verdict:
    opts = dataclasses.replace(opts, seconds=max(opts.seconds, FLOOD_S + 2))
    with RedisProcess(*AOF_ALWAYS) as redis:
        env = {"MAX_SEND_QUEUE_BYTES": str(QUEUE_BYTES)}
        async with instances(redis.url, opts.instances, env=env) as procs:
            slow_readers: list[SlowReader] = []

            async def fault(history: History, until: float) -> dict[str, Any]:
                await asyncio.sleep(1.0)
                host, gid = await busy_game(procs[0])
                before = sum([await asyncio.to_thread(overflows, p) for p in procs])
                for svc in procs:
                    for _ in range(PER_INSTANCE):
                        slow = await asyncio.to_thread(SlowReader, svc.port)
                        slow_readers.append(slow)
                        await asyncio.to_thread(join_and_stop_reading, slow, gid)
                history.fault(f"{len(slow_readers)} slow sockets")
                changes = 0
                cut_off = 0.0
                done = asyncio.Event()

                async def drive(seat: int) -> None:
                    nonlocal changes
                    life = 0
                    while not done.is_set() and time.monotonic() < until - 0.5:
                        life += 1
                        await host.request("updatePlayer", {"playerId": seat, "life": life % 100})
                        changes += 1

                async def watch() -> None:
                    nonlocal cut_off
                    while not done.is_set() and time.monotonic() < until - 0.5:
                        await asyncio.sleep(0.2)
                        cut_off = sum([await asyncio.to_thread(overflows, p) for p in procs]) - before
                        if cut_off >= len(slow_readers):
                            done.set()

                try:
                    # the busy game's changes, as fast as they are acknowledged, until every slow
                    # socket is cut off or the run ends
                    await asyncio.gather(watch(), *(drive(seat) for seat in range(1, DRIVERS + 1)))
                finally:
                    done.set()
                    await host.close()
                history.heal()
                codes = await asyncio.gather(*(asyncio.to_thread(close_code, s) for s in slow_readers))
                return {
                    "slow_sockets": len(slow_readers),
                    "busy_changes": changes,
                    "overflows": int(cut_off),
                    "closed_1008": sum(1 for c in codes if c == 1008),
                    "reset": sum(1 for c in codes if c is None),
                }

            def judge(history: History, verdict: Verdict) -> None:
                if verdict.extra["overflows"] < verdict.extra["slow_sockets"]:
                    verdict.problems.append(
                        f"{verdict.extra['overflows']} of {verdict.extra['slow_sockets']} slow sockets cut off"
                    )
                if verdict.p99_ms is not None and verdict.p99_ms > P99_BOUND_MS:
                    verdict.problems.append(f"the players' p99 {verdict.p99_ms:.0f} ms is past {P99_BOUND_MS:.0f} ms")

            try:
                return await play_through(NAME, opts, redis.url, lambda: [p.ws_url for p in procs], fault, judge=judge)
            finally:
                for slow in slow_readers:
                    with contextlib.suppress(OSError):
                        slow.close()
