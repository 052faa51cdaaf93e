"""Prometheus metrics of one instance, on a registry of its own (one per app, so tests can
run several apps in one process).

Names follow the original where it had one. Every label takes values from a fixed set:
message types outside the protocol count as `unknown` (the caller labels them: this module
knows no protocol), errors are counted by code (the table in service/errors.py), never by
free text, so a client cannot grow the label space.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from service.gcpolicy import PAUSES

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Actions answer within a few ms on a healthy Redis; the tail buckets show retries and timeouts.
ACTION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
#: How late a timeout or warning fired after its due time; the poll interval is 50 ms.
LAG_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
RTT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


class Readings(Collector):
    """Values other modules already keep (counts, sizes), read at scrape time."""

    def __init__(self) -> None:
        self.readers: list[tuple[str, str, str, Callable[[], float]]] = []

    def collect(self) -> Iterable[Metric]:
        for kind, name, doc, read in self.readers:
            if kind == "counter":
                yield CounterMetricFamily(name, doc, value=read())
            else:
                yield GaugeMetricFamily(name, doc, value=read())


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        ProcessCollector(namespace="tapotarp", registry=r)
        PlatformCollector(registry=r)
        # collections per generation: the soak (bench/soak.py) watches them next to RSS
        GCCollector(registry=r)
        # and how long they stopped the loop (installed by service/__main__.py)
        r.register(PAUSES)
        self.readings = Readings()
        r.register(self.readings)
        self.connections_created = Counter(
            "tapotarp_websocket_connections_created", "WebSocket connections accepted", registry=r
        )
        self.sessions_created = Counter("tapotarp_game_sessions_created", "Games created", registry=r)
        self.messages_received = Counter(
            "tapotarp_websocket_messages_received", "Frames received, by message type", ["type"], registry=r
        )
        self.errors = Counter("tapotarp_errors", "Error replies and failures, by code", ["type"], registry=r)
        self.authorization_denied = Counter(
            "tapotarp_authorization_denied", "Actions refused for the caller's role", ["action"], registry=r
        )
        self.rate_limited = Counter(
            "tapotarp_rate_limit_exceeded",
            "Refused by a rate limit: connection (upgrades per IP), ip (frames per IP), "
            "socket (frames per socket), create (games per IP), open_sockets (open sockets per IP), "
            "feedback (feedback writes per IP), lobby (lobby lists per IP), qr (QR codes per IP)",
            ["type"],
            registry=r,
        )
        self.buffer_overflows = Counter(
            "tapotarp_websocket_buffer_overflows", "Sockets closed 1008 for not reading their frames", registry=r
        )
        self.messages_dropped = Counter(
            "tapotarp_websocket_messages_dropped", "Frames that could not be written to a socket", registry=r
        )
        self.duplicate_states_skipped = Counter(
            "tapotarp_duplicate_states_skipped",
            "State frames not sent to a socket that already had that version",
            registry=r,
        )
        self.action_seconds = Histogram(
            "tapotarp_action_duration_seconds",
            "Time from a frame's arrival to its reply being queued, by message type",
            ["action"],
            buckets=ACTION_BUCKETS,
            registry=r,
        )
        self.script_errors = Counter(
            "tapotarp_script_errors", "Lua scripts that answered with an error code", ["code"], registry=r
        )
        self.replica_wait_shortfalls = Counter(
            "tapotarp_replica_wait_shortfalls",
            "Committed actions answered with the storage error because fewer replicas than REDIS_WAIT_REPLICAS "
            "confirmed them in time",
            registry=r,
        )
        self.deadline_lag = Histogram(
            "tapotarp_deadline_lag_seconds",
            "How late a warning or timeout fired after it was due",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.cut_offs = Counter(
            "tapotarp_redis_cut_offs",
            "Times this instance closed its sockets for having lost Redis past REDIS_LOST_CLOSE_S",
            registry=r,
        )
        self.redis_rtt = Histogram(
            "tapotarp_redis_roundtrip_seconds",
            "Round trip of the periodic Redis TIME probe",
            buckets=RTT_BUCKETS,
            registry=r,
        )

    def read(self, kind: str, name: str, doc: str, read: Callable[[], float]) -> None:
        """Expose a value kept elsewhere; `kind` is "counter" or "gauge"."""
        self.readings.readers.append((kind, name, doc, read))

    def render(self) -> bytes:
        return generate_latest(self.registry)
