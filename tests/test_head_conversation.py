"""A whole casual game as HEAD's browser client plays it, frame by frame, over two instances.

HEAD's client (original-behaviour.md B9) sends bare `{type, data}` frames: no `requestId`,
and it knows nothing of our additions except to ignore them. Three such clients sit at one
table, spread over two instances on a real redis-server. After each frame one of them
sends, every client's new frames are read once the game has settled, and held to the exact
sequence HEAD's protocol gives (B5.2, B5.3 "Notable orderings"), our additions named where
they appear (`created`, which a HEAD client ignores). `tick` frames are left out: they come
on the hub's timer, not in answer to anything.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest_asyncio
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from service import keys
from stack.client import Client
from tests.support.instances import Clients
from tests.support.waits import eventually, settle
from tests.support.wire import client_opener, two_servers

#: how long a table waits for quiet after the last frame of a step
QUIET_S = 0.15


@pytest_asyncio.fixture
async def servers(aiohttp_server: Any, redis_url: str) -> list[TestServer]:
    return await two_servers(aiohttp_server, redis_url)


class Table:
    """HEAD clients by name, each read from where the last step left it."""

    def __init__(self, rdb: Redis, clients: dict[str, Client]) -> None:
        self.rdb = rdb
        self.clients = clients
        self.read = {name: len(c.messages) for name, c in clients.items()}
        self.gid = ""

    async def version(self) -> int:
        raw = await self.rdb.hget(keys.game(self.gid), "state") if self.gid else None
        return int(json.loads(raw)["version"]) if raw else 0

    async def say(self, name: str, mtype: str, data: dict[str, Any] | None = None) -> dict[str, list[dict[str, Any]]]:
        """`name` sends one HEAD frame; returns every client's new frames (ticks left out)
        once the commit it caused, if any, has reached every client bound to the game."""
        before = await self.version()
        sender = self.clients[name]
        mark = len(sender.messages)
        await sender.send_raw(json.dumps({"type": mtype, "data": data if data is not None else {}}))

        def answered() -> bool:
            return any(m["type"] != "tick" for m in sender.messages[mark:])

        await eventually(answered)
        after = await self.version()
        if after > before:
            bound = [c for c in self.clients.values() if any(m["type"] == "state" for m in c.messages)]
            await asyncio.gather(*(c.state_at_least(after, 5) for c in bound))
        # unicast frames that follow a state (claimed, gameRenamed) come right after it
        await asyncio.sleep(QUIET_S)
        await settle()
        out: dict[str, list[dict[str, Any]]] = {}
        for n, c in self.clients.items():
            out[n] = [m for m in c.messages[self.read[n] :] if m["type"] != "tick"]
            self.read[n] = len(c.messages)
        return out


def kinds(frames: dict[str, list[dict[str, Any]]]) -> dict[str, list[str]]:
    return {n: [m["type"] for m in ms] for n, ms in frames.items()}


def last_state(frames: list[dict[str, Any]]) -> dict[str, Any]:
    state: dict[str, Any] = [m for m in frames if m["type"] == "state"][-1]["data"]
    return state


async def test_a_casual_game_frame_by_frame_as_heads_client_plays_it(
    servers: list[TestServer], pool: Clients, rdb: Redis
) -> None:
    opener = client_opener(pool)
    ann, bob, cat = await opener(servers[0]), await opener(servers[1]), await opener(servers[1])
    t = Table(rdb, {"ann": ann, "bob": bob, "cat": cat})

    # HEAD's create: the lobby name and the two settings its menu has
    f = await t.say("ann", "create", {"settings": {"name": "Friday", "mode": "casual", "playerCount": 3, "initialTime": 600_000}})
    assert kinds(f) == {"ann": ["created", "state"], "bob": [], "cat": []}
    st = last_state(f["ann"])
    t.gid = st["id"]
    assert (st["name"], st["mode"], st["status"], st["settings"]["bonusTime"]) == ("Friday", "casual", "waiting", 30_000)

    # a joiner gets one state (HEAD sent it twice, C51)
    f = await t.say("bob", "join", {"gameId": t.gid})
    assert kinds(f) == {"ann": [], "bob": ["state"], "cat": []}
    f = await t.say("cat", "join", {"gameId": t.gid})
    assert kinds(f) == {"ann": [], "bob": [], "cat": ["state"]}

    print(kinds(await t.say("ann", "claim", {"playerId": 1})))
    print(kinds(await t.say("ann", "updatePlayer", {"playerId": 1, "color": "blue"})))
    print(kinds(await t.say("bob", "claim", {"playerId": 2})))
    print(kinds(await t.say("cat", "claim", {"playerId": 3})))
    f = await t.say("ann", "rollPlayOrder")
    print(kinds(f))
    order = last_state(f["ann"])
    print(kinds(await t.say("ann", "start")))
    print(kinds(await t.say("ann", "rollDice", {"sides": 20})))
    print(kinds(await t.say("ann", "renameGame", {"name": "Saturday"})))
    print(kinds(await t.say("ann", "passTurn")))
    print(kinds(await t.say("bob", "interrupt")))
    print(kinds(await t.say("bob", "passPriority")))
    print(kinds(await t.say("ann", "updatePlayer", {"playerId": 2, "life": 0})))
    print(kinds(await t.say("ann", "updatePlayer", {"playerId": 3, "life": 0})))
    print(kinds(await t.say("ann", "endGame")))
    assert order
