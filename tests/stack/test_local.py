"""stack/local.py: the local stack (Redis with AOF, two instances, HAProxy) as real processes.

The stack runs on free ports in a temporary dir, so a developer's own stack (.stack/, :8080) is
never touched; whatever a test brings up is brought down by pid, even when the test fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from stack.instance import free_port, get_json
from stack.local import HERE, Stack, alive, free_ports, read_pid, render_haproxy, server_states
from stack.presets import AOF_REWRITE_MIN_SIZE_MB, AOF_REWRITE_PERCENTAGE, UNLIMITED_ENV
from tests.support.instances import Clients, claim, clients, create_game, ok, wait_status

pytestmark = pytest.mark.slow

ROOT = HERE.parent
CHECK_INTERVAL_MS = 200
DRAIN_TIMEOUT_S = 3


def stack_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stack.local", *args],
        cwd=ROOT,
        env=env if env is not None else dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    """A two-instance stack, up; brought down (and anything left killed by pid) afterwards."""
    i0, _, front, redis_port, stats = free_ports(5, consecutive=2)
    directory = tmp_path / "stack"
    env = {**os.environ, **UNLIMITED_ENV, "DRAIN_TIMEOUT_S": str(DRAIN_TIMEOUT_S)}
    args = ["--instances", "2", "--port", str(front), "--instance-port", str(i0), "--redis-port", str(redis_port)]
    args += ["--stats-port", str(stats), "--check-interval-ms", str(CHECK_INTERVAL_MS), "--dir", str(directory)]
    result = stack_cli("up", *args, env=env)
    try:
        assert result.returncode == 0, result.stdout + result.stderr
        loaded = Stack.load(directory)
        assert loaded is not None
        yield loaded
    finally:
        pids = [read_pid(p) for p in directory.glob("*.pid")]
        stack_cli("down", "--dir", str(directory))
        for pid in pids:
            if pid is not None and alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


async def sockets_on(stack: Stack, name: str) -> int:
    """Open WebSockets on one instance, asked directly (not through HAProxy)."""
    status, body = await get_json(f"http://127.0.0.1:{stack.instance_port_of(name)}/ready")
    assert status == 200, (name, status, body)
    count = body["connections"]
    assert isinstance(count, int)
    return count


async def eventually(what: str, check: Callable[[], bool], timeout: float) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not check():
        assert loop.time() < end, f"{what}: not after {timeout}s"
        await asyncio.sleep(0.05)


async def test_the_stack_serves_through_haproxy_moves_players_off_a_draining_instance_and_goes_down_clean(
    stack: Stack,
) -> None:
    front = f"ws://127.0.0.1:{stack.port}/"
    r = Redis(host="127.0.0.1", port=stack.redis_port, decode_responses=True)
    try:
        # Redis runs with the durability and policy of stack/redis.conf
        config = await r.config_get("*")
        assert (config["appendonly"], config["appendfsync"]) == ("yes", "everysec")
        assert config["maxmemory-policy"] == "noeviction"
        # and rewrites its AOF when the benchmark's Redis does (Redis reads "mb" as MiB)
        assert int(str(config["auto-aof-rewrite-percentage"])) == AOF_REWRITE_PERCENTAGE
        assert int(str(config["auto-aof-rewrite-min-size"])) == AOF_REWRITE_MIN_SIZE_MB << 20
        assert Path(str(config["dir"])) == stack.dir / "redis"
        assert (stack.dir / "redis" / str(config["appenddirname"])).is_dir()
    finally:
        await r.aclose()
    # a second stack in the same dir is refused while this one runs
    again = stack_cli("up", "--dir", str(stack.dir), "--port", str(free_port()))
    assert again.returncode == 1
    assert "already running" in again.stderr

    pool: Clients
    async with clients() as pool:
        # leastconn: two clients, one on each instance
        host = await pool.connect(front)
        on = {n: await sockets_on(stack, n) for n in stack.names}
        assert sorted(on.values()) == [0, 1], on
        victim = next(n for n, c in on.items() if c == 1)
        survivor = next(n for n in stack.names if n != victim)
        player = await pool.connect(front)
        assert {n: await sockets_on(stack, n) for n in stack.names} == {victim: 1, survivor: 1}

        # a game across the two instances: each action fans out to the other one
        gid, host_token, _ = await create_game(host, playerCount=2)
        seat_token = await claim(host, gid, 1, join=False)
        await claim(player, gid, 2)
        started = await ok(host, "start")
        await player.state_at_least(started["data"]["version"])

        # drain the host's instance
        pid = read_pid(stack.pidfile(victim))
        assert pid is not None and alive(pid)
        os.kill(pid, signal.SIGTERM)
        await wait_status(f"http://127.0.0.1:{stack.instance_port_of(victim)}/ready", 503, 5)

        # new connections keep succeeding, and all reach the survivor (a 503 or a refused
        # connection from the victim is retried there before HAProxy's checks catch up)
        for _ in range(6):
            await pool.connect(front)
        assert await sockets_on(stack, survivor) == 1 + 6
        for _ in range(4):
            status, body = await get_json(f"http://127.0.0.1:{stack.port}/ready")
            assert (status, body.get("instanceId")) == (200, f"stack-{survivor}"), body
        # the checks take the victim out, and leave the survivor in
        await eventually("victim marked down", lambda: server_states(stack)[victim].startswith("DOWN"), 5)
        assert server_states(stack)[survivor] == "UP/L7OK"

        # the victim's client is warned, closed with 1012, comes back through HAProxy and plays on
        assert await host.closed_with(stack.drain_notice_s + DRAIN_TIMEOUT_S + 2) == 1012
        assert len(host.of_type("shutdown_warning")) == 1
        back = await pool.connect(front)
        reply = await back.request(
            "reconnect", {"gameId": gid, "playerId": 1, "token": seat_token, "hostToken": host_token}
        )
        assert reply["type"] == "reconnected", reply
        assert (reply["data"]["playerId"], reply["data"]["host"]) == (1, True)
        assert await sockets_on(stack, survivor) == 1 + 6 + 1
        passed = await ok(back, "passTurn")
        assert passed["data"]["activePlayer"] == 2
        assert (await player.state_at_least(passed["data"]["version"]))["data"]["activePlayer"] == 2
        await eventually("victim exited", lambda: not alive(pid), stack.drain_notice_s + DRAIN_TIMEOUT_S + 5)

    # down stops what still runs, by pid, and says so (the drained instance's pidfile is stale);
    # a second down has nothing to do
    pids = {p.stem: read_pid(p) for p in stack.dir.glob("*.pid")}
    running = sorted(name for name, p in pids.items() if p is not None and alive(p))
    assert running == sorted(["redis", "haproxy", survivor])
    down = stack_cli("down", "--dir", str(stack.dir))
    assert down.returncode == 0, down.stderr
    assert sorted(line.split(" ")[0] for line in down.stdout.splitlines()) == running
    assert [name for name, p in pids.items() if p is not None and alive(p)] == []
    assert list(stack.dir.glob("*.pid")) == []
    again = stack_cli("down", "--dir", str(stack.dir))
    assert (again.returncode, again.stdout.strip()) == (0, "nothing was running")
    report = stack_cli("status", "--dir", str(stack.dir))
    assert report.returncode == 1
    assert report.stdout.count("stopped") == 4


def test_up_without_haproxy_says_how_to_install_it(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    redis_server = shutil.which("redis-server")
    assert redis_server is not None
    (bin_dir / "redis-server").symlink_to(redis_server)
    env = {**os.environ, "PATH": str(bin_dir)}
    result = stack_cli("up", "--dir", str(tmp_path / "stack"), "--port", str(free_port()), env=env)
    assert result.returncode == 1
    assert "haproxy not found: install it with `apt-get install haproxy`" in result.stderr
    assert list((tmp_path / "stack").glob("*.pid")) == []


def test_the_haproxy_template_renders_to_a_configuration_haproxy_accepts(tmp_path: Path) -> None:
    stack = Stack(tmp_path, instances=3, port=18_000, instance_port=18_001, stats_port=18_404)
    text = render_haproxy(stack)
    assert "{{" not in text
    for n, port in (("i0", 18_001), ("i1", 18_002), ("i2", 18_003)):
        assert f"    server {n} 127.0.0.1:{port}\n" in text
    config = tmp_path / "haproxy.cfg"
    config.write_text(text)
    check = subprocess.run(["haproxy", "-c", "-f", str(config)], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
    # nothing but the one warning-free configuration: HAProxy says nothing else about it
    assert "WARNING" not in check.stdout + check.stderr
