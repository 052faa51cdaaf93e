"""The lobby list (GET /api/games): one page of the listed games, newest activity first.

It reads the lobby index (lua/lib/lobby.lua: one sorted set per partition, game id -> last
activity ms, kept by the scripts that change the games), never the keyspace (HEAD scanned
every session on every request: C32). A page takes the newest entries after the cursor from
each partition, merges them, and reads the state of the `limit` it keeps; an entry whose game
has expired is dropped from the index on the way.

What a listed game exposes is exactly `summary`: no player names, client ids or tokens.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from service import keys
from service.redis_errors import storage_errors

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
#: entries sharing the cursor's millisecond that one page skips at most (games are ordered by id within one)
MAX_TIES = 1000
_CURSOR = re.compile(rf"^(\d{{1,16}})\.([{keys.ALPHABET}]{{{keys.ID_LENGTH}}})$")


class BadQuery(ValueError):
    """A query parameter the endpoint refuses (HTTP 400)."""


@dataclass(frozen=True, order=True)
class Position:
    """Where a game sits in the list: (last activity ms, game id), the list in descending order."""

    score: int
    game_id: str

    def cursor(self) -> str:
        return f"{self.score}.{self.game_id}"


def parse_limit(raw: str | None) -> int:
    """`limit`: 1 or more (capped at MAX_LIMIT); absent: DEFAULT_LIMIT."""
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit() or int(raw) < 1:
        raise BadQuery("limit must be a positive integer")
    return min(int(raw), MAX_LIMIT)


def parse_cursor(raw: str | None) -> Position | None:
    """`cursor`: the `nextCursor` of the previous page; absent: the first page."""
    if raw is None or raw == "":
        return None
    m = _CURSOR.match(raw)
    if m is None:
        raise BadQuery("invalid cursor")
    return Position(int(m.group(1)), m.group(2))


def summary(state: dict[str, Any]) -> dict[str, Any] | None:
    """What the list shows of a game (HEAD's fields), or None if its host unlisted it."""
    if state.get("listed") is False:
        return None
    players = state["players"]
    return {
        "id": state["id"],
        "name": state.get("name", "Game"),
        "mode": state.get("mode", "casual"),
        "status": state["status"],
        "createdAt": state["createdAt"],
        "lastActivity": state["lastActivity"],
        "playerCount": len(players),
        "claimedCount": sum(1 for p in players if p.get("claimedBy") is not None),
        "settings": {"playerCount": state["settings"]["playerCount"], "initialTime": state["settings"]["initialTime"]},
    }


@dataclass(frozen=True)
class Page:
    games: list[dict[str, Any]]
    next_cursor: str | None
    #: index entries of expired games removed while reading
    pruned: int = 0


async def read_page(client: Any, limit: int, after: Position | None, timeout_s: float) -> Page:
    """The listed games after `after` (or from the newest), at most `limit`. A page can hold
    fewer while entries of expired games are being pruned; `next_cursor` is None at the end."""
    index = [keys.lobby_partition(p) for p in range(keys.PARTITIONS)]
    async with storage_errors(timeout_s):
        ties = [0] * len(index)
        if after is not None:
            async with client.pipeline(transaction=False) as pipe:
                for key in index:
                    pipe.zcount(key, after.score, after.score)
                ties = [min(int(n), MAX_TIES) for n in await pipe.execute()]
        async with client.pipeline(transaction=False) as pipe:
            top = "+inf" if after is None else after.score
            for key, skip in zip(index, ties, strict=True):
                pipe.zrevrangebyscore(key, top, "-inf", start=0, num=limit + 1 + skip, withscores=True)
            found = [Position(int(score), str(gid)) for rows in await pipe.execute() for gid, score in rows]
        ahead = sorted((p for p in found if after is None or p < after), reverse=True)[: limit + 1]
        shown, more = ahead[:limit], len(ahead) > limit
        if not shown:
            return Page([], None)
        async with client.pipeline(transaction=False) as pipe:
            for pos in shown:
                pipe.hget(keys.game(pos.game_id), "state")
            states = await pipe.execute()
        gone = [pos.game_id for pos, raw in zip(shown, states, strict=True) if raw is None]
        if gone:
            # expired since the last commit of any game in its partition; a game drawn again
            # with the same id meanwhile is listed again by its next commit
            async with client.pipeline(transaction=False) as pipe:
                for gid in gone:
                    part = keys.partition_of(gid)
                    if part is not None:
                        pipe.zrem(keys.lobby_partition(part), gid)
                await pipe.execute()
    games = [g for g in (summary(json.loads(raw)) for raw in states if raw is not None) if g is not None]
    return Page(games, shown[-1].cursor() if more else None, len(gone))
