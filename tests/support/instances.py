"""Helpers for the multi-process tests: service instances on one Redis, clients, and the game log.

Everything here talks to real processes over loopback. Whatever is started is also torn
down by the caller's fixture, even when a test fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
from redis.asyncio import Redis

from service import keys
from service.messages.session import action_id_for
from stack.client import Client
from stack.instance import ServiceProcess

#: Environment of every instance these tests start: fast drain so teardown never waits.
INSTANCE_ENV = {"DRAIN_TIMEOUT_S": "1", "LOG_LEVEL": "INFO"}


def actor_of(client: Client) -> str:
    """Who the service takes the client's next action to come from (service/ws.py
    Session.action_id): its seat when it holds one, else "host" when it proved host
    rights, else its own client id. Read from the frames the client has received."""
    seat: int | None = None
    host = False
    for m in client.messages:
        kind, data = m["type"], m.get("data") or {}
        if kind == "created":
            host = True
        elif kind == "claimed":
            seat = data["playerId"]
        elif kind == "reconnected":
            seat = data["playerId"] if data.get("playerId") is not None else seat
            host = host or bool(data.get("host"))
        elif kind == "left":
            seat, host = None, False
    return f"seat{seat}" if seat is not None else "host" if host else client.client_id


def action_id(actor: str, mtype: str, request_id: str) -> str:
    """The action id the service records in the game log for an actor's requestId."""
    return action_id_for(actor, mtype, request_id)


def start_services(redis_url: str, log_dir: Path, count: int, prefix: str = "svc", **env: str) -> list[ServiceProcess]:
    """Start `count` instances in parallel and wait until each is ready; on failure none is left running."""
    procs = [ServiceProcess(redis_url, log_dir, f"{prefix}{i}", **{**INSTANCE_ENV, **env}) for i in range(count)]
    try:
        with ThreadPoolExecutor(max_workers=count) as pool:
            for fut in [pool.submit(p.start) for p in procs]:
                fut.result()
    except BaseException:
        kill_all(procs)
        raise
    return procs


def kill_all(procs: list[ServiceProcess]) -> None:
    for p in procs:
        with contextlib.suppress(Exception):
            p.kill()


@contextlib.contextmanager
def services(
    redis_url: str, log_dir: Path, count: int, prefix: str = "svc", **env: str
) -> Iterator[list[ServiceProcess]]:
    procs = start_services(redis_url, log_dir, count, prefix, **env)
    try:
        yield procs
    finally:
        kill_all(procs)


class Clients:
    """Opens test clients and closes every one of them on exit."""

    def __init__(self) -> None:
        self.all: list[Client] = []

    async def connect(self, url: str) -> Client:
        c = await Client.connect(url)
        self.all.append(c)
        return c

    async def connect_many(self, urls: list[str]) -> list[Client]:
        clients = await asyncio.gather(*(Client.connect(u) for u in urls), return_exceptions=True)
        opened = [c for c in clients if isinstance(c, Client)]
        self.all.extend(opened)
        for c in clients:
            if isinstance(c, BaseException):
                raise c
        return opened

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.all), return_exceptions=True)
        self.all.clear()


@contextlib.asynccontextmanager
async def clients() -> AsyncIterator[Clients]:
    pool = Clients()
    try:
        yield pool
    finally:
        await pool.close()


async def game_log(r: Redis, gid: str) -> list[dict[str, Any]]:
    """The game's action log, oldest entry first."""
    raw = await r.lrange(keys.log(gid), 0, -1)
    return [json.loads(x) for x in reversed(raw)]


async def game_state(r: Redis, gid: str) -> dict[str, Any]:
    raw = await r.hget(keys.game(gid), "state")
    assert raw is not None, f"game {gid} is not in Redis"
    state: dict[str, Any] = json.loads(raw)
    return state


async def http_status(url: str) -> int:
    """The HTTP status of GET `url`, or 0 when nothing answers."""
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session,
            session.get(url) as resp,
        ):
            return resp.status
    except (aiohttp.ClientError, TimeoutError):
        return 0


async def wait_status(url: str, status: int, timeout: float) -> float:
    """Poll `url` until it answers `status`; returns the seconds it took."""
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    last = None
    while loop.time() - t0 < timeout:
        last = await http_status(url)
        if last == status:
            return loop.time() - t0
        await asyncio.sleep(0.1)
    raise AssertionError(f"{url} answered {last}, not {status}, for {timeout}s")


async def create_game(host: Client, **settings: Any) -> tuple[str, str, dict[str, Any]]:
    """Create a game; returns (game id, host token, first state)."""
    rid = await host.send("create", {"settings": settings})
    created = await host.wait_for(lambda m: m["type"] == "created" and m.get("requestId") == rid, timeout=10)
    state = await host.wait_for(lambda m: m["type"] == "state" and m.get("requestId") == rid, timeout=10)
    return created["data"]["gameId"], created["data"]["hostToken"], state["data"]


async def ok(client: Client, mtype: str, data: dict[str, Any] | None = None, timeout: float = 10.0) -> dict[str, Any]:
    """Send one action and return its `state` reply; anything else fails the test."""
    rid = await client.send(mtype, data)
    reply = await client.wait_for(lambda m: m.get("requestId") == rid and m["type"] in ("state", "error"), timeout)
    assert reply["type"] == "state", f"{mtype} {data} answered {reply}"
    return reply


async def claim(client: Client, gid: str, player_id: int, join: bool = True) -> str:
    """Join (unless already bound) and claim a seat; returns the seat token."""
    if join:
        await ok(client, "join", {"gameId": gid})
    rid = await client.send("claim", {"playerId": player_id})
    claimed = await client.wait_for(lambda m: m.get("requestId") == rid and m["type"] in ("claimed", "error"), 10)
    assert claimed["type"] == "claimed", claimed
    token: str = claimed["data"]["token"]
    return token


def state_versions(client: Client) -> list[tuple[int, bool]]:
    """(version, is a reply) of every `state` frame the client received, in arrival order."""
    return [(m["data"]["version"], "requestId" in m) for m in client.of_type("state")]


def stream_faults(client: Client) -> list[str]:
    """Where a client's state stream is not "every version once, in order, from its first".

    A state newer than any seen so far must be exactly the next version. A state that is
    not newer is allowed only as the reply to the client's own request (the broadcast of
    that version may have overtaken the reply).
    """
    faults: list[str] = []
    top = 0
    for version, is_reply in state_versions(client):
        if top and version > top + 1:
            faults.append(f"gap: {top} -> {version}" + (" (own reply)" if is_reply else ""))
        if version <= top and not is_reply:
            faults.append(f"stale broadcast {version} after {top}")
        top = max(top, version)
    return faults
