"""The campaign presets (HEAD's B6.10), the one table of them.

A campaign game stores its preset's config in its state (`state.campaign.config`, public as
in HEAD), and every script reads the rules from there: create.lua is handed the config of the
preset the client chose, checks its bounds (lua/lib/campaign.lua check_campaign) and keeps it.
So the table lives only here, next to the validation of the client's choice, no script holds
a copy, and a game keeps the rules it was created with when the table changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MINUTE = 60_000


@dataclass(frozen=True)
class Scoring:
    """HEAD's Wastelands scoring: points = accumulated + floor(round damage x
    player_multipliers[distinct targets damaged] x battle_multipliers[round - 1]); level =
    1 + the thresholds reached."""

    #: by the number of distinct targets damaged in the round, 0 to 7
    player_multipliers: tuple[float, ...]
    #: by round, the first round first
    battle_multipliers: tuple[float, ...]
    level_thresholds: tuple[int, ...]

    def to_config(self) -> dict[str, Any]:
        return {
            "playerMultipliers": list(self.player_multipliers),
            "battleMultipliers": list(self.battle_multipliers),
            "levelThresholds": list(self.level_thresholds),
        }


@dataclass(frozen=True)
class Preset:
    name: str
    rounds: int
    #: round r's clock: time_per_round - (r - 1) x time_decrease, never below min_time (ms)
    time_per_round: int
    time_decrease: int
    min_time: int
    #: "best_of" | "first_to" (win_target round wins), "total_time" (least time used),
    #: "total_points" (most points)
    win_condition: str
    win_target: int | None = None
    starting_life: int = 20
    #: replaces the game's turn bonus when set (ms)
    bonus_time: int | None = None
    #: HEAD's hand size: starting_hand_size + (round - 1) x hand_size_increment
    starting_hand_size: int | None = None
    hand_size_increment: int = 0
    #: None: a player's points are the damage they dealt, every level 1
    scoring: Scoring | None = None

    def to_config(self) -> dict[str, Any]:
        """The config as the state carries it (`campaign.config`)."""
        cfg: dict[str, Any] = {
            "name": self.name,
            "rounds": self.rounds,
            "timePerRound": self.time_per_round,
            "timeDecrease": self.time_decrease,
            "minTime": self.min_time,
            "startingLife": self.starting_life,
            "winCondition": self.win_condition,
        }
        if self.win_target is not None:
            cfg["winTarget"] = self.win_target
        if self.bonus_time is not None:
            cfg["bonusTime"] = self.bonus_time
        if self.starting_hand_size is not None:
            cfg["startingHandSize"] = self.starting_hand_size
            cfg["handSizeIncrement"] = self.hand_size_increment
        if self.scoring is not None:
            cfg["scoring"] = self.scoring.to_config()
        return cfg


PRESETS: dict[str, Preset] = {
    "standard": Preset("Standard", 5, 10 * MINUTE, MINUTE, 5 * MINUTE, "best_of", win_target=3),
    "blitz": Preset("Blitz", 7, 5 * MINUTE, MINUTE // 2, 2 * MINUTE, "first_to", win_target=4),
    "endurance": Preset("Endurance", 10, 15 * MINUTE, 0, 15 * MINUTE, "total_time"),
    "wastelands": Preset(
        "Wastelands",
        3,
        6 * MINUTE,
        0,
        6 * MINUTE,
        "total_points",
        starting_life=10,
        bonus_time=30_000,
        starting_hand_size=5,
        hand_size_increment=1,
        scoring=Scoring(
            player_multipliers=(0, 1, 1.5, 2, 2.5, 3, 3.5, 4),
            battle_multipliers=(1, 1.5, 2),
            level_thresholds=(10, 25, 50, 80, 120),
        ),
    ),
}
#: HEAD's default when a campaign create names no preset
DEFAULT_PRESET = "standard"
