"""Real Redis topologies for tests: a Sentinel-managed primary/replica pair, and a 3-primary Cluster.

Built from RedisProcess servers on free ports with their own data dirs, so a test can kill
any member by pid. Nothing here touches the machine's own Redis on 6379.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from stack.redis_server import RESERVED_PORT, RedisProcess, RedisStartError, free_port, ping

MASTER_NAME = "mymaster"


def command(port: int, *args: str, timeout: float = 2.0) -> str:
    """One command through redis-cli, its reply as text ('' when the server does not answer)."""
    try:
        out = subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(port), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return ""
    return out.stdout.strip()


def wait_for(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.05)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


class SentinelProcess:
    """`redis-server <conf> --sentinel` on a free port, with its own config file (Sentinel rewrites it)."""

    def __init__(self, primary_port: int, quorum: int, down_after_ms: int, failover_timeout_ms: int) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="sentinel-test-"))
        self.conf = self.dir / "sentinel.conf"
        self.conf.write_text(
            "\n".join(
                [
                    "bind 127.0.0.1",
                    f"port {self.port}",
                    f"dir {self.dir}",
                    f"logfile {self.dir / 'sentinel.log'}",
                    f"sentinel monitor {MASTER_NAME} 127.0.0.1 {primary_port} {quorum}",
                    f"sentinel down-after-milliseconds {MASTER_NAME} {down_after_ms}",
                    f"sentinel failover-timeout {MASTER_NAME} {failover_timeout_ms}",
                    f"sentinel parallel-syncs {MASTER_NAME} 1",
                    "",
                ]
            )
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> SentinelProcess:
        self.proc = subprocess.Popen(
            ["redis-server", str(self.conf), "--sentinel"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RedisStartError(f"sentinel exited with {self.proc.returncode}: {self.log()}")
            if ping(self.port):
                return self
            time.sleep(0.02)
        raise RedisStartError(f"sentinel on {self.port} did not answer: {self.log()}")

    def log(self) -> str:
        path = self.dir / "sentinel.log"
        return path.read_text(errors="replace")[-3000:] if path.is_file() else ""

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


#: On every data node: a primary refuses writes unless a replica acknowledged within 1 s, so a
#: primary that was failed over while it hung cannot take writes when it wakes (they would be
#: lost when Sentinel turns it into a replica).
MIN_REPLICAS_ARGS = ("--min-replicas-to-write", "1", "--min-replicas-max-lag", "1")
#: A replica that must resync in full after a failover (the old primary's replica, ahead of
#: the promoted one by what the old primary took on waking) would wait out Redis's default
#: 5 s diskless-sync delay, and with min-replicas-to-write the new primary refuses every
#: write until it is back
FAST_RESYNC_ARGS = ("--repl-diskless-sync-delay", "0")


class Topology:
    """Started by `with`, closed on leaving it, and closed too if starting fails halfway."""

    def start(self) -> Self:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class SentinelSet(Topology):
    """A primary, two replicas and three sentinels (quorum 2), failing over within a few seconds.

    Two replicas, so that with min-replicas-to-write 1 the primary elected after losing one
    server still has a replica and accepts writes."""

    def __init__(self, down_after_ms: int = 1000, failover_timeout_ms: int = 4000, min_replicas: bool = True) -> None:
        extra = (*FAST_RESYNC_ARGS, *(MIN_REPLICAS_ARGS if min_replicas else ()))
        self.primary = RedisProcess("--appendonly", "yes", *extra)
        self.replicas = [
            RedisProcess("--appendonly", "yes", "--replicaof", "127.0.0.1", str(self.primary.port), *extra)
            for _ in range(2)
        ]
        self.down_after_ms = down_after_ms
        self.failover_timeout_ms = failover_timeout_ms
        self.sentinels: list[SentinelProcess] = []

    @property
    def servers(self) -> list[RedisProcess]:
        return [self.primary, *self.replicas]

    def server(self, port: int) -> RedisProcess:
        return next(s for s in self.servers if s.port == port)

    @property
    def addresses(self) -> str:
        """The REDIS_SENTINELS value."""
        return ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)

    def master_port(self) -> int:
        """The primary's port as the sentinels now name it (the first that answers)."""
        for s in self.sentinels:
            reply = command(s.port, "SENTINEL", "get-master-addr-by-name", MASTER_NAME).split()
            if len(reply) == 2:
                return int(reply[1])
        raise RuntimeError("no sentinel names a primary")

    def start(self) -> SentinelSet:
        self.primary.start()
        for r in self.replicas:
            r.start()
        for r in self.replicas:
            wait_for(lambda r=r: "master_link_status:up" in command(r.port, "INFO", "replication"), 10, "replica")
        for _ in range(3):
            s = SentinelProcess(self.primary.port, 2, self.down_after_ms, self.failover_timeout_ms)
            self.sentinels.append(s.start())
        # each sentinel must know the replicas and the other two before a failover can succeed
        wait_for(self._acquainted, 15, "sentinels to discover the replicas and each other")
        return self

    def _acquainted(self) -> bool:
        for s in self.sentinels:
            info = command(s.port, "SENTINEL", "master", MASTER_NAME).split("\n")
            fields = dict(zip(info[0::2], info[1::2], strict=False))
            if fields.get("num-slaves") != str(len(self.replicas)) or fields.get("num-other-sentinels") != "2":
                return False
        return True

    def close(self) -> None:
        for s in self.sentinels:
            s.close()
        for server in self.servers:
            server.close()


def free_port_pair() -> tuple[int, int]:
    """A client port and a cluster-bus port, both free a moment ago."""
    a, b = free_port(), free_port()
    while b == a or RESERVED_PORT in (a, b):
        b = free_port()
    return a, b


class ClusterSet(Topology):
    """`size` primaries (three by default), slots split evenly by `redis-cli --cluster create`,
    each with `replicas` replicas (none by default). `*extra` are more redis-server arguments
    for every node (e.g. `--cluster-require-full-coverage no`)."""

    def __init__(self, size: int = 3, replicas: int = 0, *extra: str) -> None:
        self.replicas = replicas
        self.nodes: list[RedisProcess] = []
        for _ in range(size * (1 + replicas)):
            port, bus = free_port_pair()
            self.nodes.append(
                RedisProcess(
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--cluster-node-timeout",
                    "2000",
                    "--cluster-port",
                    str(bus),
                    *extra,
                    port=port,
                )
            )

    @property
    def url(self) -> str:
        """A REDIS_URL naming one node; the client learns the rest from it."""
        return f"redis://127.0.0.1:{self.nodes[0].port}"

    def start(self) -> ClusterSet:
        for node in self.nodes:
            node.start()
        out = subprocess.run(
            [
                "redis-cli",
                "--cluster",
                "create",
                *(f"127.0.0.1:{n.port}" for n in self.nodes),
                "--cluster-replicas",
                str(self.replicas),
                "--cluster-yes",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if out.returncode != 0:
            raise RedisStartError(f"redis-cli --cluster create failed:\n{out.stdout}\n{out.stderr}")
        wait_for(self._ok, 20, "cluster_state:ok on every node")
        if self.replicas:
            wait_for(self.replicas_in_sync, 20, "every replica in sync")
        return self

    def _ok(self) -> bool:
        return all("cluster_state:ok" in command(n.port, "CLUSTER", "INFO") for n in self.nodes if n.is_running())

    def replica_of(self, primary: RedisProcess) -> RedisProcess:
        """The node replicating `primary` (by CLUSTER NODES: its `master` field is the primary's id)."""
        rows = [line.split() for line in command(primary.port, "CLUSTER", "NODES").splitlines()]
        primary_id = next(r[0] for r in rows if "myself" in r[2])
        port = next(int(r[1].split("@")[0].rsplit(":", 1)[1]) for r in rows if r[3] == primary_id)
        return next(n for n in self.nodes if n.port == port)

    def replicas_in_sync(self) -> bool:
        """Every replica attached to its primary with the link up."""
        for n in self.nodes:
            info = command(n.port, "INFO", "replication")
            if "role:slave" in info and "master_link_status:up" not in info:
                return False
        return True

    def slot_ranges(self) -> list[tuple[int, int, int]]:
        """(first slot, last slot, primary's port) of every range the cluster serves now."""
        ranges = []
        for line in command(self.nodes[0].port, "CLUSTER", "NODES").splitlines():
            parts = line.split()
            if "master" not in parts[2]:
                continue
            port = int(parts[1].split("@")[0].rsplit(":", 1)[1])
            for rng in parts[8:]:
                lo, _, hi = rng.partition("-")
                if lo.isdigit():
                    ranges.append((int(lo), int(hi or lo), port))
        return ranges

    def node_for_slot(self, slot: int) -> RedisProcess:
        port = next((p for lo, hi, p in self.slot_ranges() if lo <= slot <= hi), None)
        if port is None:
            raise LookupError(slot)
        return next(n for n in self.nodes if n.port == port)

    def close(self) -> None:
        for node in self.nodes:
            node.close()
