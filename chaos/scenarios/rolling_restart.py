"""rolling-restart: a deploy behind HAProxy. Each instance in turn gets SIGTERM, drains (the
balancer's checks take it out while /ready answers 503, then its sockets get
shutdown_warning and close with 1012), exits, and is started again; the next one follows
once HAProxy has it back in rotation.

Must hold: nothing lost; every player back within the drain window (DRAIN_NOTICE_S +
DRAIN_TIMEOUT_S); no error but the documented one, a request in flight on a socket the
drain closed (`closed 1012`, or `drained` when the connection ended before the close frame
was read), which the client sends again with the same requestId.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Any

from chaos.base import Options, haproxy_stack, play_through
from chaos.checker import History, Verdict
from stack import local

NAME = "rolling-restart"
FAULT = "SIGTERM of each instance in turn behind HAProxy, restarted once it has exited, as a deploy does"
#: a request in flight when the drain closed its socket, with or without the close frame read
DOCUMENTED_ERRORS = {"closed 1012", "drained"}


async def run(opts: Options) -> Verdict:
    count = max(2, opts.instances)
    async with haproxy_stack(count) as (stack, env):
        drain_window = stack.drain_notice_s + stack.drain_timeout_s

        async def fault(history: History, until: float) -> dict[str, Any]:
            restarts = 0
            await asyncio.sleep(1.0)
            for name in stack.names:
                pid = local.read_pid(stack.pidfile(name))
                if pid is None or time.monotonic() > until - 2:
                    break
                os.kill(pid, signal.SIGTERM)
                history.fault(f"SIGTERM {name}")
                killed = await asyncio.to_thread(local.stop, [pid], drain_window + 5)
                if killed:
                    history.error(f"{name} did not exit within the drain window")
                await asyncio.to_thread(local.restart_instance, stack, name, env)
                history.heal()
                restarts += 1
            return {"restarts": restarts, "drain_window": f"{drain_window:.1f}s"}

        def judge(history: History, verdict: Verdict) -> None:
            slowest = max(history.reconnect_gaps, default=0.0)
            verdict.extra["slowest_back"] = f"{slowest:.1f}s"
            if slowest > drain_window:
                verdict.problems.append(f"a player was back after {slowest:.1f}s, past the {drain_window:.1f}s drain")
            other = sorted({what for _, what in history.errors} - DOCUMENTED_ERRORS)
            if other:
                verdict.problems.append(f"errors beyond the documented ones: {other}")
            if history.closes[1012] == 0:
                verdict.problems.append("no socket was closed with 1012: the drain did not move anybody")

        endpoint = f"ws://127.0.0.1:{stack.port}/"
        return await play_through(NAME, opts, stack.redis_url, lambda: [endpoint], fault, judge=judge)
