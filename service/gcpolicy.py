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

Whatever the policy, PAUSES times every collection, for /metrics
(`tapotarp_gc_pause_seconds`): a stall of the event loop that no other figure explains.
"""

from __future__ import annotations

import bisect
import gc
import math
import time
from collections.abc import Iterable
from typing import Any

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

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


#: upper bounds (s) of the pause histogram; a young collection takes well under a millisecond,
#: a full one of an instance with thousands of sockets, unfrozen, 100-300 ms
PAUSE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class PauseTimer(Collector):
    """How long each collection stopped the process, by generation: the event loop runs
    nothing meanwhile, so a pause is latency every socket pays.

    The callback runs inside whatever allocation set the collection off, possibly while a
    metric's lock is held by the same thread, so it takes no lock: it only adds to plain
    lists, and the histogram is built from them at scrape time (with the GIL, a scrape reads
    at worst a count that one collection later completes).
    """

    def __init__(self) -> None:
        self.buckets = [[0] * (len(PAUSE_BUCKETS) + 1) for _ in range(3)]
        self.sums = [0.0, 0.0, 0.0]
        #: the process's CPU in the collections: below the pause when the machine is busy and
        #: the collector was descheduled meanwhile
        self.cpu = [0.0, 0.0, 0.0]
        self._started = self._cpu_started = 0.0
        self.installed = False

    def install(self) -> None:
        if not self.installed:
            gc.callbacks.append(self._on_gc)
            self.installed = True

    def uninstall(self) -> None:
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        self.installed = False

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            self._cpu_started = time.thread_time()
            return
        pause = time.perf_counter() - self._started
        generation = int(info.get("generation", 2))
        self.sums[generation] += pause
        self.cpu[generation] += time.thread_time() - self._cpu_started
        self.buckets[generation][bisect.bisect_left(PAUSE_BUCKETS, pause)] += 1

    def collect(self) -> Iterable[Metric]:
        family = HistogramMetricFamily(
            "tapotarp_gc_pause_seconds",
            "How long each garbage collection stopped the process (the event loop with it), by generation",
            labels=["generation"],
        )
        for generation in range(3):
            cumulative, running = [], 0
            for bound, n in zip((*PAUSE_BUCKETS, math.inf), self.buckets[generation], strict=True):
                running += n
                cumulative.append(("+Inf" if math.isinf(bound) else repr(bound), running))
            family.add_metric([str(generation)], cumulative, self.sums[generation])
        yield family
        cpu = CounterMetricFamily(
            "tapotarp_gc_cpu_seconds", "CPU time the garbage collections took, by generation", labels=["generation"]
        )
        for generation in range(3):
            cpu.add_metric([str(generation)], self.cpu[generation])
        yield cpu


#: gc.callbacks is the process's, so one timer serves every app's registry (tests run several)
PAUSES = PauseTimer()
