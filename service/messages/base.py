"""What declaring a message type takes: its name, validator, sender, handler and reply.

A handler gets the Call (the socket's session and the frame) and the validator's typed
arguments, runs its script through the GameStore and returns a Reply; the registry
(service/messages/__init__.py) sends it, so every reply keeps its order with the broadcasts.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from service.game import GameStore, Outcome
from service.messages.session import Session
from service.protocol import Message

A = TypeVar("A")


class Sender(enum.Enum):
    """Who may send a message type."""

    #: any socket, bound to a game or not
    ANYONE = "anyone"
    #: a socket bound to a game (by create, join or reconnect); others get NOT_IN_GAME
    IN_GAME = "in a game"


Frames = tuple[tuple[str, dict[str, Any]], ...]


@dataclass(frozen=True)
class Reply:
    """What answers a frame, each frame carrying its requestId: `first` at once, then the
    state of `state` (in order with the broadcasts, Hub.reply_state), then `then`."""

    state: Outcome | None = None
    first: Frames = ()
    then: Frames = ()

    def __post_init__(self) -> None:
        if self.then and self.state is None:
            raise ValueError("frames after the state need a state")


@dataclass(frozen=True)
class Call:
    """One frame being handled: the socket's session, and the frame."""

    session: Session
    msg: Message
    #: the type changes which seat or role the socket has (MessageType.identity)
    identity: bool

    @property
    def store(self) -> GameStore:
        return self.session.store

    @property
    def client_id(self) -> str:
        return self.session.client_id

    @property
    def game_id(self) -> str:
        return self.session.game()

    def action_id(self) -> str:
        return self.session.action_id(self.msg.type, self.msg.request_id, self.identity)


Handler = Callable[[Call, A], Awaitable[Reply]]


@dataclass(frozen=True)
class MessageType(Generic[A]):
    """One client -> server message type, declared once."""

    name: str
    #: the frame's `data` -> the handler's typed arguments (protocol.py's validators); it
    #: raises InvalidInput for the client, and runs before the sender check
    validate: Callable[[dict[str, Any]], A]
    sender: Sender
    #: runs the script (a GameStore method) and says what to reply
    handle: Handler[A]
    #: changes which seat or role the socket has: its action id names the socket, not the seat
    identity: bool = False


def no_args(data: dict[str, Any]) -> tuple[()]:
    """The validator of a type that takes no data (any `data` is ignored, as the original did)."""
    return ()


def game_action(script: Callable[..., Awaitable[Outcome]]) -> Handler[tuple[Any, ...]]:
    """The handler of a game action answered with its state alone:
    `script(store, game, client, action id, *arguments)`, a GameStore method."""

    async def handle(call: Call, args: tuple[Any, ...]) -> Reply:
        return Reply(await script(call.store, call.game_id, call.client_id, call.action_id(), *args))

    return handle
