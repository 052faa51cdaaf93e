"""HEAD's timeout choice (B4, B6.3): timeoutChoice.

In a game created by a HEAD client a clock that runs out offers its player a choice (the
`timeoutChoice` event, to everyone in the game) instead of v1's pause: lose lives, gain drunk
or accept death, within a grace period that runs only while the game runs; past it, the
choice is "die". The message answers for the socket's own seat.
"""

from __future__ import annotations

from typing import Any

from service import protocol
from service.game import GameStore
from service.messages.base import MessageType, Sender, game_action

TYPES: tuple[MessageType[Any], ...] = (
    MessageType("timeoutChoice", protocol.timeout_choice, Sender.IN_GAME, game_action(GameStore.timeout_choice)),
)
