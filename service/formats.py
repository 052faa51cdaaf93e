"""The game formats (settings.format), the one table of them, and the validation of a client's
format settings: `format`, `startingLife` and `lossRules`.

Each preset sets the starting life and which loss rules are on; a create may name its own
starting life and override any loss rule. The service resolves them into the three settings
create.lua is handed (it checks their bounds again: lua/lib/formats.lua), so a game keeps the
rules it was created with when this table changes. The fixed rules of a format (two-headed
giant's teams and its poison limit of 15) are the scripts' (lua/lib/formats.lua FORMATS).

A campaign's preset sets the life (service/campaign.py): a campaign create or update naming a
format setting is refused, and the game plays standard's loss rules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from service.errors import InvalidInput

MAX_STARTING_LIFE = 9999
#: two-headed giant's tables: teams of two, seats 1+2, 3+4, ...
TEAM_PLAYER_COUNTS = (4, 6, 8)
#: the wire names of the loss rules -> LossRules' fields
LOSS_RULE_KEYS = {"life": "life", "poison": "poison", "commanderDamage": "commander_damage"}
#: the create and updateSettings keys of this group
FORMAT_KEYS = ("format", "startingLife", "lossRules")


@dataclass(frozen=True)
class LossRules:
    """Which counters eliminate a player: life at or below 0, poison at the format's limit (10;
    15 in two-headed giant), 21 or more damage from one commander."""

    life: bool = True
    poison: bool = True
    commander_damage: bool = False

    def to_settings(self) -> dict[str, bool]:
        return {key: getattr(self, attr) for key, attr in LOSS_RULE_KEYS.items()}


@dataclass(frozen=True)
class Format:
    starting_life: int
    loss_rules: LossRules
    #: teams of two sharing life and poison, losing together (two-headed giant)
    teams: bool = False


FORMATS: dict[str, Format] = {
    "standard": Format(20, LossRules()),
    "commander": Format(40, LossRules(commander_damage=True)),
    "twoHeadedGiant": Format(30, LossRules(), teams=True),
    "brawl": Format(25, LossRules()),
    "custom": Format(20, LossRules()),
}
DEFAULT_FORMAT = "standard"


@dataclass(frozen=True)
class FormatSettings:
    """A game's resolved format settings, as create.lua stores them."""

    format: str = DEFAULT_FORMAT
    starting_life: int = FORMATS[DEFAULT_FORMAT].starting_life
    loss_rules: LossRules = FORMATS[DEFAULT_FORMAT].loss_rules

    def to_settings(self) -> dict[str, Any]:
        return {"format": self.format, "startingLife": self.starting_life, "lossRules": self.loss_rules.to_settings()}


def _shown(value: Any) -> str:
    shown = value if isinstance(value, str) else json.dumps(value)
    return shown[:50]


def format_name(value: Any) -> str:
    if isinstance(value, str) and value in FORMATS:
        return value
    raise InvalidInput(f"Unknown format: {_shown(value)} (one of {', '.join(FORMATS)})")


def starting_life(value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_STARTING_LIFE:
        raise InvalidInput(f"Invalid starting life: an integer from 1 to {MAX_STARTING_LIFE}")
    return value


def loss_rule_overrides(value: Any) -> dict[str, bool]:
    """A `lossRules` object: any of life, poison, commanderDamage, each a boolean, at least one."""
    if (
        not isinstance(value, dict)
        or not value
        or any(k not in LOSS_RULE_KEYS or not isinstance(v, bool) for k, v in value.items())
    ):
        raise InvalidInput("Invalid loss rules: an object of life, poison, commanderDamage, each true or false")
    return {str(k): bool(v) for k, v in value.items()}


def with_overrides(rules: LossRules, overrides: dict[str, bool]) -> LossRules:
    return replace(rules, **{LOSS_RULE_KEYS[k]: v for k, v in overrides.items()})


def check_teams(name: str, player_count: int) -> None:
    if FORMATS[name].teams and player_count not in TEAM_PLAYER_COUNTS:
        raise InvalidInput("Invalid settings: twoHeadedGiant needs 4, 6 or 8 players")


def create_format(raw: dict[str, Any], player_count: int, mode: str) -> FormatSettings:
    """The format settings of a new game: the preset named (standard when none), its starting
    life unless one is named, its loss rules with each one named overriding. A create naming
    none (a v1 or HEAD client's) gets standard: 20 life, life and poison losing."""
    named = [k for k in FORMAT_KEYS if k in raw]
    if mode == "campaign" and named:
        raise InvalidInput(f"Invalid settings: {named[0]} is set by the campaign preset")
    name = format_name(raw["format"]) if "format" in raw else DEFAULT_FORMAT
    check_teams(name, player_count)
    preset = FORMATS[name]
    life = starting_life(raw["startingLife"]) if "startingLife" in raw else preset.starting_life
    rules = preset.loss_rules
    if "lossRules" in raw:
        rules = with_overrides(rules, loss_rule_overrides(raw["lossRules"]))
    return FormatSettings(name, life, rules)


def format_updates(data: dict[str, Any]) -> dict[str, Any]:
    """updateSettings' format fields. A format comes with its preset's starting life (unless
    one is named) and all its loss rules (each one named overriding); without a format, the
    loss rules named alone (the script keeps the others)."""
    out: dict[str, Any] = {}
    if "format" in data:
        preset = FORMATS[format_name(data["format"])]
        out["format"] = data["format"]
        out["startingLife"] = preset.starting_life
        out["lossRules"] = preset.loss_rules.to_settings()
    if "startingLife" in data:
        out["startingLife"] = starting_life(data["startingLife"])
    if "lossRules" in data:
        out["lossRules"] = {**out.get("lossRules", {}), **loss_rule_overrides(data["lossRules"])}
    return out
