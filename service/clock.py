"""This instance's view of Redis time: one per instance, built in app.py and handed to each user."""

from __future__ import annotations

import time
from typing import Any

#: A correction backwards larger than this is a step, taken at once (the clock was wrong, e.g.
#: before the first sync), not held still until the estimate catches up.
MAX_HOLD_MS = 1_000


class GameClock:
    """This instance's view of Redis time, for ticks and `time` replies (rules use Redis TIME).

    The offset is zero except in a test configuration, where it shifts game time for every
    script this instance runs.
    """

    def __init__(self) -> None:
        self.offset_ms = 0
        self._redis_ms = time.time() * 1000
        self._mono = time.monotonic()
        #: the latest estimate handed out (before offset_ms): never handed out smaller again
        self._last_ms = 0

    def observe(self, redis_ms: float, rtt_s: float) -> None:
        """Redis said `redis_ms` somewhere within the `rtt_s` just gone: at this moment its
        time is between `redis_ms` and `redis_ms` plus the round trip.

        The estimate moves only as far as needed to lie within that window. Taking the middle
        of each sample instead made the estimate jump back and forth by half a round trip at
        every probe, and under load the round trip includes the event loop's lag (tens of
        ms): a tick after such a jump showed a running clock more time than the tick before.
        """
        now = time.monotonic()
        current = self._redis_ms + (now - self._mono) * 1000
        self._redis_ms = min(max(current, redis_ms), redis_ms + rtt_s * 1000)
        self._mono = now
        if self._last_ms - self._redis_ms > MAX_HOLD_MS:
            self._last_ms = 0

    def now_ms(self) -> int:
        """Redis time now, as this instance estimates it; never less than it said before (a
        correction backwards holds the time still until it catches up)."""
        estimate = int(self._redis_ms + (time.monotonic() - self._mono) * 1000)
        self._last_ms = max(self._last_ms, estimate)
        return self._last_ms + self.offset_ms

    async def sync(self, client: Any) -> None:
        t0 = time.monotonic()
        sec, usec = await client.time()
        self.observe(sec * 1000 + usec / 1000, time.monotonic() - t0)
