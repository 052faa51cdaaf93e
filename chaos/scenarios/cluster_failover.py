"""cluster-failover: a Redis Cluster of three primaries with a replica each; one primary is
SIGKILLed under load, its replica takes over (after cluster-node-timeout, 2 s), and the
killed node is started again (it rejoins as a replica).

Replication is asynchronous: writes the killed primary acknowledged but had not yet sent to
its replica are lost, and the loss is reported (it is held to the actions of that shard
acknowledged in the LOSS_WINDOW_S before the kill). The other shards must not notice: with
`cluster-require-full-coverage no` they keep serving, so their games lose nothing and get
no error.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from typing import Any

from redis.crc import key_slot

from chaos.base import Options, instances, play_through
from chaos.checker import History, Verdict
from service import keys
from stack.topologies import ClusterSet, command

NAME = "cluster-failover"
FAULT = "SIGKILL of a Redis Cluster primary with a replica, under load; restarted after the failover"
#: how far behind the primary its replica may be: acknowledgements older than this were sent on
LOSS_WINDOW_S = 1.0


def slot_of(game_id: str) -> int:
    """The slot of every key of the game (all hash-tagged together)."""
    return int(key_slot(keys.game(game_id).encode()))


async def run(opts: Options) -> Verdict:
    with ClusterSet(3, 1, "--cluster-require-full-coverage", "no", "--appendonly", "yes") as cluster:
        async with instances(cluster.url, opts.instances, env={"REDIS_CLUSTER": "1"}) as procs:
            killed_at: list[float] = []
            #: the slots the killed primary served
            victim_slots: list[tuple[int, int]] = []

            def on_killed(history: History) -> set[str]:
                """The games on the killed shard, those first heard of after the kill included
                (a game whose first action failed there has no acknowledgement before it)."""
                seen = set(history.games) | set(history.game_errors)
                return {gid for gid in seen if any(lo <= slot_of(gid) <= hi for lo, hi in victim_slots)}

            async def fault(history: History, until: float) -> dict[str, Any]:
                await asyncio.sleep((until - time.monotonic()) / 3)
                ranges = await asyncio.to_thread(cluster.slot_ranges)
                holding: dict[int, int] = {}
                for gid in history.games:
                    port = next(p for lo, hi, p in ranges if lo <= slot_of(gid) <= hi)
                    holding[port] = holding.get(port, 0) + 1
                # a shard with games, and games left on the others to watch
                choices = sorted(p for p, n in holding.items() if n < len(history.games)) or sorted(holding)
                victim_port = random.choice(choices)
                victim_slots.extend((lo, hi) for lo, hi, port in ranges if port == victim_port)
                victim = next(n for n in cluster.nodes if n.port == victim_port)
                replica = await asyncio.to_thread(cluster.replica_of, victim)
                victim.kill()
                killed_at.append(time.monotonic())
                history.fault(f"SIGKILL primary :{victim_port}")
                # the replica's promotion, then the old primary back as a replica
                await asyncio.to_thread(promoted, replica.port, 20)
                history.heal()
                await asyncio.to_thread(victim.start)
                took = history.healed[-1] - killed_at[0]
                return {"games_on_killed_shard": len(on_killed(history)), "failover": f"{took:.1f}s"}

            def bound(history: History) -> int:
                return sum(
                    1
                    for gid in on_killed(history)
                    if gid in history.games
                    for a in history.games[gid].acks
                    if killed_at and killed_at[0] - LOSS_WINDOW_S <= a.at <= killed_at[0]
                )

            def judge(history: History, verdict: Verdict) -> None:
                killed = on_killed(history)
                others = [gid for gid in history.games if gid not in killed]
                kinds: Counter[str] = Counter()
                for gid in others:
                    kinds.update(history.game_errors.get(gid, {}))
                errors = kinds.total()
                verdict.extra["other_shards_errors"] = errors
                verdict.extra["loss_bound"] = verdict.allowed_loss
                if errors:
                    named = ", ".join(f"{what} ×{n}" for what, n in kinds.most_common(5))
                    verdict.problems.append(f"{errors} errors in games on the shards that were not killed: {named}")
                if not killed or not others:
                    verdict.problems.append("the games did not spread over the killed shard and the others")

            return await play_through(
                NAME,
                opts,
                cluster.url,
                lambda: [p.ws_url for p in procs],
                fault,
                allowed_loss=bound,
                judge=judge,
                cluster=True,
            )


def promoted(port: int, timeout: float) -> None:
    """Waits until the node on `port` is a primary (its replica's failover is done)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "role:master" in command(port, "INFO", "replication"):
            return
        time.sleep(0.1)
    raise TimeoutError(f"the replica on {port} was not promoted within {timeout:.0f} s")
