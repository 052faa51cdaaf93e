"""One player's counters and standing: updatePlayer, commanderDamage, addPenalty, eliminate, concede."""

from __future__ import annotations

from typing import Any

from service import protocol
from service.game import GameStore
from service.messages.base import Call, MessageType, Reply, Sender, game_action, no_args


def player(data: dict[str, Any]) -> tuple[int]:
    return (protocol.player_id(data),)


def player_and_updates(data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return protocol.player_id(data), protocol.player_updates(data)


async def commander_damage(call: Call, d: protocol.CommanderDamage) -> Reply:
    return Reply(
        await call.store.commander_damage(
            call.game_id, call.client_id, call.action_id(), d.player_id, d.source_id, d.partner, d.amount
        )
    )


TYPES: tuple[MessageType[Any], ...] = (
    MessageType("updatePlayer", player_and_updates, Sender.IN_GAME, game_action(GameStore.update_player)),
    MessageType("commanderDamage", protocol.commander_damage, Sender.IN_GAME, commander_damage),
    MessageType("addPenalty", player, Sender.IN_GAME, game_action(GameStore.add_penalty)),
    MessageType("eliminate", player, Sender.IN_GAME, game_action(GameStore.eliminate)),
    MessageType("concede", no_args, Sender.IN_GAME, game_action(GameStore.concede)),
)
