"""Server time for the client's clock offset: `time`, answered from this instance's GameClock
(no script)."""

from __future__ import annotations

from typing import Any

from service import protocol
from service.messages.base import Call, MessageType, Reply, Sender


async def server_time(call: Call, client_time: float | None) -> Reply:
    now = call.session.deps.clock.now_ms()
    return Reply(first=(("time", {"serverTime": now, "clientTime": client_time}),))


TYPES: tuple[MessageType[Any], ...] = (MessageType("time", protocol.client_time, Sender.ANYONE, server_time),)
