"""A WebSocket client that reads only when told to: the slow client of the backpressure test
and of the chaos scenario `slow-clients`.

Spoken by hand over a blocking socket whose receive buffer is 4 KiB, set before connect so
the window it advertises is small from the first segment: the kernel holds little for it, and
what the server sends piles up in the server's own queue, where MAX_SEND_QUEUE_BYTES bounds it.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
from typing import Any


class SlowReader:
    """A WebSocket client on a blocking socket with a 4 KiB receive buffer; it reads only
    when told to. Every method blocks: call them through asyncio.to_thread."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # before connect, so that the window it advertises is small from the first segment
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", port))
        self.buf = b""
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the server")
        self.buf += chunk

    def _take(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, opcode: int, payload: bytes) -> None:
        """One masked frame, as every client frame must be."""
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        head += bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def send_json(self, obj: dict[str, Any]) -> None:
        self.send(0x1, json.dumps(obj).encode())

    def frame(self) -> tuple[int, bytes]:
        """The next server frame: (opcode, payload); server frames are never masked."""
        b0, b1 = self._take(2)
        n = b1 & 0x7F
        if n == 126:
            (n,) = struct.unpack(">H", self._take(2))
        elif n == 127:
            (n,) = struct.unpack(">Q", self._take(8))
        return b0 & 0x0F, self._take(n)

    def until_close(self) -> tuple[list[dict[str, Any]], int, bytes]:
        """Read everything up to the server's close frame: (text frames, close code, reason)."""
        texts: list[dict[str, Any]] = []
        while True:
            opcode, payload = self.frame()
            if opcode == 0x8:
                (code,) = struct.unpack(">H", payload[:2])
                return texts, code, payload[2:]
            if opcode == 0x1:
                texts.append(json.loads(payload))

    def close(self) -> None:
        self.sock.close()
