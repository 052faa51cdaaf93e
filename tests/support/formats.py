"""Games of a given format for the Lua tests (service/formats.py presets)."""

from __future__ import annotations

from service.formats import FORMATS, FormatSettings, LossRules
from service.protocol import GameSettings
from tests.support.lua_harness import HOST, Game, Harness, new_aid


async def format_game(
    h: Harness,
    fmt: str = "commander",
    players: int = 4,
    *,
    life: int | None = None,
    rules: LossRules | None = None,
    started: bool = False,
) -> Game:
    """A new game of format `fmt` (the preset's life and loss rules unless given), started
    by the host when `started`."""
    preset = FORMATS[fmt]
    table = FormatSettings(fmt, life or preset.starting_life, rules or preset.loss_rules)
    gid, token, out = await h.store.create(HOST, GameSettings(players, format=table), new_aid())
    assert out.status == "ok"
    g = Game(gid, token)
    if started:
        assert (await h.store.start(gid, g.host, new_aid())).status == "ok"
    return g
