"""Process figures for the load benchmark: CPU time and memory from /proc, and py-spy profiles.

Linux only: everything is read from /proc, so the benchmark needs no extra dependency to
measure a process it did not start (given its pid).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of `pid`, children it has reaped included.

    Children count because Redis does its AOF rewrites in a forked child: that work is
    part of what the load costs Redis.
    """
    raw = Path(f"/proc/{pid}/stat").read_text()
    # the command name (field 2) may hold spaces or parentheses: split after its last ')'
    fields = raw[raw.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state); utime, stime, cutime, cstime are fields 14-17
    utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
    return (utime + stime + cutime + cstime) / CLOCK_TICKS


def memory_kb(pid: int) -> tuple[int, int]:
    """(peak resident set VmHWM, current resident set VmRSS) of `pid`, in KiB."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            found[name] = int(value.split()[0])
    return found.get("VmHWM", 0), found.get("VmRSS", 0)


@dataclass
class ProcWatch:
    """One process whose CPU and memory a run reports."""

    name: str
    pid: int
    cpu_start: float = 0.0
    cpu_s: float = 0.0
    peak_rss_kb: int = 0
    rss_kb: int = 0

    def begin(self) -> None:
        self.cpu_start = cpu_seconds(self.pid)

    def end(self) -> None:
        self.cpu_s = cpu_seconds(self.pid) - self.cpu_start
        self.peak_rss_kb, self.rss_kb = memory_kb(self.pid)


# -- profiles -------------------------------------------------------------------------------

#: a py-spy frame in raw (collapsed) output: "function (path/to/file.py:123)"
FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


#: frames on (nearly) every stack of an asyncio process: the event loop's own scaffolding,
#: left out of the inclusive view because they say nothing about where the time goes
SCAFFOLDING = frozenset(
    {
        "<module>",
        "_run_code",
        "_run_module_as_main",
        "main",
        "run",
        "Runner.run",
        "BaseEventLoop.run_until_complete",
        "BaseEventLoop.run_forever",
        "BaseEventLoop._run_once",
        "Handle._run",
    }
)


def py_spy() -> str | None:
    """The py-spy executable next to this interpreter, or on PATH."""
    local = Path(sys.executable).parent / "py-spy"
    if local.is_file():
        return str(local)
    return shutil.which("py-spy")


def can_attach(exe: str) -> str | None:
    """None when py-spy can read a process of ours; else why not (e.g. ptrace refused)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        done = subprocess.run([exe, "dump", "--pid", str(child.pid)], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return "py-spy dump did not answer within 20 s"
    finally:
        child.kill()
        child.wait()
    if done.returncode != 0:
        return (done.stderr or done.stdout).strip().splitlines()[-1] if (done.stderr or done.stdout) else "failed"
    return None


def relative_path(path: str) -> str:
    """A frame's file relative to its import root: py-spy mostly writes it so already
    (`asyncio/events.py`); absolute paths are cut after site-packages or the stdlib folder."""
    for marker in ("site-packages/", "dist-packages/"):
        if marker in path:
            return path.split(marker, 1)[1]
    stdlib = re.search(r"lib/python3\.\d+/(.*)", path)
    if stdlib:
        return stdlib.group(1)
    if path.startswith("/"):
        return "/".join(path.rsplit("/", 2)[-2:])
    return path


def short_frame(frame: str) -> str:
    """`Conn.send (/…/site-packages/aiohttp/web_ws.py:312)` -> `Conn.send (aiohttp/web_ws.py)`."""
    m = FRAME.match(frame)
    if m is None:
        return frame
    return f"{m.group('func')} ({relative_path(m.group('file'))})"


def area(frame: str) -> str:
    """The top-level package or module a frame belongs to (`asyncio`, `redis`, `service`)."""
    m = FRAME.match(frame)
    path = relative_path(m.group("file")) if m else frame
    return path.split("/", 1)[0].removesuffix(".py") or "?"


@dataclass
class ProfileSummary:
    samples: int
    #: leaf frame (where the CPU actually was), share of samples, highest first
    self_top: list[tuple[str, float]]
    #: frames on the stack (time spent in it and below), share of samples, highest first
    inclusive_top: list[tuple[str, float]]
    #: self time by library/package
    areas: list[tuple[str, float]]

    def lines(self, top: int = 8) -> list[str]:
        out = [f"samples: {self.samples}", "self time (where the CPU was):"]
        out += [f"  {share:5.1f}%  {name}" for name, share in self.self_top[:top]]
        out.append("by top-level package or module (self time):")
        out += [f"  {share:5.1f}%  {name}" for name, share in self.areas[:top]]
        out.append("inclusive (time in the function and below; event-loop frames left out):")
        below = [(name, share) for name, share in self.inclusive_top if name.split(" (", 1)[0] not in SCAFFOLDING]
        out += [f"  {share:5.1f}%  {name}" for name, share in below[:top]]
        return out


def summarize_collapsed(text: str) -> ProfileSummary:
    """Summary of py-spy's raw output: one `frame;frame;…;leaf count` line per distinct stack."""
    leaf: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    total = 0
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        # the first entry may be the thread or process name py-spy puts in front
        frames = [f for f in stack.split(";") if f and FRAME.match(f)]
        if not frames:
            continue
        total += count
        leaf[short_frame(frames[-1])] += count
        areas[area(frames[-1])] += count
        for name in {short_frame(f) for f in frames}:
            inclusive[name] += count

    def shares(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, 100.0 * n / total) for name, n in counter.most_common()] if total else []

    return ProfileSummary(total, shares(leaf), shares(inclusive), shares(areas))
