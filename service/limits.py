"""Who a client is (its address) and how much it may do.

The limits of rare events per address (upgrades, creates, feedback, lobby lists) live in
Redis, so every instance draws on one budget (lua/rate_limit.lua, GCRA). The frame limit per
address is one budget too, but a Redis round trip per frame would cost more than the frame's
own work (bench/limiter.py measures it), so each instance enforces its share of it, the
budget divided by the live instances the liveness registry counted at its last heartbeat
(AddressRates; docs/operations.md "The frame limit per address" gives the error bound). The
per-socket message limit and the concurrent-socket cap are local, because a socket and its
count live in one process. If Redis cannot be asked, the shared limits let the unit through
(fail open): every game action needs Redis anyway, so refusing would only stop the reconnects
that bring players back once Redis answers; the local limits still hold.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from redis.exceptions import RedisError

from service import keys

log = logging.getLogger(__name__)

#: after a failed check, skip Redis for this long rather than make every frame wait on it
FAIL_OPEN_BACKOFF_S = 1.0


def client_ip(request: web.BaseRequest, trusted_header: str) -> str:
    """The peer address, or the one trusted proxy header when the operator configured it.

    A proxy header is only believed when the operator says a proxy sets it (any client can
    send one). For X-Forwarded-For the last entry is the one our proxy appended; earlier
    entries are whatever the client claimed.
    """
    peer = request.remote or "unknown"
    if not trusted_header:
        return peer
    # A header can come as several lines, and a proxy that appends (HAProxy's `option
    # forwardfor`) adds its own line after the client's: the last line is the proxy's.
    lines = request.headers.getall(trusted_header, [])
    if not lines:
        return peer
    raw = lines[-1]
    value = raw.split(",")[-1].strip() if trusted_header.lower() == "x-forwarded-for" else raw.strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return peer


@dataclass(frozen=True)
class Limit:
    """At most `count` units per `period_s` seconds (a burst of `count`, then evenly spread);
    a count of 0 turns the limit off."""

    kind: str
    count: int
    period_s: float

    def argv(self) -> tuple[int, int]:
        period_us = round(self.period_s * 1_000_000)
        return max(1, period_us // self.count), period_us


class SharedLimiter:
    """Limits per client address, checked atomically in Redis for all instances at once."""

    def __init__(self, script: Any, timeout_s: float) -> None:
        self.script = script
        self.timeout_s = timeout_s
        self.errors = 0
        self._skip_until = 0.0

    async def check(self, ip: str, *limits: Limit) -> int | None:
        """None when every limit allows one more unit (and charges it), else milliseconds
        until one would be allowed (nothing charged)."""
        active = [lim for lim in limits if lim.count > 0]
        if not active or time.monotonic() < self._skip_until:
            return None
        key_list = [keys.rate_limit(ip, lim.kind) for lim in active]
        argv = [n for lim in active for n in lim.argv()]
        try:
            async with asyncio.timeout(self.timeout_s):
                allowed, retry_ms = await self.script(keys=key_list, args=argv)
        except (RedisError, OSError, TimeoutError) as exc:
            self.errors += 1
            self._skip_until = time.monotonic() + FAIL_OPEN_BACKOFF_S
            log.warning("rate limiter could not reach Redis (%s): letting traffic through", type(exc).__name__)
            return None
        return None if int(allowed) else max(1, int(retry_ms))


class LocalRate:
    """The same GCRA for one socket's frames, in process: no Redis round trip per frame."""

    __slots__ = ("interval", "period", "tat")

    def __init__(self, count: int, period_s: float) -> None:
        self.period = period_s
        self.interval = period_s / count if count > 0 else 0.0
        self.tat = 0.0

    def allow(self) -> bool:
        if self.interval == 0.0:
            return True
        now = time.monotonic()
        tat = max(self.tat, now) + self.interval
        if tat - now > self.period:
            return False
        self.tat = tat
        return True


class AddressRates:
    """Frames per client address: this instance's share of the one budget, as a GCRA per address.

    With a budget of `count` per `period_s` and n live instances, an address gets here a burst
    of floor(count/n) frames (at least 1) and then one every period*n/count: over the n
    instances, the budget. Times are integers in units of 1/count ns, so that the emission
    interval (period*n/count) is exact and the burst is exactly floor(count/n), with no float
    drift. The table keeps the addresses seen last (least recently used evicted first), so a
    flood of new addresses costs bounded memory; an evicted address starts again with a full
    burst, which is also what it would have had once its window passed.
    """

    __slots__ = ("count", "evictions", "instances", "period_ns", "table_size", "tats")

    def __init__(self, count: int, period_s: float, table_size: int, instances: Callable[[], int]) -> None:
        self.count = count
        self.period_ns = round(period_s * 1_000_000_000)
        self.table_size = table_size
        #: the live-instance count, read per frame (an attribute, refreshed by the heartbeat)
        self.instances = instances
        self.tats: OrderedDict[str, int] = OrderedDict()
        self.evictions = 0

    def allow(self, ip: str) -> bool:
        """Charge one frame of `ip` and say True, or say False (nothing charged)."""
        count = self.count
        if count == 0:
            return True
        now = time.monotonic_ns() * count
        interval = self.period_ns * max(1, self.instances())
        tats = self.tats
        tat = tats.get(ip)
        if tat is None:
            tats[ip] = now + interval
            if len(tats) > self.table_size:
                tats.popitem(last=False)
                self.evictions += 1
            return True
        tats.move_to_end(ip)
        if tat < now:
            tat = now
        # at least one frame of burst, even when there are more instances than frames in the budget
        if tat + interval - now > max(self.period_ns * count, interval):
            return False
        tats[ip] = tat + interval
        return True


class SocketCounts:
    """Open sockets per client address on this instance, for the concurrent-socket cap."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.counts: Counter[str] = Counter()

    def acquire(self, ip: str) -> bool:
        if self.cap > 0 and self.counts[ip] >= self.cap:
            return False
        self.counts[ip] += 1
        return True

    def release(self, ip: str) -> None:
        self.counts[ip] -= 1
        if self.counts[ip] <= 0:
            del self.counts[ip]
