"""Targeting (HEAD's parallel priority, B6.2): toggleTarget, confirmTargets,
passTargetPriority and cancelTargeting.

The active player picks targets and confirms them; every target's clock then runs at once
until each has passed, and the turn is the original player's again. The rules, and the turn
held while targets respond, are the scripts' (lua/toggle_target.lua and the three next to
it, lua/switch.lua). Each acts for the socket's own seat, so only toggleTarget takes data.
"""

from __future__ import annotations

from typing import Any

from service import protocol
from service.game import GameStore
from service.messages.base import MessageType, Sender, game_action, no_args


def target(data: dict[str, Any]) -> tuple[int]:
    """toggleTarget's `playerId`, checked strictly (HEAD did not check it: C21)."""
    return (protocol.player_id(data),)


TYPES: tuple[MessageType[Any], ...] = (
    MessageType("toggleTarget", target, Sender.IN_GAME, game_action(GameStore.toggle_target)),
    MessageType("confirmTargets", no_args, Sender.IN_GAME, game_action(GameStore.confirm_targets)),
    MessageType("passTargetPriority", no_args, Sender.IN_GAME, game_action(GameStore.pass_target_priority)),
    MessageType("cancelTargeting", no_args, Sender.IN_GAME, game_action(GameStore.cancel_targeting)),
)
