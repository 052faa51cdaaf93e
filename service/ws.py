"""The WebSocket endpoint: upgrade checks, one receive loop per socket, the limits on what
it sends, and the dispatch of each frame to its message type (service/messages).

Every inbound frame gets its documented reply or an `error` frame (with the frame's
requestId when it had one), built by error_frame alone so it always carries a code from the
error table; no exception text reaches a client.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from typing import Any

from aiohttp import WSMsgType, web

from service import messages, protocol
from service.errors import NotAuthorized, ServiceError, error_data, error_for, metric_label
from service.limits import client_ip
from service.logs import CLIENT_ID, GAME_ID
from service.messages.session import Deps, Session
from service.origins import upgrade_allowed
from service.outbound import Conn, Outgoing, outgoing
from service.protocol import Message

log = logging.getLogger(__name__)

SHUTDOWN_MESSAGE = "Server is shutting down. Please save your game state."
#: Optional subprotocol for native clients: the same frames, MessagePack-encoded, as binary frames.
MSGPACK_SUBPROTOCOL = "msgpack"


def error_frame(err: ServiceError, request_id: str | None = None) -> Outgoing:
    """The one builder of `error` frames: `err`'s code from the table, next to its message."""
    return outgoing("error", error_data(err), request_id)


async def handle(session: Session, raw: str | bytes) -> None:
    """One inbound frame: JSON text, or MessagePack bytes on the `msgpack` subprotocol.

    Limits come before dispatch, and cover malformed frames too, so a flood of garbage
    costs the sender its budget; the frame is parsed first only so that even a refusal
    carries the frame's requestId.
    """
    deps, conn = session.deps, session.conn
    metrics = deps.metrics
    obj: Any = None
    msg: Message | None = None
    bad: ServiceError | None = None
    try:
        obj = protocol.decode(raw) if isinstance(raw, str) else protocol.decode_msgpack(raw)
        msg = messages.parse_obj(obj)
    except ServiceError as exc:
        bad = exc
    request_id = msg.request_id if msg is not None else protocol.request_id_in(obj)
    metrics.messages_received.labels(messages.message_label(msg.type if msg else None)).inc()
    refused = None
    if not session.rate.allow():
        refused = "socket"
    elif not deps.frames.allow(session.ip):
        refused = "ip"
    if refused is not None:
        metrics.rate_limited.labels(refused).inc()
        conn.send(error_frame(error_for("RATE_LIMITED"), request_id))
        return
    if msg is None:
        assert bad is not None
        metrics.errors.labels(metric_label(bad)).inc()
        conn.send(error_frame(bad, request_id))
        return
    GAME_ID.set(conn.game_id)
    started = time.perf_counter()
    try:
        await messages.dispatch(session, msg)
    except ServiceError as exc:
        metrics.errors.labels(metric_label(exc)).inc()
        if isinstance(exc, NotAuthorized):
            metrics.authorization_denied.labels(msg.type).inc()
        conn.send(error_frame(exc, msg.request_id))
    except Exception:
        metrics.errors.labels("INTERNAL").inc()
        log.exception("handler %s failed", msg.type)
        conn.send(error_frame(error_for("INTERNAL"), msg.request_id))
    finally:
        metrics.action_seconds.labels(msg.type).observe(time.perf_counter() - started)


def wants_ticks(request: web.Request) -> bool:
    """`?ticks=0` (or `false`, `off`, `no`): the client renders its clocks from `state` and
    the measured server offset, and is sent no `tick` frames; anything else gets them, as the
    original's clients expect."""
    return request.query.get("ticks", "1").strip().lower() not in ("0", "false", "off", "no")


def cap_send_buffer(request: web.Request, size: int) -> None:
    """SO_SNDBUF of the socket (0: the kernel's autotuning). A client that stops reading is
    cut off once its queue passes MAX_SEND_QUEUE_BYTES, but the queue drains into the kernel
    first, and the kernel grows an autotuned buffer to 4 MiB for it: per slow socket, that
    much memory the queue bound did not count, and about 800 states of a big game (3.2 MB)
    before the queue began to fill (tests/test_backpressure.py). A game's frames need little
    of it: a few KiB a second."""
    sock = request.transport.get_extra_info("socket") if size and request.transport is not None else None
    if sock is not None:
        # a socket gone already fails here; the handler finds out on its own
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)


async def serve(request: web.Request, deps: Deps) -> web.StreamResponse:
    """Checks an upgrade cheapest first (a foreign Origin must not spend the address's
    connection budget), then serves the socket until it closes."""
    if deps.draining:
        raise web.HTTPServiceUnavailable(text="Server is shutting down")
    if deps.cut_off:
        raise web.HTTPServiceUnavailable(text="Game storage is unreachable from this server")
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
        cap_send_buffer(request, s.socket_send_buffer_bytes)
        conn = Conn(
            ws,
            deps.liveness.new_client_id(),
            s.max_send_queue_bytes,
            binary=ws.ws_protocol == MSGPACK_SUBPROTOCOL,
            metrics=deps.metrics,
            ticks=wants_ticks(request),
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
    hub.add(conn)
    conn.send(outgoing("clientId", {"clientId": conn.client_id}))
    try:
        async for m in ws:
            if m.type == WSMsgType.TEXT or m.type == WSMsgType.BINARY and conn.binary:
                await handle(session, m.data)
            elif m.type == WSMsgType.BINARY:
                conn.send(error_frame(error_for("BINARY_UNSUPPORTED")))
            elif m.type == WSMsgType.ERROR:
                break
    finally:
        hub.remove(conn)
        try:
            await session.release("disconnect")
        except ServiceError as exc:
            log.warning("could not release seats of %s: %s", conn.client_id, exc)
        except Exception:
            log.exception("could not release seats of %s", conn.client_id)
        await conn.close_writer()
