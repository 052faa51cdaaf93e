"""Pure tests of service/protocol.py: decoding, every validator and GameSettings (envelope parsing
against the declared types: tests/test_messages.py; frames: tests/test_outbound.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from service import keys, protocol
from service.errors import InvalidInput, NotFound
from service.protocol import GameSettings, TimeControl, TimeoutRules
from tests.support.refusals import invalid

GID = keys.new_game_id(b"protocol-tests")


# -- request_id_in ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"type":"bogus","requestId":"r1"}', "r1"),
        ('{"type":"time","data":[],"requestId":"r2"}', "r2"),
        ('{"requestId":7}', None),
        ('{"requestId":""}', None),
        (json.dumps({"requestId": "x" * 65}), None),
        ('["r1"]', None),
        ("not json", None),
        ("[" * 100_000, None),
    ],
)
def test_request_id_in_recovers_a_valid_request_id_only(text: str, expected: str | None) -> None:
    # as the WebSocket handler does for a frame it rejects: decode if it can, then look
    try:
        obj = protocol.decode(text)
    except InvalidInput:
        obj = None
    assert protocol.request_id_in(obj) == expected


# -- integer ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 1), (8, 8), (4.0, 4), (0, None), (9, None), (True, None), (False, None), (2.5, None), ("2", None),
     (None, None), ([2], None), (float("nan"), None), (float("inf"), None), (1e300, None)],
)  # fmt: skip
def test_integer_accepts_only_integral_numbers_in_range(value: Any, expected: int | None) -> None:
    result = protocol.integer(value, 1, 8)
    assert result == expected
    assert result is None or type(result) is int


# -- player_id and game_id -------------------------------------------------------------


@pytest.mark.parametrize("pid", [1, 8, 3.0])
def test_player_id_accepts_1_to_8(pid: Any) -> None:
    assert protocol.player_id({"playerId": pid}) == int(pid)


@pytest.mark.parametrize("pid", [0, 9, -1, 1.5, "1", True, None, [1]])
def test_player_id_rejects_anything_else(pid: Any) -> None:
    assert invalid(protocol.player_id, {"playerId": pid}, code="INVALID_PLAYER_ID") == "Invalid player ID"


def test_player_id_rejects_a_missing_field() -> None:
    assert invalid(protocol.player_id, {}, code="INVALID_PLAYER_ID") == "Invalid player ID"


@pytest.mark.parametrize("raw", [GID, GID.lower(), f"  {GID}  ", f"\t{GID.lower()}\n", GID[:3].lower() + GID[3:]])
def test_game_id_normalises_case_and_surrounding_blanks(raw: str) -> None:
    assert protocol.game_id({"gameId": raw}) == GID


@pytest.mark.parametrize("raw", [None, 123, ["ABCDEF"], {"id": GID}, True])
def test_game_id_rejects_a_non_string_code(raw: Any) -> None:
    assert invalid(protocol.game_id, {"gameId": raw}, code="INVALID_GAME_CODE") == "Invalid game code"


def test_game_id_rejects_a_missing_code() -> None:
    assert invalid(protocol.game_id, {}, code="INVALID_GAME_CODE") == "Invalid game code"


def _unissued_id() -> str:
    """A well-formed id whose slot has no deadline partition, so the service never issues it."""
    for a in keys.ALPHABET:
        for b in keys.ALPHABET:
            candidate = f"ABCD{a}{b}"
            if keys.partition_of(candidate) is None:
                return candidate
    raise AssertionError("every candidate has a partition")


@pytest.mark.parametrize("raw", ["", "ABCDE", "ABCDEFG", "ABCDE0", "ABCDEI", "ABC DE", "ABCDE!", "ÄBCDEF", "unissued"])
def test_game_id_answers_game_not_found_for_a_code_never_issued(raw: str) -> None:
    code = _unissued_id() if raw == "unissued" else raw
    with pytest.raises(NotFound) as info:
        protocol.game_id({"gameId": code})
    assert info.value.message == "Game not found"
    assert info.value.code == "GAME_NOT_FOUND"


# -- create_settings -------------------------------------------------------------------


def test_create_settings_defaults_when_settings_are_missing_or_null() -> None:
    assert protocol.create_settings({}) == GameSettings()
    assert protocol.create_settings({"settings": None}) == GameSettings()
    assert protocol.create_settings({"settings": {}}) == GameSettings()
    assert GameSettings() == GameSettings(2, 600_000, (300_000, 60_000, 30_000), "warning", 0)


def test_create_settings_reads_every_field() -> None:
    settings = {
        "playerCount": 4,
        "initialTime": 1500,
        "warningThresholds": [500, 1000],
        "penaltyType": "time_deduction",
        "penaltyTimeDeduction": 250,
    }
    assert protocol.create_settings({"settings": settings}) == GameSettings(4, 1500, (1000, 500), "time_deduction", 250)


def test_create_settings_accepts_and_ignores_audio_enabled() -> None:
    assert protocol.create_settings({"settings": {"audioEnabled": False}}) == GameSettings()


@pytest.mark.parametrize("raw", [[], "x", 1, True])
def test_create_settings_rejects_settings_that_are_not_an_object(raw: Any) -> None:
    assert invalid(protocol.create_settings, {"settings": raw}) == "Invalid settings"


def test_create_settings_rejects_unknown_keys_naming_the_first_in_order() -> None:
    msg = invalid(protocol.create_settings, {"settings": {"zeta": 1, "playerCount": 2, "beta": 2}})
    assert msg == "Invalid settings: unknown setting 'beta'"


COUNT_ERR = "Invalid settings: playerCount must be an integer from 2 to 8"
INITIAL_ERR = "Invalid settings: initialTime must be an integer from 1 to 86400000 (ms)"
WARN_ERR = "Invalid settings: warningThresholds must be 1 to 10 integers from 1 to 86400000 (ms)"
PTYPE_ERR = "Invalid settings: penaltyType must be one of warning, time_deduction, game_loss"
DEDUCT_ERR = "Invalid settings: penaltyTimeDeduction must be an integer from 0 to 86400000 (ms)"


@pytest.mark.parametrize(("value", "expected"), [(2, 2), (8, 8), (5.0, 5)])
def test_create_settings_accepts_player_counts_from_2_to_8(value: Any, expected: int) -> None:
    assert protocol.create_settings({"settings": {"playerCount": value}}).player_count == expected


@pytest.mark.parametrize("value", [1, 9, 0, -2, 2.5, "4", True, False, None, [4]])
def test_create_settings_rejects_other_player_counts(value: Any) -> None:
    assert invalid(protocol.create_settings, {"settings": {"playerCount": value}}) == COUNT_ERR


@pytest.mark.parametrize(("value", "expected"), [(1, 1), (86_400_000, 86_400_000), (1500.0, 1500)])
def test_create_settings_accepts_initial_times_within_a_day(value: Any, expected: int) -> None:
    assert protocol.create_settings({"settings": {"initialTime": value}}).initial_time == expected


@pytest.mark.parametrize("value", [0, -1, 86_400_001, 1500.5, "1500", True, None, float("inf")])
def test_create_settings_rejects_other_initial_times(value: Any) -> None:
    assert invalid(protocol.create_settings, {"settings": {"initialTime": value}}) == INITIAL_ERR


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ([1], (1,)),
        ([86_400_000], (86_400_000,)),
        ([30_000, 300_000, 60_000], (300_000, 60_000, 30_000)),
        ([1000, 1000, 2000.0], (2000, 1000)),
        (list(range(1, 11)), tuple(range(10, 0, -1))),
    ],
)
def test_create_settings_sorts_and_deduplicates_warning_thresholds(value: Any, expected: tuple[int, ...]) -> None:
    assert protocol.create_settings({"settings": {"warningThresholds": value}}).warning_thresholds == expected


@pytest.mark.parametrize(
    "value",
    [[], list(range(1, 12)), [0], [-5], [86_400_001], [1.5], ["1000"], [True], [None], 1000, "1000", {"a": 1}, None],
)
def test_create_settings_rejects_other_warning_thresholds(value: Any) -> None:
    assert invalid(protocol.create_settings, {"settings": {"warningThresholds": value}}) == WARN_ERR


@pytest.mark.parametrize("value", ["warning", "time_deduction", "game_loss"])
def test_create_settings_accepts_each_penalty_type(value: str) -> None:
    assert protocol.create_settings({"settings": {"penaltyType": value}}).penalty_type == value


@pytest.mark.parametrize("value", ["Warning", "none", "", 1, True, None, ["warning"]])
def test_create_settings_rejects_other_penalty_types(value: Any) -> None:
    assert invalid(protocol.create_settings, {"settings": {"penaltyType": value}}) == PTYPE_ERR


@pytest.mark.parametrize(("value", "expected"), [(0, 0), (86_400_000, 86_400_000), (10.0, 10)])
def test_create_settings_accepts_penalty_deductions_from_0_to_a_day(value: Any, expected: int) -> None:
    assert protocol.create_settings({"settings": {"penaltyTimeDeduction": value}}).penalty_time_deduction == expected


@pytest.mark.parametrize("value", [-1, 86_400_001, 0.5, "10", True, False, None])
def test_create_settings_rejects_other_penalty_deductions(value: Any) -> None:
    assert invalid(protocol.create_settings, {"settings": {"penaltyTimeDeduction": value}}) == DEDUCT_ERR


def test_create_settings_checks_fields_in_documented_order() -> None:
    bad = {"playerCount": 1, "initialTime": 0, "warningThresholds": [], "penaltyType": "x", "penaltyTimeDeduction": -1}
    assert invalid(protocol.create_settings, {"settings": bad}) == COUNT_ERR
    bad["playerCount"] = 2
    assert invalid(protocol.create_settings, {"settings": bad}) == INITIAL_ERR
    bad["initialTime"] = 1
    assert invalid(protocol.create_settings, {"settings": bad}) == WARN_ERR
    bad["warningThresholds"] = [1]
    assert invalid(protocol.create_settings, {"settings": bad}) == PTYPE_ERR
    bad["penaltyType"] = "warning"
    assert invalid(protocol.create_settings, {"settings": bad}) == DEDUCT_ERR


def test_game_settings_serialise_every_field_for_the_create_script() -> None:
    s = protocol.create_settings({"settings": {"playerCount": 3, "warningThresholds": [5, 10]}})
    assert json.loads(s.to_json()) == {
        "playerCount": 3,
        "initialTime": 600_000,
        "warningThresholds": [10, 5],
        "penaltyType": "warning",
        "penaltyTimeDeduction": 0,
        "name": "Game",
        "mode": "casual",
        "listed": True,
        "format": "standard",
        "startingLife": 20,
        "lossRules": {"life": True, "poison": True, "commanderDamage": False},
    }


# -- player_updates --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Alice", "Alice"), ("  Bob  ", "Bob"), ("x" * 50, "x" * 50), ("Zoë 🐉", "Zoë 🐉"), ("<b>&", "<b>&")],
)
def test_player_updates_accepts_and_strips_names(raw: str, expected: str) -> None:
    assert protocol.player_updates({"name": raw}) == {"name": expected}


@pytest.mark.parametrize("raw", ["", "   ", "x" * 51, "a\nb", "a\tb", "\x00", "a\x7fb", 5, None, True, ["a"]])
def test_player_updates_rejects_bad_names(raw: Any) -> None:
    assert invalid(protocol.player_updates, {"name": raw}) == "Invalid player name"


@pytest.mark.parametrize(
    ("field", "lo", "hi", "message"),
    [
        ("time", 0, 86_400_000, "Invalid time"),
        ("life", -999, 9999, "Invalid life"),
        ("drunkCounter", 0, 999, "Invalid counter"),
        ("genericCounter", 0, 999, "Invalid counter"),
    ],
)
def test_player_updates_checks_each_number_field_and_its_bounds(field: str, lo: int, hi: int, message: str) -> None:
    assert protocol.player_updates({field: lo}) == {field: lo}
    assert protocol.player_updates({field: hi}) == {field: hi}
    assert protocol.player_updates({field: float(hi)}) == {field: hi}
    for bad in (lo - 1, hi + 1, lo + 0.5, str(lo), True, None, [lo]):
        assert invalid(protocol.player_updates, {field: bad}) == message, bad


def test_player_updates_returns_every_field_given() -> None:
    data = {"playerId": 1, "name": " N ", "time": 5, "life": -3, "drunkCounter": 2, "genericCounter": 9, "x": 1}
    assert protocol.player_updates(data) == {"name": "N", "time": 5, "life": -3, "drunkCounter": 2, "genericCounter": 9}


def test_player_updates_requires_at_least_one_field() -> None:
    assert invalid(protocol.player_updates, {}) == "Nothing to update"
    # `color` is a field now (HEAD's palette colour); other keys are still ignored
    assert invalid(protocol.player_updates, {"playerId": 1, "penalties": 3}) == "Nothing to update"


@pytest.mark.parametrize("color", protocol.COLORS)
def test_player_updates_accepts_each_palette_colour(color: str) -> None:
    assert protocol.player_updates({"color": color}) == {"color": color}


def test_player_updates_takes_a_null_colour_as_clearing_it() -> None:
    assert protocol.player_updates({"color": None}) == {"color": None}


@pytest.mark.parametrize("bad", ["Red", " red", "#dc3c3c", "", "white", 'red"><b>', 1, True, ["red"], {"id": "red"}])
def test_player_updates_refuses_a_colour_outside_the_palette(bad: Any) -> None:
    assert invalid(protocol.player_updates, {"color": bad}, code="INVALID_COLOR") == "Invalid color"


def test_the_palette_is_heads_twelve_ids_and_the_scripts_own() -> None:
    assert protocol.COLORS == (
        "red",
        "blue",
        "green",
        "yellow",
        "purple",
        "cyan",
        "orange",
        "pink",
        "lime",
        "teal",
        "indigo",
        "amber",
    )
    checks = (Path(__file__).resolve().parent.parent / "lua" / "lib" / "checks.lua").read_text(encoding="utf-8")
    block = checks[checks.index("local COLORS = {") : checks.index("}", checks.index("local COLORS = {"))]
    assert re.findall(r"(\w+) = true", block) == list(protocol.COLORS)


def test_player_updates_checks_the_name_first() -> None:
    assert invalid(protocol.player_updates, {"name": "", "time": -1}) == "Invalid player name"
    assert invalid(protocol.player_updates, {"time": -1, "life": 10_000}) == "Invalid time"


# -- settings_updates ------------------------------------------------------------------


def test_settings_updates_accepts_each_field() -> None:
    assert protocol.settings_updates({"warningThresholds": [10, 20, 10]}) == {"warningThresholds": [20, 10]}
    assert protocol.settings_updates({"penaltyType": "game_loss"}) == {"penaltyType": "game_loss"}
    assert protocol.settings_updates({"penaltyTimeDeduction": 0}) == {"penaltyTimeDeduction": 0}
    assert protocol.settings_updates({"penaltyTimeDeduction": 86_400_000.0}) == {"penaltyTimeDeduction": 86_400_000}


def test_settings_updates_returns_every_field_given() -> None:
    data = {"warningThresholds": [1], "penaltyType": "time_deduction", "penaltyTimeDeduction": 5}
    assert protocol.settings_updates(data) == {
        "warningThresholds": [1],
        "penaltyType": "time_deduction",
        "penaltyTimeDeduction": 5,
    }


@pytest.mark.parametrize("value", [[], list(range(1, 12)), [0], [86_400_001], [1.5], [True], "100", None])
def test_settings_updates_rejects_bad_warning_thresholds(value: Any) -> None:
    assert invalid(protocol.settings_updates, {"warningThresholds": value}) == "Invalid warning thresholds"


@pytest.mark.parametrize("value", ["none", "", None, 1, ["warning"]])
def test_settings_updates_rejects_bad_penalty_types(value: Any) -> None:
    assert invalid(protocol.settings_updates, {"penaltyType": value}) == "Invalid penalty type"


@pytest.mark.parametrize("value", [-1, 86_400_001, 1.5, "5", True, None])
def test_settings_updates_rejects_bad_penalty_deductions(value: Any) -> None:
    assert invalid(protocol.settings_updates, {"penaltyTimeDeduction": value}) == "Invalid penalty time deduction"


def test_settings_updates_ignores_fixed_and_unknown_settings() -> None:
    assert invalid(protocol.settings_updates, {}) == "Nothing to update"
    assert invalid(protocol.settings_updates, {"playerCount": 4, "initialTime": 5}) == "Nothing to update"


# -- the timeout choice ----------------------------------------------------------------

TIMEOUT_REFUSALS = {
    "timeoutPenaltyLives": "Invalid timeout penalty lives: an integer from 0 to 20",
    "timeoutPenaltyDrunk": "Invalid timeout penalty drunk: an integer from 0 to 20",
    "timeoutGracePeriod": "Invalid timeout grace period: an integer from 5000 to 300000 (ms)",
    "timeoutBonusTime": "Invalid timeout bonus time: an integer from 0 to 300000 (ms)",
}


def test_a_v1_create_has_no_timeout_choice_and_a_head_create_has_heads_defaults() -> None:
    assert protocol.create_settings({"settings": {"playerCount": 3}}).timeout is None
    assert protocol.create_settings({}).timeout is None
    assert protocol.create_settings({"settings": {"name": "Table"}}).timeout == TimeoutRules(2, 2, 30_000, 60_000)
    assert json.loads(protocol.create_settings({"settings": {"name": "T"}}).to_json())["timeoutGracePeriod"] == 30_000
    assert "timeoutGracePeriod" not in json.loads(GameSettings().to_json())


def test_a_create_naming_a_timeout_setting_is_a_head_create_with_the_others_defaulted() -> None:
    s = protocol.create_settings({"settings": {"timeoutPenaltyLives": 5, "timeoutBonusTime": 0.0}})
    assert s.timeout == TimeoutRules(5, 2, 30_000, 0)
    # the same rule as the turn bonus: a HEAD-only setting, so HEAD's bonus too
    assert s.bonus_time == 30_000
    assert json.loads(s.to_json()) == {
        **json.loads(GameSettings(bonus_time=30_000).to_json()),
        "timeoutPenaltyLives": 5,
        "timeoutPenaltyDrunk": 2,
        "timeoutGracePeriod": 30_000,
        "timeoutBonusTime": 0,
    }


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("timeoutPenaltyLives", 21),
        ("timeoutPenaltyLives", -1),
        ("timeoutPenaltyLives", 1.5),
        ("timeoutPenaltyLives", "2"),
        ("timeoutPenaltyLives", True),
        ("timeoutPenaltyDrunk", 21),
        ("timeoutPenaltyDrunk", None),
        ("timeoutGracePeriod", 4_999),
        ("timeoutGracePeriod", 300_001),
        ("timeoutGracePeriod", float("nan")),
        ("timeoutBonusTime", -1),
        ("timeoutBonusTime", 300_001),
    ],
)
def test_timeout_settings_out_of_range_are_refused_at_create_and_update(key: str, value: Any) -> None:
    assert invalid(protocol.create_settings, {"settings": {key: value}}) == TIMEOUT_REFUSALS[key]
    assert invalid(protocol.settings_updates, {key: value}) == TIMEOUT_REFUSALS[key]


def test_settings_updates_accepts_the_timeout_settings() -> None:
    data = {"timeoutPenaltyLives": 0, "timeoutPenaltyDrunk": 20.0, "timeoutGracePeriod": 5_000, "timeoutBonusTime": 0}
    assert protocol.settings_updates(data) == {
        "timeoutPenaltyLives": 0,
        "timeoutPenaltyDrunk": 20,
        "timeoutGracePeriod": 5_000,
        "timeoutBonusTime": 0,
    }


@pytest.mark.parametrize("choice", ["loseLives", "gainDrunk", "die"])
def test_timeout_choice_accepts_the_three_choices(choice: str) -> None:
    assert protocol.timeout_choice({"choice": choice}) == (choice,)


@pytest.mark.parametrize("data", [{}, {"choice": None}, {"choice": "explode"}, {"choice": "DIE"}, {"choice": 1}])
def test_timeout_choice_refuses_anything_else_with_heads_string(data: dict[str, Any]) -> None:
    assert invalid(protocol.timeout_choice, data, code="INVALID_TIMEOUT_CHOICE") == "Invalid timeout choice"


# -- reconnect -------------------------------------------------------------------------


def test_reconnect_with_a_seat_token() -> None:
    r = protocol.reconnect({"gameId": GID.lower(), "playerId": 2, "token": "t" * 64})
    assert r == protocol.Reconnect(GID, 2, "t" * 64, None)


def test_reconnect_with_only_a_host_token() -> None:
    assert protocol.reconnect({"gameId": GID, "hostToken": "h"}) == protocol.Reconnect(GID, None, None, "h")
    assert protocol.reconnect({"gameId": GID, "hostToken": "h", "playerId": None}) == protocol.Reconnect(
        GID, None, None, "h"
    )


def test_reconnect_with_both_tokens() -> None:
    r = protocol.reconnect({"gameId": GID, "playerId": 1, "token": "t", "hostToken": "h"})
    assert r == protocol.Reconnect(GID, 1, "t", "h")


def test_reconnect_treats_a_null_host_token_as_absent() -> None:
    r = protocol.reconnect({"gameId": GID, "playerId": 1, "token": "t", "hostToken": None})
    assert r == protocol.Reconnect(GID, 1, "t", None)


def test_reconnect_checks_the_game_code_first() -> None:
    assert invalid(protocol.reconnect, {"playerId": 0, "token": 5}, code="INVALID_GAME_CODE") == "Invalid game code"
    with pytest.raises(NotFound):
        protocol.reconnect({"gameId": "nope", "playerId": 0, "token": 5})


@pytest.mark.parametrize("pid", [None, 0, 9, "1", True, 1.5])
def test_reconnect_rejects_a_bad_player_id(pid: Any) -> None:
    assert (
        invalid(protocol.reconnect, {"gameId": GID, "playerId": pid, "token": "t"}, code="INVALID_PLAYER_ID")
        == "Invalid player ID"
    )


@pytest.mark.parametrize("tok", [None, "", 5, "t" * 129, ["t"]])
def test_reconnect_rejects_a_bad_seat_token(tok: Any) -> None:
    assert (
        invalid(protocol.reconnect, {"gameId": GID, "playerId": 1, "token": tok}, code="INVALID_TOKEN")
        == "Invalid token"
    )


def test_reconnect_accepts_a_token_of_128_characters() -> None:
    assert protocol.reconnect({"gameId": GID, "playerId": 1, "token": "t" * 128}).token == "t" * 128


@pytest.mark.parametrize("tok", ["", 5, "h" * 129, ["h"], False])
def test_reconnect_rejects_a_bad_host_token(tok: Any) -> None:
    assert (
        invalid(protocol.reconnect, {"gameId": GID, "hostToken": tok}, code="INVALID_HOST_TOKEN")
        == "Invalid host token"
    )


def test_game_settings_serialise_with_the_scripts_field_names() -> None:
    assert json.loads(GameSettings().to_json()) == {
        "playerCount": 2,
        "initialTime": 600_000,
        "warningThresholds": [300_000, 60_000, 30_000],
        "penaltyType": "warning",
        "penaltyTimeDeduction": 0,
        "name": "Game",
        "mode": "casual",
        "listed": True,
        "format": "standard",
        "startingLife": 20,
        "lossRules": {"life": True, "poison": True, "commanderDamage": False},
    }


# -- dice_sides ------------------------------------------------------------------------


@pytest.mark.parametrize(("sides", "expected"), [(2, 2), (6, 6), (999, 999), (20.0, 20)])
def test_dice_sides_accepts_integral_numbers_from_2_to_999(sides: Any, expected: int) -> None:
    result = protocol.dice_sides({"sides": sides})
    assert (result, type(result)) == (expected, int)


@pytest.mark.parametrize("sides", [None, "6", 2.5, True, False, [6], {"n": 6}, float("nan"), float("inf")])
def test_dice_sides_rejects_what_is_not_an_integer_with_heads_message(sides: Any) -> None:
    message = invalid(protocol.dice_sides, {"sides": sides}, code="INVALID_DICE_SIDES")
    assert message == "Dice sides must be an integer"


@pytest.mark.parametrize("sides", [1, 0, -6, 1000, 10**20, 1e300])
def test_dice_sides_rejects_integers_out_of_range_with_heads_message(sides: Any) -> None:
    message = invalid(protocol.dice_sides, {"sides": sides}, code="INVALID_DICE_RANGE")
    assert message == "Dice sides must be between 2 and 999"


def test_dice_sides_rejects_a_missing_field_as_not_an_integer() -> None:
    assert invalid(protocol.dice_sides, {}, code="INVALID_DICE_SIDES") == "Dice sides must be an integer"


# -- formats and the new counters -------------------------------------------------------------


def test_create_settings_carry_the_resolved_format() -> None:
    s = protocol.create_settings({"settings": {"playerCount": 4, "format": "twoHeadedGiant"}})
    assert json.loads(s.to_json())["format"] == "twoHeadedGiant"
    assert (json.loads(s.to_json())["startingLife"], json.loads(s.to_json())["lossRules"]["poison"]) == (30, True)


def test_create_settings_refuse_two_headed_giant_at_an_odd_table() -> None:
    message = invalid(protocol.create_settings, {"settings": {"playerCount": 3, "format": "twoHeadedGiant"}})
    assert message == "Invalid settings: twoHeadedGiant needs 4, 6 or 8 players"


def test_create_settings_refuse_a_format_in_a_campaign() -> None:
    message = invalid(protocol.create_settings, {"settings": {"mode": "campaign", "startingLife": 40}})
    assert message == "Invalid settings: startingLife is set by the campaign preset"


@pytest.mark.parametrize(
    ("field", "lo", "hi", "message"),
    [
        ("poison", 0, 99, "Invalid poison: an integer from 0 to 99"),
        ("energy", 0, 999, "Invalid energy: an integer from 0 to 999"),
        ("experience", 0, 999, "Invalid experience: an integer from 0 to 999"),
    ],
)
def test_player_updates_bound_the_new_counters(field: str, lo: int, hi: int, message: str) -> None:
    assert protocol.player_updates({field: lo}) == {field: lo}
    assert protocol.player_updates({field: hi}) == {field: hi}
    for bad in (lo - 1, hi + 1, 1.5, "3", True, None):
        assert invalid(protocol.player_updates, {field: bad}) == message


def test_settings_updates_resolve_a_format() -> None:
    assert protocol.settings_updates({"format": "commander"}) == {
        "format": "commander",
        "startingLife": 40,
        "lossRules": {"life": True, "poison": True, "commanderDamage": True},
    }
    assert protocol.settings_updates({"lossRules": {"life": False}}) == {"lossRules": {"life": False}}


def test_commander_damage_takes_the_player_the_source_the_partner_flag_and_the_amount() -> None:
    assert protocol.commander_damage({"playerId": 1, "sourceId": 2, "amount": 5}) == protocol.CommanderDamage(
        1, 2, False, 5
    )
    assert protocol.commander_damage({"playerId": 8, "sourceId": 1, "partner": True, "amount": -99}) == (
        protocol.CommanderDamage(8, 1, True, -99)
    )


@pytest.mark.parametrize("source", [None, 0, 9, 1, "2", 1.5, True])
def test_commander_damage_refuses_a_source_that_is_no_other_player(source: Any) -> None:
    data = {"playerId": 1, "sourceId": source, "amount": 1}
    assert (
        invalid(protocol.commander_damage, data, code="INVALID_COMMANDER_SOURCE") == "Invalid commander damage source"
    )


@pytest.mark.parametrize("amount", [None, 0, 100, -100, 1.5, "3", True])
def test_commander_damage_refuses_an_amount_that_is_not_a_non_zero_integer_within_99(amount: Any) -> None:
    data = {"playerId": 1, "sourceId": 2, "amount": amount}
    assert invalid(protocol.commander_damage, data) == "Invalid amount: a non-zero integer from -99 to 99"


@pytest.mark.parametrize("partner", [None, 1, "true"])
def test_commander_damage_refuses_a_partner_flag_that_is_not_a_boolean(partner: Any) -> None:
    data = {"playerId": 1, "sourceId": 2, "partner": partner, "amount": 1}
    assert invalid(protocol.commander_damage, data) == "Invalid partner flag"


def test_commander_damage_checks_the_player_id_first() -> None:
    assert invalid(protocol.commander_damage, {"sourceId": 2, "amount": 1}, code="INVALID_PLAYER_ID") == (
        "Invalid player ID"
    )


# -- time controls -------------------------------------------------------------------------


def test_create_settings_read_a_time_control_and_send_it_to_the_script() -> None:
    s = protocol.create_settings({"settings": {"timeControl": "bronstein", "timeControlMs": 5_000}})

    assert s.time_control == TimeControl("bronstein", 5_000)
    assert json.loads(s.to_json())["timeControl"] == "bronstein"
    assert json.loads(s.to_json())["timeControlMs"] == 5_000
    # a v1 create names none: the script gets no field of it, and plays sudden death
    assert "timeControl" not in json.loads(protocol.create_settings({}).to_json())
    # a time control is no HEAD setting: it brings no turn bonus
    assert s.bonus_time is None and s.timeout is None


@pytest.mark.parametrize(
    ("cap", "lead"), [(60_000, 10_000), (20_000, 10_000), (19_999, 9_999), (1_000, 500), (3_600_000, 10_000)]
)
def test_a_turn_cap_without_a_warning_gets_ten_seconds_or_half_the_cap(cap: int, lead: int) -> None:
    s = protocol.create_settings({"settings": {"timeControl": "turnCap", "timeControlMs": cap}})

    assert s.time_control == TimeControl("turnCap", cap, lead)


def test_a_named_turn_cap_warning_is_kept_zero_included() -> None:
    raw = {"timeControl": "turnCap", "timeControlMs": 30_000, "turnCapWarningMs": 0}

    assert protocol.create_settings({"settings": raw}).time_control == TimeControl("turnCap", 30_000, 0)
    assert protocol.settings_updates(raw) == raw


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"timeControl": "blitz"},
            "Invalid time control: timeControl must be one of suddenDeath, fischer, bronstein, turnCap",
        ),
        (
            {"timeControl": 1},
            "Invalid time control: timeControl must be one of suddenDeath, fischer, bronstein, turnCap",
        ),
        (
            {"timeControl": "fischer", "timeControlMs": 999},
            "Invalid time control amount: timeControlMs must be an integer from 1000 to 3600000 (ms)",
        ),
        (
            {"timeControl": "fischer", "timeControlMs": 3_600_001},
            "Invalid time control amount: timeControlMs must be an integer from 1000 to 3600000 (ms)",
        ),
        (
            {"timeControl": "fischer", "timeControlMs": 1.5},
            "Invalid time control amount: timeControlMs must be an integer from 1000 to 3600000 (ms)",
        ),
        (
            {"timeControl": "turnCap", "timeControlMs": 9_000, "turnCapWarningMs": -1},
            "Invalid turn cap warning: turnCapWarningMs must be an integer from 0 to 3599999 (ms)",
        ),
        ({"timeControl": "fischer"}, "Invalid time control: fischer, bronstein and turnCap need timeControlMs"),
        (
            {"timeControl": "suddenDeath", "timeControlMs": 5_000},
            "Invalid time control: suddenDeath takes no timeControlMs or turnCapWarningMs",
        ),
        (
            {"timeControl": "bronstein", "timeControlMs": 5_000, "turnCapWarningMs": 1_000},
            "Invalid time control: turnCapWarningMs is for turnCap only",
        ),
        (
            {"timeControl": "turnCap", "timeControlMs": 9_000, "turnCapWarningMs": 9_000},
            "Invalid turn cap warning: turnCapWarningMs must be shorter than the cap",
        ),
    ],
)
def test_time_controls_that_do_not_hold_together_are_refused_by_create_and_update(
    raw: dict[str, Any], message: str
) -> None:
    assert invalid(protocol.create_settings, {"settings": raw}) == message
    assert invalid(protocol.settings_updates, raw) == message


def test_create_refuses_an_amount_without_its_control_and_update_leaves_it_to_the_script() -> None:
    raw = {"timeControlMs": 5_000}

    assert (
        invalid(protocol.create_settings, {"settings": raw})
        == "Invalid time control: timeControlMs and turnCapWarningMs need a timeControl"
    )
    # the game's own control decides (update_settings.lua: INVALID_TIME_CONTROL)
    assert protocol.settings_updates(raw) == raw
    assert protocol.settings_updates({"turnCapWarningMs": 0}) == {"turnCapWarningMs": 0}
    assert protocol.settings_updates({"timeControl": "suddenDeath"}) == {"timeControl": "suddenDeath"}


# -- the host role and the seats ---------------------------------------------------------

HOST_TIMEOUT_REFUSAL = "Invalid host timeout: an integer from 10000 to 3600000 (ms)"


@pytest.mark.parametrize("value", [10_000, 60_000.0, 3_600_000])
def test_a_host_timeout_within_its_bounds_is_kept_at_create_and_update(value: Any) -> None:
    settings = protocol.create_settings({"settings": {"hostTimeout": value}})
    assert settings.host_timeout == value
    assert json.loads(settings.to_json())["hostTimeout"] == value
    assert protocol.settings_updates({"hostTimeout": value}) == {"hostTimeout": value}


def test_a_create_without_a_host_timeout_sends_none_to_the_script() -> None:
    settings = protocol.create_settings({"settings": {"name": "Table"}})
    assert settings.host_timeout is None
    assert "hostTimeout" not in json.loads(settings.to_json())


@pytest.mark.parametrize("value", [9_999, 3_600_001, 30_000.5, "60000", True, None, float("nan")])
def test_a_host_timeout_out_of_range_is_refused_at_create_and_update(value: Any) -> None:
    assert invalid(protocol.create_settings, {"settings": {"hostTimeout": value}}) == HOST_TIMEOUT_REFUSAL
    assert invalid(protocol.settings_updates, {"hostTimeout": value}) == HOST_TIMEOUT_REFUSAL


def test_move_seat_takes_two_different_seats() -> None:
    assert protocol.move_seat({"fromPlayerId": 2, "toPlayerId": 4.0}) == (2, 4)
    assert invalid(protocol.move_seat, {"fromPlayerId": 3, "toPlayerId": 3}) == (
        "Invalid seat move: fromPlayerId and toPlayerId must be different seats"
    )


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"fromPlayerId": 1},
        {"toPlayerId": 1},
        {"fromPlayerId": 0, "toPlayerId": 2},
        {"fromPlayerId": "1", "toPlayerId": 2},
    ],
)
def test_move_seat_refuses_a_missing_or_bad_player_id(data: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as info:
        protocol.move_seat(data)
    assert info.value.code == "INVALID_PLAYER_ID"


# -- undo and history ----------------------------------------------------------------------


def test_undo_count_defaults_to_one_and_takes_one_to_sixteen() -> None:
    assert protocol.undo_count({}) == (1,)
    assert protocol.undo_count({"count": 16}) == (16,)
    assert protocol.undo_count({"count": 3.0}) == (3,)
    for bad in (0, 17, 1.5, "2", True, None):
        assert invalid(protocol.undo_count, {"count": bad}) == "Invalid undo count: an integer from 1 to 16"


def test_history_page_defaults_to_twenty_from_the_newest() -> None:
    assert protocol.history_page({}) == (20, None)
    assert protocol.history_page({"limit": 50, "before": 7}) == (50, 7)
    assert protocol.history_page({"before": None}) == (20, None)
    for limit in (0, 51, "5", False):
        assert invalid(protocol.history_page, {"limit": limit}) == "Invalid history limit: an integer from 1 to 50"
    for before in (0, -3, "x", 2.5):
        assert (
            invalid(protocol.history_page, {"before": before})
            == "Invalid history position: before must be a version (a positive integer)"
        )


def test_the_undo_window_is_stored_only_when_named() -> None:
    assert "undoWindow" not in json.loads(protocol.create_settings({"settings": {}}).to_json())
    named = protocol.create_settings({"settings": {"undoWindow": 0}})
    assert (named.undo_window, json.loads(named.to_json())["undoWindow"]) == (0, 0)
    assert protocol.settings_updates({"undoWindow": 300_000}) == {"undoWindow": 300_000}
    for bad in (-1, 300_001, 1.5, "5", None):
        message = "Invalid undo window: an integer from 0 to 300000 (ms)"
        assert invalid(protocol.create_settings, {"settings": {"undoWindow": bad}}) == message
        assert invalid(protocol.settings_updates, {"undoWindow": bad}) == message
