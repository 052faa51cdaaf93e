"""Stand-ins for what a Conn uses of aiohttp's WebSocketResponse and of its transport."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from service.outbound import Conn


class FakeSocket:
    """What a Conn uses of aiohttp's WebSocketResponse; records the frames written and the closes.

    With a `gate`, every write waits for it: a reader that stopped reading.
    """

    def __init__(self, gate: asyncio.Event | None = None) -> None:
        self.closed = False
        self.frames: list[str] = []
        #: what a msgpack socket wrote
        self.binary_frames: list[bytes] = []
        self.close_codes: list[int] = []
        self.close_messages: list[bytes] = []
        self.gate = gate
        self.writing = False

    async def send_str(self, data: str) -> None:
        self.writing = True
        if self.gate is not None:
            await self.gate.wait()
        self.frames.append(data)
        self.writing = False

    async def send_bytes(self, data: bytes) -> None:
        self.binary_frames.append(data)

    async def close(self, *, code: int = 1000, message: bytes = b"") -> bool:
        self.close_codes.append(code)
        self.close_messages.append(message)
        self.closed = True
        return True

    def decoded(self) -> list[dict[str, Any]]:
        return [json.loads(f) for f in self.frames]

    def states(self) -> list[tuple[int, str | None]]:
        """(version, requestId) of every state frame written, in order."""
        return [(m["data"]["version"], m.get("requestId")) for m in self.decoded() if m["type"] == "state"]


class StuckClose(FakeSocket):
    """A socket whose close handshake never completes: the peer reads nothing."""

    async def close(self, *, code: int = 1000, message: bytes = b"") -> bool:
        self.close_codes.append(code)
        await asyncio.Event().wait()
        return True


class RecordingTransport:
    def __init__(self) -> None:
        self.aborted = 0

    def abort(self) -> None:
        self.aborted += 1


#: make_conn(max_queue_bytes=..., gate=...): a Conn writing to a new FakeSocket (tests/conftest.py)
MakeConn = Callable[..., tuple[Conn, FakeSocket]]


class FakeTime:
    """What service/clock.py reads of `time`, with a monotonic clock the test moves."""

    def __init__(self) -> None:
        self.mono = 100.0

    def monotonic(self) -> float:
        return self.mono

    def time(self) -> float:
        return 1_700_000_000.0
