"""Typed calls of the game scripts: build KEYS/ARGV (pure), run the script, decode the reply."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import orjson
from redis.exceptions import ResponseError

from service import keys
from service.clock import GameClock
from service.errors import GameIdTaken, StorageUnavailable, error_for, from_lua
from service.protocol import GameSettings
from service.redis_errors import storage_errors
from service.scripts import Scripts

if TYPE_CHECKING:
    from service.metrics import Metrics

T = TypeVar("T")
Status = Literal["ok", "dup", "noop"]
MAX_CREATE_ATTEMPTS = 10


def new_token() -> str:
    """32 random bytes as 64 hex characters, as the original's tokens."""
    return secrets.token_hex(32)


def token_digest(token: str) -> str:
    """Only this digest is stored; the token itself never reaches Redis."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_action_id() -> str:
    return uuid.uuid4().hex


#: rounds of d20 re-rolls for ties in the play order (HEAD's bound), so the pool
#: roll_play_order.lua consumes holds enough rolls for every round of the largest table
PLAY_ORDER_ROUNDS = 100
MAX_PLAYERS = 8
#: random_start_player.lua takes a draw below this: a multiple of every player count 1..8,
#: so the draw modulo the eligible count is exactly uniform
START_DRAW_RANGE = 840


#: a random byte b below 240 (12 x 20) is the face "A" + b mod 20; the 16 above are dropped
_D20_FACES = bytes(65 + b % 20 for b in range(256))
_D20_DROP = bytes(range(240, 256))


def d20_pool() -> str:
    """Enough d20 rolls from the OS CSPRNG for any play-order roll, one character each
    ("A" = 1 .. "T" = 20, the encoding roll_play_order.lua reads), every face exactly equally
    likely. One draw of random bytes for the whole pool: 800 randbelow calls cost milliseconds."""
    size = PLAY_ORDER_ROUNDS * MAX_PLAYERS
    pool = b""
    while len(pool) < size:
        pool += secrets.token_bytes(size).translate(_D20_FACES, _D20_DROP)
    return pool[:size].decode("ascii")


@dataclass
class Outcome:
    """What a script answered: whether it committed, and the game's state JSON."""

    status: Status
    state_json: str
    events_json: str = "[]"
    _state: dict[str, Any] | None = field(default=None, repr=False)
    _version: int | None = field(default=None, repr=False)

    @property
    def state(self) -> dict[str, Any]:
        if self._state is None:
            self._state = orjson.loads(self.state_json)
        return self._state

    @property
    def version(self) -> int:
        # without keeping the decoded state: most outcomes only need their version
        if self._version is None:
            self._version = int((self._state or orjson.loads(self.state_json))["version"])
        return self._version


@dataclass(frozen=True)
class HistoryPage:
    """A page of a game's history, newest first, and the version to ask `before` for the
    next (older) page, None when there is none."""

    entries: list[dict[str, Any]]
    next: int | None

    def to_data(self) -> dict[str, Any]:
        return {"entries": self.entries, "next": self.next}


#: fields of a log entry's detail that name a client, never shown in the history
PRIVATE_DETAIL = frozenset({"client"})


def history_entry(entry: dict[str, Any], undoable: set[int]) -> dict[str, Any]:
    """A log entry (lib/commit.lua) as the history reply gives it: who, what, when, what
    changed, and whether it is on the undo stack. The action and client ids stay out."""
    summary = entry.get("s") or {}
    detail = entry.get("d")
    if isinstance(detail, dict):
        # adminKick's detail names the kicked client
        detail = {k: v for k, v in detail.items() if k not in PRIVATE_DETAIL}
    return {
        "version": entry["v"],
        "type": entry["t"],
        "at": entry["at"],
        "playerId": entry.get("p"),
        "host": bool(entry.get("h", False)),
        "detail": detail,
        "before": summary.get("before"),
        "after": summary.get("after"),
        "undoable": entry["v"] in undoable,
    }


#: Cluster: how long an action that met the storage error is tried again. redis-py's cluster
#: client, once a node fails, closes the connections of every node and re-reads the slot map;
#: actions on the healthy shards that were in flight then, or routed by the old map, fail
#: although their shard never stopped. A retry after the re-read reaches them. Safe because
#: every script deduplicates by action id: a retry of a commit whose reply was lost answers
#: "dup".
CLUSTER_UNAVAILABLE_RETRY_S = 3.0
RETRY_FIRST_PAUSE_S = 0.05
RETRY_MAX_PAUSE_S = 0.25


class GameStore:
    def __init__(
        self,
        client: Any,
        scripts: Scripts,
        clock: GameClock,
        *,
        retention_s: int,
        token_ttl_s: int,
        action_timeout_s: float,
        sharded_pubsub: bool = False,
        metrics: Metrics | None = None,
        idle_retention_s: int | None = None,
        primary_moved: Callable[[], Awaitable[bool]] | None = None,
        wait_replicas: int = 0,
        wait_timeout_ms: int = 0,
        unavailable_retry_s: float = 0.0,
        primary_epoch: Callable[[], int] | None = None,
        max_in_flight: int = 0,
    ) -> None:
        self.client = client
        #: calls through _guard that may wait on Redis at once (0: no bound); the pool's other
        #: connections stay free for what must not queue behind actions (the heartbeat)
        self.in_flight: contextlib.AbstractAsyncContextManager[Any] = (
            asyncio.Semaphore(max_in_flight) if max_in_flight else contextlib.nullcontext()
        )
        #: Sentinel only: a count that goes up with every fence or change of primary. A
        #: reply read across one is not an acknowledgement: the command may have waited in a
        #: hung primary's socket and run when it woke, on a timeline the failover discards.
        self.primary_epoch = primary_epoch
        #: how long an action that met the storage error is tried again before the client gets it
        self.unavailable_retry_s = unavailable_retry_s
        #: REDIS_WAIT_REPLICAS: a committed action is answered only once this many replicas have it
        self.wait_replicas = wait_replicas
        self.wait_timeout_ms = wait_timeout_ms
        #: Sentinel only: whether the primary changed (or none is known) since the last look.
        #: A rule refusal writes nothing, so a replaced primary that woke up still a primary
        #: answers it from its stale copy; such a refusal is reported as the storage error.
        self.primary_moved = primary_moved
        self.metrics = metrics
        #: monotonic time of the last reply Redis gave a script call here, a refusal included:
        #: the probe alone cannot tell Redis gone from this instance too busy to hear it
        self.answered_at = 0.0
        self.scripts = scripts
        self.clock = clock
        self.retention_s = retention_s
        #: for a finished game, or one where nobody holds a seat (lib/commit.lua expire)
        self.idle_retention_s = retention_s if idle_retention_s is None else idle_retention_s
        self.token_ms = token_ttl_s * 1000
        self.action_timeout_s = action_timeout_s
        self.publish_command = "SPUBLISH" if sharded_pubsub else "PUBLISH"

    # -- plumbing -------------------------------------------------------------------

    def game_args(self, game_id: str, action_id: str, client_id: str, *extra: str | int) -> list[str | int]:
        return [
            self.clock.offset_ms,
            action_id,
            client_id,
            keys.channel(game_id),
            self.publish_command,
            f"{self.retention_s}:{self.idle_retention_s}",
            game_id,
            *extra,
        ]

    async def _guard(self, call: Callable[[], Awaitable[T]]) -> T:
        """A script's own error codes become the domain errors; Redis failures StorageUnavailable,
        after retries for up to `unavailable_retry_s` (Cluster)."""
        async with storage_errors(self.action_timeout_s), self.in_flight:
            if not self.unavailable_retry_s:
                return await self._checked(call)
            loop = asyncio.get_running_loop()
            give_up = loop.time() + self.unavailable_retry_s
            pause = RETRY_FIRST_PAUSE_S
            while True:
                try:
                    async with storage_errors():
                        return await self._checked(call)
                except StorageUnavailable:
                    if loop.time() + pause > give_up:
                        raise
                await asyncio.sleep(pause)
                pause = min(2 * pause, RETRY_MAX_PAUSE_S)

    async def _checked(self, call: Callable[[], Awaitable[T]]) -> T:
        try:
            reply = await call()
        except ResponseError as exc:
            err = from_lua(str(exc))
            if err is None:
                raise
            # a script's refusal is an answer too: Redis is there
            self.answered_at = time.monotonic()
            if self.primary_moved is not None and await self.primary_moved():
                raise StorageUnavailable("the primary changed while a refusal was read") from exc
            if self.metrics is not None:
                self.metrics.script_errors.labels(err.code).inc()
            raise err from None
        self.answered_at = time.monotonic()
        return reply

    async def _run(self, name: str, game_id: str, action_id: str, client_id: str, *extra: str | int) -> Outcome:
        script = self.scripts[name]
        key_list = keys.GameKeys(game_id).as_list()
        argv = self.game_args(game_id, action_id, client_id, *extra)
        epoch = self.primary_epoch() if self.primary_epoch is not None else None
        if self.wait_replicas:
            reply = await self._guard(lambda: self._replicated(script, key_list, argv))
        else:
            reply = await self._guard(lambda: script(keys=key_list, args=argv))
        if self.primary_epoch is not None and self.primary_epoch() != epoch:
            # the client's retry, with the same action id, is applied once on the new primary
            raise StorageUnavailable("the primary changed while the action ran")
        return Outcome(status=reply[0], state_json=reply[1], events_json=reply[2])

    async def _replicated(self, script: Any, key_list: list[str], argv: list[str | int]) -> Any:
        """The script, then WAIT on the same connection: WAIT counts the replicas that have
        every write this connection made, so on another one it would not cover the script's.

        A commit that too few replicas confirm is already on the primary and its broadcast
        is out; answering it with the storage error keeps the promise that an acknowledged
        action survives a failover, and the client's retry with the same action id is
        answered as a duplicate, not applied again.
        """
        async with self.client.client() as one:
            reply = await script(keys=key_list, args=argv, client=one)
            # a refusal raised above; "noop" wrote nothing worth waiting for
            if reply[0] != "noop":
                confirmed = int(await one.wait(self.wait_replicas, self.wait_timeout_ms))
                if confirmed < self.wait_replicas:
                    if self.metrics is not None:
                        self.metrics.replica_wait_shortfalls.inc()
                    raise StorageUnavailable(
                        f"{confirmed} of {self.wait_replicas} replicas confirmed the write in time"
                    )
        return reply

    # -- actions --------------------------------------------------------------------

    async def create(
        self, client_id: str, settings: GameSettings, action_id: str, seed: bytes | None = None
    ) -> tuple[str, str, Outcome]:
        """Create a game; returns (game id, host token, outcome). `seed` makes ids repeatable."""
        for attempt in range(MAX_CREATE_ATTEMPTS):
            game_id = keys.new_game_id(None if seed is None else seed + attempt.to_bytes(2, "big"))
            host_token = new_token()
            try:
                out = await self._run(
                    "create",
                    game_id,
                    action_id,
                    client_id,
                    settings.to_json(),
                    token_digest(host_token),
                    self.token_ms,
                )
            except GameIdTaken:
                continue
            return game_id, host_token, out
        raise error_for("CREATE_FAILED")

    async def join(self, game_id: str) -> Outcome:
        return await self._run("join", game_id, "", "")

    async def claim(self, game_id: str, client_id: str, player_id: int, action_id: str) -> tuple[str, Outcome]:
        token = new_token()
        out = await self._run("claim", game_id, action_id, client_id, player_id, token_digest(token), self.token_ms)
        return token, out

    async def unclaim(self, game_id: str, client_id: str, action_id: str) -> Outcome:
        return await self._run("unclaim", game_id, action_id, client_id)

    async def leave(self, game_id: str, client_id: str, action_id: str, mode: str = "leave") -> Outcome:
        return await self._run("leave", game_id, action_id, client_id, mode)

    async def reconnect(
        self,
        game_id: str,
        client_id: str,
        action_id: str,
        player_id: int | None,
        token: str | None,
        host_token: str | None,
    ) -> Outcome:
        return await self._run(
            "reconnect",
            game_id,
            action_id,
            client_id,
            "" if player_id is None else player_id,
            token_digest(token) if token else "",
            token_digest(host_token) if host_token else "",
            self.token_ms,
        )

    async def start(self, game_id: str, client_id: str, action_id: str) -> Outcome:
        return await self._run("start", game_id, action_id, client_id)

    async def pause(self, game_id: str, client_id: str, action_id: str) -> Outcome:
        return await self._run("pause", game_id, action_id, client_id)

    async def reset(self, game_id: str, client_id: str, action_id: str) -> Outcome:
        return await self._run("reset", game_id, action_id, client_id)

    async def switch(self, game_id: str, client_id: str, action_id: str, target: int | Literal["next"]) -> Outcome:
        return await self._run("switch", game_id, action_id, client_id, target)

    async def interrupt(self, game_id: str, client_id: str, action_id: str) -> Outcome:
        return await self._run("interrupt", game_id, action_id, client_id)

    async def pass_priority(self, game_id: str, client_id: str, action_id: str) -> Outcome:
        return await self._run("pass_priority", game_id, action_id, client_id)

    async def timeout_choice(self, game_id: str, client_id: str, action_id: str, choice: str) -> Outcome:
        return await self._run("timeout_choice", game_id, action_id, client_id, choice)

    async def toggle_target(self, game_id: str, client_id: str, action_id: str, player_id: int) -> Outcome:
        return await self._run("toggle_target", game_id, action_id, client_id, player_id)

    async def confirm_targets(self, game_id: str, client_id: str, action_id: str) -> Outcome:
        return await self._run("confirm_targets", game_id, action_id, client_id)

    async def pass_target_priority(self, game_id: str, client_id: str, action_id: str) -> Outcome:
        return await self._run("pass_target_priority", game_id, action_id, client_id)

    async def cancel_targeting(self, game_id: str, client_id: str, action_id: str) -> Outcome:
        return await self._run("cancel_targeting", game_id, action_id, client_id)

    async def update_player(
        self, game_id: str, client_id: str, action_id: str, player_id: int, updates: dict[str, Any]
    ) -> Outcome:
        return await self._run("update_player", game_id, action_id, client_id, player_id, json.dumps(updates))

    async def commander_damage(
        self, game_id: str, client_id: str, action_id: str, player_id: int, source_id: int, partner: bool, amount: int
    ) -> Outcome:
        return await self._run(
            "commander_damage", game_id, action_id, client_id, player_id, source_id, "1" if partner else "0", amount
        )

    async def concede(self, game_id: str, client_id: str, action_id: str) -> Outcome:
        return await self._run("concede", game_id, action_id, client_id)

    async def add_penalty(self, game_id: str, client_id: str, action_id: str, player_id: int) -> Outcome:
        return await self._run("add_penalty", game_id, action_id, client_id, player_id)

    async def eliminate(self, game_id: str, client_id: str, action_id: str, player_id: int) -> Outcome:
        return await self._run("eliminate", game_id, action_id, client_id, player_id)

    async def update_settings(self, game_id: str, client_id: str, action_id: str, updates: dict[str, Any]) -> Outcome:
        return await self._run("update_settings", game_id, action_id, client_id, json.dumps(updates))

    async def roll_dice(self, game_id: str, client_id: str, action_id: str, sides: int) -> Outcome:
        """The result is drawn here, from `secrets`, and committed by the script with the roll."""
        return await self._run("roll_dice", game_id, action_id, client_id, sides, secrets.randbelow(sides) + 1)

    async def random_start_player(self, game_id: str, client_id: str, action_id: str) -> Outcome:
        return await self._run(
            "random_start_player", game_id, action_id, client_id, secrets.randbelow(START_DRAW_RANGE)
        )

    async def roll_play_order(self, game_id: str, client_id: str, action_id: str) -> Outcome:
        return await self._run("roll_play_order", game_id, action_id, client_id, d20_pool())

    async def admin_add_time(self, game_id: str, client_id: str, action_id: str, player_id: int, ms: int) -> Outcome:
        return await self._run("admin_add_time", game_id, action_id, client_id, player_id, ms)

    async def admin_kick(self, game_id: str, client_id: str, action_id: str, player_id: int) -> Outcome:
        return await self._run("admin_kick", game_id, action_id, client_id, player_id)

    async def transfer_host(self, game_id: str, client_id: str, action_id: str, player_id: int) -> Outcome:
        return await self._run("transfer_host", game_id, action_id, client_id, player_id)

    async def claim_host(self, game_id: str, client_id: str, action_id: str) -> Outcome:
        return await self._run("claim_host", game_id, action_id, client_id)

    async def move_seat(self, game_id: str, client_id: str, action_id: str, from_id: int, to_id: int) -> Outcome:
        return await self._run("move_seat", game_id, action_id, client_id, from_id, to_id)

    async def free_seat(self, game_id: str, client_id: str, action_id: str, player_id: int) -> Outcome:
        return await self._run("free_seat", game_id, action_id, client_id, player_id)

    async def admin_revive(self, game_id: str, client_id: str, action_id: str, player_id: int) -> Outcome:
        return await self._run("admin_revive", game_id, action_id, client_id, player_id)

    async def rename_game(self, game_id: str, client_id: str, action_id: str, name: str) -> Outcome:
        return await self._run("rename_game", game_id, action_id, client_id, name)

    async def set_listed(self, game_id: str, client_id: str, action_id: str, listed: bool) -> Outcome:
        return await self._run("set_listed", game_id, action_id, client_id, "1" if listed else "0")

    async def undo(self, game_id: str, client_id: str, action_id: str, count: int) -> Outcome:
        return await self._run("undo", game_id, action_id, client_id, count)

    async def end_game(self, game_id: str, client_id: str, action_id: str) -> Status:
        """Delete the game (lua/end_game.lua): "ok", or "noop" when it was already gone."""
        out = await self._run("end_game", game_id, action_id, client_id)
        return out.status

    async def release_clients(self, game_id: str, client_prefix: str) -> Outcome:
        return await self._run("release_clients", game_id, "", "", client_prefix)

    # -- deadlines and reads ----------------------------------------------------------

    async def claim_deadlines(self, partition: int, limit: int, lease_ms: int) -> list[tuple[str, int]]:
        """Leased (game id, due epoch ms) pairs of one partition."""
        script = self.scripts["claim_deadlines"]
        key_list = [keys.deadline_partition(partition)]
        reply = await self._guard(lambda: script(keys=key_list, args=[self.clock.offset_ms, limit, lease_ms]))
        return [(str(gid), int(float(due))) for gid, due in zip(reply[0::2], reply[1::2], strict=True)]

    async def due_partitions(self) -> list[int]:
        """The deadline partitions with an entry due, in one script call (one Redis only:
        the partitions' keys are in as many slots)."""
        script = self.scripts["due_partitions"]
        key_list = [keys.deadline_partition(p) for p in range(keys.PARTITIONS)]
        reply = await self._guard(lambda: script(keys=key_list, args=[self.clock.offset_ms]))
        return [int(i) - 1 for i in reply]

    async def fire_deadline(self, game_id: str) -> Outcome:
        return await self._run("fire_deadline", game_id, "", "")

    async def history(self, game_id: str, limit: int, before: int | None) -> HistoryPage:
        """A page of the game's log, newest first (lua/history.lua): at most `limit` entries,
        only versions below `before` when given. Client ids are left out."""
        reply = await self._run_read("history", game_id, limit, "" if before is None else before)
        undoable = set(json.loads(reply[2]))
        entries = [history_entry(e, undoable) for e in json.loads(reply[1])]
        return HistoryPage(entries, int(reply[3]) if reply[3] else None)

    async def _run_read(self, name: str, game_id: str, *extra: str | int) -> Any:
        script = self.scripts[name]
        key_list = keys.GameKeys(game_id).as_list()
        argv = self.game_args(game_id, "", "", *extra)
        return await self._guard(lambda: script(keys=key_list, args=argv))

    async def missed_events(self, game_id: str, since: int) -> tuple[str | None, list[tuple[int, str]]]:
        """The game's state JSON (None when it is gone) and, oldest first, the events JSON of
        each version after `since` that had events, from the log (lua/missed_events.lua)."""
        reply = await self._run_read("missed_events", game_id, since)
        if reply[0] == "gone":
            return None, []
        entries = [str(e).split("\n", 1) for e in reply[2]]
        return str(reply[1]), [(int(v), events) for v, events in entries]

    async def read_state(self, game_id: str) -> str | None:
        raw = await self._guard(lambda: self.client.hget(keys.game(game_id), "state"))
        return None if raw is None else str(raw)
