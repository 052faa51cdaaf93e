"""The outbound path of every socket: frames encoded once from their objects, and each
socket's bounded queue with its own writer.

A frame is an Outgoing: its JSON text and its MessagePack bytes are each made at most once,
from the object the instance holds, when a socket of that kind first needs them; a broadcast
shares one Outgoing among all its sockets. A state frame's JSON embeds the script's state JSON
as is (no re-encoding), and its MessagePack form packs the state already decoded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import msgpack
import orjson
from aiohttp import web

from service.metrics import Metrics

log = logging.getLogger(__name__)

#: How long a socket being closed may take to accept its close frame before the connection
#: is dropped outright: a peer that stopped reading will never take it.
CLOSE_GRACE_S = 1.0


def frame(mtype: str, data: dict[str, Any], request_id: str | None = None) -> str:
    """The JSON text of a frame."""
    return json.dumps(envelope(mtype, data, request_id), separators=(",", ":"))


def envelope(mtype: str, data: Any, request_id: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": mtype, "data": data}
    if request_id is not None:
        out["requestId"] = request_id
    return out


def state_frame(state_json: str, request_id: str | None = None) -> str:
    """The `state` frame around state JSON exactly as the script encoded it (no re-encoding)."""
    if request_id is None:
        return '{"type":"state","data":' + state_json + "}"
    return '{"type":"state","data":' + state_json + ',"requestId":' + json.dumps(request_id) + "}"


class Outgoing:
    """One frame for one or many sockets: its object, and its JSON text and MessagePack bytes,
    each encoded from the object at most once."""

    __slots__ = ("_packed", "_text", "obj")

    def __init__(self, obj: dict[str, Any], text: str | None = None) -> None:
        #: the frame as an object: {"type", "data"[, "requestId"]}
        self.obj = obj
        self._text = text
        self._packed: bytes | None = None

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self._encode_text()
        return self._text

    def _encode_text(self) -> str:
        return json.dumps(self.obj, separators=(",", ":"))

    def packed(self) -> bytes:
        if self._packed is None:
            self._packed = self._encode_packed()
        return self._packed

    def _encode_packed(self) -> bytes:
        return bytes(msgpack.packb(self.obj))


class StateFrame(Outgoing):
    """A `state` frame: the JSON text wraps the script's state JSON unchanged, the MessagePack
    form packs the state object, decoded from that JSON only when a MessagePack socket first
    needs it unless the caller has it decoded already (its `obj` holds no data until then)."""

    __slots__ = ("_state_json",)

    def __init__(self, state_json: str, state: dict[str, Any] | None = None, request_id: str | None = None) -> None:
        super().__init__(envelope("state", state, request_id))
        self._state_json = state_json

    def _encode_text(self) -> str:
        return state_frame(self._state_json, self.obj.get("requestId"))

    def _encode_packed(self) -> bytes:
        if self.obj["data"] is None:
            self.obj["data"] = orjson.loads(self._state_json)
        return super()._encode_packed()


def outgoing(mtype: str, data: dict[str, Any], request_id: str | None = None) -> Outgoing:
    return Outgoing(envelope(mtype, data, request_id))


@dataclass(frozen=True)
class Ack:
    """A reply to send with the state of a given version: its requestId and the frames after it."""

    request_id: str | None
    then: tuple[Outgoing, ...] = ()


@dataclass(frozen=True)
class Held:
    """A broadcast kept back from a socket while its own action runs: the events, and the
    state (absent for events replayed alone)."""

    events: list[tuple[str | None, Outgoing]]
    version: int = 0
    state_json: str = ""
    frame: Outgoing | None = None


class Conn:
    """One WebSocket: its identity, its game, and a bounded outbound queue with its own writer."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        client_id: str,
        max_queue_bytes: int,
        binary: bool = False,
        metrics: Metrics | None = None,
        ticks: bool = True,
        transport: asyncio.Transport | None = None,
    ) -> None:
        self.ws = ws
        self.metrics = metrics
        #: the socket's TCP transport, aborted when a closing handshake cannot get through
        self.transport = transport
        #: the close started on overflow, held so the loop cannot drop the task half-way
        self._closing: asyncio.Task[None] | None = None
        #: whether this socket speaks the msgpack subprotocol (binary frames)
        self.binary = binary
        #: whether it is sent `tick` frames: a client that renders its clocks from `state`
        #: says `/ws?ticks=0` and gets none
        self.ticks = ticks
        self.client_id = client_id
        self.game_id: str | None = None
        self.last_version = 0
        #: replies waiting for the broadcast of their version, by version
        self.pending: dict[int, list[Ack]] = {}
        #: while this socket's own action runs, the broadcasts that reach it (Hub.hold): None
        #: when not holding
        self.held: list[Held] | None = None
        #: run by the hub when this socket's game is deleted (it unbinds the socket itself)
        self.on_game_ended: Callable[[str], Coroutine[Any, Any, None]] | None = None
        self.max_queue_bytes = max_queue_bytes
        self.queued_bytes = 0
        self._queue: asyncio.Queue[str | bytes | None] = asyncio.Queue()
        self._writer = asyncio.create_task(self._drain())
        self.overflowed = False
        #: told the type and data of each event addressed to this socket alone, once it is
        #: queued (Hub.deliver), so the socket's session can act on it: `kicked` loses the seat
        self.on_addressed: Callable[[str, dict[str, Any]], None] | None = None

    def send(self, out: Outgoing) -> None:
        if self.overflowed or self.ws.closed:
            return
        data = out.packed() if self.binary else out.text
        if self.queued_bytes + len(data) > self.max_queue_bytes:
            # a reader that stopped reading must not hold memory or slow anyone else down
            self.overflowed = True
            # explicit ids: this runs in whichever task broadcast the frame, not this socket's
            log.warning(
                "closing a socket that stopped reading: %d bytes unsent",
                self.queued_bytes + len(data),
                extra={"clientId": self.client_id, "gameId": self.game_id},
            )
            if self.metrics is not None:
                self.metrics.buffer_overflows.inc()
            self._closing = asyncio.get_running_loop().create_task(self.shut(1008, b"Buffer overflow"))
            return
        self.queued_bytes += len(data)
        self._queue.put_nowait(data)

    async def shut(self, code: int, reason: bytes) -> None:
        """Close with `code`, or drop the connection if the peer will not even take that.

        aiohttp's close() waits for the close frame to be written, behind everything queued
        in the kernel for a peer that reads nothing, and stops the heartbeat first: without
        the abort the socket, and its buffers, would stay forever (and a shutdown would wait
        for it until DRAIN_TIMEOUT_S).
        """
        try:
            async with asyncio.timeout(CLOSE_GRACE_S):
                await self.ws.close(code=code, message=reason)
        except TimeoutError:
            pass
        finally:
            if self.transport is not None:
                self.transport.abort()

    def send_reply(self, state_json: str, version: int, ack: Ack, state: dict[str, Any] | None = None) -> None:
        """A state carrying the requestId of the action it answers, then the reply's other frames.

        An action sent without a requestId (HEAD's and v1's clients send none) whose state
        this socket already has, from the broadcast, gets no second copy of it: the copy
        would carry nothing to tell it apart. With a requestId the state is the answer, and
        goes; the hub holds the broadcasts during an action so that this is only a reply to
        an action that changed nothing (a retry answered from the log, a no-op). `state` is
        the state decoded, when the caller has it (for MessagePack)."""
        if ack.request_id is not None or version > self.last_version:
            self.last_version = max(self.last_version, version)
            self.send(StateFrame(state_json, state, ack.request_id))
        else:
            self.skipped_state()
        for out in ack.then:
            self.send(out)

    def send_state(self, version: int, out: Outgoing) -> None:
        """A broadcast state: sent unless this socket already has that version or a newer one."""
        if version > self.last_version:
            self.last_version = version
            self.send(out)
        else:
            self.skipped_state()

    def skipped_state(self) -> None:
        if self.metrics is not None:
            self.metrics.duplicate_states_skipped.inc()

    async def _drain(self) -> None:
        while True:
            data = await self._queue.get()
            if data is None:
                return
            self.queued_bytes -= len(data)
            try:
                if isinstance(data, bytes):
                    await self.ws.send_bytes(data)
                else:
                    await self.ws.send_str(data)
            except (ConnectionError, RuntimeError):
                if self.metrics is not None:
                    self.metrics.messages_dropped.inc()
                return

    async def close_writer(self) -> None:
        self._queue.put_nowait(None)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self._writer, timeout=1.0)
        if not self._writer.done():
            self._writer.cancel()
