"""Targeting end to end (service/messages/targeting.py): toggleTarget, confirmTargets,
passTargetPriority and cancelTargeting over WebSocket on a real redis-server, with the table
spread over two instances in one process.

The events reach every socket in the game on both instances, each before the state of its
commit (HEAD sent them to its own instance's sockets only: C37); each refusal carries its
code and HEAD's message with the game unchanged; the turn is held while targets respond; the
hub's tick counts every target's clock down at once; seven targets passing at once complete
once, with contiguous versions.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from service import keys
from stack.client import Client
from tests.support.instances import claim, create_game, game_log, game_state, ok, stream_faults
from tests.support.waits import settle
from tests.support.wire import Connect, refused

LONG_CLOCK = 600_000


async def table(connect: Connect, servers: list[TestServer], players: int) -> tuple[Client, list[Client], str]:
    """The host (no seat, instance 0) started a game; seat N is held by seated[N-1], on
    instance N mod 2: player 1 is on the other instance from player 2 and the host."""
    host = await connect(servers[0])
    gid, _, _ = await create_game(host, playerCount=players, initialTime=LONG_CLOCK)
    seated = []
    for pid in range(1, players + 1):
        c = await connect(servers[pid % len(servers)])
        await claim(c, gid, pid)
        seated.append(c)
    await ok(host, "start")
    return host, seated, gid


async def event_then_state(c: Client, mtype: str, version: int) -> dict[str, Any]:
    """The client's one `mtype` event for the commit at `version`, which came just before that
    version's state; its data."""
    await c.state_at_least(version)
    frames = c.messages
    at = next(i for i, m in enumerate(frames) if m["type"] == "state" and m["data"]["version"] == version)
    assert frames[at - 1]["type"] == mtype, frames[at - 3 : at + 1]
    data: dict[str, Any] = frames[at - 1]["data"]
    return data


async def test_a_round_of_targeting_reaches_every_socket_on_both_instances(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    host, seated, gid = await table(connect, servers, 4)
    p1, p2, p3, _ = seated
    everyone = [host, *seated]

    st = (await ok(p1, "toggleTarget", {"playerId": 2}))["data"]
    assert (st["targetingState"], st["targetedPlayers"]) == ("selecting", [2])
    for c in everyone:
        assert await event_then_state(c, "targetingUpdated", st["version"]) == {
            "targetingState": "selecting",
            "targetedPlayers": [2],
            "awaitingPriority": [],
            "originalActivePlayer": None,
            "activePlayer": 1,
        }
    await ok(p1, "toggleTarget", {"playerId": 3})

    st = (await ok(p1, "confirmTargets"))["data"]
    assert (st["targetingState"], st["awaitingPriority"], st["originalActivePlayer"]) == ("resolving", [2, 3], 1)
    for c in everyone:
        assert await event_then_state(c, "targetingStarted", st["version"]) == {
            "originalPlayer": 1,
            "targets": [2, 3],
            "awaitingPriority": [2, 3],
            "activePlayer": 1,
        }

    st = (await ok(p2, "passTargetPriority"))["data"]
    for c in everyone:
        assert await event_then_state(c, "priorityPassed", st["version"]) == {
            "passedBy": 2,
            "awaitingPriority": [3],
            "activePlayer": 1,
        }

    st = (await ok(p3, "passTargetPriority"))["data"]
    assert (st["targetingState"], st["targetedPlayers"], st["awaitingPriority"]) == ("none", [], [])
    for c in everyone:
        assert await event_then_state(c, "targetingComplete", st["version"]) == {"activePlayer": 1}
    assert await game_state(rdb, gid) == st
    assert [e["t"] for e in await game_log(rdb, gid)][-5:] == [
        "toggleTarget",
        "toggleTarget",
        "confirmTargets",
        "passTargetPriority",
        "passTargetPriority",
    ]
    # the raw stored state carries arrays, never {} (cjson's empty table)
    raw = str(await rdb.hget(keys.game(gid), "state"))
    assert '"targetedPlayers":[]' in raw and '"awaitingPriority":[]' in raw

    await ok(p1, "toggleTarget", {"playerId": 4})
    st = (await ok(p1, "cancelTargeting"))["data"]
    assert st["targetingState"] == "none"
    for c in everyone:
        assert await event_then_state(c, "targetingCanceled", st["version"]) == {"activePlayer": 1}


async def test_each_refusal_has_its_code_and_heads_message(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    host, seated, gid = await table(connect, servers, 3)
    p1, p2, p3 = seated

    async def says(c: Client, mtype: str, data: dict[str, Any] | None = None) -> str:
        return (await refused(c, rdb, gid, mtype, data))[1]

    assert await says(host, "toggleTarget", {"playerId": 2}) == "You must claim a player to select targets"
    assert await says(p2, "toggleTarget", {"playerId": 3}) == "Only the active player can select targets"
    assert await says(p1, "toggleTarget", {"playerId": 1}) == "Invalid target"
    # playerId is checked strictly (HEAD did not check it, C21)
    assert await refused(p1, rdb, gid, "toggleTarget", {"playerId": "2"}) == ("INVALID_PLAYER_ID", "Invalid player ID")
    assert await refused(p1, rdb, gid, "toggleTarget") == ("INVALID_PLAYER_ID", "Invalid player ID")
    assert await says(p1, "confirmTargets") == "Not in target selection mode"
    assert await says(p2, "confirmTargets") == "Only the active player can confirm targets"
    assert await says(p2, "passTargetPriority") == "Not in targeting resolution"
    # nothing to cancel: the sender gets the state and nothing is written
    before = await game_state(rdb, gid)
    assert (await ok(p1, "cancelTargeting"))["data"] == before
    assert await game_state(rdb, gid) == before

    await ok(p2, "interrupt")
    assert await refused(p1, rdb, gid, "toggleTarget", {"playerId": 2}) == (
        "INTERRUPTS_PENDING",
        "Cannot target while interrupts are pending",
    )
    await ok(p2, "passPriority")

    await ok(p1, "toggleTarget", {"playerId": 2})
    await ok(p1, "toggleTarget", {"playerId": 2})
    assert await says(p1, "confirmTargets") == "No targets selected"
    await ok(p1, "toggleTarget", {"playerId": 2})
    await ok(p1, "confirmTargets")
    assert await refused(p3, rdb, gid, "cancelTargeting") == ("CANNOT_CANCEL_TARGETING", "You cannot cancel targeting")
    assert await says(p1, "toggleTarget", {"playerId": 3}) == "Cannot change targets now"
    assert await says(host, "passTargetPriority") == "You must claim a player to pass priority"
    assert await says(p3, "passTargetPriority") == "You are not currently awaiting priority"
    assert await says(host, "cancelTargeting") == "You must claim a player to cancel targeting"
    pending = ("TARGETS_PENDING", "Cannot pass the turn while targets are responding")
    assert await refused(p1, rdb, gid, "passTurn") == pending
    assert await refused(p1, rdb, gid, "switch", {"playerId": 3}) == pending


async def test_the_hosts_switch_ends_targeting_and_a_late_pass_cannot_take_the_turn_back(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    host, seated, gid = await table(connect, servers, 3)
    p1, p2, _ = seated
    await ok(p1, "toggleTarget", {"playerId": 2})
    await ok(p1, "confirmTargets")

    st = (await ok(host, "switch", {"playerId": 3}))["data"]

    assert (st["activePlayer"], st["targetingState"]) == (3, "none")
    for c in seated:
        assert await event_then_state(c, "targetingCanceled", st["version"]) == {"activePlayer": 3}
    assert await refused(p2, rdb, gid, "passTargetPriority") == ("NOT_RESOLVING_TARGETS", "Not in targeting resolution")
    assert (await game_state(rdb, gid))["activePlayer"] == 3


async def test_the_tick_counts_every_targets_clock_down_at_once(servers: list[TestServer], connect: Connect) -> None:
    host, seated, gid = await table(connect, servers, 3)
    await ok(seated[0], "toggleTarget", {"playerId": 2})
    await ok(seated[0], "toggleTarget", {"playerId": 3})
    st = (await ok(seated[0], "confirmTargets"))["data"]
    left = {str(p["id"]): p["timeRemaining"] for p in st["players"]}
    start = len(host.messages)

    def counted_down(m: dict[str, Any]) -> bool:
        times = m["data"]["times"] if m["type"] == "tick" else {}
        return bool(times) and times["2"] < left["2"] and times["3"] < left["3"]

    tick = await host.wait_for(counted_down, timeout=5, start=start)

    assert tick["data"]["times"]["1"] == left["1"]


async def test_seven_targets_passing_at_once_complete_once_for_everyone(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    host, seated, gid = await table(connect, servers, 8)
    for pid in range(2, 9):
        await ok(seated[0], "toggleTarget", {"playerId": pid})
    confirmed = (await ok(seated[0], "confirmTargets"))["data"]["version"]

    await asyncio.gather(*(ok(c, "passTargetPriority") for c in seated[1:]))

    final = await game_state(rdb, gid)
    assert (final["targetingState"], final["awaitingPriority"], final["activePlayer"]) == ("none", [], 1)
    assert final["version"] == confirmed + 7
    log = [e for e in await game_log(rdb, gid) if e["v"] > confirmed]
    assert sorted(e["v"] for e in log) == list(range(confirmed + 1, confirmed + 8))
    assert sorted(e["d"]["playerId"] for e in log) == list(range(2, 9))
    assert [e["d"]["complete"] for e in sorted(log, key=lambda e: e["v"])] == [False] * 6 + [True]
    await settle()
    for c in [host, *seated]:
        await c.state_at_least(confirmed + 7)
        assert stream_faults(c) == []
        assert len(c.of_type("targetingComplete")) == 1
        passed = c.of_type("priorityPassed")
        assert len(passed) == 6
        # each event's list is the one before less its passer
        awaiting = list(range(2, 9))
        for e in passed:
            awaiting.remove(e["data"]["passedBy"])
            assert e["data"]["awaitingPriority"] == awaiting
