"""Seats and roles: create, join, reconnect, claim, unclaim and leave, and the host role handed
over (transferHost) or taken from an absent host (claimHost).

Each changes which game, seat or role the socket has, so each is an identity action: its
retry is recognised by the socket's client id, never by the seat it is taking or leaving.
"""

from __future__ import annotations

from typing import Any

from service import protocol
from service.errors import error_for
from service.messages.base import Call, MessageType, Reply, Sender, no_args
from service.messages.players import player
from service.protocol import GameSettings, Reconnect


async def create(call: Call, settings: GameSettings) -> Reply:
    s = call.session
    if await s.deps.limiter.check(s.ip, s.deps.create_limit) is not None:
        s.deps.metrics.rate_limited.labels("create").inc()
        raise error_for("RATE_LIMITED")
    rid = call.msg.request_id
    seed = None if rid is None else f"{call.client_id}\0{rid}".encode()
    gid, host_token, out = await call.store.create(call.client_id, settings, call.action_id(), seed)
    await s.bind(gid)
    await s.set_host(gid, True)
    if out.status == "ok":
        s.deps.metrics.sessions_created.inc()
    return Reply(out, first=(("created", {"gameId": gid, "hostToken": host_token}),))


async def join(call: Call, gid: str) -> Reply:
    out = await call.store.join(gid)
    await call.session.bind(gid)
    return Reply(out)


async def reconnect(call: Call, r: Reconnect) -> Reply:
    s = call.session
    out = await call.store.reconnect(r.game_id, call.client_id, call.action_id(), r.player_id, r.token, r.host_token)
    await s.bind(r.game_id)
    # the host token, or the token of the seat the host role is bound to (lua/reconnect.lua)
    host = out.state.get("ownerId") == call.client_id
    await s.set_host(r.game_id, s.host or host)
    pid = r.player_id
    if pid is not None:
        # the seat the token took: another than the one named if the host moved it (moveSeat)
        pid = next((p["id"] for p in out.state["players"] if p["claimedBy"] == call.client_id), pid)
        await s.take_seat(r.game_id, pid)
    data: dict[str, Any] = {
        "playerId": pid,
        "token": r.token,
        "gameId": r.game_id,
        "host": host,
    }
    return Reply(out, first=(("reconnected", data),))


async def claim(call: Call, pid: int) -> Reply:
    gid = call.game_id
    token, out = await call.store.claim(gid, call.client_id, pid, call.action_id())
    await call.session.take_seat(gid, pid)
    return Reply(out, then=(("claimed", {"playerId": pid, "token": token, "gameId": gid}),))


async def unclaim(call: Call, _: tuple[()]) -> Reply:
    out = await call.store.unclaim(call.game_id, call.client_id, call.action_id())
    await call.session.drop_seat(call.game_id)
    return Reply(out)


async def leave(call: Call, _: tuple[()]) -> Reply:
    gid = call.game_id
    await call.session.release("leave", call.action_id())
    return Reply(first=(("left", {"gameId": gid}),))


async def transfer_host(call: Call, args: tuple[int]) -> Reply:
    out = await call.store.transfer_host(call.game_id, call.client_id, call.action_id(), *args)
    await call.session.set_host(call.game_id, False)
    return Reply(out)


async def claim_host(call: Call, _: tuple[()]) -> Reply:
    out = await call.store.claim_host(call.game_id, call.client_id, call.action_id())
    await call.session.set_host(call.game_id, True)
    return Reply(out)


TYPES: tuple[MessageType[Any], ...] = (
    MessageType("create", protocol.create_settings, Sender.ANYONE, create, identity=True),
    MessageType("join", protocol.game_id, Sender.ANYONE, join, identity=True),
    MessageType("reconnect", protocol.reconnect, Sender.ANYONE, reconnect, identity=True),
    MessageType("claim", protocol.player_id, Sender.IN_GAME, claim, identity=True),
    MessageType("unclaim", no_args, Sender.IN_GAME, unclaim, identity=True),
    MessageType("leave", no_args, Sender.IN_GAME, leave, identity=True),
    MessageType("transferHost", player, Sender.IN_GAME, transfer_host, identity=True),
    MessageType("claimHost", no_args, Sender.IN_GAME, claim_host, identity=True),
)
