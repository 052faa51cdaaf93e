"""service/gcpolicy.py: survivors of full collections are frozen, and thawed on schedule; every
collection's pause is timed."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from service.gcpolicy import FreezeSurvivors, PauseTimer
from service.metrics import Metrics


@pytest.fixture
def policy() -> Iterator[FreezeSurvivors]:
    p = FreezeSurvivors(full_scan_every_s=3600)
    p.install()
    try:
        yield p
    finally:
        p.uninstall()
        gc.unfreeze()


def test_a_full_collection_freezes_what_survived_it(policy: FreezeSurvivors) -> None:
    gc.unfreeze()
    kept = [[i] for i in range(1000)]
    gc.collect(2)
    frozen = gc.get_freeze_count()
    # the survivors, this list and its 1000 lists among them, are no longer walked
    assert frozen >= len(kept)
    # a young collection freezes nothing more
    gc.collect(0)
    assert gc.get_freeze_count() == frozen


def test_when_the_full_scan_is_due_the_freeze_is_lifted_so_frozen_cycles_can_be_freed(
    policy: FreezeSurvivors,
) -> None:
    gc.collect(2)
    assert gc.get_freeze_count() > 0
    policy.next_full_scan = 0.0
    gc.collect(2)
    assert gc.get_freeze_count() == 0
    assert policy.next_full_scan > 0
    # and the full collection after that freezes again
    gc.collect(2)
    assert gc.get_freeze_count() > 0


def test_uninstalled_it_freezes_nothing() -> None:
    p = FreezeSurvivors()
    p.install()
    p.uninstall()
    gc.unfreeze()
    gc.collect(2)
    assert gc.get_freeze_count() == 0


def pause_counts(text: str, generation: int) -> tuple[float, float]:
    """(count, sum) of the pause histogram of one generation in an exposition."""
    count = total = -1.0
    for line in text.splitlines():
        if line.startswith(f'tapotarp_gc_pause_seconds_count{{generation="{generation}"}}'):
            count = float(line.split()[-1])
        if line.startswith(f'tapotarp_gc_pause_seconds_sum{{generation="{generation}"}}'):
            total = float(line.split()[-1])
    return count, total


def test_each_collection_is_timed_once_in_its_generation() -> None:
    timer = PauseTimer()
    timer.install()
    try:
        for _ in range(3):
            gc.collect(2)
        gc.collect(1)
    finally:
        timer.uninstall()
    gc.collect(2)  # after uninstall: not counted
    registry = CollectorRegistry()
    registry.register(timer)
    text = generate_latest(registry).decode()
    full_count, full_sum = pause_counts(text, 2)
    assert full_count == 3 and full_sum > 0
    assert pause_counts(text, 1)[0] == 1
    # every bucket is cumulative and the +Inf one holds them all
    inf = [ln for ln in text.splitlines() if 'generation="2",le="+Inf"' in ln]
    assert inf and float(inf[0].split()[-1]) == 3


def test_a_long_pause_lands_in_its_bucket() -> None:
    timer = PauseTimer()
    timer._on_gc("start", {"generation": 2})
    time.sleep(0.03)
    timer._on_gc("stop", {"generation": 2})
    registry = CollectorRegistry()
    registry.register(timer)
    text = generate_latest(registry).decode()
    below = {
        ln.split("le=")[1].split("}")[0]: float(ln.split()[-1])
        for ln in text.splitlines()
        if 'generation="2",le=' in ln
    }
    assert below['"0.025"'] == 0 and below['"0.05"'] == 1 and below['"+Inf"'] == 1


def test_the_service_registry_exposes_the_process_timer() -> None:
    text = Metrics().render().decode()
    assert pause_counts(text, 0)[0] >= 0 and pause_counts(text, 2)[1] >= 0
