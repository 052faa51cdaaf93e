"""The interrupt stack (HEAD's priority, B6.1): interrupt and passPriority.

The last interrupter holds priority and only that clock runs; the turn cannot pass while
the stack holds anyone (lua/switch.lua refuses the active player with PRIORITY_PENDING).
Both act for the socket's own seat, so neither takes data.
"""

from __future__ import annotations

from typing import Any

from service.game import GameStore
from service.messages.base import MessageType, Sender, game_action, no_args

TYPES: tuple[MessageType[Any], ...] = (
    MessageType("interrupt", no_args, Sender.IN_GAME, game_action(GameStore.interrupt)),
    MessageType("passPriority", no_args, Sender.IN_GAME, game_action(GameStore.pass_priority)),
)
