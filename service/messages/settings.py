"""A game's settings after creation: updateSettings (the owner's)."""

from __future__ import annotations

from typing import Any

from service import protocol
from service.game import GameStore
from service.messages.base import MessageType, Sender, game_action


def settings_updates(data: dict[str, Any]) -> tuple[dict[str, Any]]:
    return (protocol.settings_updates(data),)


TYPES: tuple[MessageType[Any], ...] = (
    MessageType("updateSettings", settings_updates, Sender.IN_GAME, game_action(GameStore.update_settings)),
)
