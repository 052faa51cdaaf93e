"""`python -m service --workers N`: the supervisor and its workers as real processes.

Each process test starts its own supervisor on the module's redis-server under a unique
INSTANCE_ID, finds its workers by that id in /proc, and kills whatever is left by pid.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from tenacity import AsyncRetrying, RetryCallState

from service import workers
from service.settings import ConfigError, Settings
from service.workers import EXIT_MARGIN_S, RESTART_FIRST_S, RESTART_JITTER_S, Plan, Supervisor
from stack.client import Client
from stack.instance import free_port, get_json
from stack.presets import UNLIMITED_ENV
from stack.redis_server import RedisProcess

pytestmark = pytest.mark.slow

DRAIN_TIMEOUT_S = 2.0


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisProcess]:
    with RedisProcess() as proc:
        yield proc


def consecutive_free_ports(count: int) -> int:
    """The first of `count` consecutive ports that were free a moment ago."""
    for _ in range(50):
        first = free_port()
        if first + count > 65_535:
            continue
        with contextlib.ExitStack() as stack:
            try:
                for port in range(first, first + count):
                    s = stack.enter_context(socket.socket())
                    s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return first
    raise RuntimeError(f"no {count} consecutive free ports")


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def workers_of(name: str) -> dict[str, int]:
    """Live processes whose INSTANCE_ID is `<name>-w<i>`, by instance id (the supervisor's is `name`)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        for var in environ:
            if var.startswith(f"INSTANCE_ID={name}-w".encode()) and alive(int(entry.name)):
                found[var.split(b"=", 1)[1].decode()] = int(entry.name)
    return found


class Supervised:
    """`python -m service --workers N [flags]` on a free port, with its log in log_dir."""

    def __init__(self, redis_url: str, log_dir: Path, workers: int, *flags: str, **env: str) -> None:
        self.name = f"wk{uuid.uuid4().hex[:8]}"
        self.log_path = log_dir / f"{self.name}.log"
        self.argv = [sys.executable, "-m", "service", "--workers", str(workers), *flags]
        self.env = {
            **os.environ,
            "PORT": str(free_port()),
            "HOST": "127.0.0.1",
            "REDIS_URL": redis_url,
            "INSTANCE_ID": self.name,
            "DRAIN_TIMEOUT_S": str(DRAIN_TIMEOUT_S),
            **UNLIMITED_ENV,
            **env,
        }
        self.port = int(self.env["PORT"])
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Supervised:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        return self

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def wait_serving(self, count: int, timeout: float = 20.0) -> dict[str, int]:
        """Wait until `count` workers have said they listen; their pids by instance id."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"supervisor exited with {self.proc.returncode}:\n{self.log}")
            if "workers serving on" in self.log:
                found = workers_of(self.name)
                assert len(found) == count, found
                return found
            time.sleep(0.05)
        raise AssertionError(f"workers not serving after {timeout}s:\n{self.log}")

    def terminate(self) -> tuple[int, float]:
        """SIGTERM the supervisor: (its exit code, seconds it took)."""
        assert self.proc is not None
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=DRAIN_TIMEOUT_S + EXIT_MARGIN_S + 10)
        return code, time.monotonic() - t0

    def kill_all(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for pid in workers_of(self.name).values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def supervised(redis_url: str, log_dir: Path, workers: int, *flags: str, **env: str) -> Iterator[Supervised]:
    sup = Supervised(redis_url, log_dir, workers, *flags, **env)
    try:
        yield sup.start()
    finally:
        sup.kill_all()


# -- one shared port -----------------------------------------------------------------------


async def test_workers_share_one_port_each_serves_and_sigterm_drains_and_stops_them_all(
    redis_server: RedisProcess, tmp_path: Path
) -> None:
    with supervised(redis_server.url, tmp_path, 2) as sup:
        pids = sup.wait_serving(2)
        assert set(pids) == {f"{sup.name}-w0", f"{sup.name}-w1"}
        assert len(set(pids.values())) == 2
        # fresh connections to the one port reach both workers (the kernel hashes each
        # connection's addresses; 2**-39 is the chance that 40 all reach the same one)
        seen = set()
        for _ in range(40):
            status, body = await get_json(f"http://127.0.0.1:{sup.port}/health")
            assert status == 200, body
            seen.add(body["instanceId"])
        assert seen == set(pids)

        # a client of either worker is moved on as at any SIGTERM: warned, then 1012
        client = await Client.connect(f"ws://127.0.0.1:{sup.port}/")
        try:
            code, took = await asyncio.to_thread(sup.terminate)
            assert await client.closed_with(5) == 1012
            assert [m["type"] for m in client.messages][-1] == "shutdown_warning"
        finally:
            await client.close()

    assert code == 0, sup.log
    assert took < DRAIN_TIMEOUT_S + EXIT_MARGIN_S
    assert not [pid for pid in pids.values() if alive(pid)]
    assert "SIGTERM: stopping 2 workers" in sup.log


# -- a port per worker ---------------------------------------------------------------------


async def test_with_a_port_per_worker_each_port_answers_ready_with_its_own_instance_id(
    redis_server: RedisProcess, tmp_path: Path
) -> None:
    port = consecutive_free_ports(4)
    metrics = port + 2
    with supervised(
        redis_server.url, tmp_path, 2, "--port-per-worker", PORT=str(port), METRICS_PORT=str(metrics)
    ) as sup:
        pids = sup.wait_serving(2)
        for i in range(2):
            status, body = await get_json(f"http://127.0.0.1:{port + i}/ready")
            assert (status, body["instanceId"], body["ready"]) == (200, f"{sup.name}-w{i}", True), body
            # and each worker's metrics are on its own metrics port
            async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{metrics + i}/metrics") as r:
                assert r.status == 200
        code, _ = await asyncio.to_thread(sup.terminate)
    assert code == 0, sup.log
    assert not [pid for pid in pids.values() if alive(pid)]


async def test_a_worker_that_dies_is_restarted_on_its_port_under_its_name(
    redis_server: RedisProcess, tmp_path: Path
) -> None:
    port = consecutive_free_ports(2)
    with supervised(redis_server.url, tmp_path, 2, "--port-per-worker", PORT=str(port)) as sup:
        pids = sup.wait_serving(2)
        doomed, spared = f"{sup.name}-w1", f"{sup.name}-w0"
        os.kill(pids[doomed], signal.SIGKILL)

        loop = asyncio.get_running_loop()
        deadline = loop.time() + RESTART_FIRST_S + RESTART_JITTER_S + 15
        while True:
            now = workers_of(sup.name)
            status, body = await get_json(f"http://127.0.0.1:{port + 1}/ready")
            if status == 200 and now.get(doomed, pids[doomed]) != pids[doomed]:
                break
            assert loop.time() < deadline, f"worker 1 not back: {now} {status} {body}\n{sup.log}"
            await asyncio.sleep(0.05)
        assert body["instanceId"] == doomed
        assert now[spared] == pids[spared]
        assert f"worker 1 (pid {pids[doomed]}) exited with -9" in sup.log
        # the first pause, jittered (it was exactly 0.5 s before the restarts went through tenacity)
        pause = re.search(r"restarting it in ([0-9.]+)s", sup.log)
        assert pause is not None, sup.log
        assert RESTART_FIRST_S <= float(pause[1]) <= RESTART_FIRST_S + RESTART_JITTER_S + 0.05
        code, _ = await asyncio.to_thread(sup.terminate)
    assert code == 0, sup.log
    assert not workers_of(sup.name)


async def test_a_worker_that_cannot_start_stops_the_others_and_the_supervisor_fails(
    redis_server: RedisProcess, tmp_path: Path
) -> None:
    port = consecutive_free_ports(2)
    with socket.socket() as squatter:
        # worker 1's port is taken: it cannot listen
        squatter.bind(("127.0.0.1", port + 1))
        squatter.listen()
        with supervised(redis_server.url, tmp_path, 2, "--port-per-worker", PORT=str(port)) as sup:
            assert sup.proc is not None
            code = await asyncio.to_thread(sup.proc.wait, 30)
        # a port in use is a refused start-up (exit 2, one line), and the supervisor passes it on
        assert code == 2, sup.log
        assert "worker 1 exited with 2 while starting; stopping the others" in sup.log
        assert not workers_of(sup.name)


async def test_workers_of_a_supervisor_killed_with_sigkill_drain_and_exit_on_their_own(
    redis_server: RedisProcess, tmp_path: Path
) -> None:
    with supervised(redis_server.url, tmp_path, 2) as sup:
        pids = sup.wait_serving(2)
        assert sup.proc is not None
        sup.proc.kill()
        sup.proc.wait()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DRAIN_TIMEOUT_S + EXIT_MARGIN_S
        while left := [pid for pid in pids.values() if alive(pid)]:
            assert loop.time() < deadline, f"workers {left} outlived their supervisor"
            await asyncio.sleep(0.05)
        assert f"{sup.name}-w0] service: draining" in sup.log


# -- refusals ------------------------------------------------------------------------------


def run_main(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    return subprocess.run(
        [sys.executable, "-m", "service", *args], env={**base, **env}, capture_output=True, text=True, timeout=30
    )


def test_workers_without_redis_url_exit_2_and_say_why() -> None:
    result = run_main("--workers", "2", PORT=str(free_port()))
    assert result.returncode == 2
    assert result.stderr.startswith(
        "configuration error: --workers needs REDIS_URL (or REDIS_SENTINELS): with the embedded engine"
    )
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--port-per-worker",), "--port-per-worker needs --workers"),
        (("--workers", "2", "--reuse-port"), "--workers sets up its workers' ports itself"),
        (("--workers", "two"), "argument --workers: invalid int value"),
    ],
)
def test_inconsistent_flags_exit_2_with_usage(args: tuple[str, ...], message: str) -> None:
    result = run_main(*args, REDIS_URL="redis://127.0.0.1:1/0")
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stderr.startswith("usage: python -m service")


# -- the plan ------------------------------------------------------------------------------


def settings(**env: str) -> Settings:
    return Settings.from_env({"REDIS_URL": "redis://r:6379/0", "INSTANCE_ID": "web", **env})


def test_a_plan_names_each_worker_and_offsets_only_what_must_differ() -> None:
    shared = Plan.build(settings(PORT="8000", METRICS_PORT="9100"), 3)
    assert [shared.port(i) for i in range(3)] == [8000, 8000, 8000]
    assert [shared.metrics_port(i) for i in range(3)] == [9100, 9101, 9102]
    assert shared.env(2, {"KEEP": "1", "PORT": "1"}) == {
        "KEEP": "1",
        "PORT": "8000",
        "INSTANCE_ID": "web-w2",
        "METRICS_PORT": "9102",
    }
    assert shared.argv(7)[-3:] == ["--ready-fd", "7", "--reuse-port"]

    own = Plan.build(settings(PORT="8000"), 3, port_per_worker=True)
    assert [own.port(i) for i in range(3)] == [8000, 8001, 8002]
    assert "METRICS_PORT" not in own.env(0, {})
    assert "--reuse-port" not in own.argv(7)
    assert own.stop_bound_s == Settings().drain_timeout_s + EXIT_MARGIN_S


def test_a_long_instance_id_keeps_its_worker_suffix() -> None:
    plan = Plan.build(settings(INSTANCE_ID="x" * 64), 12)
    ids = [plan.instance_id(i) for i in range(12)]
    assert len(set(ids)) == 12
    assert all(Settings.from_env({"INSTANCE_ID": i}).instance_id == i for i in ids)


def test_the_drain_notice_lengthens_the_stop_bound() -> None:
    plan = Plan.build(settings(DRAIN_NOTICE_S="3", DRAIN_TIMEOUT_S="4"), 2)
    assert plan.stop_bound_s == 3 + 4 + EXIT_MARGIN_S


@pytest.mark.parametrize(
    ("env", "workers", "per_worker", "message"),
    [
        ({"REDIS_URL": ""}, 2, False, "--workers needs REDIS_URL"),
        ({}, 0, False, "--workers must be between 1 and 64, not 0"),
        ({}, 65, False, "--workers must be between 1 and 64, not 65"),
        ({"PORT": "65535"}, 2, True, "PORT 65535 + 1 is past 65535"),
        ({"METRICS_PORT": "65535"}, 2, False, "METRICS_PORT 65535 + 1 is past 65535"),
        ({"PORT": "8000", "METRICS_PORT": "8001"}, 2, True, "overlap their service ports (PORT 8000 + 0…1)"),
        ({"PORT": "8001", "METRICS_PORT": "8000"}, 2, False, "overlap their service ports (PORT 8001)"),
    ],
)
def test_a_plan_that_cannot_work_is_refused(env: dict[str, str], workers: int, per_worker: bool, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):
        Plan.build(settings(**env), workers, per_worker)


def test_the_same_ports_are_fine_when_they_do_not_overlap() -> None:
    plan = Plan.build(settings(PORT="8000", METRICS_PORT="8002"), 2, port_per_worker=True)
    assert [plan.metrics_port(i) for i in range(2)] == [8002, 8003]


# -- the restart policy, with stand-in workers ----------------------------------------------

#: a worker that says it listens, serves for argv[2] seconds and crashes (a SIGTERM ends it at once)
CRASHING_WORKER = (
    "import os, sys, time; os.write(int(sys.argv[1]), b'ready'); time.sleep(float(sys.argv[2])); sys.exit(3)"
)


def fast_restarts(monkeypatch: pytest.MonkeyPatch, restarts: int) -> None:
    """Give up after `restarts` quick restarts, each after 10 ms or so."""
    monkeypatch.setattr(workers, "QUICK_RESTARTS", restarts)
    monkeypatch.setattr(workers, "RESTART_FIRST_S", 0.01)
    monkeypatch.setattr(workers, "RESTART_JITTER_S", 0.01)


@dataclass(frozen=True)
class CrashingPlan(Plan):
    lifetime_s: float = 0.05

    def argv(self, ready_fd: int) -> list[str]:
        return [sys.executable, "-c", CRASHING_WORKER, str(ready_fd), str(self.lifetime_s)]


async def test_a_worker_that_keeps_crashing_is_given_up_and_the_supervisor_exits_1(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    fast_restarts(monkeypatch, 2)
    sup = Supervisor(CrashingPlan.build(settings(), 1))
    with caplog.at_level(logging.INFO, logger="service.workers"):
        code = await asyncio.wait_for(sup.run(), 20)
    assert code == 1
    messages = [r.getMessage() for r in caplog.records]
    restarts = [m for m in messages if "restarting it in" in m]
    assert [m.split(" exited with ")[1].split(" after ")[0] for m in restarts] == ["3", "3"]
    assert messages[-1] == "worker 0 exited 3 times in a row (last: 3); stopping all workers"


async def test_a_worker_that_served_long_enough_is_always_restarted_and_a_stop_is_clean(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # every run counts as long enough: each crash starts a new series of one allowed restart
    fast_restarts(monkeypatch, 1)
    monkeypatch.setattr(workers, "STABLE_AFTER_S", 0.0)
    sup = Supervisor(CrashingPlan.build(settings(), 2))
    running = asyncio.create_task(sup.run())
    pids: set[int] = set()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while len(pids) < 6:
        assert not running.done(), running
        assert loop.time() < deadline, pids
        pids.update(slot.proc.pid for slot in sup.slots if slot.proc is not None)
        await asyncio.sleep(0.005)
    # the crashes were dealt with as they came: a stop ends the current workers and says 0
    sup.on_signal(signal.SIGTERM)
    assert await asyncio.wait_for(running, 10) == 0
    assert not [pid for pid in pids if alive(pid)]


async def test_restart_pauses_double_with_jitter_and_each_restart_is_one_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(workers, "QUICK_RESTARTS", 4)
    monkeypatch.setattr(workers, "RESTART_FIRST_S", 0.02)
    monkeypatch.setattr(workers, "RESTART_JITTER_S", 0.01)
    sup = Supervisor(CrashingPlan.build(settings(), 1))
    with caplog.at_level(logging.DEBUG, logger="service.workers"):
        assert await asyncio.wait_for(sup.run(), 20) == 1
    restarts = [r for r in caplog.records if "restarting it in" in r.getMessage()]
    assert {r.levelname for r in restarts} == {"WARNING"}
    pauses = [float(r.getMessage().rsplit(" in ", 1)[1].rstrip("s")) for r in restarts]
    assert len(pauses) == 4
    # 0.02 doubling, plus up to 0.01 at random, as the log line rounds it (to 0.1 s)
    for n, pause in enumerate(pauses):
        assert round(0.02 * 2**n, 1) - 0.05 <= pause <= round(0.02 * 2**n + 0.01, 1) + 0.05, pauses
    # and the policy itself: doubling from the first pause, jittered, bounded
    policy = sup.restarts(sup.slots[0])
    draws = [[policy.wait(retry_state(policy, n)) for _ in range(20)] for n in range(1, 5)]
    for n, values in enumerate(draws):
        assert all(0.02 * 2**n <= v <= 0.02 * 2**n + 0.01 for v in values), values
        assert len(set(values)) > 1, "no jitter"


def retry_state(policy: AsyncRetrying, attempt: int) -> RetryCallState:
    state = RetryCallState(policy, fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    return state


async def test_a_supervisor_stopped_while_it_waits_to_restart_a_worker_stops_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a long pause before the restart: the stop must not wait for it
    monkeypatch.setattr(workers, "RESTART_FIRST_S", 30.0)
    sup = Supervisor(CrashingPlan.build(settings(), 1))
    running = asyncio.create_task(sup.run())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while sup.slots[0].handled is None:
        assert not running.done() and loop.time() < deadline
        await asyncio.sleep(0.01)
    t0 = loop.time()
    sup.on_signal(signal.SIGTERM)
    # the crash was dealt with (and logged); nothing else ran: a clean stop
    assert await asyncio.wait_for(running, 5) == 0
    assert loop.time() - t0 < 2
