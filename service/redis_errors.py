"""The one translation of Redis failures into the service's storage error.

A lost connection, a timeout, or a refusal meaning "not writable right now" (errors.py's
UNAVAILABLE_REPLIES) all become StorageUnavailable, wherever Redis is called: the game
scripts, the liveness heartbeat and the deadline poll. Other error replies pass through.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.exceptions import ClusterDownError, OutOfMemoryError, ReadOnlyError, ResponseError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from service.errors import StorageUnavailable, is_unavailable

#: redis-py's own classes for some UNAVAILABLE_REPLIES (OOM, READONLY, TRYAGAIN, CLUSTERDOWN and
#: MASTERDOWN), whose text it strips of the code: a plain command's refusal is known by its
#: class, a script's by the code in its text. (LOADING is a ConnectionError subclass.)
REFUSED_TYPES = (OutOfMemoryError, ReadOnlyError, TryAgainError, ClusterDownError)


@asynccontextmanager
async def storage_errors(timeout_s: float | None = None) -> AsyncIterator[None]:
    """Run the block within `timeout_s` (None: the client's own socket timeout alone), with
    Redis failures raised as StorageUnavailable."""
    try:
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
        # lands as the call completes, and a loop would never stop
        async with asyncio.timeout(timeout_s):
            yield
    except ResponseError as exc:
        if isinstance(exc, REFUSED_TYPES) or is_unavailable(str(exc)):
            raise StorageUnavailable("redis refused the write") from exc
        raise
    except (RedisConnectionError, RedisTimeoutError, TimeoutError, OSError) as exc:
        raise StorageUnavailable(f"redis unavailable: {type(exc).__name__}") from exc
    except (AttributeError, TypeError, RuntimeError) as exc:
        if not raised_writing(exc):
            raise
        raise StorageUnavailable(f"redis unavailable: {type(exc).__name__} writing to a closed connection") from exc


def raised_writing(exc: BaseException) -> bool:
    """Whether `exc` came out of redis-py writing on a connection the peer had closed: a
    pooled connection reset under the client (a Cluster primary killed) leaks the
    transport's internal AttributeError or TypeError instead of ConnectionError
    (redis/redis-py#4287), and under uvloop a RuntimeError ("the handler is closed") from the
    closed transport. Nothing was sent, so the action was not applied and may be retried as
    after any lost connection. Raised anywhere else, it is a bug and stays one."""
    tb = exc.__traceback__
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    return any(f.endswith("redis/asyncio/connection.py") for f in frames) and frames[-1].endswith(
        ("asyncio/streams.py", "asyncio/selector_events.py", "redis/asyncio/connection.py", UVLOOP_HANDLE)
    )


#: where uvloop's transports check that they are still open
UVLOOP_HANDLE = "uvloop/handles/handle.pyx"
