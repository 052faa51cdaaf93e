"""The lobby: renameGame, setListed (our addition) and endGame, each the host's alone (C22).

`create`'s lobby fields (name, mode, listed) are validated with the other settings
(service/protocol.py create_settings); the list itself is HTTP (service/lobby.py).
"""

from __future__ import annotations

from typing import Any

from service import protocol
from service.game import GameStore
from service.messages.base import Call, MessageType, Reply, Sender, game_action, no_args


async def rename_game(call: Call, args: tuple[str]) -> Reply:
    (name,) = args
    out = await call.store.rename_game(call.game_id, call.client_id, call.action_id(), name)
    # HEAD's order: the state (broadcast), then gameRenamed to the requester
    return Reply(out, then=(("gameRenamed", {"name": out.state["name"]}),))


async def end_game(call: Call, _: tuple[()]) -> Reply:
    """Every socket in the game, on every instance, is told `gameEnded` through the channel
    and unbound (service/hub.py); the requester is told by this reply, with its requestId.
    A game already gone answers the same: a retry after a lost reply finds nothing to delete."""
    s, gid = call.session, call.game_id
    with s.hub.ending(s.conn):
        await call.store.end_game(gid, call.client_id, call.action_id())
        await s.game_ended(gid)
    return Reply(first=(("gameEnded", {"gameId": gid}),))


TYPES: tuple[MessageType[Any], ...] = (
    MessageType("renameGame", protocol.rename, Sender.IN_GAME, rename_game),
    MessageType("setListed", protocol.set_listed, Sender.IN_GAME, game_action(GameStore.set_listed)),
    MessageType("endGame", no_args, Sender.IN_GAME, end_game),
)
