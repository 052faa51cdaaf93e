"""The exception tree and the table from Lua error codes to exceptions and client messages."""

from __future__ import annotations

import pytest

from service.errors import (
    ERROR_CODES,
    STORAGE_UNAVAILABLE_MESSAGE,
    Conflict,
    GameError,
    GameIdTaken,
    InvalidInput,
    NotAuthorized,
    NotFound,
    ServiceError,
    StorageUnavailable,
    from_lua,
    is_unavailable,
)

#: What a client is told for each code: the original's strings where it had one (docs/protocol.md, Errors).
EXPECTED: dict[str, tuple[type[GameError], str]] = {
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


def test_the_table_maps_exactly_the_expected_codes() -> None:
    assert ERROR_CODES == EXPECTED


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_from_lua_turns_each_code_into_its_exception_with_its_message(code: str) -> None:
    cls, message = EXPECTED[code]
    err = from_lua(code)
    assert type(err) is cls
    assert err is not None
    assert (err.code, err.message, str(err)) == (code, message, message)


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_from_lua_reads_the_code_before_any_text_redis_appends(code: str) -> None:
    err = from_lua(f"{code} script: 4a5b6c, on @user_script:12.")
    assert err is not None
    assert (type(err), err.code, err.message) == (EXPECTED[code][0], code, EXPECTED[code][1])


@pytest.mark.parametrize(
    "reply",
    [
        "",
        "NOT_A_CODE",
        "game_not_found",
        "ERR user_script:1: attempt to index a nil value",
        "WRONGTYPE Operation against a key holding the wrong kind of value",
        "NOSCRIPT No matching script. Please use EVAL.",
        " GAME_NOT_FOUND",
        "GAME_NOT_FOUNDX",
    ],
)
def test_from_lua_returns_none_for_anything_that_is_not_a_known_code(reply: str) -> None:
    assert from_lua(reply) is None


def test_each_call_returns_a_new_exception() -> None:
    assert from_lua("GAME_NOT_FOUND") is not from_lua("GAME_NOT_FOUND")


def test_every_game_error_is_a_service_error_and_storage_unavailable_is_not_a_game_error() -> None:
    for cls in (NotFound, NotAuthorized, Conflict, InvalidInput, GameIdTaken):
        assert issubclass(cls, GameError)
    assert issubclass(GameError, ServiceError)
    assert issubclass(StorageUnavailable, ServiceError)
    assert not issubclass(StorageUnavailable, GameError)


def test_a_service_error_keeps_its_message_and_defaults_its_code_to_internal() -> None:
    plain = ServiceError("Something broke")
    assert (plain.message, plain.code, str(plain)) == ("Something broke", "INTERNAL", "Something broke")
    coded = InvalidInput("Invalid JSON", "BAD_JSON")
    assert (coded.message, coded.code) == ("Invalid JSON", "BAD_JSON")
    # an instance's code never leaks into its class
    assert InvalidInput.code == "INVALID_INPUT"


def test_the_storage_unavailable_message_asks_the_client_to_retry() -> None:
    assert STORAGE_UNAVAILABLE_MESSAGE == "Game storage is unavailable, please try again"


@pytest.mark.parametrize(
    "reply",
    [
        "NOREPLICAS Not enough good replicas to write.",
        "READONLY You can't write against a read only replica.",
        "MASTERDOWN Link with MASTER is down",
        "CLUSTERDOWN The cluster is down",
        "TRYAGAIN Multiple keys request during rehashing of slot",
        "LOADING Redis is loading the dataset in memory",
        "OOM command not allowed when used memory > 'maxmemory'.",
        "BUSY Redis is busy running a script.",
        "user_script:338: NOREPLICAS Not enough good replicas to write. script: 72d6, on @user_script:338.",
    ],
)
def test_refusals_that_mean_not_writable_now_are_storage_unavailable(reply: str) -> None:
    assert is_unavailable(reply)


@pytest.mark.parametrize(
    "reply", ["WRONGTYPE Operation against a key", "ERR unknown command", "", "NOREPLICA", "user_script:3: ERR x"]
)
def test_other_replies_are_not_taken_for_an_outage(reply: str) -> None:
    assert not is_unavailable(reply)
