"""The scenarios, by name: each module has NAME, FAULT (one line) and `async run(Options)`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import ModuleType

from chaos.base import Options
from chaos.checker import Verdict
from chaos.scenarios import (
    clock_skew,
    cluster_failover,
    kill_instance,
    latency,
    lb_restart,
    partition,
    pubsub_drop,
    redis_oom,
    redis_restart,
    rolling_restart,
    script_flush,
    sentinel_failover,
    slow_clients,
)


@dataclass(frozen=True)
class Scenario:
    name: str
    fault: str
    #: one verdict, or one per case (redis-restart's two fsync settings, sentinel-failover's faults)
    run: Callable[[Options], Awaitable[Verdict | list[Verdict]]]
    doc: str


def _of(module: ModuleType) -> Scenario:
    return Scenario(module.NAME, module.FAULT, module.run, (module.__doc__ or "").strip())


#: in the order `list` shows them and `run all` runs them
MODULES = (
    kill_instance,
    rolling_restart,
    redis_restart,
    partition,
    sentinel_failover,
    cluster_failover,
    latency,
    pubsub_drop,
    script_flush,
    slow_clients,
    clock_skew,
    redis_oom,
    lb_restart,
)

SCENARIOS: dict[str, Scenario] = {s.name: s for s in map(_of, MODULES)}
