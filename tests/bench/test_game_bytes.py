"""bench/game_bytes.py: what one game costs Redis, measured through the real scripts."""

from __future__ import annotations

import pytest

from bench import game_bytes


async def test_a_games_keys_grow_with_its_log_and_stop_at_the_log_cap() -> None:
    rows = await game_bytes.measure()

    assert [(players, actions) for players, actions, _, _ in rows] == list(game_bytes.GAMES)
    # create, one claim per seat, start, the actions, one leave per seat: the log keeps 256
    assert [entries for *_, entries in rows] == [16, 40, 110, 256]
    totals = [sum(sizes) for _, _, sizes, _ in rows]
    assert totals == sorted(totals)
    # docs/operations.md promises at most about 103 KB for the largest game the log allows
    # (its undo stack full: 16 states of 8 players)
    assert totals[-1] < 128 * 1024
    # every action there is undoable (the host's turn passes and life changes): the stack is full
    assert all(sizes[3] > 0 for _, _, sizes, _ in rows)


def test_it_prints_one_markdown_row_per_game(capsys: pytest.CaptureFixture[str]) -> None:
    game_bytes.main([])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| players | actions |")
    assert len(lines) == 2 + len(game_bytes.GAMES)
