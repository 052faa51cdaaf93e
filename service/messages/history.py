"""History and undo: history (a page of the game's log, for anyone in the game) and undo (the
host's last N actions, or a player's own last one within the game's undo window).

The history is a read (lua/history.lua) answered to the sender alone; an undo is a commit
like any other action, so every socket in the game, on every instance, gets its `undone`
event and the state through the game's channel.
"""

from __future__ import annotations

from typing import Any

from service import protocol
from service.game import GameStore
from service.messages.base import Call, MessageType, Reply, Sender, game_action


async def history(call: Call, args: tuple[int, int | None]) -> Reply:
    limit, before = args
    page = await call.store.history(call.game_id, limit, before)
    return Reply(first=(("history", page.to_data()),))


TYPES: tuple[MessageType[Any], ...] = (
    MessageType("history", protocol.history_page, Sender.IN_GAME, history),
    MessageType("undo", protocol.undo_count, Sender.IN_GAME, game_action(GameStore.undo)),
)
