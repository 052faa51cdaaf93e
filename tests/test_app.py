"""The application: HTTP routes and probes in-process, and a graceful SIGTERM of a real process.

Draining is observed twice: in-process by running the app's shutdown hook while the server
keeps listening (a real process stops listening first, so its probes cannot be seen), and
end to end on a `python -m service` process on its own redis-server.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from service import __version__, keys, outbound, qr
from service.app import RUNTIME, close_all, create_app, cut_off_if_lost, on_shutdown
from service.errors import RATE_LIMIT_MESSAGE
from service.headers import CONTENT_SECURITY_POLICY
from service.outbound import Conn
from service.settings import Settings
from service.ws import SHUTDOWN_MESSAGE
from stack.client import Client
from stack.redis_server import RedisProcess, free_port
from tests.support.fakes import StuckClose
from tests.support.instances import clients, create_game, ok
from tests.support.qr_decode import decode

ServerFactory = Callable[..., Awaitable[TestServer]]
HEALTH_FIELDS = {
    "status",
    "instanceId",
    "version",
    "uptime",
    "activeConnections",
    "activeSessions",
    "pubsubMessages",
    "versionGaps",
    "eventsReplayed",
    "sentinelFences",
    "primaryChanges",
    "gamesRewound",
    "deadlinesFired",
    "seatsReleased",
}


@pytest_asyncio.fixture
async def make_server(aiohttp_server: Any, redis_url: str) -> ServerFactory:
    async def make(**overrides: Any) -> TestServer:
        fields: dict[str, Any] = {"redis_url": redis_url, "instance_id": "app-test", **overrides}
        server: TestServer = await aiohttp_server(create_app(Settings(**fields)))
        return server

    return make


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def get(http: aiohttp.ClientSession, server: TestServer, path: str) -> tuple[int, Any]:
    async with http.get(server.make_url(path)) as resp:
        body = await resp.json() if resp.content_type == "application/json" else await resp.text()
        return resp.status, body


def shutdown_warning(timeout_ms: int) -> dict[str, Any]:
    return {"type": "shutdown_warning", "data": {"message": SHUTDOWN_MESSAGE, "timeout": timeout_ms}}


# -- routes ------------------------------------------------------------------------------


async def test_a_plain_get_of_the_root_serves_the_web_app_uncached(
    make_server: ServerFactory, http: aiohttp.ClientSession
) -> None:
    server = await make_server()
    async with http.get(server.make_url("/?game=ABCDEF")) as r:
        assert (r.status, r.content_type, r.headers["Cache-Control"]) == (200, "text/html", "no-cache")
        assert "<title>Tap or Tarp" in await r.text()


@pytest.mark.parametrize("path", ["/ws", "/nope", "/health/extra"])
async def test_any_other_path_without_an_upgrade_is_404(
    make_server: ServerFactory, http: aiohttp.ClientSession, path: str
) -> None:
    server = await make_server()
    async with http.get(server.make_url(path)) as resp:
        assert resp.status == 404


async def test_health_reports_every_documented_field(make_server: ServerFactory, http: aiohttp.ClientSession) -> None:
    server = await make_server()
    status, body = await get(http, server, "/health")
    assert status == 200
    assert set(body) == HEALTH_FIELDS
    uptime = body.pop("uptime")
    assert isinstance(uptime, float | int) and 0 <= uptime < 60
    assert body == {
        "status": "healthy",
        "instanceId": "app-test",
        "version": __version__,
        "activeConnections": 0,
        "activeSessions": 0,
        "pubsubMessages": 0,
        "versionGaps": 0,
        "eventsReplayed": 0,
        "sentinelFences": 0,
        "primaryChanges": 0,
        "gamesRewound": 0,
        "deadlinesFired": 0,
        "seatsReleased": 0,
    }


async def test_health_counts_sockets_games_and_channel_messages(
    make_server: ServerFactory, http: aiohttp.ClientSession
) -> None:
    server = await make_server()
    async with clients() as pool:
        host = await pool.connect(str(server.make_url("/")))
        await pool.connect(str(server.make_url("/ws")))
        await create_game(host)
        await ok(host, "switch", {"playerId": 2})
        # the switch (not the create, published before the game was bound) comes back on the channel
        for _ in range(200):
            body = (await get(http, server, "/health"))[1]
            if body["pubsubMessages"] >= 1:
                break
            await asyncio.sleep(0.05)
        assert (body["activeConnections"], body["activeSessions"], body["pubsubMessages"]) == (2, 1, 1)


async def test_ready_is_200_with_the_redis_description_on_a_reachable_server(
    make_server: ServerFactory, http: aiohttp.ClientSession, redis_url: str
) -> None:
    server = await make_server()
    status, body = await get(http, server, "/ready")
    assert status == 200
    client = Redis.from_url(redis_url, decode_responses=True)
    try:
        version = (await client.info("server"))["redis_version"]
    finally:
        await client.aclose()
    assert body == {
        "ready": True,
        "draining": False,
        "instanceId": "app-test",
        "version": __version__,
        "connections": 0,
        "gamesServed": 0,
        "redis": {
            "reachable": True,
            "evictingPolicy": False,
            "engine": "redis",
            "version": version,
            "maxmemoryPolicy": "noeviction",
            "aof": False,
            "appendfsync": "everysec",
        },
        "embedded": False,
    }


async def test_ready_is_503_when_redis_is_unreachable(make_server: ServerFactory, http: aiohttp.ClientSession) -> None:
    server = await make_server(redis_url=f"redis://127.0.0.1:{free_port()}/0", redis_timeout_ms=200)
    status, body = await get(http, server, "/ready")
    assert status == 503
    assert body == {
        "ready": False,
        "draining": False,
        "instanceId": "app-test",
        "version": __version__,
        "connections": 0,
        "gamesServed": 0,
        "redis": {"reachable": False, "evictingPolicy": False},
        "embedded": False,
    }
    # the process itself is alive
    assert (await get(http, server, "/health"))[0] == 200


async def test_ready_is_200_in_the_embedded_mode(aiohttp_server: Any, http: aiohttp.ClientSession) -> None:
    server: TestServer = await aiohttp_server(create_app(Settings(instance_id="embedded-test")))
    status, body = await get(http, server, "/ready")
    assert status == 200
    assert body == {
        "ready": True,
        "draining": False,
        "instanceId": "embedded-test",
        "version": __version__,
        "connections": 0,
        "gamesServed": 0,
        "redis": {
            "reachable": True,
            "evictingPolicy": False,
            "engine": "fakeredis",
            "version": "embedded",
            "maxmemoryPolicy": "noeviction",
            "aof": False,
        },
        "embedded": True,
    }


async def test_ready_turns_200_once_an_unreachable_redis_comes_up(
    make_server: ServerFactory, http: aiohttp.ClientSession
) -> None:
    port = free_port()
    server = await make_server(redis_url=f"redis://127.0.0.1:{port}/0", redis_timeout_ms=200)
    assert (await get(http, server, "/ready"))[0] == 503
    with RedisProcess(port=port):
        for _ in range(200):
            status, body = await get(http, server, "/ready")
            if status == 200:
                break
            await asyncio.sleep(0.05)
        assert (status, body["redis"]["reachable"], body["redis"]["engine"]) == (200, True, "redis")
        # stopped while its Redis still answers, so shutting down does not wait on timeouts
        await server.close()


# -- cut off from Redis ------------------------------------------------------------------


async def test_an_instance_that_lost_redis_past_the_limit_sends_its_sockets_elsewhere_until_it_is_back(
    make_server: ServerFactory, http: aiohttp.ClientSession
) -> None:
    with RedisProcess() as redis:
        server = await make_server(redis_url=redis.url, redis_timeout_ms=200, redis_lost_close_s=0.5)
        rt = server.app[RUNTIME]
        async with clients() as pool:
            player = await pool.connect(str(server.make_url("/")))
            await create_game(player)
            redis.stop()

            # closed as a restart is, so the client reconnects (to an instance that has Redis)
            assert await player.closed_with(timeout=10) == 1012
            assert rt.deps.cut_off is True
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await Client.connect(str(server.make_url("/")))
            assert refused.value.status == 503
            assert (await get(http, server, "/ready"))[0] == 503

            redis.start()
            for _ in range(100):
                if not rt.deps.cut_off:
                    break
                await asyncio.sleep(0.05)
            assert rt.deps.cut_off is False
            back = await pool.connect(str(server.make_url("/")))
            assert back.client_id
            assert rt.deps.metrics.registry.get_sample_value("tapotarp_redis_cut_offs_total") == 1
            await server.close()


async def test_lost_is_no_answer_for_the_limit_not_a_probe_failing_while_scripts_are_answered(
    make_server: ServerFactory,
) -> None:
    # at 4,000 games on two cores the probe waited behind a saturated connection pool for
    # over 10 s while the players' actions went on being answered
    with RedisProcess() as redis:
        server = await make_server(redis_url=redis.url, redis_timeout_ms=200, redis_lost_close_s=0.5)
        rt = server.app[RUNTIME]
        async with clients() as pool:
            player = await pool.connect(str(server.make_url("/")))
            await create_game(player)
            # the probe has failed for a second, and then an action is answered
            failing_since = time.monotonic() - 1.0
            rt.redis_lost_at = failing_since
            await ok(player, "claim", {"playerId": 1})
            answered = rt.deps.store.answered_at
            assert answered > failing_since + 1.0

            await cut_off_if_lost(rt, answered + 0.4)
            assert rt.deps.cut_off is False
            assert player.closed_code is None

            # nothing answered for the limit: lost, whatever the probe said before
            await cut_off_if_lost(rt, answered + 0.6)
            assert rt.deps.cut_off is True
            assert await player.closed_with(timeout=5) == 1012
            await server.close()


async def test_with_the_limit_at_zero_sockets_wait_an_outage_out(
    make_server: ServerFactory, http: aiohttp.ClientSession
) -> None:
    with RedisProcess() as redis:
        server = await make_server(redis_url=redis.url, redis_timeout_ms=200, redis_lost_close_s=0)
        async with clients() as pool:
            player = await pool.connect(str(server.make_url("/")))
            redis.stop()
            await asyncio.sleep(1.5)
            assert player.closed_code is None
            assert server.app[RUNTIME].deps.cut_off is False
            redis.start()
            await server.close()


# -- draining, in-process ----------------------------------------------------------------


async def test_while_draining_sockets_are_warned_and_closed_and_probes_say_so(
    make_server: ServerFactory, http: aiohttp.ClientSession
) -> None:
    server = await make_server(drain_timeout_s=1.5)
    async with clients() as pool:
        host = await pool.connect(str(server.make_url("/")))
        idle = await pool.connect(str(server.make_url("/ws")))
        await create_game(host)

        await on_shutdown(server.app)

        for c in (host, idle):
            assert await c.closed_with() == 1012
            assert c.messages[-1] == shutdown_warning(1500)
        assert server.app[RUNTIME].draining is True
        status, ready = await get(http, server, "/ready")
        assert (status, ready["ready"], ready["draining"]) == (503, False, True)
        assert (await get(http, server, "/health"))[1]["status"] == "shutting_down"
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await Client.connect(str(server.make_url("/")))
        assert refused.value.status == 503


# SIGTERM of a real process: tests/test_main.py


async def test_closing_every_socket_does_not_wait_on_a_peer_that_reads_nothing(
    make_server: ServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shutdown closes sockets with Conn.shut: a socket whose close frame cannot get through
    is dropped after the grace, so one stuck phone cannot hold the drain to its timeout."""
    monkeypatch.setattr(outbound, "CLOSE_GRACE_S", 0.2)
    server = await make_server()
    hub = server.app[RUNTIME].hub
    stuck = Conn(cast(web.WebSocketResponse, StuckClose()), "client_stuck", 1 << 20)
    hub.add(stuck)
    live = await Client.connect(str(server.make_url("/ws")))
    try:
        async with asyncio.timeout(2.0):
            await close_all(hub)
        assert await live.closed_with() == 1012
        assert cast(StuckClose, stuck.ws).close_codes == [1012]
    finally:
        hub.remove(stuck)
        await stuck.close_writer()
        await live.close()


# -- GET /qr -------------------------------------------------------------------------------

#: a valid game id (one whose slot holds a deadline partition)
QR_GID = keys.new_game_id(b"qr")


async def test_qr_serves_the_join_link_of_the_code_as_svg_under_the_strict_policy(
    make_server: ServerFactory, http: aiohttp.ClientSession
) -> None:
    server = await make_server()
    async with http.get(server.make_url(f"/qr?game={QR_GID.lower()}")) as r:
        assert (r.status, r.content_type) == (200, "image/svg+xml")
        assert r.headers["Cache-Control"] == qr.CACHE_CONTROL
        assert r.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        svg = await r.read()

    assert decode(svg) == f"http://{server.host}:{server.port}/?game={QR_GID}"


async def test_qr_uses_the_public_url_when_set(make_server: ServerFactory, http: aiohttp.ClientSession) -> None:
    server = await make_server(public_url="https://clock.example.com")
    async with http.get(server.make_url(f"/qr?game={QR_GID}")) as r:
        assert r.status == 200
        assert decode(await r.read()) == f"https://clock.example.com/?game={QR_GID}"


async def test_qr_behind_a_trusted_proxy_takes_its_scheme(
    make_server: ServerFactory, http: aiohttp.ClientSession
) -> None:
    server = await make_server(client_ip_header="X-Forwarded-For")
    headers = {"X-Forwarded-Proto": "https", "Host": "clock.example.com"}
    async with http.get(server.make_url(f"/qr?game={QR_GID}"), headers=headers) as r:
        assert (r.status, r.headers["Vary"]) == (200, "X-Forwarded-Proto")
        assert decode(await r.read()) == f"https://clock.example.com/?game={QR_GID}"


@pytest.mark.parametrize(
    "query", ["", "?game=", f"?game={QR_GID[:5]}", f"?game={QR_GID[:5]}%2F", "?game=ABC234", f"?code={QR_GID}"]
)
async def test_qr_without_a_valid_code_is_400_with_a_clear_text(
    make_server: ServerFactory, http: aiohttp.ClientSession, query: str
) -> None:
    server = await make_server()
    async with http.get(server.make_url("/qr" + query)) as r:
        assert (r.status, await r.text(), r.headers["Cache-Control"]) == (400, qr.INVALID_CODE, "no-store")


async def test_qr_is_rate_limited_per_client_address(make_server: ServerFactory, http: aiohttp.ClientSession) -> None:
    server = await make_server(rate_lobby_lists_per_min=2)
    statuses = []
    for _ in range(3):
        async with http.get(server.make_url(f"/qr?game={QR_GID}")) as r:
            statuses.append(r.status)
            if r.status == 429:
                assert await r.text() == RATE_LIMIT_MESSAGE
                assert int(r.headers["Retry-After"]) >= 1

    assert statuses == [200, 200, 429]
