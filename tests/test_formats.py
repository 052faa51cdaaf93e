"""service/formats.py: the presets, and the validation and resolution of the format settings."""

from __future__ import annotations

from typing import Any

import pytest

from service import formats
from service.formats import FORMATS, FormatSettings, LossRules, create_format, format_updates
from tests.support.refusals import invalid


def test_the_presets_set_the_life_and_loss_rules_of_the_issue() -> None:
    assert {name: (f.starting_life, f.loss_rules, f.teams) for name, f in FORMATS.items()} == {
        "standard": (20, LossRules(True, True, False), False),
        "commander": (40, LossRules(True, True, True), False),
        "twoHeadedGiant": (30, LossRules(True, True, False), True),
        "brawl": (25, LossRules(True, True, False), False),
        "custom": (20, LossRules(True, True, False), False),
    }


def test_a_create_naming_none_is_standard() -> None:
    assert create_format({}, 2, "casual") == FormatSettings("standard", 20, LossRules())
    assert FormatSettings().to_settings() == {
        "format": "standard",
        "startingLife": 20,
        "lossRules": {"life": True, "poison": True, "commanderDamage": False},
    }


def test_a_format_brings_its_life_and_rules_and_each_can_be_overridden() -> None:
    assert create_format({"format": "commander"}, 4, "casual") == FormatSettings(
        "commander", 40, LossRules(True, True, True)
    )
    got = create_format({"format": "commander", "startingLife": 30, "lossRules": {"poison": False}}, 4, "casual")
    assert got == FormatSettings("commander", 30, LossRules(True, False, True))
    assert create_format({"startingLife": 9999}, 2, "casual") == FormatSettings("standard", 9999, LossRules())


@pytest.mark.parametrize("value", ["vintage", "", None, 1, ["commander"]])
def test_an_unknown_format_is_refused_naming_the_formats(value: Any) -> None:
    message = invalid(create_format, {"format": value}, 2, "casual")
    assert message.startswith("Unknown format: ") and message.endswith(
        "(one of standard, commander, twoHeadedGiant, brawl, custom)"
    )


@pytest.mark.parametrize("value", [0, 10_000, -5, 2.5, "40", True, None])
def test_a_starting_life_out_of_range_is_refused(value: Any) -> None:
    assert invalid(create_format, {"startingLife": value}, 2, "casual") == (
        "Invalid starting life: an integer from 1 to 9999"
    )


def test_a_starting_life_may_be_a_whole_float() -> None:
    assert create_format({"startingLife": 40.0}, 2, "casual").starting_life == 40


@pytest.mark.parametrize("value", [{}, {"mill": True}, {"life": 1}, {"life": None}, [True], True, "life"])
def test_loss_rules_that_are_not_an_object_of_booleans_are_refused(value: Any) -> None:
    assert invalid(create_format, {"lossRules": value}, 2, "casual") == (
        "Invalid loss rules: an object of life, poison, commanderDamage, each true or false"
    )


@pytest.mark.parametrize(
    ("count", "ok"), [(2, False), (3, False), (4, True), (5, False), (6, True), (7, False), (8, True)]
)
def test_two_headed_giant_needs_an_even_table_of_four_to_eight(count: int, ok: bool) -> None:
    if ok:
        assert create_format({"format": "twoHeadedGiant"}, count, "casual").starting_life == 30
    else:
        assert invalid(create_format, {"format": "twoHeadedGiant"}, count, "casual") == (
            "Invalid settings: twoHeadedGiant needs 4, 6 or 8 players"
        )


@pytest.mark.parametrize("key", formats.FORMAT_KEYS)
def test_a_campaign_create_refuses_every_format_setting(key: str) -> None:
    value = {"format": "standard", "startingLife": 20, "lossRules": {"life": True}}[key]
    assert (
        invalid(create_format, {key: value}, 2, "campaign") == f"Invalid settings: {key} is set by the campaign preset"
    )
    assert create_format({}, 2, "campaign") == FormatSettings()


def test_an_update_with_a_format_resolves_its_life_and_every_rule() -> None:
    assert format_updates({"format": "brawl"}) == {
        "format": "brawl",
        "startingLife": 25,
        "lossRules": {"life": True, "poison": True, "commanderDamage": False},
    }
    assert format_updates({"format": "commander", "startingLife": 60, "lossRules": {"life": False}}) == {
        "format": "commander",
        "startingLife": 60,
        "lossRules": {"life": False, "poison": True, "commanderDamage": True},
    }


def test_an_update_without_a_format_sends_only_what_it_names() -> None:
    assert format_updates({"lossRules": {"poison": False}}) == {"lossRules": {"poison": False}}
    assert format_updates({"startingLife": 7}) == {"startingLife": 7}
    assert format_updates({"penaltyType": "warning"}) == {}


def test_an_update_refuses_what_a_create_refuses() -> None:
    assert invalid(format_updates, {"format": "x"}).startswith("Unknown format: x")
    assert invalid(format_updates, {"startingLife": 0}) == "Invalid starting life: an integer from 1 to 9999"
    assert invalid(format_updates, {"lossRules": {}}).startswith("Invalid loss rules")
