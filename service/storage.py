"""The Redis client: a real server from REDIS_URL, or the embedded in-process engine."""

from __future__ import annotations

import logging
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from service.settings import Settings

log = logging.getLogger(__name__)

#: maxmemory policies that never delete a key on their own
NON_EVICTING_POLICIES = ("noeviction",)


def connect(settings: Settings) -> Any:
    if settings.embedded:
        import fakeredis

        log.warning(
            "REDIS_URL is not set: running the embedded engine (fakeredis) in this process. "
            "Game state lives in memory only and is lost when the process stops; run a single "
            "instance. Set REDIS_URL for production."
        )
        return fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer(), decode_responses=True)
    timeout = settings.redis_timeout_ms / 1000
    # Retrying a script call is safe: every action carries an action id that the script
    # deduplicates, so a retry after a lost reply answers "dup" instead of applying twice.
    return aioredis.from_url(
        settings.redis_url,
        decode_responses=True,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(ExponentialBackoff(cap=0.25, base=0.025), 2),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        health_check_interval=15,
        max_connections=256,
    )


async def describe_redis(client: Any, settings: Settings) -> dict[str, Any]:
    """Version, eviction policy and persistence settings, for start-up logs and /ready."""
    if settings.embedded:
        return {"engine": "fakeredis", "version": "embedded", "maxmemoryPolicy": "noeviction", "aof": False}
    info = await client.info("server")
    cfg: dict[str, str] = {}
    for name in ("maxmemory-policy", "appendonly", "appendfsync"):
        try:
            cfg.update(await client.config_get(name))
        except Exception:
            # managed Redis often forbids CONFIG; report unknown rather than fail
            cfg[name] = "unknown"
    out = {
        "engine": "redis",
        "version": info.get("redis_version", "unknown"),
        "maxmemoryPolicy": cfg.get("maxmemory-policy", "unknown"),
        "aof": {"yes": True, "no": False}.get(cfg.get("appendonly", "unknown"), "unknown"),
        "appendfsync": cfg.get("appendfsync", "unknown"),
    }
    log.info(
        "redis %s: maxmemory-policy %s, appendonly %s, appendfsync %s",
        out["version"],
        out["maxmemoryPolicy"],
        cfg.get("appendonly", "unknown"),
        out["appendfsync"],
    )
    major = str(out["version"]).split(".", 1)[0]
    if major.isdigit() and int(major) < 7:
        log.warning("Redis %s is older than 7.0, which this service is tested with", out["version"])
    if out["maxmemoryPolicy"] not in (*NON_EVICTING_POLICIES, "unknown"):
        log.error(
            "Redis maxmemory-policy is %s: Redis may evict games. Set maxmemory-policy noeviction.",
            out["maxmemoryPolicy"],
        )
    if out["aof"] is False:
        log.warning("Redis AOF is off: a Redis restart loses every game since its last snapshot")
    return out
