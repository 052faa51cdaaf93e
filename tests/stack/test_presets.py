"""stack/presets.py: the limits off for tests, and the benchmarks' limits on but out of reach."""

from __future__ import annotations

import pytest

from service.settings import Settings
from stack.presets import HEADROOM, LIMIT_MAX, LIMIT_VARS, UNLIMITED, UNLIMITED_ENV, out_of_reach_env


def test_the_presets_name_every_limit_by_its_setting_and_its_variable() -> None:
    off = Settings.from_env(UNLIMITED_ENV)
    assert {name: getattr(off, name) for name in LIMIT_VARS} == UNLIMITED == dict.fromkeys(LIMIT_VARS, 0)
    env = out_of_reach_env(10, 4, 0.5)
    s = Settings.from_env(env)
    assert {name: getattr(s, name) for name in LIMIT_VARS} == {name: int(env[var]) for name, var in LIMIT_VARS.items()}


def test_out_of_reach_is_headroom_times_the_runs_worst_case_from_one_address() -> None:
    games, players, rate = 2000, 4, 0.5
    env = out_of_reach_env(games, players, rate)
    sockets = games * players
    assert env == {
        "RATE_LIMIT_CONNECTIONS_PER_MIN": str(HEADROOM * sockets),
        "MAX_SOCKETS_PER_IP": str(HEADROOM * sockets),
        "RATE_LIMIT_GAMES_PER_HOUR": str(HEADROOM * games),
        # the whole set-up (create, claim and start; join and claim for each other player) and a second of actions
        "RATE_LIMIT_MESSAGES_PER_S": str(HEADROOM * (games * (2 * players + 1) + 1000)),
        # the run sends fewer frames per socket than the production default allows
        "RATE_LIMIT_SOCKET_MESSAGES_PER_S": str(Settings.rate_socket_messages_per_s),
        # the run sends no feedback and lists no lobby: the defaults stay
        "RATE_LIMIT_FEEDBACK_PER_HOUR": str(Settings.rate_feedback_per_hour),
        "RATE_LIMIT_LOBBY_LISTS_PER_MIN": str(Settings.rate_lobby_lists_per_min),
    }


@pytest.mark.parametrize("games, players, rate", [(1, 2, 0.1), (50, 4, 0.5), (20_000, 8, 20.0)])
def test_out_of_reach_is_never_below_the_default_nor_above_what_the_settings_accept(
    games: int, players: int, rate: float
) -> None:
    env = out_of_reach_env(games, players, rate)
    for name, var in LIMIT_VARS.items():
        assert getattr(Settings, name) <= int(env[var]) <= LIMIT_MAX, var
    Settings.from_env(env)
