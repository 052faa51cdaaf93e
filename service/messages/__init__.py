"""Every client -> server message type, declared once, and the dispatch of a frame to its handler.

Each domain module lists its types (name, validator, sender, handler): seats, turns, priority,
timeout, targeting, players, settings, clock, dice, admin, history, feedback, lobby. Adding a type
is adding one MessageType to one of those lists; the set of known types (protocol parsing), the
metrics labels and dispatch all come from REGISTRY.
"""

from __future__ import annotations

from typing import Any

from service import protocol
from service.messages import (
    admin,
    clock,
    dice,
    feedback,
    history,
    lobby,
    players,
    priority,
    seats,
    settings,
    targeting,
    timeout,
    turns,
)
from service.messages.base import Call, MessageType, Reply, Sender
from service.messages.session import Session
from service.outbound import Ack, outgoing
from service.protocol import Message


def _registry(*groups: tuple[MessageType[Any], ...]) -> dict[str, MessageType[Any]]:
    out: dict[str, MessageType[Any]] = {}
    for group in groups:
        for t in group:
            if t.name in out:
                raise ValueError(f"message type {t.name!r} declared twice")
            out[t.name] = t
    return out


REGISTRY = _registry(
    seats.TYPES,
    turns.TYPES,
    priority.TYPES,
    timeout.TYPES,
    targeting.TYPES,
    players.TYPES,
    settings.TYPES,
    clock.TYPES,
    dice.TYPES,
    admin.TYPES,
    history.TYPES,
    feedback.TYPES,
    lobby.TYPES,
)
#: Message types this server understands (client -> server).
TYPES = frozenset(REGISTRY)
#: Types that change which seat or role the socket has: their retry must not see a new actor.
IDENTITY_ACTIONS = frozenset(name for name, t in REGISTRY.items() if t.identity)


def parse(text: str) -> Message:
    return protocol.parse(text, TYPES)


def parse_obj(obj: Any) -> Message:
    return protocol.parse_obj(obj, TYPES)


def message_label(mtype: object) -> str:
    """A metrics label for a frame's type: one of TYPES, or `unknown` (a client cannot grow the label space)."""
    return mtype if isinstance(mtype, str) and mtype in TYPES else "unknown"


async def dispatch(session: Session, msg: Message) -> None:
    """Validate a parsed frame of a known type, check its sender, run its handler and send
    the reply; errors propagate as ServiceError for the endpoint to answer."""
    mtype = REGISTRY[msg.type]
    args = mtype.validate(msg.data)
    if mtype.sender is Sender.IN_GAME:
        session.game()
    # the broadcasts that reach the socket while its action runs wait for the reply, which
    # takes the place of the broadcast of its own version (Hub.hold)
    session.hub.hold(session.conn)
    try:
        reply = await mtype.handle(Call(session, msg, mtype.identity), args)
    except BaseException:
        session.hub.release(session.conn)
        raise
    send(session, msg, reply)


def send(session: Session, msg: Message, reply: Reply) -> None:
    rid = msg.request_id
    for mtype, data in reply.first:
        session.conn.send(outgoing(mtype, data, rid))
    if reply.state is not None:
        then = tuple(outgoing(mtype, data, rid) for mtype, data in reply.then)
        session.hub.reply_state(session.conn, reply.state, Ack(rid, then))
    else:
        session.hub.release(session.conn)
