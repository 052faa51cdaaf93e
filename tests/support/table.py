"""A table of clients read frame by frame: each step one client sends a frame, and every
client's new frames (ticks left out) are returned once the commit it caused has reached them.
The conversation tests (tests/test_head_conversation.py, tests/test_table_conversation.py)
hold them to exact sequences."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from redis.asyncio import Redis

from service import keys
from stack.client import Client
from tests.support.waits import eventually, settle

#: how long a table waits for quiet after the last frame of a step
QUIET_S = 0.15


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

    async def heard(self, mtype: str) -> dict[str, list[dict[str, Any]]]:
        """Every client's new frames once each has a `mtype` event and the state after it:
        what a commit nobody sent (the deadline loop's) brought."""

        def got(c: Client, start: int) -> bool:
            seen = [m["type"] for m in c.messages[start:]]
            return mtype in seen and "state" in seen[seen.index(mtype) :]

        await eventually(lambda: all(got(c, self.read[n]) for n, c in self.clients.items()))
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
