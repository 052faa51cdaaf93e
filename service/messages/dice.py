"""Chance at the table: rollDice (anyone seated, or the host), and before the start
rollPlayOrder and randomStartPlayer (the host's).

The random values are drawn by the GameStore from `secrets`; each script commits its result,
so the roll is in the game's log and its event reaches every instance through the channel.
"""

from __future__ import annotations

from typing import Any

from service import protocol
from service.game import GameStore
from service.messages.base import MessageType, Sender, game_action, no_args


def dice(data: dict[str, Any]) -> tuple[int]:
    return (protocol.dice_sides(data),)


TYPES: tuple[MessageType[Any], ...] = (
    MessageType("rollDice", dice, Sender.IN_GAME, game_action(GameStore.roll_dice)),
    MessageType("rollPlayOrder", no_args, Sender.IN_GAME, game_action(GameStore.roll_play_order)),
    MessageType("randomStartPlayer", no_args, Sender.IN_GAME, game_action(GameStore.random_start_player)),
)
