"""Exception tree, and the one table of error codes: for each, its exception and the text a client sees."""

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
NOT_IN_GAME_MESSAGE = "Not in a game: send create, join or reconnect first"

#: The codes a Lua script answers with (each script's header lists its own) -> (exception
#: class, message sent to the client). The original's error strings are kept verbatim.
SCRIPT_CODES: dict[str, tuple[type[GameError], str]] = {
    "GAME_NOT_FOUND": (NotFound, "Game not found"),
    "GAME_EXISTS": (GameIdTaken, "Failed to generate unique game ID"),
    "PLAYER_NOT_FOUND": (NotFound, "Player not found"),
    "NOT_AUTHORIZED_START": (NotAuthorized, "Not authorized to start game"),
    "NOT_AUTHORIZED_PAUSE": (NotAuthorized, "Not authorized to pause/resume"),
    "NOT_OWNER_RESET": (NotAuthorized, "Only the game owner can reset"),
    "NOT_AUTHORIZED_SWITCH": (NotAuthorized, "Not authorized to switch players"),
    "NOT_AUTHORIZED_PASS": (NotAuthorized, "Not authorized to pass turn"),
    "NOT_AUTHORIZED_MODIFY": (NotAuthorized, "Not authorized to modify this player"),
    "NOT_OWNER_PENALTY": (NotAuthorized, "Only the game owner can add penalties"),
    "NOT_OWNER_ELIMINATE": (NotAuthorized, "Only the game owner can eliminate players"),
    "NOT_OWNER_SETTINGS": (NotAuthorized, "Only the game owner can change settings"),
    # HEAD let anyone rename, end or (having no such flag) list a game (C22): no HEAD string
    "NOT_OWNER_RENAME": (NotAuthorized, "Only the game owner can rename the game"),
    "NOT_OWNER_END": (NotAuthorized, "Only the game owner can end the game"),
    "NOT_OWNER_LISTING": (NotAuthorized, "Only the game owner can list or unlist the game"),
    "PLAYER_CLAIMED": (Conflict, "Player already claimed"),
    "ALREADY_YOUR_PLAYER": (Conflict, "Already your player"),
    "PLAYER_ELIMINATED": (Conflict, "Player is eliminated"),
    "GAME_FINISHED": (Conflict, "Game is finished"),
    "NO_TOKEN": (NotAuthorized, "No reconnection token for this player"),
    "INVALID_TOKEN": (NotAuthorized, "Invalid token"),
    "TOKEN_EXPIRED": (NotAuthorized, "Token expired"),
    "INVALID_HOST_TOKEN": (NotAuthorized, "Invalid host token"),
    "INVALID_ARGUMENT": (InvalidInput, "Invalid request"),
    "NOT_AUTHORIZED_DICE": (NotAuthorized, "Only seated players and the host can roll dice"),
    "NOT_OWNER_RANDOM_START": (NotAuthorized, "Only the game owner can select a random player"),
    "NOT_OWNER_PLAY_ORDER": (NotAuthorized, "Only the game owner can roll for play order"),
    "RANDOM_START_NOT_WAITING": (Conflict, "Can only select random player before game starts"),
    "NO_ELIGIBLE_PLAYERS": (Conflict, "No eligible players to select from"),
    "PLAY_ORDER_NOT_WAITING": (Conflict, "Can only roll for play order before game starts"),
    "PLAY_ORDER_TOO_FEW_PLAYERS": (Conflict, "Need at least 2 players to roll for play order"),
    # admin controls (HEAD let any seated player use them: ours are the host's alone)
    "NOT_OWNER_ADMIN": (NotAuthorized, "Only the game owner can use admin controls"),
    "PLAYER_NOT_CLAIMED": (Conflict, "Player is not claimed"),
    "PLAYER_NOT_ELIMINATED": (Conflict, "Player is not eliminated"),
    # the interrupt stack (HEAD's strings; PRIORITY_PENDING and the cap are ours: HEAD let the
    # turn pass over pending interrupts, C17, and let the stack grow without bound)
    "NOT_AUTHORIZED_INTERRUPT": (NotAuthorized, "You must claim a player to interrupt"),
    "GAME_NOT_RUNNING": (Conflict, "Game is not running"),
    "INTERRUPT_STACK_FULL": (Conflict, "Too many pending interrupts"),
    "NOT_AUTHORIZED_PRIORITY": (NotAuthorized, "You must claim a player to pass priority"),
    "NOT_IN_INTERRUPT_QUEUE": (Conflict, "You are not in the interrupt queue"),
    "PRIORITY_PENDING": (Conflict, "Cannot pass the turn while interrupts are pending"),
    # the timeout choice (HEAD's strings; TIMEOUT_CHOICE_OFF is ours: a v1 game has no choice)
    "NOT_AUTHORIZED_TIMEOUT_CHOICE": (NotAuthorized, "You must claim a player"),
    "NO_TIMEOUT_PENDING": (Conflict, "No pending timeout choice"),
    "TIMEOUT_CHOICE_OFF": (Conflict, "This game has no timeout choice"),
    # targeting (HEAD's strings; INTERRUPTS_PENDING, TARGETS_PENDING and the cap are ours: HEAD
    # let the active player target over pending interrupts and the turn pass over responding
    # targets, C17, and never enforced MAX_TARGETS). A seatless passTargetPriority is
    # NOT_AUTHORIZED_PRIORITY, HEAD's same string
    "NOT_AUTHORIZED_TARGET": (NotAuthorized, "You must claim a player to select targets"),
    "NOT_ACTIVE_SELECT": (NotAuthorized, "Only the active player can select targets"),
    "INTERRUPTS_PENDING": (Conflict, "Cannot target while interrupts are pending"),
    "TARGETS_LOCKED": (Conflict, "Cannot change targets now"),
    "INVALID_TARGET": (InvalidInput, "Invalid target"),
    "TOO_MANY_TARGETS": (Conflict, "Too many targets"),
    "NOT_ACTIVE_CONFIRM": (NotAuthorized, "Only the active player can confirm targets"),
    "NOT_SELECTING_TARGETS": (Conflict, "Not in target selection mode"),
    "NO_TARGETS_SELECTED": (Conflict, "No targets selected"),
    "NOT_RESOLVING_TARGETS": (Conflict, "Not in targeting resolution"),
    "NOT_AWAITING_PRIORITY": (Conflict, "You are not currently awaiting priority"),
    "NOT_AUTHORIZED_CANCEL": (NotAuthorized, "You must claim a player to cancel targeting"),
    "CANNOT_CANCEL_TARGETING": (NotAuthorized, "You cannot cancel targeting"),
    "TARGETS_PENDING": (Conflict, "Cannot pass the turn while targets are responding"),
    # formats, counters and loss rules (ours: HEAD had none)
    "FORMAT_LOCKED": (Conflict, "The format can only be changed while the game is waiting"),
    "FORMAT_CAMPAIGN": (Conflict, "A campaign's preset sets the format and starting life"),
    "TEAMS_NEED_EVEN_PLAYERS": (Conflict, "Two-headed giant needs 4, 6 or 8 players"),
    "INVALID_COMMANDER_SOURCE": (InvalidInput, "Invalid commander damage source"),
    "COUNTER_OUT_OF_RANGE": (Conflict, "That change would take a counter out of its range"),
    "NOT_AUTHORIZED_CONCEDE": (NotAuthorized, "You must claim a player to concede"),
    "CONCEDE_NOT_STARTED": (Conflict, "Cannot concede before the game starts"),
    # time controls (ours): the control is chosen before the game starts; the turn may move on
    # (its cap, a choice run out) while a switch travels
    "TIME_CONTROL_LOCKED": (Conflict, "The time control can only be changed before the game starts"),
    "INVALID_TIME_CONTROL": (InvalidInput, "Invalid time control: the amounts do not fit the game's control"),
    "TURN_MOVED_ON": (Conflict, "The turn has already moved on"),
    # the host role and the seats (ours: HEAD could neither hand the role over nor move seats)
    "NOT_OWNER_TRANSFER": (NotAuthorized, "Only the game owner can hand over the host role"),
    "ALREADY_HOST": (Conflict, "Already the host"),
    "NOT_AUTHORIZED_CLAIM_HOST": (NotAuthorized, "You must claim a player to take the host role"),
    "HOST_PRESENT": (Conflict, "The host is here"),
    "HOST_AWAY_TOO_SHORT": (Conflict, "The host has not been away long enough"),
    "NOT_OWNER_SEATS": (NotAuthorized, "Only the game owner can move or free seats"),
    # undo (ours: HEAD had none)
    "NOT_AUTHORIZED_UNDO": (NotAuthorized, "Only the host can undo this: a player may undo only their own last action"),
    "NOTHING_TO_UNDO": (Conflict, "Nothing to undo"),
    "NOT_ENOUGH_TO_UNDO": (Conflict, "Not that many actions can be undone"),
    "UNDO_WINDOW_PASSED": (Conflict, "Too late to undo that action"),
    "FEEDBACK_NOT_FOUND": (NotFound, "Feedback not found"),
    "FEEDBACK_LIMIT": (Conflict, "Feedback limit reached: delete one first"),
    "FEEDBACK_FULL": (Conflict, "Feedback is not being accepted right now"),
}

#: The codes the service answers with itself, before or around a script call.
SERVICE_CODES: dict[str, tuple[type[ServiceError], str]] = {
    "INVALID_INPUT": (InvalidInput, "Invalid input"),
    "UNKNOWN_TYPE": (InvalidInput, "Unknown message type"),
    "INVALID_GAME_CODE": (InvalidInput, "Invalid game code"),
    "INVALID_PLAYER_ID": (InvalidInput, "Invalid player ID"),
    "INVALID_COLOR": (InvalidInput, "Invalid color"),
    "NOT_IN_GAME": (InvalidInput, NOT_IN_GAME_MESSAGE),
    "BINARY_UNSUPPORTED": (InvalidInput, "Binary frames are not supported"),
    "RATE_LIMITED": (RateLimited, RATE_LIMIT_MESSAGE),
    "STORAGE_UNAVAILABLE": (StorageUnavailable, STORAGE_UNAVAILABLE_MESSAGE),
    "CREATE_FAILED": (ServiceError, "Failed to generate unique game ID"),
    "INTERNAL": (ServiceError, "Internal server error"),
    "INVALID_DICE_SIDES": (InvalidInput, "Dice sides must be an integer"),
    "INVALID_DICE_RANGE": (InvalidInput, "Dice sides must be between 2 and 999"),
    "INVALID_TIMEOUT_CHOICE": (InvalidInput, "Invalid timeout choice"),
    "INVALID_FEEDBACK_TEXT": (InvalidInput, "Invalid feedback text"),
    "FEEDBACK_EMPTY": (InvalidInput, "Feedback cannot be empty"),
    "FEEDBACK_TOO_LONG": (InvalidInput, "Feedback exceeds maximum length"),
    "INVALID_UPDATE_REQUEST": (InvalidInput, "Invalid update request"),
    "INVALID_DELETE_REQUEST": (InvalidInput, "Invalid delete request"),
}

#: Every code an `error` frame can carry -> (exception class, message): docs/errors.md
#: documents each one for clients.
ERROR_CODES: dict[str, tuple[type[ServiceError], str]] = {**SCRIPT_CODES, **SERVICE_CODES}

#: Codes whose message the raiser words (the check that failed); every other code's
#: message on the wire is the table's, whatever text the exception holds.
WORDED_BY_RAISER = frozenset({"INVALID_INPUT"})


def error_for(code: str) -> ServiceError:
    """The exception the table gives for `code`, with the code's message."""
    cls, message = ERROR_CODES[code]
    return cls(message, code)


def malformed(code: str) -> InvalidInput:
    """A malformed value, refused before any script ran, that means what `code` means (a
    seat token that cannot be one is an INVALID_TOKEN, as the script would say)."""
    return InvalidInput(ERROR_CODES[code][1], code)


def wire_code(err: ServiceError) -> str:
    """The code a client is sent for `err`: its own if the table has it, else its class's
    (INTERNAL for anything that is not a refusal), so no code outside the table goes out."""
    return err.code if err.code in ERROR_CODES else type(err).code


def error_data(err: ServiceError) -> dict[str, str]:
    """The `data` of the `error` frame for `err`: the code and the text a client may show.
    An outage's or an internal failure's own text (which names Redis) never reaches a client."""
    code = wire_code(err)
    return {"message": err.message if code in WORDED_BY_RAISER else ERROR_CODES[code][1], "code": code}


def metric_label(err: ServiceError) -> str:
    """The `tapotarp_errors` label for `err`: a code from the table, with every validation
    failure the service refuses itself under INVALID_INPUT, the label set the metric had
    before codes reached the wire (dashboards keep working; the wire code is finer)."""
    code = wire_code(err)
    return InvalidInput.code if isinstance(err, InvalidInput) and code not in SCRIPT_CODES else code


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
    # only a script's own codes: a reply can never pass for a refusal of the service's
    entry = SCRIPT_CODES.get(code)
    if entry is None:
        return None
    cls, message = entry
    return cls(message, code)
