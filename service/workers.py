"""`python -m service --workers N`: N service processes on one host, kept by a small supervisor.

Each worker is an ordinary `python -m service` process with its own event loop, Redis
connections and instance id (`<INSTANCE_ID>-w<i>`); they share nothing but Redis, exactly as
instances on different hosts do. Either all workers listen on PORT with SO_REUSEPORT (the
kernel spreads new connections over them), or, with `--port-per-worker`, worker i listens on
PORT+i so that a load balancer can check and route to each one. METRICS_PORT, when set, is
offset the same way in both modes: each worker's metrics are its own and must be scraped
separately.

The supervisor only starts, watches and stops. A worker reports that it listens by writing
to a pipe it inherits (`--ready-fd`); if one fails before that at start-up, the supervisor
stops the others and exits with that worker's code (2 for a refused configuration). A worker
that dies later is restarted after about 0.5, 1, 2, 4 and 8 s (each pause with up to 0.25 s
added at random); a sixth exit in a row, without 30 s of service in between, stops every
worker and exits 1, so a crash loop reaches whoever runs the supervisor (systemd,
Kubernetes) instead of being hidden behind the live workers. SIGTERM or SIGINT is forwarded
to every worker, which then drains as usual; a worker still running DRAIN_NOTICE_S +
DRAIN_TIMEOUT_S + 5 s later is killed. Workers run in their own process group, so a
terminal's Ctrl-C reaches them once, through the supervisor; a second signal is forwarded
too and ends their drain notice early. If the supervisor itself is killed (SIGKILL), Linux
sends each worker SIGTERM (PR_SET_PDEATHSIG) and they drain and exit on their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from service.settings import ConfigError, Settings

log = logging.getLogger("service.workers")

MAX_WORKERS = 64
#: how long a worker may take to listen before the supervisor counts it as failed
START_TIMEOUT_S = 60.0
#: beyond its own drain bound, how long a stopping worker gets before SIGKILL
EXIT_MARGIN_S = 5.0
#: the pause before restarting a worker that died, doubling with each exit in a row up to RESTART_MAX_S
#: (then RESTART_JITTER_S more at random)
RESTART_FIRST_S = 0.5
RESTART_MAX_S = 8.0
#: added at random to each pause, so that workers that died together are not all started at once
RESTART_JITTER_S = 0.25
#: restarts in a row before the supervisor gives up: one more exit stops everything
QUICK_RESTARTS = 5
#: a worker that served this long before dying starts a new series of restarts
STABLE_AFTER_S = 30.0
#: exit codes of a worker that stopped because it was told to
STOPPED_CODES = frozenset({0, -signal.SIGTERM, -signal.SIGINT})
#: Linux prctl option: the signal a process gets when its parent dies
PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Plan:
    """Where each of `workers` processes listens and what it is called."""

    settings: Settings
    workers: int
    port_per_worker: bool = False

    @classmethod
    def build(cls, settings: Settings, workers: int, port_per_worker: bool = False) -> Plan:
        """The plan, or a ConfigError saying why these settings cannot run as several workers."""
        if not 1 <= workers <= MAX_WORKERS:
            raise ConfigError(f"--workers must be between 1 and {MAX_WORKERS}, not {workers}")
        if settings.embedded:
            raise ConfigError(
                "--workers needs REDIS_URL (or REDIS_SENTINELS): with the embedded engine every worker would keep "
                "its own games in memory, and players of one game reaching different workers would not see each other"
            )
        plan = cls(settings, workers, port_per_worker)
        service_ports = {plan.port(i) for i in range(workers)}
        if max(service_ports) > 65_535:
            raise ConfigError(f"PORT {settings.port} + {workers - 1} is past 65535")
        if settings.metrics_port:
            metrics_ports = {plan.metrics_port(i) for i in range(workers)}
            if max(metrics_ports) > 65_535:
                raise ConfigError(f"METRICS_PORT {settings.metrics_port} + {workers - 1} is past 65535")
            if metrics_ports & service_ports:
                raise ConfigError(
                    f"the workers' metrics ports (METRICS_PORT {settings.metrics_port} + 0…{workers - 1}) "
                    f"overlap their service ports (PORT {settings.port}"
                    + (f" + 0…{workers - 1})" if port_per_worker else ")")
                )
        return plan

    def port(self, i: int) -> int:
        return self.settings.port + i if self.port_per_worker else self.settings.port

    def metrics_port(self, i: int) -> int:
        return self.settings.metrics_port + i if self.settings.metrics_port else 0

    def instance_id(self, i: int) -> str:
        # Settings keep 64 characters of an id; the suffix must survive that
        return f"{self.settings.instance_id[:58]}-w{i}"

    def env(self, i: int, base: Mapping[str, str]) -> dict[str, str]:
        env = {**base, "PORT": str(self.port(i)), "INSTANCE_ID": self.instance_id(i)}
        if self.settings.metrics_port:
            env["METRICS_PORT"] = str(self.metrics_port(i))
        return env

    def argv(self, ready_fd: int) -> list[str]:
        argv = [sys.executable, "-m", "service", "--ready-fd", str(ready_fd)]
        return argv if self.port_per_worker else [*argv, "--reuse-port"]

    @property
    def stop_bound_s(self) -> float:
        return self.settings.drain_notice_s + self.settings.drain_timeout_s + EXIT_MARGIN_S


# -- the worker's side ---------------------------------------------------------------------


def follow_supervisor() -> None:
    """Ask Linux for SIGTERM when the supervisor dies, so that a supervisor killed with SIGKILL
    does not leave its workers serving (and holding its ports) with nobody to stop them."""
    if sys.platform != "linux":
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)


def report_ready(ready_fd: int) -> bool:
    """Tell the supervisor this worker listens; False when nobody reads the pipe any more."""
    try:
        os.write(ready_fd, b"ready\n")
        return True
    except BrokenPipeError:
        return False
    finally:
        with contextlib.suppress(OSError):
            os.close(ready_fd)


# -- the supervisor ------------------------------------------------------------------------


@dataclass
class Slot:
    """Worker i, through however many processes it takes."""

    index: int
    proc: asyncio.subprocess.Process | None = None
    started: float = 0.0
    #: the process whose unexpected exit was already dealt with (restart or give up)
    handled: asyncio.subprocess.Process | None = None


class WorkerExited(Exception):
    """A worker exited without being told to: the retry loop's failed attempt."""

    def __init__(self, pid: int, code: int, served: float) -> None:
        super().__init__(f"pid {pid} exited with {code} after {served:.1f}s")
        self.pid, self.code, self.served = pid, code, served


class Supervisor:
    def __init__(self, plan: Plan, env: Mapping[str, str] | None = None) -> None:
        self.plan = plan
        self.env = dict(os.environ if env is None else env)
        self.slots = [Slot(i) for i in range(plan.workers)]
        self.stopping = asyncio.Event()
        #: whether a signal was already passed on (a second SIGTERM would end the workers' notice)
        self.forwarded = False

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.on_signal, sig)
        try:
            return await self.supervise()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)

    async def supervise(self) -> int:
        started = await asyncio.gather(*(self.start(slot) for slot in self.slots))
        if self.stopping.is_set():
            return await self.stop_all()
        failed = [(slot, code) for slot, code in zip(self.slots, started, strict=True) if code is not None]
        if failed:
            slot, code = failed[0]
            log.error("worker %d exited with %s while starting; stopping the others", slot.index, code)
            await self.stop_all()
            return code if code > 0 else 1
        mode = "one port each" if self.plan.port_per_worker else "one shared port (SO_REUSEPORT)"
        log.info("%d workers serving on %s", self.plan.workers, mode)
        if not self.plan.port_per_worker and not self.plan.settings.metrics_port:
            log.warning("/metrics on the shared port answers for one worker at random: set METRICS_PORT to scrape each")
        keepers = [asyncio.create_task(self.keep(slot)) for slot in self.slots]
        stop = asyncio.create_task(self.stopping.wait())
        await asyncio.wait([stop, *keepers], return_when=asyncio.FIRST_COMPLETED)
        gave_up = False
        for task in keepers:
            if task.done() and task.exception() is not None:
                log.error("watching workers failed; stopping them", exc_info=task.exception())
                gave_up = True
            elif task.done() and task.result():
                gave_up = True
        for task in [stop, *keepers]:
            task.cancel()
        await asyncio.gather(stop, *keepers, return_exceptions=True)
        code = await self.stop_all()
        return 1 if gave_up else code

    def on_signal(self, sig: signal.Signals) -> None:
        if not self.stopping.is_set():
            log.info("%s: stopping %d workers", sig.name, self.plan.workers)
        self.stopping.set()
        self.forward(sig)

    def forward(self, sig: signal.Signals) -> None:
        self.forwarded = True
        for slot in self.slots:
            if slot.proc is not None and slot.proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    slot.proc.send_signal(sig)

    async def start(self, slot: Slot) -> int | None:
        """Start the slot's worker and wait until it listens: None then, else its exit code."""
        if self.stopping.is_set():
            return None
        read_fd, write_fd = os.pipe()
        try:
            try:
                slot.proc = await asyncio.create_subprocess_exec(
                    *self.plan.argv(write_fd),
                    env=self.plan.env(slot.index, self.env),
                    stdin=asyncio.subprocess.DEVNULL,
                    pass_fds=(write_fd,),
                    # the terminal's Ctrl-C goes to the supervisor alone, which passes it on once
                    process_group=0,
                )
            finally:
                os.close(write_fd)
            slot.started = time.monotonic()
            proc = slot.proc
            if self.stopping.is_set():
                # the signal came while this process was being created: it missed the forward
                proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(START_TIMEOUT_S):
                    listening = await _readable(read_fd)
            except TimeoutError:
                log.error("worker %d (pid %d) did not listen within %.0fs", slot.index, proc.pid, START_TIMEOUT_S)
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                listening = False
        finally:
            os.close(read_fd)
        if not listening:
            return await proc.wait()
        log.info(
            "worker %d (pid %d) listening on port %d as %s",
            slot.index,
            proc.pid,
            self.plan.port(slot.index),
            self.plan.instance_id(slot.index),
        )
        return None

    async def keep(self, slot: Slot) -> bool:
        """Restart the slot's worker each time it dies; True when it died too often in a row,
        False when it exited because the supervisor is stopping.

        Each series of quick exits is one run of the retry loop: its first attempt is the
        process already running, each later one a restart. A process that serves
        STABLE_AFTER_S ends the series, and its exit begins a new one."""
        first_series = True
        while True:
            try:
                async for attempt in self.restarts(slot):
                    with attempt:
                        restart = attempt.retry_state.attempt_number > 1
                        if restart:
                            # a start that fails shows up as the exit _watch reports
                            await self.start(slot)
                        await self._watch(slot, until_stable=restart or first_series)
            except WorkerExited as exc:
                log.error(
                    "worker %d exited %d times in a row (last: %s); stopping all workers",
                    slot.index,
                    QUICK_RESTARTS + 1,
                    exc.code,
                )
                return True
            if self.stopping.is_set():
                return False
            first_series = False

    def restarts(self, slot: Slot) -> AsyncRetrying:
        def before_sleep(state: RetryCallState) -> None:
            assert state.outcome is not None and state.next_action is not None
            exc = state.outcome.exception()
            assert isinstance(exc, WorkerExited)
            log.warning(
                "worker %d (pid %d) exited with %s after %.1fs; restarting it in %.1fs",
                slot.index,
                exc.pid,
                exc.code,
                exc.served,
                state.next_action.sleep,
            )

        return AsyncRetrying(
            retry=retry_if_exception_type(WorkerExited),
            stop=stop_after_attempt(QUICK_RESTARTS + 1),
            wait=wait_exponential(multiplier=RESTART_FIRST_S, max=RESTART_MAX_S) + wait_random(0, RESTART_JITTER_S),
            before_sleep=before_sleep,
            reraise=True,
        )

    async def _watch(self, slot: Slot, until_stable: bool) -> None:
        """Wait for the slot's process to exit: raise WorkerExited if nobody told it to. With
        `until_stable`, return instead once it has served STABLE_AFTER_S (or exits after that)."""
        proc = slot.proc
        assert proc is not None
        left = STABLE_AFTER_S - (time.monotonic() - slot.started) if until_stable else None
        try:
            code = await asyncio.wait_for(proc.wait(), left)
        except TimeoutError:
            return
        served = time.monotonic() - slot.started
        if self.stopping.is_set() or (until_stable and served >= STABLE_AFTER_S):
            return
        slot.handled = proc
        raise WorkerExited(proc.pid, code, served)

    async def stop_all(self) -> int:
        """Stop every worker within the drain bound: 0 when all stopped as told, else 1 (one had
        to be killed, or exited otherwise; a crash already dealt with does not count again)."""
        if not self.forwarded:
            self.forward(signal.SIGTERM)
        procs = [slot.proc for slot in self.slots if slot.proc is not None]
        judged = [slot.proc for slot in self.slots if slot.proc is not None and slot.proc is not slot.handled]
        clean = True
        try:
            async with asyncio.timeout(self.plan.stop_bound_s):
                await asyncio.gather(*(p.wait() for p in procs))
        except TimeoutError:
            late = [p for p in procs if p.returncode is None]
            log.error("%d workers still running %.1fs after SIGTERM; killing them", len(late), self.plan.stop_bound_s)
            for p in late:
                with contextlib.suppress(ProcessLookupError):
                    p.kill()
            await asyncio.gather(*(p.wait() for p in procs))
            clean = False
        return 0 if clean and {p.returncode for p in judged} <= STOPPED_CODES else 1


async def _readable(fd: int) -> bool:
    """Wait for the worker's line on the ready pipe: True, or False at end of file (it exited)."""
    loop = asyncio.get_running_loop()
    got: asyncio.Future[bool] = loop.create_future()

    def on_readable() -> None:
        if not got.done():
            got.set_result(bool(os.read(fd, 64)))

    loop.add_reader(fd, on_readable)
    try:
        return await got
    finally:
        loop.remove_reader(fd)


def supervise(plan: Plan) -> int:
    return asyncio.run(Supervisor(plan).run())
