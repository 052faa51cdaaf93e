"""Logging set-up: one JSON object per line in production, readable text in development.

The socket and game a log line concerns come from context variables that the WebSocket
loop sets, so every line written while handling a frame names them without each call
having to pass them. Tokens are never logged: no code path formats one into a message.
"""

from __future__ import annotations

import json
import logging
import time
from contextvars import ContextVar

#: the client id of the socket whose frame is being handled
CLIENT_ID: ContextVar[str | None] = ContextVar("client_id", default=None)
#: the game that socket is bound to
GAME_ID: ContextVar[str | None] = ContextVar("game_id", default=None)

CONTEXT_FIELDS = ("gameId", "clientId")


class ContextFilter(logging.Filter):
    """Copies the context ids onto each record (an explicit `extra=` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "clientId", None) is None:
            record.clientId = CLIENT_ID.get()
        if getattr(record, "gameId", None) is None:
            record.gameId = GAME_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    def __init__(self, instance_id: str) -> None:
        super().__init__()
        self.instance_id = instance_id

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "instance": self.instance_id,
            "msg": record.getMessage(),
        }
        for key in CONTEXT_FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out)


class TextFormatter(logging.Formatter):
    def __init__(self, instance_id: str) -> None:
        super().__init__(f"%(asctime)s %(levelname)s [{instance_id}] %(name)s: %(message)s%(ids)s")

    def format(self, record: logging.LogRecord) -> str:
        ids = " ".join(f"{k}={v}" for k in CONTEXT_FIELDS if (v := getattr(record, k, None)) is not None)
        record.ids = f" ({ids})" if ids else ""
        return super().format(record)


def configure(level: str, fmt: str, instance_id: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter(instance_id) if fmt == "json" else TextFormatter(instance_id))
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # one access line per request would drown the game events
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
