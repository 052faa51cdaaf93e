from __future__ import annotations

import os
from pathlib import Path

import pytest
import redis

from stack.redis_server import RESERVED_PORT, RedisProcess, RedisServerNotFound, ping


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_session_server_answers_on_its_own_port(redis_proc: RedisProcess) -> None:
    assert redis_proc.port != RESERVED_PORT
    assert redis_proc.url == f"redis://127.0.0.1:{redis_proc.port}/0"
    with redis.Redis.from_url(redis_proc.url) as client:
        assert client.ping() is True
        assert client.config_get("save") == {"save": ""}
        assert client.config_get("appendonly") == {"appendonly": "no"}


def test_aof_data_survives_a_kill_and_a_restart_on_the_same_port_and_dir() -> None:
    with RedisProcess("--appendonly", "yes", "--appendfsync", "always") as proc:
        port, data_dir, first_pid = proc.port, proc.data_dir, proc.pid
        with redis.Redis.from_url(proc.url) as client:
            assert client.config_get("appendfsync") == {"appendfsync": "always"}
            client.set("k", "v")

        proc.kill()
        assert not alive(first_pid)
        assert not ping(port)
        proc.start()

        assert (proc.port, proc.data_dir) == (port, data_dir)
        assert proc.pid != first_pid
        with redis.Redis.from_url(proc.url) as client:
            assert client.get("k") == b"v"
    assert not data_dir.exists()


def test_stop_ends_the_server_and_close_removes_its_dir() -> None:
    proc = RedisProcess().start()
    pid, data_dir = proc.pid, proc.data_dir

    proc.stop()

    assert not alive(pid)
    assert not proc.is_running()
    assert data_dir.is_dir()
    proc.close()
    assert not data_dir.exists()


def test_a_given_data_dir_is_kept_after_close(tmp_path: Path) -> None:
    with RedisProcess(data_dir=tmp_path / "r") as proc:
        assert proc.data_dir == tmp_path / "r"

    assert (tmp_path / "r" / "redis.log").is_file()


def test_the_machines_redis_port_is_refused() -> None:
    with pytest.raises(ValueError, match="6379"):
        RedisProcess(port=RESERVED_PORT)


def test_a_missing_redis_server_binary_is_reported_clearly() -> None:
    with pytest.raises(RedisServerNotFound, match="not on PATH"):
        RedisProcess(executable="redis-server-that-does-not-exist")
