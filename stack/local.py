"""A production-like stack on this machine: Redis with AOF, N service instances, HAProxy in front.

    python -m stack.local up [--instances 3] [--port 8080] [--host 127.0.0.1] [--dir .stack] …
    python -m stack.local status [--dir .stack]
    python -m stack.local down [--dir .stack] [--purge]

`up` starts, each in the background with a pidfile and a log in the stack dir: Redis
(stack/redis.conf: AOF, noeviction) with its data in <dir>/redis; N instances of `python -m
service` on the ports after the frontend's (PORT+1 …), each its own process, as each would be
its own machine or container in production, so that one can be drained or killed alone; and
HAProxy (stack/haproxy.cfg) on PORT, which health-checks every instance's /ready and balances
WebSockets by open connections. It returns once HAProxy sees every instance up; if anything
fails it stops what it started. `down` stops HAProxy, then the instances, then Redis: SIGTERM,
SIGKILL after a bound, only processes that are still the ones it started; it is idempotent
and keeps the data (`--purge` removes the dir). Stop one instance with `kill -TERM $(cat
<dir>/i1.pid)` to watch a drain behind the balancer.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from service.settings import ConfigError, Settings
from stack.instance import free_port

HERE = Path(__file__).resolve().parent
DEFAULT_DIR = HERE.parent / ".stack"
#: the machine's own Redis may listen here; the stack never takes it
RESERVED_PORT = 6379
#: failed checks before HAProxy takes an instance out (the template's `fall`)
CHECK_FALL = 2
#: AF_UNIX paths are limited to 108 bytes, NUL included
MAX_SOCKET_PATH = 107
INSTALL_HINT = {
    "haproxy": "install it with `apt-get install haproxy` (or `make haproxy`)",
    "redis-server": "install it with `apt-get install redis-server` (or `make redis-server`)",
}


class StackError(RuntimeError):
    """The stack cannot be brought up as asked; the message says why."""


@dataclass(frozen=True)
class Stack:
    """One stack's layout, kept in <dir>/stack.json so that `status` and `down` need only the dir."""

    dir: Path
    instances: int = 3
    host: str = "127.0.0.1"
    port: int = 8080
    #: instance i listens on instance_port + i
    instance_port: int = 8081
    redis_port: int = 6380
    stats_port: int = 8404
    check_interval_ms: int = 500
    drain_notice_s: float = 2.0
    drain_timeout_s: float = 10.0

    @property
    def names(self) -> list[str]:
        return [f"i{i}" for i in range(self.instances)]

    def instance_port_of(self, name: str) -> int:
        return self.instance_port + int(name[1:])

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def admin_socket(self) -> Path:
        return self.dir / "haproxy.sock"

    def pidfile(self, name: str) -> Path:
        return self.dir / f"{name}.pid"

    def log(self, name: str) -> Path:
        return self.dir / f"{name}.log"

    def save(self) -> None:
        data = {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(self).items()}
        (self.dir / "stack.json").write_text(json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, directory: Path) -> Stack | None:
        try:
            data = json.loads((directory / "stack.json").read_text())
        except FileNotFoundError:
            return None
        return cls(**{**data, "dir": Path(data["dir"])})


# -- processes -----------------------------------------------------------------------------


def alive(pid: int) -> bool:
    """The process exists and is not a zombie (an exited child nobody has reaped yet)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def runs(pid: int, marker: str) -> bool:
    """Whether pid is still the program we started (pids are reused after a reboot or a long time)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False
    except OSError:
        return alive(pid)
    return marker.encode() in cmdline and alive(pid)


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def spawn(argv: list[str], env: Mapping[str, str], log: Path, pidfile: Path) -> int:
    """Start argv in its own session, detached from this process's terminal, output appended to log."""
    exe = shutil.which(argv[0]) or argv[0]
    # posix_spawn, not Popen: nothing in this short-lived script should own these processes
    pid = os.posix_spawn(
        exe,
        argv,
        dict(env),
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, str(log), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ],
        setsid=True,
    )
    pidfile.write_text(f"{pid}\n")
    return pid


def reap(pid: int) -> None:
    """Collect an exited child of this process (when `up` stops what it started)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def stop(pids: list[int], bound_s: float, nudge: bool = False) -> list[int]:
    """SIGTERM each, SIGKILL whatever still runs after bound_s; returns the pids killed.

    `nudge` sends a second SIGTERM a moment later: a service instance takes it as "skip the
    drain notice", which only matters while a load balancer still sends it traffic."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    if nudge:
        time.sleep(0.1)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline:
        for pid in pids:
            reap(pid)
        if not any(alive(p) for p in pids):
            return []
        time.sleep(0.05)
    killed = [p for p in pids if alive(p)]
    for pid in killed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for pid in killed:
        while alive(pid):
            reap(pid)
            time.sleep(0.02)
    return killed


def wait_until(what: str, check: Callable[[], bool], timeout_s: float, pid: int, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if not alive(pid):
            raise StackError(f"{what}: process {pid} exited\n{tail(log)}")
        if time.monotonic() > deadline:
            raise StackError(f"{what}: not ready after {timeout_s:.0f}s\n{tail(log)}")
        time.sleep(0.05)


def tail(log: Path, lines: int = 20) -> str:
    try:
        text = log.read_text(errors="replace").splitlines()[-lines:]
    except FileNotFoundError:
        return f"(no {log.name})"
    return f"--- last lines of {log}\n" + "\n".join(text)


# -- probes --------------------------------------------------------------------------------


def redis_pings(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


#: straight to the address: a proxy from the environment must not stand between us and loopback
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_get(url: str, timeout: float = 1.0) -> tuple[int, dict[str, object]]:
    """(status, JSON body) of GET url; (0, {}) when nothing answers."""
    try:
        with _opener.open(url, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        with contextlib.suppress(ValueError):
            return exc.code, json.loads(exc.read() or b"{}")
        return exc.code, {}
    except (OSError, ValueError):
        return 0, {}


def answers(url: str) -> Callable[[], bool]:
    return lambda: http_get(url)[0] == 200


def haproxy_command(stack: Stack, command: str) -> str:
    """One command on HAProxy's admin socket; empty when it does not answer."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(1.0)
            s.connect(str(stack.admin_socket))
            s.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()
    except OSError:
        return ""


def server_states(stack: Stack) -> dict[str, str]:
    """HAProxy's view of each instance: UP, DOWN, "UP 1/2" (going down), MAINT…, and after a
    slash the result of its last check ("UP/L7OK"; HAProxy counts a server up before any)."""
    text = haproxy_command(stack, "show stat").lstrip("# ")
    rows = csv.DictReader(line for line in text.splitlines() if line)
    return {
        r["svname"]: f"{r['status']}/{r['check_status']}"
        for r in rows
        if r.get("pxname") == "instances" and r["svname"] in stack.names
    }


def port_free(port: int) -> bool:
    with socket.socket() as s:
        # as the servers will: a port with connections in TIME_WAIT is free to listen on
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# -- commands ------------------------------------------------------------------------------


def instance_env(stack: Stack, name: str, base: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in base.items() if k not in ("METRICS_PORT", "FLY_ALLOC_ID")}
    env.update(
        REDIS_URL=stack.redis_url,
        HOST="127.0.0.1",
        PORT=str(stack.instance_port_of(name)),
        INSTANCE_ID=f"stack-{name}",
        # HAProxy sets it to the client's address (stack/haproxy.cfg)
        CLIENT_IP_HEADER="X-Forwarded-For",
        DRAIN_NOTICE_S=str(stack.drain_notice_s),
    )
    return env


def render_haproxy(stack: Stack) -> str:
    servers = "\n".join(f"    server {n} 127.0.0.1:{stack.instance_port_of(n)}" for n in stack.names)
    values = {
        "admin_socket": str(stack.admin_socket),
        "bind": f"{stack.host}:{stack.port}",
        "check_interval_ms": str(stack.check_interval_ms),
        "stats_port": str(stack.stats_port),
        "servers": servers,
    }
    text = (HERE / "haproxy.cfg").read_text()
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    if "{{" in text:
        raise StackError(
            f"stack/haproxy.cfg has a placeholder the script does not fill: {text[text.index('{{') :][:40]}"
        )
    return text


def running(stack: Stack) -> dict[str, int]:
    """The stack's processes that are still the ones it started, by name."""
    markers = {"redis": "redis-server", "haproxy": "haproxy", **dict.fromkeys(stack.names, "service")}
    found = {}
    for name, marker in markers.items():
        pid = read_pid(stack.pidfile(name))
        if pid is not None and runs(pid, marker):
            found[name] = pid
    return found


def preflight(stack: Stack) -> None:
    for program in ("redis-server", "haproxy"):
        if shutil.which(program) is None:
            raise StackError(f"{program} not found: {INSTALL_HINT[program]}")
    ports = {
        "--port": stack.port,
        "--redis-port": stack.redis_port,
        "--stats-port": stack.stats_port,
        **{f"instance {n}": stack.instance_port_of(n) for n in stack.names},
    }
    if RESERVED_PORT in ports.values():
        raise StackError(f"port {RESERVED_PORT} is left to the machine's own Redis; choose other ports")
    if len(set(ports.values())) < len(ports):
        raise StackError(f"the stack's ports overlap: {ports}")
    if max(ports.values()) > 65_535:
        raise StackError(f"ports past 65535: {ports}")
    taken = [f"{what} ({port})" for what, port in ports.items() if not port_free(port)]
    if taken:
        raise StackError(f"ports already in use: {', '.join(taken)}")
    if len(str(stack.admin_socket)) > MAX_SOCKET_PATH:
        raise StackError(f"{stack.admin_socket} is too long for a unix socket path; choose a shorter --dir")


def up(stack: Stack, env: Mapping[str, str]) -> None:
    stack.dir.mkdir(parents=True, exist_ok=True)
    already = running(stack)
    if already:
        raise StackError(f"a stack is already running in {stack.dir} ({already}); run `down` first")
    # every instance's configuration, checked before anything starts
    envs = {n: instance_env(stack, n, env) for n in stack.names}
    try:
        settings = Settings.from_env(envs[stack.names[0]])
    except ConfigError as exc:
        raise StackError(f"configuration error: {exc}") from None
    stack = dataclasses.replace(stack, drain_timeout_s=settings.drain_timeout_s)
    preflight(stack)
    stack.save()
    started: list[int] = []
    try:
        data = stack.dir / "redis"
        data.mkdir(exist_ok=True)
        redis_argv = ["redis-server", str(HERE / "redis.conf"), "--port", str(stack.redis_port)]
        redis_argv += ["--dir", str(data), "--logfile", str(stack.log("redis")), "--daemonize", "no"]
        pid = spawn(redis_argv, env, stack.log("redis"), stack.pidfile("redis"))
        started.append(pid)
        wait_until("redis", lambda: redis_pings(stack.redis_port), 10, pid, stack.log("redis"))

        instances = {name: spawn_instance(stack, name, envs[name]) for name in stack.names}
        started += instances.values()
        for name, pid in instances.items():
            wait_instance(stack, name, pid)

        config = stack.dir / "haproxy.cfg"
        config.write_text(render_haproxy(stack))
        check = subprocess.run(["haproxy", "-c", "-q", "-f", str(config)], capture_output=True, text=True)
        if check.returncode != 0:
            raise StackError(f"haproxy refuses {config}:\n{check.stdout}{check.stderr}")
        started.append(start_haproxy(stack, env))
    except BaseException:
        stop([p for p in started if alive(p)], 5.0)
        for name in ("redis", "haproxy", *stack.names):
            stack.pidfile(name).unlink(missing_ok=True)
        raise


def spawn_instance(stack: Stack, name: str, env: Mapping[str, str]) -> int:
    """Starts instance `name` (its environment from instance_env) without waiting for it."""
    return spawn([sys.executable, "-m", "service"], env, stack.log(name), stack.pidfile(name))


def wait_instance(stack: Stack, name: str, pid: int) -> None:
    url = f"http://127.0.0.1:{stack.instance_port_of(name)}/ready"
    wait_until(f"instance {name}", answers(url), 30, pid, stack.log(name))


def restart_instance(stack: Stack, name: str, env: Mapping[str, str]) -> int:
    """Starts instance `name` again (after it stopped or was killed) and waits until it is
    ready and HAProxy has it back in rotation: a deploy's step."""
    pid = spawn_instance(stack, name, instance_env(stack, name, env))
    wait_instance(stack, name, pid)
    wait_until(f"haproxy sees {name}", lambda: server_states(stack).get(name) == "UP/L7OK", 15, pid, stack.log(name))
    return pid


def start_haproxy(stack: Stack, env: Mapping[str, str]) -> int:
    """Starts HAProxy on the stack's rendered configuration and waits until every instance
    is up behind it."""
    config = stack.dir / "haproxy.cfg"
    pid = spawn(["haproxy", "-db", "-f", str(config)], env, stack.log("haproxy"), stack.pidfile("haproxy"))

    def all_up() -> bool:
        states = server_states(stack)
        return len(states) == stack.instances and all(s == "UP/L7OK" for s in states.values())

    wait_until("haproxy", all_up, 15, pid, stack.log("haproxy"))
    return pid


def free_ports(count: int, consecutive: int) -> list[int]:
    """`count` free ports, the first `consecutive` of them in a row (the instances'), all
    different: a stack's ports on a machine where other stacks and tests run."""
    for _ in range(50):
        first = free_port()
        row = list(range(first, first + consecutive))
        if row[-1] > 65_535 or RESERVED_PORT in row or not all(port_free(p) for p in row):
            continue
        others: set[int] = set()
        while len(others) < count - consecutive:
            port = free_port()
            if port not in row and port != RESERVED_PORT:
                others.add(port)
        return row + sorted(others)
    raise StackError("no free ports")


def down(stack: Stack) -> list[str]:
    """Stop whatever of the stack still runs; returns lines saying what happened."""
    procs = running(stack)
    said = []
    for group, bound, nudge in (
        (["haproxy"], 5.0, False),
        (stack.names, stack.drain_notice_s + stack.drain_timeout_s + 5.0, True),
        (["redis"], 10.0, False),
    ):
        pids = {name: procs[name] for name in group if name in procs}
        if pids:
            killed = stop(list(pids.values()), bound, nudge)
            for name, pid in pids.items():
                said.append(f"{name} (pid {pid}) " + (f"killed after {bound:.0f}s" if pid in killed else "stopped"))
        for name in group:
            stack.pidfile(name).unlink(missing_ok=True)
    # a hard-stopped HAProxy leaves its socket file behind
    if "haproxy" not in running(stack):
        stack.admin_socket.unlink(missing_ok=True)
    return said


def status(stack: Stack) -> tuple[bool, list[str]]:
    procs = running(stack)
    states = server_states(stack) if "haproxy" in procs else {}
    lines = [
        f"stack in {stack.dir}: http://{stack.host}:{stack.port}/ (HAProxy stats: http://127.0.0.1:{stack.stats_port}/)"
    ]
    lines.append(f"  {'redis':<8} {_pid(procs, 'redis')}  127.0.0.1:{stack.redis_port}  log {stack.log('redis')}")
    for name in stack.names:
        port = stack.instance_port_of(name)
        detail = ""
        if name in procs:
            code, body = http_get(f"http://127.0.0.1:{port}/ready")
            detail = f"  /ready {code or '-'}, {body.get('connections', '?')} sockets, haproxy: {states.get(name, '?')}"
        lines.append(f"  {name:<8} {_pid(procs, name)}  127.0.0.1:{port}{detail}")
    lines.append(f"  {'haproxy':<8} {_pid(procs, 'haproxy')}  {stack.host}:{stack.port}  socket {stack.admin_socket}")
    everything = len(procs) == stack.instances + 2
    return everything, lines


def _pid(procs: Mapping[str, int], name: str) -> str:
    return f"pid {procs[name]:<7} running" if name in procs else f"{'-':<11} stopped"


# -- command line --------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m stack.local", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up_cmd = sub.add_parser("up", help="start Redis, the instances and HAProxy in the background")
    up_cmd.add_argument("--instances", type=int, default=3, help="service instances (default 3)")
    up_cmd.add_argument("--port", type=int, default=8080, help="HAProxy's port (default 8080)")
    up_cmd.add_argument("--host", default="127.0.0.1", help="HAProxy's bind address (0.0.0.0: reachable from the LAN)")
    up_cmd.add_argument("--instance-port", type=int, help="first instance's port (default PORT+1; then +1 each)")
    up_cmd.add_argument("--redis-port", type=int, default=6380, help="Redis's port (default 6380)")
    up_cmd.add_argument("--stats-port", type=int, default=8404, help="HAProxy's stats page (default 8404)")
    up_cmd.add_argument(
        "--check-interval-ms", type=int, default=500, help="HAProxy's /ready check interval (default 500)"
    )
    up_cmd.add_argument(
        "--drain-notice",
        type=float,
        help="DRAIN_NOTICE_S of every instance (default: long enough for HAProxy's checks to take it out)",
    )
    for name, text in (("status", "show what runs"), ("down", "stop everything, keep the data")):
        cmd = sub.add_parser(name, help=text)
        if name == "down":
            cmd.add_argument("--purge", action="store_true", help="also delete the stack dir (data and logs)")
    for cmd in sub.choices.values():
        cmd.add_argument("--dir", type=Path, default=DEFAULT_DIR, help=f"stack dir (default {DEFAULT_DIR})")
    args = parser.parse_args(argv)
    if args.command == "up":
        if not 1 <= args.instances <= 32:
            parser.error("--instances must be between 1 and 32")
        if not 50 <= args.check_interval_ms <= 60_000:
            parser.error("--check-interval-ms must be between 50 and 60000")
        if args.drain_notice is not None and not 0 <= args.drain_notice <= 600:
            parser.error("--drain-notice must be between 0 and 600")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    directory: Path = args.dir.resolve()
    if args.command == "up":
        # long enough for `fall` failed checks, one interval of phase, and the check's own timeout
        notice = (CHECK_FALL + 1) * args.check_interval_ms / 1000 + 0.5
        stack = Stack(
            dir=directory,
            instances=args.instances,
            host=args.host,
            port=args.port,
            instance_port=args.instance_port or args.port + 1,
            redis_port=args.redis_port,
            stats_port=args.stats_port,
            check_interval_ms=args.check_interval_ms,
            drain_notice_s=notice if args.drain_notice is None else args.drain_notice,
        )
        try:
            up(stack, os.environ)
        except StackError as exc:
            print(f"stack up failed: {exc}", file=sys.stderr)
            return 1
        print("\n".join(status(Stack.load(directory) or stack)[1]))
        return 0
    saved = Stack.load(directory)
    if saved is None:
        print(f"no stack in {directory}")
        return 0 if args.command == "down" else 1
    if args.command == "status":
        ok, lines = status(saved)
        print("\n".join(lines))
        return 0 if ok else 1
    print("\n".join(down(saved)) or "nothing was running")
    if args.purge:
        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
