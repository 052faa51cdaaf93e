"""Application factory: Redis (or the embedded engine), scripts, hub and deadline loop."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from service import __version__, ws
from service.deadlines import DeadlineLoop
from service.game import GameClock, GameStore
from service.hub import Hub
from service.liveness import Liveness
from service.origins import origin_allowed
from service.periodic import Periodic
from service.protocol import frame
from service.scripts import Scripts
from service.settings import Settings
from service.storage import connect, describe_redis

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Everything one instance holds while it runs (none of it is game state)."""

    settings: Settings
    client: Any
    store: GameStore
    hub: Hub
    deadlines: DeadlineLoop
    liveness: Liveness
    started: float
    draining: bool = False
    redis_ok: bool = False
    redis_checked: float = 0.0
    redis_info: dict[str, Any] | None = None


SETTINGS = web.AppKey("settings", Settings)
RUNTIME = web.AppKey("runtime", Runtime)


async def check_redis(rt: Runtime) -> None:
    """Keeps readiness and this instance's view of Redis time current: every 5 s while Redis
    answers, every round (0.5 s) while it does not, so readiness returns quickly."""
    now = time.monotonic()
    if rt.redis_ok and now - rt.redis_checked < 5.0:
        return
    rt.redis_checked = now
    try:
        await rt.store.clock.sync(rt.client)
        if rt.redis_info is None:
            rt.redis_info = await describe_redis(rt.client, rt.settings)
        rt.redis_ok = True
    except Exception as exc:
        if rt.redis_ok:
            log.warning("redis unreachable: %s", type(exc).__name__)
        rt.redis_ok = False


async def runtime_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    client = connect(settings)
    scripts = Scripts(client)
    clock = GameClock()
    store = GameStore(
        client,
        scripts,
        clock,
        retention_s=settings.game_retention_s,
        token_ttl_s=settings.token_ttl_s,
        action_timeout_s=settings.action_timeout_ms / 1000,
    )
    hub = Hub(store, client, tick_interval_s=settings.tick_interval_ms / 1000, cache_ttl_s=settings.cache_ttl_s)
    deadlines = DeadlineLoop(store, settings.deadline_poll_ms / 1000)
    liveness = Liveness(store, settings.instance_dead_after_s, settings.game_retention_s, lambda: close_all(hub))
    rt = Runtime(settings, client, store, hub, deadlines, liveness, time.time())
    app[RUNTIME] = rt
    try:
        await scripts.load_all(client)
        await clock.sync(client)
        rt.redis_info = await describe_redis(client, settings)
        rt.redis_ok = True
    except Exception as exc:
        # start anyway: readiness stays 503 and actions get clear errors until Redis answers
        log.error("redis not reachable at start-up (%s); will keep trying", type(exc).__name__)
    await hub.start()
    rt.deadlines.loop.start()
    liveness.loop.start()
    watcher = Periodic("redis-watch", 0.5, lambda: check_redis(rt))
    watcher.start()
    yield
    await watcher.stop()
    await rt.deadlines.loop.stop()
    await liveness.loop.stop()
    await liveness.leave()
    await hub.stop()
    await client.aclose()


async def close_all(hub: Hub, code: int = 1012, reason: bytes = b"Server restarting") -> None:
    await asyncio.gather(*(c.ws.close(code=code, message=reason) for c in list(hub.conns)), return_exceptions=True)


async def on_shutdown(app: web.Application) -> None:
    """Tell every client, then close with 1012 (service restart) so they reconnect elsewhere."""
    rt = app[RUNTIME]
    rt.draining = True
    timeout_ms = int(rt.settings.drain_timeout_s * 1000)
    warning = frame("shutdown_warning", {"message": ws.SHUTDOWN_MESSAGE, "timeout": timeout_ms})
    for conn in rt.hub.conns:
        conn.send(warning)
    await asyncio.sleep(min(0.2, rt.settings.drain_timeout_s))
    await close_all(rt.hub)


async def handle_root(request: web.Request) -> web.StreamResponse:
    """The original accepted WebSocket upgrades on any path; so do we."""
    rt = request.app[RUNTIME]
    if request.headers.get("Upgrade", "").lower() == "websocket":
        if rt.draining:
            raise web.HTTPServiceUnavailable(text="Server is shutting down")
        s = rt.settings
        if not origin_allowed(request.headers.get("Origin"), s.allowed_origins):
            raise web.HTTPForbidden(text="Forbidden: Origin not allowed")
        return await ws.serve(request, rt.store, rt.hub, rt.liveness, s.max_frame_bytes, s.max_send_queue_bytes)
    if request.path == "/":
        return web.Response(text=f"Tap or Tarp {__version__}: connect a WebSocket client to this URL or /ws\n")
    raise web.HTTPNotFound()


async def handle_health(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    return web.json_response(
        {
            "status": "shutting_down" if rt.draining else "healthy",
            "instanceId": rt.settings.instance_id,
            "version": __version__,
            "uptime": round(time.time() - rt.started, 3),
            "activeConnections": len(rt.hub.conns),
            "activeSessions": len(rt.hub.games),
            "pubsubMessages": rt.hub.pubsub_messages,
            "versionGaps": rt.hub.version_gaps,
            "deadlinesFired": rt.deadlines.fired,
            "seatsReleased": rt.liveness.released,
        }
    )


async def handle_ready(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    ready = rt.redis_ok and not rt.draining
    body = {
        "ready": ready,
        "draining": rt.draining,
        "instanceId": rt.settings.instance_id,
        "redis": {"reachable": rt.redis_ok, **(rt.redis_info or {})},
        "embedded": rt.settings.embedded,
    }
    return web.json_response(body, status=200 if ready else 503)


async def handle_test_clock(request: web.Request) -> web.Response:
    """Test configurations only (TAPOTARP_TEST_CLOCK=1): shift this instance's game clock."""
    rt = request.app[RUNTIME]
    body = await request.json()
    offset = body.get("offsetMs") if isinstance(body, dict) else None
    if not isinstance(offset, int) or isinstance(offset, bool):
        raise web.HTTPBadRequest(text="offsetMs must be an integer")
    rt.store.clock.offset_ms = offset
    return web.json_response({"offsetMs": offset})


def create_app(settings: Settings) -> web.Application:
    app = web.Application(client_max_size=settings.max_frame_bytes)
    app[SETTINGS] = settings
    app.cleanup_ctx.append(runtime_ctx)
    app.on_shutdown.append(on_shutdown)
    app.router.add_get("/health", handle_health)
    app.router.add_get("/ready", handle_ready)
    if settings.test_clock:
        app.router.add_post("/_test/clock", handle_test_clock)
    app.router.add_get("/{tail:.*}", handle_root)
    return app
