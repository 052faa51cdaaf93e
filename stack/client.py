"""A small protocol client for tests: a reader task records every frame in arrival order."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from typing import Any

import aiohttp

_ids = itertools.count(1)


class Client:
    def __init__(self, session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.session = session
        self.ws = ws
        self.messages: list[dict[str, Any]] = []
        self.client_id = ""
        self._new = asyncio.Event()
        self._reader = asyncio.create_task(self._read())
        self.closed_code: int | None = None
        self._cursors: dict[str, int] = {}

    @classmethod
    async def connect(cls, url: str, **kwargs: Any) -> Client:
        session = aiohttp.ClientSession()
        try:
            ws = await session.ws_connect(url, **kwargs)
        except BaseException:
            await session.close()
            raise
        c = cls(session, ws)
        hello = await c.next("clientId")
        c.client_id = hello["data"]["clientId"]
        return c

    async def _read(self) -> None:
        async for m in self.ws:
            if m.type == aiohttp.WSMsgType.TEXT:
                self.messages.append(json.loads(m.data))
                self._new.set()
        self.closed_code = self.ws.close_code
        self._new.set()

    async def send(self, mtype: str, data: dict[str, Any] | None = None, request_id: str | None = None) -> str:
        rid = request_id if request_id is not None else f"r{next(_ids)}"
        await self.ws.send_json({"type": mtype, "data": data or {}, "requestId": rid})
        return rid

    async def send_raw(self, text: str) -> None:
        await self.ws.send_str(text)

    def of_type(self, mtype: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == mtype]

    async def wait_for(self, pred: Any, timeout: float = 5.0, start: int = 0) -> dict[str, Any]:
        """The first recorded frame from index `start` matching `pred`, waiting for it if needed."""
        return (await self._find(pred, timeout, start))[1]

    async def _find(self, pred: Any, timeout: float, start: int) -> tuple[int, dict[str, Any]]:
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        seen = start
        while True:
            for i in range(seen, len(self.messages)):
                if pred(self.messages[i]):
                    return i, self.messages[i]
            seen = max(seen, len(self.messages))
            left = end - loop.time()
            if left <= 0 or (self._reader.done() and seen == len(self.messages)):
                raise TimeoutError(f"no matching frame; last frames: {self.messages[-5:]}")
            self._new.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new.wait(), timeout=left)

    async def next(self, mtype: str, timeout: float = 5.0) -> dict[str, Any]:
        """The first frame of `mtype` not yet returned by next()."""
        i, m = await self._find(lambda m: m["type"] == mtype, timeout, self._cursors.get(mtype, 0))
        self._cursors[mtype] = i + 1
        return m

    async def reply(self, request_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The reply (state, error or other) that echoes `request_id`."""
        return await self.wait_for(lambda m: m.get("requestId") == request_id, timeout)

    async def request(self, mtype: str, data: dict[str, Any] | None = None, timeout: float = 5.0) -> dict[str, Any]:
        rid = await self.send(mtype, data)
        return await self.reply(rid, timeout)

    async def state_at_least(self, version: int, timeout: float = 5.0) -> dict[str, Any]:
        return await self.wait_for(lambda m: m["type"] == "state" and m["data"]["version"] >= version, timeout)

    async def closed_with(self, timeout: float = 10.0) -> int | None:
        """The close code, once the server has closed this client's socket."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while self.closed_code is None:
            if loop.time() > end:
                raise TimeoutError(f"socket still open after {timeout}s; last frames: {self.messages[-3:]}")
            await asyncio.sleep(0.01)
        return self.closed_code

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader
        await self.session.close()
