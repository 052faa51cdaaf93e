"""The clock's run: start, pause (and resume), reset, switch to a player, pass the turn on."""

from __future__ import annotations

from typing import Any

from service import protocol
from service.game import GameStore
from service.messages.base import MessageType, Sender, game_action, no_args


def switch_target(data: dict[str, Any]) -> tuple[int]:
    return (protocol.player_id(data),)


def next_player(data: dict[str, Any]) -> tuple[str]:
    return ("next",)


TYPES: tuple[MessageType[Any], ...] = (
    MessageType("start", no_args, Sender.IN_GAME, game_action(GameStore.start)),
    MessageType("pause", no_args, Sender.IN_GAME, game_action(GameStore.pause)),
    MessageType("reset", no_args, Sender.IN_GAME, game_action(GameStore.reset)),
    MessageType("switch", switch_target, Sender.IN_GAME, game_action(GameStore.switch)),
    MessageType("passTurn", next_player, Sender.IN_GAME, game_action(GameStore.switch)),
)
