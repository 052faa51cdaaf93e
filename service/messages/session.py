"""The protocol state of one socket (its seat, its host rights, its game) and what every
socket of an instance shares; the message handlers act through these."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from service.clock import GameClock
from service.errors import error_for
from service.feedback import FeedbackStore
from service.game import GameStore, new_action_id
from service.hub import Hub
from service.limits import AddressRates, Limit, LocalRate, SharedLimiter, SocketCounts
from service.liveness import Liveness
from service.metrics import Metrics
from service.outbound import Conn
from service.settings import Settings


@dataclass
class Deps:
    """What every socket of one instance shares."""

    settings: Settings
    clock: GameClock
    store: GameStore
    hub: Hub
    liveness: Liveness
    metrics: Metrics
    limiter: SharedLimiter
    #: set when the instance starts draining: new upgrades are refused with 503
    draining: bool = False
    #: set while Redis has been unreachable past REDIS_LOST_CLOSE_S: upgrades are refused too
    cut_off: bool = False
    # derived from settings:
    sockets: SocketCounts = field(init=False)
    connection_limit: Limit = field(init=False)
    frames: AddressRates = field(init=False)
    create_limit: Limit = field(init=False)
    feedback_limit: Limit = field(init=False)
    feedback: FeedbackStore = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.sockets = SocketCounts(s.max_sockets_per_ip)
        self.connection_limit = Limit("connection", s.rate_connections_per_min, 60.0)
        liveness = self.liveness
        self.frames = AddressRates(
            s.rate_messages_per_s, 1.0, s.rate_limit_address_table_size, lambda: liveness.live_instances
        )
        self.create_limit = Limit("create", s.rate_games_per_hour, 3600.0)
        self.feedback_limit = Limit("feedback", s.rate_feedback_per_hour, 3600.0)
        self.feedback = FeedbackStore(
            self.store.client,
            self.store.scripts,
            self.clock,
            retention_s=s.feedback_retention_s,
            per_author=s.feedback_per_author,
            max_total=s.feedback_max_total,
            action_timeout_s=s.action_timeout_ms / 1000,
            metrics=self.metrics,
        )


def action_id_for(actor: str, mtype: str, request_id: str) -> str:
    """The action id recorded in the game log for a client's requestId.

    The actor is who acts, as stable as the protocol allows: for game actions the seat
    ("seat3") or "host" when the socket holds one, so a retry from a new connection after a
    reconnect finds the first attempt; else, and for the actions that change the socket's
    seat or role, the socket's client id, so two spectators' "1"s never clash.
    """
    return hashlib.sha256(f"{actor}\0{mtype}\0{request_id}".encode()).hexdigest()[:32]


class Session:
    """The protocol state of one socket."""

    def __init__(self, conn: Conn, deps: Deps, ip: str) -> None:
        self.conn = conn
        self.deps = deps
        self.store = deps.store
        self.hub = deps.hub
        self.liveness = deps.liveness
        self.ip = ip
        self.rate = LocalRate(deps.settings.rate_socket_messages_per_s, 1.0)
        #: the seat this socket holds in its game (leaving must release it), if any; set only
        #: through take_seat/drop_seat/set_host (and addressed: a kick, a freed or moved seat),
        #: which keep the instance's games set in step with `present`
        self.seat: int | None = None
        #: whether this socket holds host rights in its game (proved, handed over or taken)
        self.host = False
        conn.on_addressed = self.addressed
        #: the feedback token this connection acts with (sent by the client or issued to it)
        self.feedback_token: str | None = None
        conn.on_game_ended = self.game_ended

    @property
    def client_id(self) -> str:
        return self.conn.client_id

    def action_id(self, mtype: str, request_id: str | None, identity: bool) -> str:
        """A client's requestId names the action (so its retries apply once); else a fresh id,
        which still makes redis-py's own retry of the same call harmless. `identity`: the
        action changes which seat or role the socket has, so its retry must not see a new actor."""
        if request_id is None:
            return new_action_id()
        if identity or (self.seat is None and not self.host):
            actor = self.client_id
        else:
            actor = f"seat{self.seat}" if self.seat is not None else "host"
        return action_id_for(actor, mtype, request_id)

    def game(self) -> str:
        if self.conn.game_id is None:
            raise error_for("NOT_IN_GAME")
        return self.conn.game_id

    @property
    def present(self) -> bool:
        """The socket holds a seat or host rights: its closing must be told to the game (the
        seat released, the host away), so the game is in the instance's games set (a dead
        instance's games are told by release_clients)."""
        return self.seat is not None or self.host

    async def _presence(self, game_id: str, was: bool) -> None:
        if self.present and not was:
            await self.liveness.seated(game_id)
        elif was and not self.present:
            await self.liveness.unseated(game_id)

    async def take_seat(self, game_id: str, player_id: int) -> None:
        """This socket now holds `player_id` in `game_id` (its current game)."""
        was = self.present
        self.seat = player_id
        await self._presence(game_id, was)

    async def drop_seat(self, game_id: str) -> None:
        if self.seat is None:
            return
        was = self.present
        self.seat = None
        await self._presence(game_id, was)

    async def set_host(self, game_id: str, host: bool) -> None:
        """This socket now holds (or no longer holds) host rights in `game_id`."""
        was = self.present
        self.host = host
        await self._presence(game_id, was)

    async def _forget(self, game_id: str) -> None:
        """Neither seat nor host rights in `game_id` any more (left, closed or ended)."""
        was = self.present
        self.seat = None
        self.host = False
        await self._presence(game_id, was)

    def addressed(self, mtype: str, data: dict[str, Any]) -> None:
        """An event for this socket alone came through its game's channel (Hub.deliver)."""
        gid = self.conn.game_id
        if gid is None:
            return
        if mtype in ("kicked", "seatFreed") and self.seat is not None:
            # the host's commit already took the seat: forget it here, so leaving or closing
            # later does not release it again and the instance's games set stays exact
            self.seat = None
            if not self.present:
                self.liveness.unseated_soon(gid)
        elif mtype == "seatMoved" and self.seat is not None:
            self.seat = int(data["toPlayerId"])
        elif mtype == "hostGranted":
            # granted to the holder of a seat, so the socket is counted already: its seat
            # (or, in a race with its own claim, the claim's take_seat) keeps the games set
            self.host = True

    async def release(self, mode: str, action_id: str | None = None) -> None:
        """Give up this socket's seats in its current game and unbind (leave.lua says which
        tokens are kept)."""
        gid = self.conn.game_id
        if gid is None:
            return
        try:
            if self.present:
                await self.store.leave(gid, self.client_id, action_id or new_action_id(), mode)
        finally:
            try:
                await self._forget(gid)
            finally:
                await self.hub.unbind(self.conn)

    async def game_ended(self, game_id: str) -> None:
        """`game_id` was deleted (endGame): nothing is left to release in it; the socket is
        unbound (unless the hub did it already) and forgets its seat and host rights there."""
        if self.conn.game_id == game_id:
            await self.hub.unbind(self.conn)
        if self.conn.game_id is None:
            await self._forget(game_id)

    async def bind(self, gid: str) -> None:
        if self.conn.game_id != gid:
            await self.release("disconnect")
            await self.hub.bind(self.conn, gid)
