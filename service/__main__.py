"""`python -m service` / `tapotarp`: read the environment and serve until SIGTERM/SIGINT.

Shutdown order, all within DRAIN_TIMEOUT_S: /ready answers 503 at once (and new upgrades
are refused), the listener closes, every socket gets `shutdown_warning` and is then closed
with 1012 so its client reconnects to another instance, and the process exits. Nothing
needs saving: every game already lives in Redis.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from aiohttp import web

from service.app import RUNTIME, create_app, create_metrics_app
from service.logs import configure
from service.metrics import Metrics
from service.settings import ConfigError, Settings

log = logging.getLogger("service")


async def serve(settings: Settings) -> None:
    metrics = Metrics()
    app = create_app(settings, metrics)
    # the drain below bounds the whole shutdown; aiohttp's own wait for handlers gets what is left
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=settings.drain_timeout_s)
    await runner.setup()
    runners = [runner]
    await web.TCPSite(runner, settings.host, settings.port).start()
    if settings.metrics_port:
        metrics_runner = web.AppRunner(create_metrics_app(metrics, settings), access_log=None)
        await metrics_runner.setup()
        await web.TCPSite(metrics_runner, settings.host, settings.metrics_port).start()
        runners.append(metrics_runner)
    log.info("serving on %s:%d", settings.host, settings.port)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()

    app[RUNTIME].start_draining()
    log.info("draining: closing the listener and moving clients elsewhere")
    try:
        async with asyncio.timeout(settings.drain_timeout_s):
            for r in runners:
                await r.cleanup()
    except TimeoutError:
        log.warning("drain did not finish within %.1fs; exiting anyway", settings.drain_timeout_s)


def main() -> None:
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure(settings.log_level, settings.log_format, settings.instance_id)
    try:
        asyncio.run(serve(settings))
    except ConfigError as exc:
        # found at start-up against Redis (e.g. an evicting maxmemory-policy)
        log.error("refusing to start: %s", exc)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
