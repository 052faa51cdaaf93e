"""A lean WebSocket client for the load benchmark: an asyncio Protocol that parses frames as
they arrive and hands each message to a callback, in the same call.

aiohttp's client wakes a task and builds a message object per frame; with thousands of
sockets each receiving a tick a second, that per-frame cost made the load generator the
slowest process of the benchmark (it shares the machine with what it measures). Here a
chunk read from the socket is parsed in one loop, no task per socket, no await per frame.

The sans-IO `wsproto` package was tried in its place (7 us per frame parsed): at 2,000
games it raised the load generator's CPU from 7.4 to 11 s per 30 s window on the 2 shared
cores, and the p99 it measured from 19-27 ms to 77-130 ms. The measuring tool must not be
what moves the measurement, so the frame loop stays hand-written and small.

Enough of RFC 6455 for a loopback benchmark against aiohttp: the opening handshake (with
an optional subprotocol), text/binary messages (fragmented ones reassembled), ping/pong and
the closing handshake. No extensions (the service turns compression off) and no TLS.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
#: largest message accepted from the server; more is a protocol error
MAX_MESSAGE = 1 << 20

#: called with (opcode OP_TEXT or OP_BINARY, payload) for every message
OnMessage = Callable[[int, bytes], None]
#: called once when the connection is gone: (close code or None, whether we asked for it)
OnClosed = Callable[[int | None, bool], None]


class HandshakeError(ConnectionError):
    pass


def mask(payload: bytes, key: bytes) -> bytes:
    """XOR with the 4-byte key, as one big-integer operation instead of a loop per byte."""
    n = len(payload)
    if n == 0:
        return payload
    repeated = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(repeated, "little")).to_bytes(n, "little")


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """A client frame: FIN set, masked (servers must refuse unmasked client frames)."""
    key = os.urandom(4)
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 1 << 16:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    return head + key + mask(payload, key)


class WsClient(asyncio.Protocol):
    def __init__(
        self, host: str, path: str, subprotocol: str | None, on_message: OnMessage, on_closed: OnClosed
    ) -> None:
        self.host = host
        self.path = path
        self.subprotocol = subprotocol
        self.on_message = on_message
        self.on_closed = on_closed
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self.key = base64.b64encode(os.urandom(16))
        self.buf = bytearray()
        self.upgraded = False
        self.fragments: list[bytes] = []
        self.fragment_op = 0
        self.close_code: int | None = None
        self.closing = False
        self.lost = False

    # -- asyncio.Protocol --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        lines = [
            f"GET {self.path} HTTP/1.1",
            f"Host: {self.host}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {self.key.decode()}",
            "Sec-WebSocket-Version: 13",
        ]
        if self.subprotocol:
            lines.append(f"Sec-WebSocket-Protocol: {self.subprotocol}")
        transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).decode("latin-1")
            del buf[: end + 4]
            try:
                chosen = self._check_handshake(head)
            except HandshakeError as exc:
                if not self.opened.done():
                    self.opened.set_exception(exc)
                self.abort()
                return
            self.upgraded = True
            if not self.opened.done():
                self.opened.set_result(chosen)
        self._parse()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"connection lost during the handshake: {exc}"))
            return
        self.on_closed(self.close_code, self.closing)

    # -- frames -----------------------------------------------------------------------

    def _check_handshake(self, head: str) -> str | None:
        status, *header_lines = head.split("\r\n")
        if not status.startswith("HTTP/1.1 101"):
            raise HandshakeError(f"upgrade refused: {status}")
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        accept = base64.b64encode(hashlib.sha1(self.key + GUID).digest()).decode()
        if headers.get("sec-websocket-accept") != accept:
            raise HandshakeError("bad Sec-WebSocket-Accept")
        return headers.get("sec-websocket-protocol")

    def _parse(self) -> None:
        buf = self.buf
        pos = 0
        size = len(buf)
        while size - pos >= 2:
            b0 = buf[pos]
            b1 = buf[pos + 1]
            length = b1 & 0x7F
            head = 2
            if length == 126:
                if size - pos < 4:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                head = 4
            elif length == 127:
                if size - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                head = 10
            if length > MAX_MESSAGE:
                self.abort()
                return
            key = b""
            if b1 & 0x80:
                # servers must not mask; accept it anyway rather than fail a measurement
                if size - pos < head + 4:
                    break
                key = bytes(buf[pos + head : pos + head + 4])
                head += 4
            end = pos + head + length
            if end > size:
                break
            payload = bytes(buf[pos + head : end])
            if key:
                payload = mask(payload, key)
            pos = end
            self._frame(b0 & 0x80, b0 & 0x0F, payload)
            if self.lost:
                return
        if pos:
            del buf[:pos]

    def _frame(self, fin: int, opcode: int, payload: bytes) -> None:
        if opcode in (OP_TEXT, OP_BINARY):
            if fin:
                self.on_message(opcode, payload)
            else:
                self.fragment_op = opcode
                self.fragments = [payload]
        elif opcode == OP_CONT:
            self.fragments.append(payload)
            if fin:
                whole = b"".join(self.fragments)
                self.fragments = []
                self.on_message(self.fragment_op, whole)
        elif opcode == OP_PING:
            self._write(OP_PONG, payload)
        elif opcode == OP_CLOSE:
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            if not self.closing:
                # the peer closed first: answer its close frame, as the protocol requires
                self._write(OP_CLOSE, payload[:2])
            if self.transport is not None:
                self.transport.close()

    # -- sending and closing ---------------------------------------------------------

    def _write(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(encode_frame(opcode, payload))

    def send_text(self, text: str) -> None:
        self._write(OP_TEXT, text.encode())

    def send_bytes(self, data: bytes) -> None:
        self._write(OP_BINARY, data)

    def close(self, code: int = 1000) -> None:
        """Start the closing handshake; the server answers and drops the connection."""
        if self.closing:
            return
        self.closing = True
        self._write(OP_CLOSE, code.to_bytes(2, "big"))

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


async def close_within(ws: WsClient, closed: Awaitable[object], timeout: float) -> None:
    """Start the closing handshake, and drop the connection if `closed` (the caller's signal
    that the connection is gone) has not come within `timeout`."""
    ws.close()
    try:
        async with asyncio.timeout(timeout):
            await closed
    except TimeoutError:
        ws.abort()


async def connect(
    url: str, on_message: OnMessage, on_closed: OnClosed, subprotocol: str | None = None, timeout: float = 10.0
) -> tuple[WsClient, str | None]:
    """Open a WebSocket to `url` (ws://host:port/path); returns the client and the subprotocol
    the server chose."""
    parts = urlsplit(url)
    if parts.scheme != "ws" or parts.hostname is None:
        raise ValueError(f"only ws:// URLs are supported, not {url!r}")
    port = parts.port or 80
    loop = asyncio.get_running_loop()
    host = f"{parts.hostname}:{port}"
    # the query goes along: `?ticks=0` is how a client declines tick frames
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    async with asyncio.timeout(timeout):
        _, proto = await loop.create_connection(
            lambda: WsClient(host, path, subprotocol, on_message, on_closed), parts.hostname, port
        )
        try:
            chosen = await proto.opened
        except BaseException:
            proto.abort()
            raise
    return proto, chosen
