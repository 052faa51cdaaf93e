"""The host's admin controls (HEAD's settings "Admin" tab): adminAddTime, adminKick, adminRevive;
and ours, moveSeat and freeSeat (the host moves a player to another seat, or frees a seat
without eliminating its player).

HEAD let anyone holding a seat use them on any player (defect C22); each script here
refuses anyone but the host (NOT_OWNER_ADMIN). A kicked client learns it from the `kicked`
event its own socket gets through the game's channel, on whichever instance it is
(service/hub.py delivers addressed events), and that socket forgets its seat; so do the
`seatFreed` and `seatMoved` events (Session.addressed).
"""

from __future__ import annotations

from typing import Any

from service import protocol
from service.game import GameStore
from service.messages.base import MessageType, Sender, game_action
from service.messages.players import player

TYPES: tuple[MessageType[Any], ...] = (
    MessageType("adminAddTime", protocol.admin_add_time, Sender.IN_GAME, game_action(GameStore.admin_add_time)),
    MessageType("adminKick", player, Sender.IN_GAME, game_action(GameStore.admin_kick)),
    MessageType("adminRevive", player, Sender.IN_GAME, game_action(GameStore.admin_revive)),
    MessageType("moveSeat", protocol.move_seat, Sender.IN_GAME, game_action(GameStore.move_seat)),
    MessageType("freeSeat", player, Sender.IN_GAME, game_action(GameStore.free_seat)),
)
