"""Exception tree, and the one table mapping Lua error codes to exceptions and client text."""

from __future__ import annotations

import re


class ServiceError(Exception):
    """Base of every error this service raises on purpose; `message` is safe to show clients."""

    code = "INTERNAL"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class GameError(ServiceError):
    """A game rule refused the action; the game is unchanged."""


class NotFound(GameError):
    """The game or player does not exist."""


class NotAuthorized(GameError):
    """The caller's role does not allow the action."""


class Conflict(GameError):
    """The game's current state does not allow the action."""


class InvalidInput(GameError):
    """The message or one of its values is malformed or out of range."""

    code = "INVALID_INPUT"


class GameIdTaken(GameError):
    """Internal: a freshly drawn game id is in use; the caller draws another."""


class StorageUnavailable(ServiceError):
    """Redis could not be reached in time; the action may be retried."""

    code = "STORAGE_UNAVAILABLE"


class RateLimited(ServiceError):
    """A rate limit refused the frame; nothing was done."""

    code = "RATE_LIMITED"


RATE_LIMIT_MESSAGE = "Rate limit exceeded"


STORAGE_UNAVAILABLE_MESSAGE = "Game storage is unavailable, please try again"

#: Lua error code -> (exception class, message sent to the client). The original's
#: error strings are kept verbatim where it had one.
ERROR_CODES: dict[str, tuple[type[GameError], str]] = {
    "GAME_NOT_FOUND": (NotFound, "Game not found"),
    "GAME_EXISTS": (GameIdTaken, "Failed to generate unique game ID"),
    "PLAYER_NOT_FOUND": (NotFound, "Player not found"),
    "NOT_AUTHORIZED_START": (NotAuthorized, "Not authorized to start game"),
    "NOT_AUTHORIZED_PAUSE": (NotAuthorized, "Not authorized to pause/resume"),
    "NOT_OWNER_RESET": (NotAuthorized, "Only the game owner can reset"),
    "NOT_AUTHORIZED_SWITCH": (NotAuthorized, "Not authorized to switch players"),
    "NOT_AUTHORIZED_MODIFY": (NotAuthorized, "Not authorized to modify this player"),
    "NOT_OWNER_PENALTY": (NotAuthorized, "Only the game owner can add penalties"),
    "NOT_OWNER_ELIMINATE": (NotAuthorized, "Only the game owner can eliminate players"),
    "NOT_OWNER_SETTINGS": (NotAuthorized, "Only the game owner can change settings"),
    "GAME_STARTED": (Conflict, "Game already started"),
    "PLAYER_CLAIMED": (Conflict, "Player already claimed"),
    "PLAYER_ELIMINATED": (Conflict, "Player is eliminated"),
    "GAME_FINISHED": (Conflict, "Game is finished"),
    "NO_TOKEN": (NotAuthorized, "No reconnection token for this player"),
    "INVALID_TOKEN": (NotAuthorized, "Invalid token"),
    "TOKEN_EXPIRED": (NotAuthorized, "Token expired"),
    "INVALID_HOST_TOKEN": (NotAuthorized, "Invalid host token"),
    "INVALID_ARGUMENT": (InvalidInput, "Invalid request"),
}


#: Redis refusals meaning "not writable right now": a failover or partition (NOREPLICAS under
#: min-replicas-to-write, READONLY from a demoted primary, MASTERDOWN, CLUSTERDOWN, TRYAGAIN),
#: a restart (LOADING), a full memory (OOM), a busy script (BUSY). Nothing was applied, so the
#: client gets the same storage error as for a lost connection and may simply retry.
UNAVAILABLE_REPLIES = frozenset(
    {"NOREPLICAS", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "LOADING", "OOM", "BUSY"}
)


#: a refusal met by redis.call() inside a script is reported after the script's line number
_REPLY_CODE = re.compile(r"^(?:user_script:\d+:\s*)?([A-Z]+)\b")


def is_unavailable(reply_text: str) -> bool:
    m = _REPLY_CODE.match(reply_text)
    return m is not None and m.group(1) in UNAVAILABLE_REPLIES


def from_lua(reply_text: str) -> GameError | None:
    """The domain error for a Redis error reply raised by one of our scripts, if it is one."""
    code = reply_text.split(" ", 1)[0] if reply_text else ""
    entry = ERROR_CODES.get(code)
    if entry is None:
        return None
    cls, message = entry
    return cls(message, code)
