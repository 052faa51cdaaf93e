"""Scripted randomness for the dice tests: the GameStore's draws replaced by given values, so a
roll is deterministic, and every draw recorded, so a test can tell where the values came from."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

import pytest

from service import game


class Draws:
    """Replaces `secrets.randbelow` (dice, random start) and the play-order pool
    (`service.game.d20_pool`) for one test; what the GameStore asked for is in `asked`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.below: list[int] = []
        self.asked: list[int] = []
        self.pools: list[str] = []
        self._rolls: list[int] = []
        self._fill = 1
        monkeypatch.setattr(secrets, "randbelow", self._randbelow)
        monkeypatch.setattr(game, "d20_pool", self._pool)

    def next_below(self, *values: int) -> None:
        """The next results of secrets.randbelow, in order."""
        self.below.extend(values)

    def d20(self, rolls: Iterable[int], fill: int = 1) -> None:
        """The next play-order pool: these rolls first, then `fill` for the rest."""
        self._rolls, self._fill = list(rolls), fill

    def _randbelow(self, n: int) -> int:
        self.asked.append(n)
        value = self.below.pop(0)
        assert 0 <= value < n, (value, n)
        return value

    def _pool(self) -> str:
        size = game.PLAY_ORDER_ROUNDS * game.MAX_PLAYERS
        rolls = (self._rolls + [self._fill] * size)[:size]
        pool = "".join(chr(64 + r) for r in rolls)
        self.pools.append(pool)
        return pool
