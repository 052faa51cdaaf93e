"""The WebSocket endpoint: one receive loop per socket, dispatching each frame to a script call.

Every inbound frame gets its documented reply or an `error` frame (with the frame's
requestId when it had one); no exception text reaches a client.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from service import protocol
from service.errors import (
    RATE_LIMIT_MESSAGE,
    STORAGE_UNAVAILABLE_MESSAGE,
    InvalidInput,
    NotAuthorized,
    RateLimited,
    ServiceError,
    StorageUnavailable,
)
from service.game import GameStore, Outcome, new_action_id
from service.hub import Ack, Conn, Hub
from service.limits import Limit, LocalRate, SharedLimiter, SocketCounts, client_ip
from service.liveness import Liveness
from service.logs import CLIENT_ID, GAME_ID
from service.metrics import Metrics, message_label
from service.origins import upgrade_allowed
from service.protocol import Message, frame
from service.settings import Settings

log = logging.getLogger(__name__)

NOT_IN_GAME = "Not in a game: send create, join or reconnect first"
SHUTDOWN_MESSAGE = "Server is shutting down. Please save your game state."
#: Optional subprotocol for native clients: the same frames, MessagePack-encoded, as binary frames.
MSGPACK_SUBPROTOCOL = "msgpack"

Handler = Callable[["Session", Message], Awaitable[None]]


@dataclass
class Deps:
    """What every socket of one instance shares."""

    settings: Settings
    store: GameStore
    hub: Hub
    liveness: Liveness
    metrics: Metrics
    limiter: SharedLimiter
    #: set when the instance starts draining: new upgrades are refused with 503
    draining: bool = False
    # derived from settings:
    sockets: SocketCounts = field(init=False)
    connection_limit: Limit = field(init=False)
    message_limit: Limit = field(init=False)
    create_limit: Limit = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.sockets = SocketCounts(s.max_sockets_per_ip)
        self.connection_limit = Limit("connection", s.rate_connections_per_min, 60.0)
        self.message_limit = Limit("ip", s.rate_messages_per_s, 1.0)
        self.create_limit = Limit("create", s.rate_games_per_hour, 3600.0)


#: Actions that change which seat or role the socket has: their retry must not see a new actor.
IDENTITY_ACTIONS = frozenset({"create", "join", "reconnect", "claim", "unclaim", "leave"})


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
        #: the seat this socket holds in its game (leaving must release it), if any
        self.seat: int | None = None
        #: whether this socket proved host rights in its game
        self.host = False

    @property
    def client_id(self) -> str:
        return self.conn.client_id

    def action_id(self, msg: Message) -> str:
        """A client's requestId names the action (so its retries apply once); else a fresh id,
        which still makes redis-py's own retry of the same call harmless."""
        if msg.request_id is None:
            return new_action_id()
        if msg.type in IDENTITY_ACTIONS or (self.seat is None and not self.host):
            actor = self.client_id
        else:
            actor = f"seat{self.seat}" if self.seat is not None else "host"
        return action_id_for(actor, msg.type, msg.request_id)

    def reply(self, msg: Message, mtype: str, data: dict[str, Any]) -> None:
        self.conn.send(frame(mtype, data, msg.request_id))

    def reply_state(self, msg: Message, out: Outcome, *then: str) -> None:
        self.hub.reply_state(self.conn, out.state_json, out.version, Ack(msg.request_id, then))

    def game(self) -> str:
        if self.conn.game_id is None:
            raise InvalidInput(NOT_IN_GAME)
        return self.conn.game_id

    async def release(self, mode: str, action_id: str | None = None) -> None:
        """Give up this socket's seats in its current game and unbind (leave.lua says which
        tokens are kept)."""
        gid = self.conn.game_id
        if gid is None:
            return
        try:
            if self.seat is not None:
                await self.store.leave(gid, self.client_id, action_id or new_action_id(), mode)
        finally:
            self.seat = None
            self.host = False
            await self.hub.unbind(self.conn)

    async def bind(self, gid: str) -> None:
        if self.conn.game_id != gid:
            await self.release("disconnect")
            await self.hub.bind(self.conn, gid)

    # -- handlers -----------------------------------------------------------------------

    async def on_create(self, msg: Message) -> None:
        settings = protocol.create_settings(msg.data)
        if await self.deps.limiter.check(self.ip, self.deps.create_limit) is not None:
            self.deps.metrics.rate_limited.labels("create").inc()
            raise RateLimited(RATE_LIMIT_MESSAGE)
        seed = None if msg.request_id is None else f"{self.client_id}\0{msg.request_id}".encode()
        gid, host_token, out = await self.store.create(self.client_id, settings, self.action_id(msg), seed)
        await self.bind(gid)
        self.host = True
        if out.status == "ok":
            self.deps.metrics.sessions_created.inc()
        self.reply(msg, "created", {"gameId": gid, "hostToken": host_token})
        self.reply_state(msg, out)

    async def on_join(self, msg: Message) -> None:
        gid = protocol.game_id(msg.data)
        out = await self.store.join(gid)
        await self.bind(gid)
        self.reply_state(msg, out)

    async def on_reconnect(self, msg: Message) -> None:
        r = protocol.reconnect(msg.data)
        out = await self.store.reconnect(
            r.game_id, self.client_id, self.action_id(msg), r.player_id, r.token, r.host_token
        )
        await self.bind(r.game_id)
        self.host = self.host or r.host_token is not None
        if r.player_id is not None:
            self.seat = r.player_id
            await self.liveness.seated(r.game_id)
        self.reply(
            msg,
            "reconnected",
            {"playerId": r.player_id, "token": r.token, "gameId": r.game_id, "host": r.host_token is not None},
        )
        self.reply_state(msg, out)

    async def on_claim(self, msg: Message) -> None:
        pid = protocol.player_id(msg.data)
        gid = self.game()
        token, out = await self.store.claim(gid, self.client_id, pid, self.action_id(msg))
        self.seat = pid
        await self.liveness.seated(gid)
        self.reply_state(msg, out, frame("claimed", {"playerId": pid, "token": token, "gameId": gid}, msg.request_id))

    async def on_unclaim(self, msg: Message) -> None:
        out = await self.store.unclaim(self.game(), self.client_id, self.action_id(msg))
        self.seat = None
        self.reply_state(msg, out)

    async def on_leave(self, msg: Message) -> None:
        gid = self.game()
        await self.release("leave", self.action_id(msg))
        self.reply(msg, "left", {"gameId": gid})

    async def on_time(self, msg: Message) -> None:
        client_time = msg.data.get("clientTime")
        if client_time is not None and (isinstance(client_time, bool) or not isinstance(client_time, int | float)):
            raise InvalidInput("Invalid clientTime")
        self.reply(msg, "time", {"serverTime": self.store.clock.now_ms(), "clientTime": client_time})

    async def simple(self, msg: Message, call: Callable[..., Awaitable[Outcome]], *args: Any) -> None:
        """A game action answered with its state: `call(game, client, action id, *args)`."""
        out = await call(self.game(), self.client_id, self.action_id(msg), *args)
        self.reply_state(msg, out)

    async def on_start(self, msg: Message) -> None:
        await self.simple(msg, self.store.start)

    async def on_pause(self, msg: Message) -> None:
        await self.simple(msg, self.store.pause)

    async def on_reset(self, msg: Message) -> None:
        await self.simple(msg, self.store.reset)

    async def on_switch(self, msg: Message) -> None:
        await self.simple(msg, self.store.switch, protocol.player_id(msg.data))

    async def on_pass_turn(self, msg: Message) -> None:
        await self.simple(msg, self.store.switch, "next")

    async def on_update_player(self, msg: Message) -> None:
        pid = protocol.player_id(msg.data)
        await self.simple(msg, self.store.update_player, pid, protocol.player_updates(msg.data))

    async def on_add_penalty(self, msg: Message) -> None:
        await self.simple(msg, self.store.add_penalty, protocol.player_id(msg.data))

    async def on_eliminate(self, msg: Message) -> None:
        await self.simple(msg, self.store.eliminate, protocol.player_id(msg.data))

    async def on_update_settings(self, msg: Message) -> None:
        await self.simple(msg, self.store.update_settings, protocol.settings_updates(msg.data))

    HANDLERS: dict[str, Handler] = {
        "create": on_create,
        "join": on_join,
        "reconnect": on_reconnect,
        "claim": on_claim,
        "unclaim": on_unclaim,
        "leave": on_leave,
        "time": on_time,
        "start": on_start,
        "pause": on_pause,
        "reset": on_reset,
        "switch": on_switch,
        "passTurn": on_pass_turn,
        "updatePlayer": on_update_player,
        "addPenalty": on_add_penalty,
        "eliminate": on_eliminate,
        "updateSettings": on_update_settings,
    }

    async def handle(self, raw: str | bytes) -> None:
        """One inbound frame: JSON text, or MessagePack bytes on the `msgpack` subprotocol.

        Limits come before dispatch, and cover malformed frames too, so a flood of garbage
        costs the sender its budget; the frame is parsed first only so that even a refusal
        carries the frame's requestId.
        """
        metrics = self.deps.metrics
        obj: Any = None
        msg: Message | None = None
        bad: ServiceError | None = None
        try:
            obj = protocol.decode(raw) if isinstance(raw, str) else protocol.decode_msgpack(raw)
            msg = protocol.parse_obj(obj)
        except ServiceError as exc:
            bad = exc
        request_id = msg.request_id if msg is not None else protocol.request_id_in(obj)
        metrics.messages_received.labels(message_label(msg.type if msg else None)).inc()
        refused = None
        if not self.rate.allow():
            refused = "socket"
        elif await self.deps.limiter.check(self.ip, self.deps.message_limit) is not None:
            refused = "ip"
        if refused is not None:
            metrics.rate_limited.labels(refused).inc()
            self.conn.send(frame("error", {"message": RATE_LIMIT_MESSAGE}, request_id))
            return
        if msg is None:
            assert bad is not None
            metrics.errors.labels(bad.code).inc()
            self.conn.send(frame("error", {"message": bad.message}, request_id))
            return
        GAME_ID.set(self.conn.game_id)
        started = time.perf_counter()
        try:
            await self.HANDLERS[msg.type](self, msg)
        except ServiceError as exc:
            metrics.errors.labels(exc.code).inc()
            if isinstance(exc, NotAuthorized):
                metrics.authorization_denied.labels(msg.type).inc()
            text = STORAGE_UNAVAILABLE_MESSAGE if isinstance(exc, StorageUnavailable) else exc.message
            self.reply(msg, "error", {"message": text})
        except Exception:
            metrics.errors.labels("INTERNAL").inc()
            log.exception("handler %s failed", msg.type)
            self.reply(msg, "error", {"message": "Internal server error"})
        finally:
            metrics.action_seconds.labels(msg.type).observe(time.perf_counter() - started)


async def serve(request: web.Request, deps: Deps) -> web.StreamResponse:
    """Checks an upgrade cheapest first (a foreign Origin must not spend the address's
    connection budget), then serves the socket until it closes."""
    if deps.draining:
        raise web.HTTPServiceUnavailable(text="Server is shutting down")
    s = deps.settings
    if not upgrade_allowed(request.headers, s.allowed_origins):
        raise web.HTTPForbidden(text="Forbidden: Origin not allowed")
    ip = client_ip(request, s.client_ip_header)
    # the slot is taken before any await, so a burst of upgrades cannot all pass the cap
    # while each waits on the rate check
    if not deps.sockets.acquire(ip):
        deps.metrics.rate_limited.labels("open_sockets").inc()
        raise web.HTTPTooManyRequests(text="Too Many Requests: Too many open connections")
    try:
        retry_ms = await deps.limiter.check(ip, deps.connection_limit)
        if retry_ms is not None:
            deps.metrics.rate_limited.labels("connection").inc()
            raise web.HTTPTooManyRequests(
                text="Too Many Requests: Connection rate limit exceeded",
                headers={"Retry-After": str(max(1, -(-retry_ms // 1000)))},
            )
        # aiohttp refuses a message whose size reaches max_msg_size; the limit is the largest allowed
        ws = web.WebSocketResponse(
            max_msg_size=s.max_frame_bytes + 1,
            heartbeat=s.ws_heartbeat_s,
            compress=False,
            protocols=(MSGPACK_SUBPROTOCOL,),
        )
        await ws.prepare(request)
        conn = Conn(
            ws,
            deps.liveness.new_client_id(),
            s.max_send_queue_bytes,
            binary=ws.ws_protocol == MSGPACK_SUBPROTOCOL,
            metrics=deps.metrics,
            transport=request.transport,
        )
        CLIENT_ID.set(conn.client_id)
        deps.metrics.connections_created.inc()
        await run_socket(conn, Session(conn, deps, ip))
    finally:
        deps.sockets.release(ip)
    return ws


async def run_socket(conn: Conn, session: Session) -> None:
    hub = session.hub
    ws = conn.ws
    hub.conns.add(conn)
    conn.send(frame("clientId", {"clientId": conn.client_id}))
    try:
        async for m in ws:
            if m.type == WSMsgType.TEXT or m.type == WSMsgType.BINARY and conn.binary:
                await session.handle(m.data)
            elif m.type == WSMsgType.BINARY:
                conn.send(frame("error", {"message": "Binary frames are not supported"}))
            elif m.type == WSMsgType.ERROR:
                break
    finally:
        hub.conns.discard(conn)
        try:
            await session.release("disconnect")
        except ServiceError as exc:
            log.warning("could not release seats of %s: %s", conn.client_id, exc)
        except Exception:
            log.exception("could not release seats of %s", conn.client_id)
        await conn.close_writer()
