"""The garbage collector's policy for a long-running instance holding thousands of sockets.

CPython's full (generation 2) collection walks every container object the process holds:
with a few thousand sockets and games that is hundreds of thousands of objects, and each full
collection stops the event loop for 100-300 ms on a small machine, several times a minute
(every cached game state a commit replaces is new garbage-collector work). Those pauses were
the largest part of the action latency's p99 in the load benchmark (bench/load.py).

Almost everything that survives a full collection (modules, sockets, games being served) lives
on, and the service makes next to no reference cycles (a few dozen objects per collection). So
after each full collection its survivors are frozen (`gc.freeze()`): later collections walk only
what was allocated since. A cycle among frozen objects could never be freed, so every
FULL_SCAN_EVERY_S the freeze is lifted and the next full collection looks at everything once.
"""

from __future__ import annotations

import gc
import time
from typing import Any

#: at least this often, one full collection sees every object again
FULL_SCAN_EVERY_S = 600.0


class FreezeSurvivors:
    def __init__(self, full_scan_every_s: float = FULL_SCAN_EVERY_S) -> None:
        self.full_scan_every_s = full_scan_every_s
        self.next_full_scan = time.monotonic() + full_scan_every_s

    def install(self) -> None:
        gc.callbacks.append(self._on_gc)

    def uninstall(self) -> None:
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase != "stop" or info.get("generation") != 2:
            return
        now = time.monotonic()
        if now >= self.next_full_scan:
            # the next full collection walks everything, and frees cycles frozen meanwhile
            gc.unfreeze()
            self.next_full_scan = now + self.full_scan_every_s
        else:
            gc.freeze()
