"""Application factory: Redis (or the embedded engine), scripts, hub and deadline loop."""

from __future__ import annotations

import asyncio
import gc
import hmac
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from service import __version__, lobby, qr, ws
from service.clock import GameClock
from service.deadlines import DeadlineLoop
from service.errors import RATE_LIMIT_MESSAGE, ServiceError
from service.game import CLUSTER_UNAVAILABLE_RETRY_S, GameStore
from service.headers import security_headers
from service.hub import Hub
from service.limits import Limit, SharedLimiter, client_ip
from service.liveness import Liveness
from service.messages.session import Deps
from service.metrics import CONTENT_TYPE, Metrics
from service.outbound import outgoing
from service.periodic import Periodic, unavailable_since
from service.redis_client import (
    CONTROL_RESERVE,
    NON_EVICTING_POLICIES,
    POOL_CONNECTIONS,
    Backend,
    connect,
    describe_redis,
)
from service.scripts import Scripts
from service.settings import ConfigError, Settings

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
#: the web app's types, whatever the host's mime table says (slim images may have none, and
#: a module script needs a JavaScript type under nosniff)
STATIC_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".webmanifest": "application/manifest+json",
}


async def static_headers(request: web.Request, response: web.StreamResponse) -> None:
    """The page's modules are named by path, not by content hash: a browser must check each
    against its ETag (a 304 when unchanged), or a fresh page could run last deploy's code."""
    if not request.path.startswith("/static/") or response.status >= 400:
        return
    response.headers["Cache-Control"] = "no-cache"
    kind = STATIC_TYPES.get(Path(request.path).suffix)
    if kind is not None and response.status == 200:
        response.headers["Content-Type"] = kind


@dataclass
class Runtime:
    """Everything one instance holds while it runs (none of it is game state)."""

    settings: Settings
    client: Any
    clock: GameClock
    store: GameStore
    hub: Hub
    deadlines: DeadlineLoop
    liveness: Liveness
    deps: Deps
    started: float
    redis_ok: bool = False
    redis_checked: float = 0.0
    redis_info: dict[str, Any] | None = None
    #: when the Redis watcher last found Redis gone (monotonic), until it answers again
    redis_lost_at: float | None = None
    #: the Redis client's arrangement (its Sentinel fence and primary-change counts)
    backend: Backend | None = None

    @property
    def draining(self) -> bool:
        return self.deps.draining

    def start_draining(self) -> None:
        """From now on /ready answers 503 and upgrades are refused (SIGTERM, or shutdown)."""
        self.deps.draining = True

    @property
    def evicting(self) -> bool:
        """Redis may delete games on its own, and the operator did not accept that."""
        policy = (self.redis_info or {}).get("maxmemoryPolicy", "unknown")
        evicting = policy not in (*NON_EVICTING_POLICIES, "unknown")
        return evicting and not self.settings.allow_evicting_policy


SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", Metrics)
RUNTIME = web.AppKey("runtime", Runtime)


async def check_redis(rt: Runtime) -> None:
    """Keeps readiness and this instance's view of Redis time current: every 5 s while Redis
    answers (or at once when a background loop found it gone), every round (0.5 s) while it
    does not, so readiness returns quickly.

    An outage is told here once, at WARNING when it starts and at INFO when it ends; the
    background loops that fail meanwhile say so at DEBUG only (service/periodic.py)."""
    now = time.monotonic()
    if rt.redis_ok and now - rt.redis_checked < 5.0 and not unavailable_since(rt.redis_checked):
        return
    rt.redis_checked = now
    try:
        started = time.perf_counter()
        await rt.clock.sync(rt.client)
        rt.deps.metrics.redis_rtt.observe(time.perf_counter() - started)
        if rt.redis_info is None:
            rt.redis_info = await describe_redis(rt.client, rt.settings)
        rt.redis_ok = True
    except Exception as exc:
        if rt.redis_ok:
            log.warning("redis unreachable (%s: %s); /ready answers 503 until it is back", type(exc).__name__, exc)
            rt.redis_lost_at = now
        rt.redis_ok = False
        await cut_off_if_lost(rt, now)
        return
    if rt.redis_lost_at is not None:
        log.info("redis is back after %.1fs unreachable", time.monotonic() - rt.redis_lost_at)
        rt.redis_lost_at = None
    if rt.deps.cut_off:
        rt.deps.cut_off = False
        log.info("accepting connections again")


async def cut_off_if_lost(rt: Runtime, now: float) -> None:
    """Past REDIS_LOST_CLOSE_S without Redis this instance can serve nobody, but other
    instances may (a partition, not an outage): its players are sent there. In a full outage
    every instance does this, and the clients' reconnects wait with their backoff.

    Lost means no answer at all for that long: at 4,000 games on two cores the probe waited
    behind a saturated connection pool for over 10 s while the scripts kept being answered,
    and the instance closed 8,000 sockets that had Redis, into a storm of reconnects."""
    limit = rt.settings.redis_lost_close_s
    if limit <= 0 or rt.deps.cut_off or rt.redis_lost_at is None:
        return
    if now - max(rt.redis_lost_at, rt.deps.store.answered_at) < limit:
        return
    rt.deps.cut_off = True
    rt.deps.metrics.cut_offs.inc()
    log.warning(
        "redis unreachable for %.1fs: closing %d sockets with 1012 and refusing upgrades until it is back",
        now - rt.redis_lost_at,
        rt.hub.socket_count,
    )
    await close_all(rt.hub, 1012, b"Storage unreachable")


def expose_runtime(metrics: Metrics, rt: Runtime) -> None:
    """Counts the modules keep for /health, read again at each scrape."""
    hub, limiter, frames = rt.hub, rt.deps.limiter, rt.deps.frames
    readings: list[tuple[str, str, str, Callable[[], float]]] = [
        ("gauge", "tapotarp_websocket_connections_total", "Open WebSocket connections", lambda: hub.socket_count),
        ("gauge", "tapotarp_game_sessions_active", "Games with a socket on this instance", lambda: hub.game_count),
        ("gauge", "tapotarp_ready", "1 while /ready answers 200", lambda: float(ready(rt))),
        ("gauge", "tapotarp_redis_up", "1 while this instance reaches Redis", lambda: float(rt.redis_ok)),
        ("counter", "tapotarp_pubsub_messages", "Game commits received on pub/sub", lambda: hub.pubsub_messages),
        ("counter", "tapotarp_version_gaps", "Commits missed on pub/sub, then re-read", lambda: hub.version_gaps),
        (
            "counter",
            "tapotarp_events_replayed",
            "Events of commits missed on pub/sub, sent from the game's log",
            lambda: hub.events_replayed,
        ),
        (
            "counter",
            "tapotarp_sentinel_fences",
            "Times this instance fenced a primary Sentinel began to fail over",
            lambda: rt.backend.fences if rt.backend is not None else 0,
        ),
        (
            "counter",
            "tapotarp_primary_changes",
            "Times this instance followed Sentinel to another primary",
            lambda: rt.backend.changes if rt.backend is not None else 0,
        ),
        (
            "counter",
            "tapotarp_games_rewound",
            "Games found older on a new primary than in this instance's snapshot",
            lambda: hub.rewinds,
        ),
        ("counter", "tapotarp_cache_hits", "Binds served from this instance's snapshot", lambda: hub.cache_hits),
        ("counter", "tapotarp_cache_misses", "Binds that had to read the game from Redis", lambda: hub.cache_misses),
        ("counter", "tapotarp_deadlines_fired", "Warnings and timeouts fired here", lambda: rt.deadlines.fired),
        (
            "counter",
            "tapotarp_deadline_polls",
            "Deadline polls answered, each a peek at every partition (one script call on one Redis)",
            lambda: rt.deadlines.polls,
        ),
        ("counter", "tapotarp_seats_released", "Seats of dead instances released", lambda: rt.liveness.released),
        (
            "gauge",
            "tapotarp_games_seated",
            "Games a socket here holds a seat or host rights in",
            lambda: len(rt.liveness.seats),
        ),
        ("counter", "tapotarp_rate_limiter_errors", "Rate checks let through, no Redis", lambda: limiter.errors),
        (
            "gauge",
            "tapotarp_rate_limit_instances",
            "Live instances the frame budget per address is divided by",
            lambda: rt.liveness.live_instances,
        ),
        ("gauge", "tapotarp_rate_limit_addresses", "Addresses in the frame-limit table", lambda: len(frames.tats)),
        (
            "counter",
            "tapotarp_rate_limit_evictions",
            "Addresses the full frame-limit table forgot",
            lambda: frames.evictions,
        ),
        # the soak (bench/soak.py) watches these for growth that does not level off
        ("gauge", "tapotarp_asyncio_tasks", "Tasks of the event loop", lambda: len(asyncio.all_tasks())),
        ("gauge", "tapotarp_gc_frozen_objects", "Objects frozen by the GC policy", lambda: gc.get_freeze_count()),
    ]
    for reading in readings:
        metrics.read(*reading)


async def runtime_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    metrics = app[METRICS]
    backend = connect(settings)
    client = backend.client
    scripts = Scripts(client)
    clock = GameClock()
    store = GameStore(
        client,
        scripts,
        clock,
        retention_s=settings.game_retention_s,
        idle_retention_s=settings.idle_game_retention_s,
        token_ttl_s=settings.token_ttl_s,
        action_timeout_s=settings.action_timeout_ms / 1000,
        sharded_pubsub=backend.sharded,
        metrics=metrics,
        primary_moved=backend.follow_primary if backend.mode == "sentinel" else None,
        wait_replicas=settings.redis_wait_replicas,
        wait_timeout_ms=settings.redis_wait_timeout_ms,
        unavailable_retry_s=CLUSTER_UNAVAILABLE_RETRY_S if backend.mode == "cluster" else 0.0,
        primary_epoch=(lambda: backend.primary_epoch) if backend.mode == "sentinel" else None,
        max_in_flight=POOL_CONNECTIONS - CONTROL_RESERVE,
    )
    hub = Hub(
        store,
        client,
        clock,
        tick_interval_s=settings.tick_interval_ms / 1000,
        cache_ttl_s=settings.cache_ttl_s,
        channels=backend.channels,
    )
    deadlines = DeadlineLoop(store, clock, settings.deadline_poll_ms / 1000, metrics, sharded=backend.sharded)
    liveness = Liveness(store, clock, settings.instance_dead_after_s, settings.game_retention_s, lambda: close_all(hub))
    limiter = SharedLimiter(scripts["rate_limit"], settings.redis_timeout_ms / 1000)
    deps = Deps(settings, clock, store, hub, liveness, metrics, limiter)
    rt = Runtime(settings, client, clock, store, hub, deadlines, liveness, deps, time.time(), backend=backend)
    app[RUNTIME] = rt
    expose_runtime(metrics, rt)
    try:
        await scripts.load_all(client)
        await clock.sync(client)
        rt.redis_info = await describe_redis(client, settings)
        rt.redis_ok = True
    except Exception as exc:
        # start anyway: readiness stays 503 and actions get clear errors until Redis answers
        log.error("redis not reachable at start-up (%s); will keep trying", type(exc).__name__)
        rt.redis_lost_at = time.monotonic()
    if rt.evicting:
        await backend.aclose()
        raise ConfigError(
            f"Redis maxmemory-policy is {rt.redis_info and rt.redis_info['maxmemoryPolicy']}: it may delete live "
            "games. Set maxmemory-policy noeviction, or ALLOW_EVICTING_POLICY=1 to start anyway."
        )
    await hub.start()
    rt.deadlines.loop.start()
    liveness.loop.start()
    watchers = [Periodic("redis-watch", 0.5, lambda: check_redis(rt))]
    if backend.mode == "sentinel":

        async def reread() -> None:
            await hub.reread_all()

        backend.on_primary_change = reread
        watchers.append(Periodic("sentinel-watch", 0.5, backend.follow_primary))
        # back to back: each run waits up to a second for a failover's announcement
        watchers.append(Periodic("sentinel-switch", 0.0, backend.await_switch))
    for w in watchers:
        w.start()
    yield
    for w in watchers:
        await w.stop()
    await rt.deadlines.loop.stop()
    await liveness.loop.stop()
    await liveness.leave()
    await hub.stop()
    await backend.aclose()


async def close_all(hub: Hub, code: int = 1012, reason: bytes = b"Server restarting") -> None:
    await hub.close_all(code, reason)


async def on_shutdown(app: web.Application) -> None:
    """Tell every client, then close with 1012 (service restart) so they reconnect elsewhere."""
    rt = app[RUNTIME]
    rt.start_draining()
    timeout_ms = int(rt.settings.drain_timeout_s * 1000)
    rt.hub.send_all(outgoing("shutdown_warning", {"message": ws.SHUTDOWN_MESSAGE, "timeout": timeout_ms}))
    await asyncio.sleep(min(0.2, rt.settings.drain_timeout_s))
    await close_all(rt.hub)


async def handle_root(request: web.Request) -> web.StreamResponse:
    """The original accepted WebSocket upgrades on any path; so do we."""
    rt = request.app[RUNTIME]
    if request.headers.get("Upgrade", "").lower() == "websocket":
        return await ws.serve(request, rt.deps)
    if request.path == "/":
        # the page is tiny and names its assets by path: never let a stale copy outlive a deploy
        return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})
    raise web.HTTPNotFound()


async def handle_health(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    return web.json_response(
        {
            "status": "shutting_down" if rt.draining else "healthy",
            "instanceId": rt.settings.instance_id,
            "version": __version__,
            "uptime": round(time.time() - rt.started, 3),
            "activeConnections": rt.hub.socket_count,
            "activeSessions": rt.hub.game_count,
            "pubsubMessages": rt.hub.pubsub_messages,
            "versionGaps": rt.hub.version_gaps,
            "eventsReplayed": rt.hub.events_replayed,
            "sentinelFences": rt.backend.fences if rt.backend is not None else 0,
            "primaryChanges": rt.backend.changes if rt.backend is not None else 0,
            "gamesRewound": rt.hub.rewinds,
            "deadlinesFired": rt.deadlines.fired,
            "seatsReleased": rt.liveness.released,
        }
    )


def ready(rt: Runtime) -> bool:
    return rt.redis_ok and not rt.draining and not rt.evicting


async def handle_ready(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    is_ready = ready(rt)
    body = {
        "ready": is_ready,
        "draining": rt.draining,
        "instanceId": rt.settings.instance_id,
        "version": __version__,
        "redis": {"reachable": rt.redis_ok, "evictingPolicy": rt.evicting, **(rt.redis_info or {})},
        "embedded": rt.settings.embedded,
        "connections": rt.hub.socket_count,
        "gamesServed": rt.hub.game_count,
    }
    return web.json_response(body, status=200 if is_ready else 503)


#: HEAD's headers for the lobby list: every visit shows the lobbies as they are now
NO_STORE = {"Cache-Control": "no-cache, no-store, must-revalidate", "Pragma": "no-cache", "Expires": "0"}


async def handle_games(request: web.Request) -> web.Response:
    """GET /api/games?limit=&cursor=: one page of the listed lobbies (service/lobby.py), newest
    activity first; rate-limited per client address (HEAD had no limit and scanned: C32)."""
    rt = request.app[RUNTIME]
    s = rt.settings
    retry_ms = await rt.deps.limiter.check(
        client_ip(request, s.client_ip_header), Limit("lobby", s.rate_lobby_lists_per_min, 60.0)
    )
    if retry_ms is not None:
        rt.deps.metrics.rate_limited.labels("lobby").inc()
        headers = {**NO_STORE, "Retry-After": str(max(1, -(-retry_ms // 1000)))}
        return web.json_response({"error": RATE_LIMIT_MESSAGE}, status=429, headers=headers)
    try:
        limit = lobby.parse_limit(request.query.get("limit"))
        after = lobby.parse_cursor(request.query.get("cursor"))
    except lobby.BadQuery as exc:
        return web.json_response({"error": str(exc)}, status=400, headers=NO_STORE)
    try:
        page = await lobby.read_page(rt.client, limit, after, s.redis_timeout_ms / 1000)
    except ServiceError as exc:
        log.warning("lobby list failed: %s", exc)
        return web.json_response({"error": "Failed to list games"}, status=500, headers=NO_STORE)
    body = {"games": page.games, "nextCursor": page.next_cursor, "instanceId": s.instance_id}
    return web.json_response(body, headers=NO_STORE)


async def handle_qr(request: web.Request) -> web.Response:
    """GET /qr?game=CODE: the game's join link as an SVG QR code (service/qr.py)."""
    rt = request.app[RUNTIME]
    s = rt.settings
    # a QR code costs milliseconds of CPU: limited per client address as the lobby list is
    retry_ms = await rt.deps.limiter.check(
        client_ip(request, s.client_ip_header), Limit("qr", s.rate_lobby_lists_per_min, 60.0)
    )
    if retry_ms is not None:
        rt.deps.metrics.rate_limited.labels("qr").inc()
        headers = {"Cache-Control": "no-store", "Retry-After": str(max(1, -(-retry_ms // 1000)))}
        return web.Response(status=429, text=RATE_LIMIT_MESSAGE, headers=headers)
    return qr.response(request, s.public_url, bool(s.client_ip_header))


def metrics_handler(metrics: Metrics, token: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    expected = f"Bearer {token}".encode()

    async def handle_metrics(request: web.Request) -> web.Response:
        if token and not hmac.compare_digest(request.headers.get("Authorization", "").encode(), expected):
            raise web.HTTPUnauthorized(text="Unauthorized", headers={"WWW-Authenticate": "Bearer"})
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    return handle_metrics


def create_metrics_app(metrics: Metrics, settings: Settings) -> web.Application:
    """/metrics alone, for METRICS_PORT: scrapers reach it, the public port does not serve it."""
    app = web.Application()
    app.on_response_prepare.append(security_headers(0))
    app.router.add_get("/metrics", metrics_handler(metrics, settings.metrics_token))
    return app


async def handle_test_clock(request: web.Request) -> web.Response:
    """Test configurations only (TAPOTARP_TEST_CLOCK=1): shift this instance's game clock."""
    rt = request.app[RUNTIME]
    body = await request.json()
    offset = body.get("offsetMs") if isinstance(body, dict) else None
    if not isinstance(offset, int) or isinstance(offset, bool):
        raise web.HTTPBadRequest(text="offsetMs must be an integer")
    rt.clock.offset_ms = offset
    return web.json_response({"offsetMs": offset})


def create_app(settings: Settings, metrics: Metrics | None = None) -> web.Application:
    app = web.Application(client_max_size=settings.max_frame_bytes)
    app.on_response_prepare.append(security_headers(settings.hsts_max_age_s))
    app[SETTINGS] = settings
    app[METRICS] = metrics if metrics is not None else Metrics()
    app.cleanup_ctx.append(runtime_ctx)
    app.on_shutdown.append(on_shutdown)
    app.router.add_get("/health", handle_health)
    app.router.add_get("/ready", handle_ready)
    app.router.add_get("/api/games", handle_games)
    app.router.add_get("/qr", handle_qr)
    if not settings.metrics_port:
        app.router.add_get("/metrics", metrics_handler(app[METRICS], settings.metrics_token))
    if settings.test_clock:
        app.router.add_post("/_test/clock", handle_test_clock)
    app.router.add_static("/static/", STATIC_DIR)
    app.on_response_prepare.append(static_headers)
    app.router.add_get("/{tail:.*}", handle_root)
    return app
