"""One player's counters and standing: updatePlayer, addPenalty, eliminate."""

from __future__ import annotations

from typing import Any

from service import protocol
from service.game import GameStore
from service.messages.base import MessageType, Sender, game_action


def player(data: dict[str, Any]) -> tuple[int]:
    return (protocol.player_id(data),)


def player_and_updates(data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return protocol.player_id(data), protocol.player_updates(data)


TYPES: tuple[MessageType[Any], ...] = (
    MessageType("updatePlayer", player_and_updates, Sender.IN_GAME, game_action(GameStore.update_player)),
    MessageType("addPenalty", player, Sender.IN_GAME, game_action(GameStore.add_penalty)),
    MessageType("eliminate", player, Sender.IN_GAME, game_action(GameStore.eliminate)),
)
