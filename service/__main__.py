"""`python -m service` / `tapotarp`: read the environment and serve until SIGTERM/SIGINT."""

from __future__ import annotations

import sys

from aiohttp import web

from service.app import create_app
from service.logs import configure
from service.settings import ConfigError, Settings


def main() -> None:
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure(settings.log_level, settings.log_format, settings.instance_id)
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        shutdown_timeout=settings.drain_timeout_s,
        access_log=None,
        print=lambda msg: print(msg, flush=True),
    )


if __name__ == "__main__":
    main()
