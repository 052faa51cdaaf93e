"""A throw-away `redis-server` subprocess for tests: own port, own data dir, never 6379."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

#: The machine's own Redis may listen here; a test server must never take or touch it.
RESERVED_PORT = 6379
#: KEYS is disabled (renamed to nothing) on every test server: any code path that used it would
#: fail a test, which is how the suite shows that the service never scans the keyspace that way.
DEFAULT_ARGS: tuple[str, ...] = ("--save", "", "--appendonly", "no", "--rename-command", "KEYS", "")


class RedisServerNotFound(RuntimeError):
    """`redis-server` is not installed or not on PATH."""


class RedisStartError(RuntimeError):
    """The server exited or did not answer PING in time; the message carries its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (never RESERVED_PORT)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port != RESERVED_PORT:
            return port


def ping(port: int, timeout: float = 0.5) -> bool:
    """True when a server on `port` answers PING with PONG (not LOADING or an error)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisProcess:
    """One `redis-server` bound to 127.0.0.1 on a free port with its own temporary --dir.

    `extra_args` come after the defaults (`--save '' --appendonly no`) and so override them,
    e.g. `RedisProcess("--appendonly", "yes", "--appendfsync", "always")`. `stop()` and
    `kill()` keep port and dir, so `start()` brings the same server back with its AOF data.
    `close()` stops it and removes the dir it created.
    """

    def __init__(
        self,
        *extra_args: str,
        port: int | None = None,
        data_dir: str | Path | None = None,
        startup_timeout: float = 5.0,
        executable: str = "redis-server",
    ) -> None:
        if port == RESERVED_PORT:
            raise ValueError(f"port {RESERVED_PORT} belongs to the machine's Redis; pick another")
        found = shutil.which(executable)
        if found is None:
            raise RedisServerNotFound(
                f"{executable!r} is not on PATH; install Redis (e.g. `apt-get install redis-server`) "
                "to run the tests against a real server"
            )
        self.executable = found
        self.extra_args = tuple(extra_args)
        self.startup_timeout = startup_timeout
        self._fixed_port = port is not None
        self._port = port if port is not None else free_port()
        self._owns_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir is not None else Path(tempfile.mkdtemp(prefix="redis-test-"))
        self._proc: subprocess.Popen[bytes] | None = None
        self._pid: int | None = None
        self._atexit_registered = False

    # -- addresses ------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self._port}/0"

    @property
    def pid(self) -> int:
        if self._pid is None:
            raise RuntimeError("redis-server was never started")
        return self._pid

    @property
    def log_path(self) -> Path:
        return self.data_dir / "redis.log"

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def command_line(self) -> list[str]:
        return [
            self.executable,
            "--bind",
            "127.0.0.1",
            "--port",
            str(self._port),
            "--dir",
            str(self.data_dir),
            "--logfile",
            str(self.log_path),
            "--daemonize",
            "no",
            *DEFAULT_ARGS,
            *self.extra_args,
        ]

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> RedisProcess:
        """Start (or restart) the server and wait until it answers PING."""
        if self.is_running():
            raise RuntimeError(f"redis-server already running as pid {self._pid}")
        # A port that was free when drawn can be taken before the server binds it; only a
        # port we drew ourselves may be replaced, and only before the first start.
        attempts = 1 if self._fixed_port or self._pid is not None else 3
        for attempt in range(attempts):
            try:
                self._spawn()
                return self
            except RedisStartError:
                if attempt == attempts - 1:
                    raise
                self._port = free_port()
        raise AssertionError("unreachable")

    def _spawn(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        out_path = self.data_dir / "stdout.log"
        with out_path.open("ab") as out:
            self._proc = subprocess.Popen(
                self.command_line(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._pid = self._proc.pid
        if not self._atexit_registered:
            atexit.register(self._kill_quietly)
            self._atexit_registered = True
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self._proc = None
                raise RedisStartError(f"redis-server exited with {code} on port {self._port}\n{self.log_tail()}")
            if ping(self._port):
                return
            time.sleep(0.02)
        self.kill()
        raise RedisStartError(
            f"redis-server on port {self._port} did not answer PING within {self.startup_timeout}s\n{self.log_tail()}"
        )

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM, then SIGKILL if the server has not exited after `timeout` seconds."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                proc.wait()
        self._proc = None

    def kill(self) -> None:
        """SIGKILL at once: no shutdown, no final fsync (a crash)."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            self._signal(signal.SIGKILL)
            proc.wait()
        self._proc = None

    def close(self) -> None:
        """Stop the server and remove the data dir if this object created it."""
        self.stop()
        if self._owns_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def _signal(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, sig)

    def _kill_quietly(self) -> None:
        if self.is_running():
            self.kill()

    def log_tail(self, lines: int = 30) -> str:
        parts = []
        for path in (self.data_dir / "stdout.log", self.log_path):
            if path.is_file():
                text = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path.name}\n" + "\n".join(text))
        return "\n".join(parts) or "(no log output)"

    def __enter__(self) -> RedisProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = f"pid {self._pid}" if self.is_running() else "stopped"
        return f"RedisProcess(port={self._port}, {state}, dir={self.data_dir})"
