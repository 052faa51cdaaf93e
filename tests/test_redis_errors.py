"""The one translation of Redis failures: what becomes StorageUnavailable and what passes through.

Real refusals and a stopped server are exercised through its callers (tests/test_liveness.py,
tests/test_deadlines.py, tests/test_game.py); here, each kind of failure redis-py can raise.
"""

from __future__ import annotations

import asyncio

import pytest
from redis.exceptions import (
    BusyLoadingError,
    ClusterDownError,
    MasterDownError,
    OutOfMemoryError,
    ReadOnlyError,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from service.errors import StorageUnavailable
from service.redis_errors import storage_errors


@pytest.mark.parametrize(
    "exc",
    [
        # redis-py strips the code from these: known by their class
        OutOfMemoryError("command not allowed when used memory > 'maxmemory'."),
        ReadOnlyError("You can't write against a read only replica."),
        TryAgainError("Multiple keys request during rehashing of slot"),
        ClusterDownError("The cluster is down"),
        MasterDownError("Link with MASTER is down"),
        # these keep it in their text
        ResponseError("NOREPLICAS Not enough good replicas to write."),
        ResponseError("user_script:12: OOM command not allowed when used memory > 'maxmemory'."),
        ResponseError("BUSY Redis is busy running a script."),
        BusyLoadingError("Redis is loading the dataset in memory"),
        RedisConnectionError("Connection refused"),
        RedisTimeoutError("Timeout reading from socket"),
        ConnectionResetError("peer gone"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_a_redis_failure_becomes_storage_unavailable(exc: Exception) -> None:
    with pytest.raises(StorageUnavailable) as raised:
        async with storage_errors():
            raise exc
    assert raised.value.__cause__ is exc


async def test_another_error_reply_passes_through() -> None:
    exc = ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value")
    with pytest.raises(ResponseError) as raised:
        async with storage_errors():
            raise exc
    assert raised.value is exc


async def test_a_block_over_its_timeout_becomes_storage_unavailable() -> None:
    with pytest.raises(StorageUnavailable, match="TimeoutError"):
        async with storage_errors(0.01):
            await asyncio.sleep(1)


def _written_by(filename: str) -> object:
    """A function whose code says it lives in `filename`, writing on a writer that is gone."""
    namespace: dict[str, object] = {}
    exec(compile("def write(writer):\n    writer.writelines([b'EVALSHA'])\n", filename, "exec"), namespace)
    return namespace["write"]


async def test_a_write_on_a_connection_the_peer_closed_is_storage_unavailable() -> None:
    # what redis-py leaks instead of ConnectionError when a pooled connection was reset under
    # it (redis/redis-py#4287): the transport's writer is already None
    write = _written_by("/venv/site-packages/redis/asyncio/connection.py")
    with pytest.raises(StorageUnavailable, match="writing to a closed connection"):
        async with storage_errors():
            write(None)  # type: ignore[operator]


async def test_the_same_error_from_anywhere_else_is_a_bug_and_propagates() -> None:
    write = _written_by("/work/service/hub.py")
    with pytest.raises(AttributeError):
        async with storage_errors():
            write(None)  # type: ignore[operator]


async def test_uvloop_refusing_a_write_on_a_closed_transport_is_storage_unavailable() -> None:
    """uvloop's closed transport raises RuntimeError("... the handler is closed") when
    redis-py writes a connection's handshake after the cluster client closed it."""
    namespace: dict[str, object] = {}
    message = "unable to perform operation on <TCPTransport closed=True>; the handler is closed"
    exec(
        compile(f"def ensure_alive(data):\n    raise RuntimeError({message!r})\n", "uvloop/handles/handle.pyx", "exec"),
        namespace,
    )
    exec(
        compile("def write(transport):\n    ensure_alive([b'HELLO'])\n", "/venv/redis/asyncio/connection.py", "exec"),
        namespace,
    )
    write = namespace["write"]
    with pytest.raises(StorageUnavailable, match="RuntimeError writing to a closed connection"):
        async with storage_errors():
            write(None)  # type: ignore[operator]


async def test_a_runtime_error_of_our_own_propagates() -> None:
    with pytest.raises(RuntimeError):
        async with storage_errors():
            raise RuntimeError("a bug")
