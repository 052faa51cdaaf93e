"""switch and passTurn under a time control over the wire (service/messages/turns.py), two
instances in one process on a real redis-server: a Fischer pass pays the passer, and a pass
that arrives after the turn cap passed the turn is refused with TURN_MOVED_ON, the game as it
was. The rules are the scripts' (tests/lua/test_switch.py, test_time_controls.py)."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from service import keys
from tests.support.instances import claim, create_game, ok
from tests.support.wire import Connect, refused


async def test_a_fischer_pass_pays_the_player_who_passed_and_counts_the_turn(
    servers: list[TestServer], connect: Connect
) -> None:
    a, b = await connect(servers[0]), await connect(servers[1])
    gid, _, _ = await create_game(a, playerCount=2, timeControl="fischer", timeControlMs=5_000)
    await claim(a, gid, 1, join=False)
    await claim(b, gid, 2)
    await ok(a, "start")

    st = (await ok(a, "passTurn"))["data"]

    p1 = st["players"][0]
    assert p1["timeRemaining"] == 600_000 - p1["timeUsed"] + 5_000
    assert (st["turn"], st["round"], st["activePlayer"], st["players"][1]["turns"]) == (2, 1, 2, 1)
    seen = await b.wait_for(lambda m: m["type"] == "state" and m["data"]["version"] == st["version"], 5)
    assert seen["data"]["players"] == st["players"]


async def test_a_pass_that_arrives_after_the_cap_passed_the_turn_is_refused(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    host, a = await connect(servers[0]), await connect(servers[1])
    gid, _, _ = await create_game(host, playerCount=3, timeControl="turnCap", timeControlMs=1_000, turnCapWarningMs=0)
    await claim(a, gid, 1)
    started = (await ok(host, "start"))["data"]
    # the deadline loop is late (its entry gone): the cap's point passes before anyone fires it
    part = keys.partition_of(gid)
    assert part is not None
    assert await rdb.zrem(keys.deadline_partition(part), gid) == 1
    sec, usec = await rdb.time()
    await asyncio.sleep(max(0, started["serverTime"] + 1_100 - (int(sec) * 1000 + int(usec) // 1000)) / 1000)

    assert await refused(a, rdb, gid, "passTurn") == ("TURN_MOVED_ON", "The turn has already moved on")
    # the host's pass is a repair: the cap's pass, then the host's
    st = (await ok(host, "passTurn"))["data"]
    assert (st["turn"], st["activePlayer"]) == (3, 3)
