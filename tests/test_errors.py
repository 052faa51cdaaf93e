"""The exception tree and the one table of error codes, checked against what uses it.

Not a copy of the table: the Lua headers say which codes the scripts raise, the service's
source which codes it raises itself, each code's name what kind of refusal it is, and
docs/errors.md (the human-reviewed contract) which message every code carries.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from service.errors import (
    ERROR_CODES,
    SCRIPT_CODES,
    SERVICE_CODES,
    STORAGE_UNAVAILABLE_MESSAGE,
    WORDED_BY_RAISER,
    Conflict,
    GameError,
    GameIdTaken,
    InvalidInput,
    NotAuthorized,
    NotFound,
    RateLimited,
    ServiceError,
    StorageUnavailable,
    error_data,
    error_for,
    from_lua,
    is_unavailable,
    malformed,
    metric_label,
)
from service.scripts import read_source, script_names

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "errors.md"
#: a row of the doc's table: code, message cell, meaning, what a client should do
DOC_ROW = re.compile(r"^\| `([A-Z_]+)` \| (.+?) \| (.+?) \| (.+?) \|$", re.MULTILINE)
SPAN = re.compile(r"`([^`]+)`")

#: What a code's name says about the refusal, first match wins: the class it must raise.
KIND_BY_NAME: list[tuple[str, type[ServiceError]]] = [
    (r"_NOT_FOUND$", NotFound),
    (r"^NOT_AUTHORIZED_|^NOT_OWNER_|TOKEN", NotAuthorized),
    (r"^(GAME|PLAYER)_(NOT_)?(STARTED|FINISHED|CLAIMED|ELIMINATED)$|^ALREADY_", Conflict),
    (r"_NOT_WAITING$|^NO_ELIGIBLE_PLAYERS$|_TOO_FEW_PLAYERS$", Conflict),
    (r"^FEEDBACK_(LIMIT|FULL)$", Conflict),
    (r"^GAME_NOT_RUNNING$|^INTERRUPT_STACK_FULL$|^NOT_IN_INTERRUPT_QUEUE$|^PRIORITY_PENDING$", Conflict),
    (r"^NO_TIMEOUT_PENDING$|^TIMEOUT_CHOICE_OFF$", Conflict),
    (r"^FORMAT_(LOCKED|CAMPAIGN)$|^TEAMS_NEED_EVEN_PLAYERS$|^COUNTER_OUT_OF_RANGE$|^CONCEDE_NOT_STARTED$", Conflict),
    (r"^TIME_CONTROL_LOCKED$|^TURN_MOVED_ON$", Conflict),
    (r"^HOST_(PRESENT|AWAY_TOO_SHORT)$", Conflict),
    (r"^NOT_ACTIVE_|^CANNOT_CANCEL_", NotAuthorized),
    (r"^(INTERRUPTS|TARGETS)_PENDING$|^TARGETS_LOCKED$|^TOO_MANY_TARGETS$|^NO_TARGETS_SELECTED$", Conflict),
    (r"^NOT_(SELECTING|RESOLVING)_TARGETS$|^NOT_AWAITING_PRIORITY$", Conflict),
    (r"^NOTHING_TO_UNDO$|^NOT_ENOUGH_TO_UNDO$|^UNDO_WINDOW_PASSED$", Conflict),
    (r"^FEEDBACK_(EMPTY|TOO_LONG)$", InvalidInput),
    (r"^GAME_EXISTS$", GameIdTaken),
    (r"^INVALID_|^UNKNOWN_|^NOT_IN_GAME$|_UNSUPPORTED$", InvalidInput),
    (r"^RATE_LIMITED$", RateLimited),
    (r"^STORAGE_UNAVAILABLE$", StorageUnavailable),
    (r"^INTERNAL$|_FAILED$", ServiceError),
]


def doc_rows() -> dict[str, tuple[str, str, str]]:
    rows = DOC_ROW.findall(DOC.read_text(encoding="utf-8"))
    codes = [code for code, *_ in rows]
    assert len(codes) == len(set(codes)), "a code has two rows"
    return {code: (message, meaning, action) for code, message, meaning, action in rows}


def service_sources() -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in sorted((ROOT / "service").rglob("*.py")) if p.name != "errors.py"}


def calls(name: str) -> list[ast.Call]:
    """Every call of `name(...)` in the service outside errors.py."""
    found = []
    for source in service_sources().values():
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name:
                found.append(node)
    return found


def literal_args(name: str) -> list[str]:
    return [
        c.args[0].value
        for c in calls(name)
        if c.args and isinstance(c.args[0], ast.Constant) and isinstance(c.args[0].value, str)
    ]


# -- the table against the scripts and the service ----------------------------------------


def test_the_script_codes_are_exactly_those_the_lua_headers_list() -> None:
    listed = {code for name in script_names() for code in read_source(name).error_codes}
    assert set(SCRIPT_CODES) == listed


def test_the_table_is_the_script_codes_and_the_service_codes_none_twice() -> None:
    assert set(SCRIPT_CODES) & set(SERVICE_CODES) == set()
    assert ERROR_CODES == {**SCRIPT_CODES, **SERVICE_CODES}


def test_every_service_code_is_raised_somewhere_in_the_service() -> None:
    # by name (error_for, malformed, an InvalidInput's code) or as the class's own code
    sources = "\n".join(service_sources().values())
    unraised = [code for code, (cls, _) in SERVICE_CODES.items() if f'"{code}"' not in sources and cls.code != code]
    assert unraised == []


def test_every_code_the_service_raises_by_name_is_in_the_table() -> None:
    named = literal_args("error_for") + literal_args("malformed")
    assert named, "the scan found no call: it no longer sees how the service raises"
    assert set(named) - set(ERROR_CODES) == set()
    # a code outside the table would reach no client as itself: wire_code would replace it
    assert [
        c.args[1].value
        for c in calls("InvalidInput")
        if len(c.args) > 1 and isinstance(c.args[1], ast.Constant) and c.args[1].value not in ERROR_CODES
    ] == []


@pytest.mark.parametrize("code", sorted(ERROR_CODES))
def test_each_code_raises_the_class_its_name_means(code: str) -> None:
    kind = next((cls for pattern, cls in KIND_BY_NAME if re.search(pattern, code)), None)
    assert kind is not None, f"{code}: name a kind for it in KIND_BY_NAME"
    assert ERROR_CODES[code][0] is kind
    err = error_for(code)
    assert (type(err), err.code, err.message) == (kind, code, ERROR_CODES[code][1])


def test_every_class_own_code_is_in_the_table() -> None:
    # the fallback of a code outside the table is its class's own code
    for cls in (ServiceError, GameError, NotFound, NotAuthorized, Conflict, InvalidInput, RateLimited):
        assert cls.code in ERROR_CODES, cls
    assert StorageUnavailable.code in ERROR_CODES


def test_a_malformed_value_keeps_its_code_and_message_but_is_invalid_input() -> None:
    err = malformed("INVALID_TOKEN")
    assert (type(err), err.code, err.message) == (InvalidInput, "INVALID_TOKEN", "Invalid token")


# -- the doc against the table -------------------------------------------------------------


def test_the_doc_has_one_row_for_every_code_and_no_other() -> None:
    assert sorted(doc_rows()) == sorted(ERROR_CODES)


@pytest.mark.parametrize("code", sorted(ERROR_CODES))
def test_the_doc_gives_each_code_the_message_of_the_table(code: str) -> None:
    # the messages old clients match on: a change here is a change to the reviewed contract
    message_cell, meaning, action = doc_rows()[code]
    assert SPAN.findall(message_cell)[0] == ERROR_CODES[code][1]
    assert meaning.strip() and action.strip()


@pytest.mark.parametrize("code", sorted(ERROR_CODES))
def test_the_doc_says_retry_exactly_for_the_codes_that_are_not_the_clients_fault(code: str) -> None:
    # a GameError is a refusal of what the client asked; anything else left the game as it was
    # and may succeed later
    action = doc_rows()[code][2]
    assert action.startswith("Retry") == (not issubclass(ERROR_CODES[code][0], GameError)), action


def test_every_invalid_input_text_the_service_writes_is_listed_in_the_doc() -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## INVALID_INPUT messages") :]
    listed = set(SPAN.findall(section.split("\n## ", 1)[0]))
    written = set(literal_args("InvalidInput"))
    assert written, "the scan found no InvalidInput: it no longer sees how the service raises"
    assert written - listed == set()


# -- the frame data and the metric label ---------------------------------------------------


@pytest.mark.parametrize("code", sorted(ERROR_CODES))
def test_the_frame_data_of_each_code_is_its_code_and_the_table_message(code: str) -> None:
    assert error_data(error_for(code)) == {"message": ERROR_CODES[code][1], "code": code}


def test_only_invalid_input_carries_the_raisers_own_text() -> None:
    assert {"INVALID_INPUT"} == WORDED_BY_RAISER
    assert error_data(InvalidInput("Invalid JSON")) == {"message": "Invalid JSON", "code": "INVALID_INPUT"}
    assert error_data(StorageUnavailable("redis unavailable: OSError")) == {
        "message": STORAGE_UNAVAILABLE_MESSAGE,
        "code": "STORAGE_UNAVAILABLE",
    }


def test_the_metric_labels_stay_the_set_the_metric_documents() -> None:
    labels = {metric_label(error_for(code)) for code in ERROR_CODES}
    labels |= {metric_label(malformed(code)) for code in ERROR_CODES}
    service = {"INVALID_INPUT", "STORAGE_UNAVAILABLE", "RATE_LIMITED", "CREATE_FAILED", "INTERNAL"}
    assert labels == set(SCRIPT_CODES) | service
    assert metric_label(error_for("NOT_IN_GAME")) == "INVALID_INPUT"
    assert metric_label(malformed("INVALID_TOKEN")) == "INVALID_TOKEN"
    assert metric_label(ServiceError("x", "NOT_A_CODE")) == "INTERNAL"


# -- from_lua and the exception tree -------------------------------------------------------


@pytest.mark.parametrize("code", sorted(SCRIPT_CODES))
def test_from_lua_turns_each_code_into_its_exception_with_its_message(code: str) -> None:
    cls, message = SCRIPT_CODES[code]
    err = from_lua(code)
    assert type(err) is cls
    assert err is not None
    assert (err.code, err.message, str(err)) == (code, message, message)


@pytest.mark.parametrize("code", sorted(SCRIPT_CODES))
def test_from_lua_reads_the_code_before_any_text_redis_appends(code: str) -> None:
    err = from_lua(f"{code} script: 4a5b6c, on @user_script:12.")
    assert err is not None
    assert (type(err), err.code, err.message) == (SCRIPT_CODES[code][0], code, SCRIPT_CODES[code][1])


@pytest.mark.parametrize("code", sorted(SERVICE_CODES))
def test_from_lua_never_takes_a_reply_for_a_refusal_of_the_service(code: str) -> None:
    assert from_lua(code) is None


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
