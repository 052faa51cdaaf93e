"""This instance's view of Redis time: one per instance, built in app.py and handed to each user."""

from __future__ import annotations

import time
from typing import Any


class GameClock:
    """This instance's view of Redis time, for ticks and `time` replies (rules use Redis TIME).

    The offset is zero except in a test configuration, where it shifts game time for every
    script this instance runs.
    """

    def __init__(self) -> None:
        self.offset_ms = 0
        self._redis_ms = time.time() * 1000
        self._mono = time.monotonic()

    def observe(self, redis_ms: float, rtt_s: float) -> None:
        self._redis_ms = redis_ms + rtt_s * 500
        self._mono = time.monotonic()

    def now_ms(self) -> int:
        return int(self._redis_ms + (time.monotonic() - self._mono) * 1000) + self.offset_ms

    async def sync(self, client: Any) -> None:
        t0 = time.monotonic()
        sec, usec = await client.time()
        self.observe(sec * 1000 + usec / 1000, time.monotonic() - t0)
