"""HEAD's timeout choice end to end (service/messages/timeout.py): a HEAD client's game over
WebSocket on a real redis-server, two instances in one process.

The deadline loop's `timeoutChoice` event reaches sockets on both instances, before the state
that shows the choice pending; a choice over the wire and its state; each refusal with HEAD's
text and the game unchanged; the choice's settings in updateSettings, and a v1 game's refusal.
"""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from stack.client import Client
from tests.support.instances import claim, create_game, game_log, game_state, ok
from tests.support.wire import Connect, refused

SHORT_CLOCK = 300
GRACE = 5_000
BONUS = 45_000


async def head_table(connect: Connect, servers: list[TestServer]) -> tuple[Client, list[Client], str]:
    """A HEAD client's game (it names the lobby) with a short clock: the host (no seat) on the
    first instance, seat 1 on the second, seat 2 on the first."""
    host = await connect(servers[0])
    gid, _, first = await create_game(
        host, name="Table", playerCount=2, initialTime=SHORT_CLOCK, timeoutGracePeriod=GRACE, timeoutBonusTime=BONUS
    )
    assert (first["settings"]["timeoutPenaltyLives"], first["settings"]["timeoutGracePeriod"]) == (2, GRACE)
    seated = []
    for pid, server in ((1, servers[1]), (2, servers[0])):
        c = await connect(server)
        await claim(c, gid, pid)
        seated.append(c)
    return host, seated, gid


def offered(m: dict[str, Any]) -> bool:
    return bool(m["type"] == "timeoutChoice")


async def test_the_timeout_choice_reaches_both_instances_and_is_answered_over_the_wire(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    host, (p1, p2), gid = await head_table(connect, servers)
    await ok(host, "start")

    # whichever instance's deadline loop fired, the other's sockets got it through the channel
    events = [await c.wait_for(offered, timeout=5) for c in (host, p1, p2)]
    assert all(e == events[0] for e in events)
    data = events[0]["data"]
    assert (data["playerId"], data["options"]) == (1, {"livesLoss": 2, "drunkGain": 2})
    # the event comes before the state that shows the choice pending
    i = next(n for n, m in enumerate(p1.messages) if offered(m))
    st = (await p1.wait_for(lambda m: m["type"] == "state", start=i))["data"]
    me = st["players"][0]
    assert (st["status"], me["timeRemaining"], me["penalties"]) == ("running", 0, 1)
    assert (me["timeoutPending"], me["timeoutChoiceDeadline"]) == (True, data["deadline"])
    assert data["deadline"] == st["serverTime"] + me["timeoutGraceLeft"]
    # HEAD's game never pauses on a timeout and sends no `timeout`
    assert p1.of_type("timeout") == []

    st = (await ok(p1, "timeoutChoice", {"choice": "loseLives"}))["data"]

    me = st["players"][0]
    assert (me["life"], me["timeRemaining"], me["timeoutPending"], me["timeoutChoiceDeadline"]) == (
        18,
        BONUS,
        False,
        None,
    )
    assert await game_state(rdb, gid) == st
    assert (await game_log(rdb, gid))[-1]["d"] == {"playerId": 1, "choice": "loseLives"}
    # the other instance's socket sees the same state
    assert (await p2.state_at_least(st["version"]))["data"]["players"][0]["life"] == 18


async def test_each_refusal_has_its_code_and_heads_message(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    host, (p1, p2), gid = await head_table(connect, servers)

    assert await refused(p1, rdb, gid, "timeoutChoice", {"choice": "surrender"}) == (
        "INVALID_TIMEOUT_CHOICE",
        "Invalid timeout choice",
    )
    assert await refused(p1, rdb, gid, "timeoutChoice") == ("INVALID_TIMEOUT_CHOICE", "Invalid timeout choice")
    assert await refused(host, rdb, gid, "timeoutChoice", {"choice": "die"}) == (
        "NOT_AUTHORIZED_TIMEOUT_CHOICE",
        "You must claim a player",
    )
    assert await refused(p1, rdb, gid, "timeoutChoice", {"choice": "die"}) == (
        "NO_TIMEOUT_PENDING",
        "No pending timeout choice",
    )
    await ok(host, "start")
    await p2.wait_for(offered, timeout=5)
    # the choice is player 1's alone
    assert await refused(p2, rdb, gid, "timeoutChoice", {"choice": "die"}) == (
        "NO_TIMEOUT_PENDING",
        "No pending timeout choice",
    )


async def test_update_settings_sets_the_choice_in_a_head_game_and_refuses_it_in_a_v1_game(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    host, _, gid = await head_table(connect, servers)
    st = (await ok(host, "updateSettings", {"timeoutPenaltyLives": 5, "timeoutGracePeriod": 60_000}))["data"]
    assert (st["settings"]["timeoutPenaltyLives"], st["settings"]["timeoutGracePeriod"]) == (5, 60_000)
    reply = await host.request("updateSettings", {"timeoutPenaltyDrunk": 21})
    assert reply["data"] == {
        "message": "Invalid timeout penalty drunk: an integer from 0 to 20",
        "code": "INVALID_INPUT",
    }

    v1_host = await connect(servers[1])
    v1_gid, _, v1_first = await create_game(v1_host, playerCount=2)
    assert "timeoutGracePeriod" not in v1_first["settings"]
    assert await refused(v1_host, rdb, v1_gid, "updateSettings", {"timeoutBonusTime": 0}) == (
        "TIMEOUT_CHOICE_OFF",
        "This game has no timeout choice",
    )
