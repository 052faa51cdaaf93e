"""Assertions shared by the Lua script tests: one game's Redis state, before and after an action."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, cast

import pytest
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ResponseError

from service import keys
from service.clock import GameClock
from service.errors import ERROR_CODES, GameError
from service.game import GameStore, Outcome
from service.protocol import GameSettings, TimeControl

RETENTION_MS = 3_600_000
#: the retention of a finished game or one where nobody holds a seat (tests/conftest.py's store)
IDLE_RETENTION_MS = 600_000
TOKEN_MS = 7_200_000
LOG_CAP = 256
HOST = "host"
SYNC_CHANNEL = "tot:~sync"

Snapshot = tuple[dict[str, str], list[str], dict[str, str], list[tuple[str, float]], list[tuple[str, float]], list[str]]


def new_aid() -> str:
    return uuid.uuid4().hex


def player(state: dict[str, Any], pid: int) -> dict[str, Any]:
    matches = [p for p in state["players"] if p["id"] == pid]
    assert len(matches) == 1, f"player {pid} not in {state['players']}"
    found: dict[str, Any] = matches[0]
    return found


def summary_of(state: dict[str, Any]) -> list[dict[str, int]]:
    """gameComplete's summary for a finished game's state: each player's time used and turns."""
    return [{"playerId": p["id"], "timeUsed": p["timeUsed"], "turns": p["turns"]} for p in state["players"]]


def expected_ttl_ms(state: dict[str, Any]) -> int:
    """The retention lib/commit.lua must give the game's keys for this state."""
    idle = state["status"] == "finished" or all(p["claimedBy"] is None for p in state["players"])
    return IDLE_RETENTION_MS if idle else RETENTION_MS


def outcome_of(result: Any) -> Outcome:
    """GameStore.create and .claim return tuples ending in the Outcome; the others the Outcome."""
    out = result[-1] if isinstance(result, tuple) else result
    assert isinstance(out, Outcome)
    return out


def running_players(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The players whose clocks run while the game runs: the interrupter holding priority
    (the stack's last entry) if any; else, while targets resolve, every target still to
    respond; else the active player. Eliminated players never."""
    stack = state["interruptingPlayers"]
    if stack:
        ids = [stack[-1]]
    elif state.get("targetingState") == "resolving" and state.get("awaitingPriority"):
        ids = list(state["awaitingPriority"])
    else:
        ids = [] if state["activePlayer"] is None else [state["activePlayer"]]
    return [p for p in (player(state, i) for i in ids) if not p["isEliminated"]]


def own_turn(state: dict[str, Any]) -> bool:
    """The running clock is the active player's own: nobody interrupted, no targets respond."""
    running = running_players(state)
    responding = state.get("targetingState") == "resolving" and bool(state.get("awaitingPriority"))
    own = len(running) == 1 and running[0]["id"] == state["activePlayer"]
    return own and not state["interruptingPlayers"] and not responding


def time_control(state: dict[str, Any]) -> tuple[str, int, int]:
    """The game's time control, its amount and the turn cap's warning lead (lib/clocks.lua)."""
    s = state["settings"]
    kind = s.get("timeControl", "suddenDeath")
    if kind == "suddenDeath":
        return kind, 0, 0
    return kind, s["timeControlMs"], s.get("turnCapWarningMs", 0)


def expected_due(state: dict[str, Any]) -> float | None:
    """Where the deadline index must point for this state: the earliest next warning or
    timeout of a running clock (running_players; on the active player's own clock after what
    is left of a Bronstein delay), the turn cap's warning or pass, or end of a pending timeout
    choice's grace."""
    if state["status"] != "running":
        return None
    due: list[float] = []
    own = own_turn(state)
    kind, ms, lead = time_control(state)
    turn_time = state.get("turnTime", 0)
    delay = max(0, ms - turn_time) if own and kind == "bronstein" else 0
    for p in running_players(state):
        rem = p["timeRemaining"]
        if rem > 0:
            level = max((t for t in state["settings"]["warningThresholds"] if t < rem), default=0)
            due.append(float(state["serverTime"] + delay + rem - level))
    if own and kind == "turnCap":
        warn_at = ms - lead if lead > 0 and turn_time < ms - lead else ms
        due.append(float(state["serverTime"] + max(0, warn_at - turn_time)))
    for p in state["players"]:
        if p.get("timeoutPending") and not p["isEliminated"]:
            assert p["timeoutChoiceDeadline"] == state["serverTime"] + p["timeoutGraceLeft"]
            due.append(float(p["timeoutChoiceDeadline"]))
    return min(due, default=None)


@dataclass(frozen=True)
class Game:
    gid: str
    host_token: str
    host: str = HOST

    @property
    def keys(self) -> list[str]:
        return keys.GameKeys(self.gid).as_list()


@dataclass(frozen=True)
class Commit:
    out: Outcome
    before: dict[str, Any] | None
    entry: dict[str, Any]
    #: what the GameStore call returned, e.g. (token, outcome) for claim
    result: Any

    @property
    def state(self) -> dict[str, Any]:
        return self.out.state

    @property
    def events(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = json.loads(self.out.events_json)
        return events


class Published:
    """Records what is published on game channels. `drain()` returns everything published
    since the last drain: it publishes a marker of its own and reads up to it, so no sleep
    is needed to be sure nothing else arrived."""

    def __init__(self, client: Redis) -> None:
        self.client = client
        self.pubsub: PubSub = client.pubsub()

    async def start(self) -> None:
        await self.pubsub.psubscribe("tot:*")

    async def close(self) -> None:
        await self.pubsub.aclose()  # type: ignore[no-untyped-call, unused-ignore]

    async def drain(self) -> list[tuple[str, str]]:
        marker = uuid.uuid4().hex
        await self.client.publish(SYNC_CHANNEL, marker)
        got: list[tuple[str, str]] = []
        async with asyncio.timeout(5):
            while True:
                msg = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if msg is None:
                    continue
                if msg["channel"] == SYNC_CHANNEL:
                    if msg["data"] == marker:
                        return got
                    continue
                got.append((msg["channel"], msg["data"]))


class Harness:
    def __init__(self, store: GameStore, clock: GameClock, published: Published) -> None:
        self.store = store
        self.clock = clock
        self.client: Redis = store.client
        self.published = published

    # -- setup ------------------------------------------------------------------------

    async def new_game(
        self,
        players: int = 2,
        *,
        initial_time: int = 600_000,
        thresholds: tuple[int, ...] = (300_000, 60_000, 30_000),
        penalty_type: str = "warning",
        deduction: int = 0,
        host: str = HOST,
        name: str = "Game",
        listed: bool = True,
        time_control: TimeControl | None = None,
    ) -> Game:
        settings = GameSettings(
            players,
            initial_time,
            thresholds,
            penalty_type,
            deduction,
            name=name,
            listed=listed,
            time_control=time_control,
        )
        gid, token, out = await self.store.create(host, settings, new_aid())
        assert out.status == "ok"
        return Game(gid, token, host)

    async def running_game(self, players: int = 2, **kw: Any) -> Game:
        g = await self.new_game(players, **kw)
        out = await self.store.start(g.gid, g.host, new_aid())
        assert out.status == "ok"
        return g

    async def claim(self, g: Game, client_id: str, pid: int) -> str:
        token, out = await self.store.claim(g.gid, client_id, pid, new_aid())
        assert out.status == "ok"
        return token

    async def run_script(
        self,
        name: str,
        gid: str,
        *extra: str | int,
        action_id: str = "",
        client_id: str = "",
        pub: str = "PUBLISH",
        retention: str | int = 3600,
    ) -> Any:
        """Calls a game script with hand-made ARGV, for arguments GameStore never sends."""
        args: list[str | int] = [
            self.clock.offset_ms,
            action_id,
            client_id,
            keys.channel(gid),
            pub,
            retention,
            gid,
            *extra,
        ]
        return await self.store.scripts[name](keys=keys.GameKeys(gid).as_list(), args=args)

    # -- reading ----------------------------------------------------------------------

    async def raw_state(self, gid: str) -> str | None:
        raw = await self.client.hget(keys.game(gid), "state")
        return None if raw is None else str(raw)

    async def state(self, gid: str) -> dict[str, Any]:
        raw = await self.raw_state(gid)
        assert raw is not None, f"game {gid} does not exist"
        st: dict[str, Any] = json.loads(raw)
        return st

    async def fields(self, gid: str) -> dict[str, str]:
        return {str(k): str(v) for k, v in (await self.client.hgetall(keys.game(gid))).items()}

    async def log(self, gid: str) -> list[dict[str, Any]]:
        return [json.loads(e) for e in await self.client.lrange(keys.log(gid), 0, -1)]

    async def acts(self, gid: str) -> dict[str, str]:
        return {str(k): str(v) for k, v in (await self.client.hgetall(keys.actions(gid))).items()}

    async def due(self, gid: str) -> float | None:
        part = keys.partition_of(gid)
        assert part is not None
        score = await self.client.zscore(keys.deadline_partition(part), gid)
        return None if score is None else float(score)

    async def listed_at(self, gid: str) -> float | None:
        """The game's score in its lobby index partition (last activity ms), None if not listed."""
        part = keys.partition_of(gid)
        assert part is not None
        score = await self.client.zscore(keys.lobby_partition(part), gid)
        return None if score is None else float(score)

    async def pttls(self, gid: str) -> list[int]:
        return [int(await self.client.pttl(k)) for k in keys.GameKeys(gid).as_list()[:3]]

    async def assert_ttl(self, gid: str, ttl_ms: int) -> None:
        """Game, log and (when it exists) the actions hash expire in `ttl_ms`, give or take 5 s."""
        ttl = await self.pttls(gid)
        assert all(ttl_ms - 5_000 < t <= ttl_ms for t in ttl[:2]), ttl
        assert ttl[2] == -2 or ttl_ms - 5_000 < ttl[2] <= ttl_ms, ttl

    async def redis_now(self) -> int:
        sec, usec = await self.client.time()
        return int(sec) * 1000 + int(usec) // 1000

    async def snapshot(self, gid: str) -> Snapshot:
        part = keys.partition_of(gid)
        assert part is not None
        return (
            await self.fields(gid),
            [str(e) for e in await self.client.lrange(keys.log(gid), 0, -1)],
            await self.acts(gid),
            cast(
                list[tuple[str, float]], await self.client.zrange(keys.deadline_partition(part), 0, -1, withscores=True)
            ),
            cast(list[tuple[str, float]], await self.client.zrange(keys.lobby_partition(part), 0, -1, withscores=True)),
            [str(e) for e in await self.client.lrange(keys.undo(gid), 0, -1)],
        )

    # -- assertions -------------------------------------------------------------------

    async def fails(self, gid: str, code: str, action: Awaitable[Any]) -> GameError:
        """The action raises the domain error for `code` and leaves the game byte-for-byte as it was."""
        await self.published.drain()
        before = await self.snapshot(gid)
        with pytest.raises(GameError) as info:
            await action
        cls, message = ERROR_CODES[code]
        assert (info.value.code, type(info.value), info.value.message) == (code, cls, message)
        assert await self.snapshot(gid) == before
        assert await self.published.drain() == []
        return info.value

    async def raw_fails(self, gid: str, code: str, action: Awaitable[Any]) -> None:
        """As `fails`, for a direct script call: the error reply is exactly the code."""
        await self.published.drain()
        before = await self.snapshot(gid)
        with pytest.raises(ResponseError) as info:
            await action
        assert str(info.value) == code
        assert await self.snapshot(gid) == before
        assert await self.published.drain() == []

    async def quiet(self, gid: str, status: str, action: Awaitable[Any]) -> Outcome:
        """The action answers `status` with the stored state and writes and publishes nothing."""
        await self.published.drain()
        before = await self.snapshot(gid)
        out = outcome_of(await action)
        assert out.status == status
        assert out.state_json == before[0]["state"]
        assert out.events_json == "[]"
        assert await self.snapshot(gid) == before
        assert await self.published.drain() == []
        return out

    async def commits(self, gid: str, kind: str, action: Awaitable[Any]) -> Commit:
        """The action commits exactly once: version + 1, one log entry of `kind`, the action id
        recorded, the deadline index in step, TTLs refreshed and the new state published."""
        await self.published.drain()
        raw_before = await self.raw_state(gid)
        before = None if raw_before is None else json.loads(raw_before)
        llen_before = await self.client.llen(keys.log(gid))
        result = await action
        out = outcome_of(result)
        assert out.status == "ok"
        st = out.state
        assert out.state_json == await self.raw_state(gid)
        assert st["version"] == (0 if before is None else before["version"]) + 1
        assert st["lastActivity"] == st["serverTime"]
        log = await self.log(gid)
        assert len(log) == min(llen_before + 1, LOG_CAP)
        entry = log[0]
        assert (entry["v"], entry["t"], entry["at"]) == (st["version"], kind, st["lastActivity"])
        # the events as published, for an instance that missed them (lua/missed_events.lua)
        assert entry.get("e") == (None if out.events_json == "[]" else out.events_json)
        if entry["a"]:
            assert (await self.acts(gid))[entry["a"]] == str(st["version"])
        assert await self.due(gid) == expected_due(st)
        assert await self.listed_at(gid) == (None if st.get("listed") is False else float(st["lastActivity"]))
        await self.assert_ttl(gid, expected_ttl_ms(st))
        assert await self.published.drain() == [
            (keys.channel(gid), f"{st['version']}\n{out.events_json}\n{out.state_json}")
        ]
        return Commit(out, before, entry, result)
