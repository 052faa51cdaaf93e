"""History and undo end to end (service/messages/history.py): history and undo over WebSocket
on a real redis-server, with two instances in one process.

Each message: its reply, its validation (the game unchanged), the `undone` event and the
state reaching every socket in the game on both instances, and the history a spectator reads.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from stack.client import Client
from tests.support.instances import claim, create_game, game_state, ok
from tests.support.waits import eventually
from tests.support.wire import Connect, refused


def player(state: dict[str, Any], pid: int) -> dict[str, Any]:
    return dict(next(p for p in state["players"] if p["id"] == pid))


async def redis_ms(rdb: Redis) -> int:
    sec, usec = await rdb.time()
    return int(sec) * 1000 + int(usec) // 1000


async def table(connect: Connect, servers: list[TestServer]) -> tuple[Client, list[Client], str]:
    """The host on servers[0]; seat 1 held there, seat 2 on servers[1]; the game started."""
    host = await connect(servers[0])
    gid, _, _ = await create_game(host, playerCount=2, initialTime=600_000)
    seated = []
    for pid, server in ((1, servers[0]), (2, servers[1])):
        c = await connect(server)
        await claim(c, gid, pid)
        seated.append(c)
    await ok(host, "start")
    return host, seated, gid


async def test_an_undo_reaches_every_socket_with_its_event_before_the_state(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    host, (p1, p2), gid = await table(connect, servers)
    passed = await ok(p1, "passTurn")

    reply = await ok(p1, "undo")

    st = reply["data"]
    assert (st["activePlayer"], st["version"]) == (1, passed["data"]["version"] + 1)
    assert await game_state(rdb, gid) == st
    for c in (host, p1, p2):
        undone = await c.wait_for(lambda m: m["type"] == "undone")
        assert undone["data"] == {"versions": [passed["data"]["version"]], "by": 1, "host": False}
        after = c.messages[c.messages.index(undone) + 1 :]
        assert any(m["type"] == "state" and m["data"]["version"] == st["version"] for m in after)


async def test_the_host_undoes_several_and_a_player_is_refused_another_players_action(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    host, (p1, p2), gid = await table(connect, servers)
    await ok(p1, "updatePlayer", {"playerId": 1, "life": 15})
    await ok(p2, "updatePlayer", {"playerId": 2, "life": 12})

    assert await refused(p1, rdb, gid, "undo") == (
        "NOT_AUTHORIZED_UNDO",
        "Only the host can undo this: a player may undo only their own last action",
    )
    reply = await ok(host, "undo", {"count": 2})

    assert [player(reply["data"], pid)["life"] for pid in (1, 2)] == [20, 20]
    assert await refused(host, rdb, gid, "undo") == ("NOTHING_TO_UNDO", "Nothing to undo")


async def test_more_than_the_stack_holds_or_too_late_is_refused(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    host = await connect(servers[0])
    gid, _, _ = await create_game(host, playerCount=2, undoWindow=1)
    p1 = await connect(servers[1])
    await claim(p1, gid, 1)
    await ok(host, "start")
    done = await ok(p1, "updatePlayer", {"playerId": 1, "life": 15})

    # the window is 1 ms: let the Redis clock move past it
    async def window_passed() -> bool:
        return await redis_ms(rdb) > int(done["data"]["serverTime"]) + 1

    await eventually(window_passed)

    assert await refused(host, rdb, gid, "undo", {"count": 2}) == (
        "NOT_ENOUGH_TO_UNDO",
        "Not that many actions can be undone",
    )
    assert await refused(p1, rdb, gid, "undo") == ("UNDO_WINDOW_PASSED", "Too late to undo that action")


@pytest.mark.parametrize("count", [0, 17, 1.5, "2", True, None])
async def test_undo_refuses_a_count_outside_one_to_sixteen(
    servers: list[TestServer], connect: Connect, rdb: Redis, count: Any
) -> None:
    host, _, gid = await table(connect, servers)
    await ok(host, "updatePlayer", {"playerId": 1, "life": 15})

    got = await refused(host, rdb, gid, "undo", {"count": count})

    assert got == ("INVALID_INPUT", "Invalid undo count: an integer from 1 to 16")


async def test_a_spectator_reads_the_history_page_by_page(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    host, (p1, _), gid = await table(connect, servers)
    await ok(p1, "updatePlayer", {"playerId": 1, "life": 15})
    spectator = await connect(servers[1])
    await ok(spectator, "join", {"gameId": gid})

    first = await spectator.request("history", {"limit": 2})

    assert first["type"] == "history"
    entries = first["data"]["entries"]
    assert [(e["type"], e["playerId"], e["host"], e["undoable"]) for e in entries] == [
        ("updatePlayer", 1, False, True),
        ("start", None, True, False),
    ]
    assert entries[0]["before"] == {"players": [{"id": 1, "life": 20}]}
    assert entries[0]["after"] == {"players": [{"id": 1, "life": 15}]}
    assert first["data"]["next"] == entries[1]["version"]
    rest = await spectator.request("history", {"before": first["data"]["next"]})
    assert [e["type"] for e in rest["data"]["entries"]] == ["claim", "claim", "create"]
    assert rest["data"]["next"] is None
    assert all("c" not in e and "client" not in str(e["detail"]) for e in entries + rest["data"]["entries"])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"limit": 0}, "Invalid history limit: an integer from 1 to 50"),
        ({"limit": 51}, "Invalid history limit: an integer from 1 to 50"),
        ({"limit": "5"}, "Invalid history limit: an integer from 1 to 50"),
        ({"before": 0}, "Invalid history position: before must be a version (a positive integer)"),
        ({"before": "x"}, "Invalid history position: before must be a version (a positive integer)"),
    ],
)
async def test_history_refuses_a_page_out_of_range(
    servers: list[TestServer], connect: Connect, rdb: Redis, data: dict[str, Any], message: str
) -> None:
    host, _, gid = await table(connect, servers)

    assert await refused(host, rdb, gid, "history", data) == ("INVALID_INPUT", message)


async def test_history_and_undo_need_a_game(servers: list[TestServer], connect: Connect) -> None:
    c = await connect(servers[0])

    for mtype in ("history", "undo"):
        reply = await c.request(mtype)
        assert (reply["type"], reply["data"]["code"]) == ("error", "NOT_IN_GAME")


async def test_create_and_update_settings_take_the_undo_window(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    host = await connect(servers[0])
    gid, _, st = await create_game(host, playerCount=2, undoWindow=5_000)
    assert st["settings"]["undoWindow"] == 5_000

    reply = await ok(host, "updateSettings", {"undoWindow": 0})
    assert reply["data"]["settings"]["undoWindow"] == 0
    assert await refused(host, rdb, gid, "updateSettings", {"undoWindow": 300_001}) == (
        "INVALID_INPUT",
        "Invalid undo window: an integer from 0 to 300000 (ms)",
    )
    other = await connect(servers[0])
    rid = await other.send("create", {"settings": {"undoWindow": -1}})
    err = await other.wait_for(lambda m: m.get("requestId") == rid)
    assert (err["type"], err["data"]["message"]) == ("error", "Invalid undo window: an integer from 0 to 300000 (ms)")
