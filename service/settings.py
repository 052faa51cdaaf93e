"""Service configuration, read once from the environment into a frozen dataclass."""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


class ConfigError(ValueError):
    """An environment variable is missing a valid value; the message names it."""


@dataclass(frozen=True)
class Settings:
    #: TCP port for HTTP and WebSocket (the original's PORT, default 3000).
    port: int = 3000
    #: Bind address.
    host: str = "0.0.0.0"
    #: Redis URL (redis://, rediss://, unix://). Empty: embedded fakeredis, single instance.
    redis_url: str = field(default="", repr=False)
    #: REDIS_URL names any node of a Redis Cluster (scripts routed by slot, sharded pub/sub).
    redis_cluster: bool = False
    #: Sentinel addresses: Redis is the primary they name REDIS_SENTINEL_MASTER (instead of REDIS_URL).
    redis_sentinels: tuple[tuple[str, int], ...] = ()
    #: The primary's name in the Sentinel configuration.
    redis_sentinel_master: str = "mymaster"
    #: Password of the primary and replicas found through Sentinel (REDIS_URL carries its own).
    redis_password: str = field(default="", repr=False)
    #: Password of the sentinels themselves, if they require one.
    redis_sentinel_password: str = field(default="", repr=False)
    #: Comma-separated Origin allow-list; `*.example.com` matches subdomains on a dot boundary.
    allowed_origins: tuple[str, ...] = ()
    #: How often each instance sends `tick` messages to its sockets (100 reproduces the original).
    tick_interval_ms: int = 1000
    #: How often each instance looks for due timeouts and warnings.
    deadline_poll_ms: int = 50
    #: A game with no action for this long is deleted by Redis TTL.
    game_retention_s: int = 86_400
    #: Reconnect and host tokens stay valid this long after their last use (longer than retention).
    token_ttl_s: int = 7 * 86_400
    #: A cached snapshot of a game is re-read from Redis at least this often.
    cache_ttl_s: float = 30.0
    #: Upper bound on one Redis round trip before the action is answered with an error.
    redis_timeout_ms: int = 2000
    #: Upper bound on one action (retries included) before the client gets an error.
    action_timeout_ms: int = 4000
    #: Largest inbound WebSocket frame; larger frames close the socket with 1009.
    max_frame_bytes: int = 65_536
    #: Outbound bytes queued for one socket before it is closed with 1008 "Buffer overflow".
    max_send_queue_bytes: int = 1_048_576
    #: Seconds to let clients move elsewhere on SIGTERM before the process exits.
    drain_timeout_s: float = 10.0
    #: Seconds between SIGTERM and closing the listener, with /ready at 503 and upgrades refused, so that a
    #: load balancer checking /ready takes the instance out while it still answers (0: close at once).
    drain_notice_s: float = 0.0
    #: An instance silent this long is dead: other instances release its clients' seats.
    instance_dead_after_s: float = 30.0
    #: Identity of this instance in logs and client ids.
    instance_id: str = ""
    #: Log level and format ("json" for one event per line, "text" for development).
    log_level: str = "INFO"
    log_format: str = "text"
    #: Header a trusted proxy sets to the client address (e.g. Fly-Client-IP); empty: the peer address.
    client_ip_header: str = ""
    #: New WebSocket connections per client address per minute, across all instances (0: off).
    rate_connections_per_min: int = 20
    #: Frames per client address per second, across all instances (0: off).
    rate_messages_per_s: int = 30
    #: Frames per socket per second, on its instance (0: off).
    rate_socket_messages_per_s: int = 20
    #: Games created per client address per hour, across all instances (0: off).
    rate_games_per_hour: int = 120
    #: Open sockets per client address on one instance (0: off).
    max_sockets_per_ip: int = 100
    #: WebSocket ping interval; a peer that does not answer within it is closed.
    ws_heartbeat_s: float = 30.0
    #: Bearer token required by /metrics; empty: /metrics is open (on METRICS_PORT if set).
    metrics_token: str = field(default="", repr=False)
    #: Serve /metrics on this separate port instead of the main one (0: the main port).
    metrics_port: int = 0
    #: Start even if Redis may evict keys (maxmemory-policy other than noeviction).
    allow_evicting_policy: bool = False
    #: Strict-Transport-Security max-age; 0 (default) sends no HSTS. Set it when clients reach us over TLS.
    hsts_max_age_s: int = 0
    #: Test configurations only: lets POST /_test/clock shift this instance's game clock.
    test_clock: bool = False

    @property
    def embedded(self) -> bool:
        return not self.redis_url and not self.redis_sentinels

    @property
    def redis_mode(self) -> str:
        """embedded, single, sentinel or cluster: how the Redis client is built."""
        if self.redis_sentinels:
            return "sentinel"
        if self.redis_cluster:
            return "cluster"
        return "embedded" if self.embedded else "single"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        instance = e.get("INSTANCE_ID") or e.get("FLY_ALLOC_ID") or f"i{secrets.token_hex(4)}"
        s = cls(
            port=_get(e, "PORT", int, 3000, lo=1, hi=65_535),
            host=e.get("HOST", "0.0.0.0") or "0.0.0.0",
            redis_url=e.get("REDIS_URL", "").strip(),
            redis_cluster=_get(e, "REDIS_CLUSTER", _boolean, False),
            redis_sentinels=_get(e, "REDIS_SENTINELS", _addresses, ()),
            redis_sentinel_master=e.get("REDIS_SENTINEL_MASTER", "").strip() or "mymaster",
            redis_password=e.get("REDIS_PASSWORD", ""),
            redis_sentinel_password=e.get("REDIS_SENTINEL_PASSWORD", ""),
            allowed_origins=tuple(o.strip() for o in e.get("ALLOWED_ORIGINS", "").split(",") if o.strip()),
            tick_interval_ms=_get(e, "TICK_INTERVAL_MS", int, 1000, lo=50, hi=60_000),
            deadline_poll_ms=_get(e, "DEADLINE_POLL_MS", int, 50, lo=10, hi=1000),
            game_retention_s=_get(e, "GAME_RETENTION_S", int, 86_400, lo=60, hi=30 * 86_400),
            token_ttl_s=_get(e, "TOKEN_TTL_S", int, 7 * 86_400, lo=60, hi=365 * 86_400),
            cache_ttl_s=_get(e, "CACHE_TTL_S", float, 30.0, lo=1.0, hi=3600.0),
            redis_timeout_ms=_get(e, "REDIS_TIMEOUT_MS", int, 2000, lo=50, hi=60_000),
            action_timeout_ms=_get(e, "ACTION_TIMEOUT_MS", int, 4000, lo=100, hi=60_000),
            max_frame_bytes=_get(e, "MAX_FRAME_BYTES", int, 65_536, lo=1024, hi=16 * 1_048_576),
            max_send_queue_bytes=_get(e, "MAX_SEND_QUEUE_BYTES", int, 1_048_576, lo=4096, hi=1 << 30),
            drain_timeout_s=_get(e, "DRAIN_TIMEOUT_S", float, 10.0, lo=0.0, hi=600.0),
            drain_notice_s=_get(e, "DRAIN_NOTICE_S", float, 0.0, lo=0.0, hi=600.0),
            instance_dead_after_s=_get(e, "INSTANCE_DEAD_AFTER_S", float, 30.0, lo=1.0, hi=3600.0),
            instance_id=instance[:64],
            log_level=_choice(e, "LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR"), "INFO", upper=True),
            log_format=_choice(e, "LOG_FORMAT", ("json", "text"), "text"),
            client_ip_header=e.get("CLIENT_IP_HEADER", "").strip(),
            rate_connections_per_min=_get(e, "RATE_LIMIT_CONNECTIONS_PER_MIN", int, 20, lo=0, hi=1_000_000),
            rate_messages_per_s=_get(e, "RATE_LIMIT_MESSAGES_PER_S", int, 30, lo=0, hi=1_000_000),
            rate_socket_messages_per_s=_get(e, "RATE_LIMIT_SOCKET_MESSAGES_PER_S", int, 20, lo=0, hi=1_000_000),
            rate_games_per_hour=_get(e, "RATE_LIMIT_GAMES_PER_HOUR", int, 120, lo=0, hi=1_000_000),
            max_sockets_per_ip=_get(e, "MAX_SOCKETS_PER_IP", int, 100, lo=0, hi=1_000_000),
            ws_heartbeat_s=_get(e, "WS_HEARTBEAT_S", float, 30.0, lo=1.0, hi=3600.0),
            metrics_token=e.get("METRICS_TOKEN", "").strip(),
            metrics_port=_get(e, "METRICS_PORT", int, 0, lo=0, hi=65_535),
            allow_evicting_policy=_get(e, "ALLOW_EVICTING_POLICY", _boolean, False),
            hsts_max_age_s=_get(e, "HSTS_MAX_AGE_S", int, 0, lo=0, hi=2 * 365 * 86_400),
            test_clock=_get(e, "TAPOTARP_TEST_CLOCK", _boolean, False),
        )
        if s.redis_url and not s.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError("REDIS_URL must start with redis://, rediss:// or unix://")
        if s.redis_sentinels and (s.redis_url or s.redis_cluster):
            raise ConfigError("REDIS_SENTINELS replaces REDIS_URL and cannot be combined with it or REDIS_CLUSTER")
        if s.redis_cluster and not s.redis_url:
            raise ConfigError("REDIS_CLUSTER=1 needs REDIS_URL naming a node of the cluster")
        if s.redis_cluster and s.redis_url.startswith("unix://"):
            raise ConfigError("REDIS_CLUSTER=1 needs a redis:// or rediss:// REDIS_URL: cluster nodes are TCP")
        if s.metrics_port and s.metrics_port == s.port:
            raise ConfigError("METRICS_PORT must differ from PORT (or be 0 to serve /metrics on PORT)")
        if s.token_ttl_s < s.game_retention_s:
            raise ConfigError(
                f"TOKEN_TTL_S ({s.token_ttl_s}) must be at least GAME_RETENTION_S ({s.game_retention_s}) "
                "so that players can come back for as long as their game is kept"
            )
        return s


def _boolean(raw: str) -> bool:
    v = raw.strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(raw)


def _addresses(raw: str) -> tuple[tuple[str, int], ...]:
    """'host:port,host:port' (IPv6 as [addr]:port)."""
    out: list[tuple[str, int]] = []
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        host, sep, port = item.rpartition(":")
        host = host.strip("[]")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65_536:
            raise ValueError(item)
        out.append((host, int(port)))
    if not out:
        raise ValueError(raw)
    return tuple(out)


def _get(
    env: Mapping[str, str],
    name: str,
    cast: Callable[[str], T],
    default: T,
    lo: float | None = None,
    hi: float | None = None,
) -> T:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = cast(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a valid {getattr(cast, '__name__', 'value').lstrip('_')}") from None
    if isinstance(value, float) and math.isnan(value):
        # NaN passes every range comparison
        raise ConfigError(f"{name}={raw!r} is not a number")
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if numeric and ((lo is not None and value < lo) or (hi is not None and value > hi)):  # type: ignore[operator]
        raise ConfigError(f"{name}={raw!r} is out of range [{lo}, {hi}]")
    return value


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str, upper: bool = False) -> str:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    value = raw.upper() if upper else raw.lower()
    if value not in allowed:
        raise ConfigError(f"{name}={raw!r} must be one of {', '.join(allowed)}")
    return value
