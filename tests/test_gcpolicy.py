"""service/gcpolicy.py: survivors of full collections are frozen, and thawed on schedule."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from service.gcpolicy import FreezeSurvivors


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
