"""bench/limiter.py: the cost per frame of the shared check against a real redis-server and of the local one."""

from __future__ import annotations

import re

import pytest

from bench import limiter

FIGURES = re.compile(r"wall (\d+\.\d\d) µs/frame, CPU here (\d+\.\d\d) µs/frame")


def test_the_quick_run_prints_wall_and_cpu_per_frame_for_both_checks(capsys: pytest.CaptureFixture[str]) -> None:
    limiter.main(["--quick", "--aof", "no"])
    lines = capsys.readouterr().out.splitlines()
    labels = [text.split(":")[0] for text in lines]
    assert labels == [
        "shared EVALSHA, AOF no, 1 at a time",
        "shared EVALSHA, AOF no, 8 at once",
        "local AddressRates, 1000 addresses",
        "local AddressRates, table full, a new address a frame",
        "local AddressRates table",
    ]
    shared_lines, local_lines = lines[:2], lines[2:4]
    for text in shared_lines:
        assert "redis-server CPU" in text and "(400 frames)" in text, text
    for text in local_lines:
        assert "(8000 frames)" in text and "redis-server" not in text, text
    figures = [tuple(float(x) for x in FIGURES.search(text).groups()) for text in shared_lines + local_lines]  # type: ignore[union-attr]
    assert all(wall > 0 and cpu >= 0 for wall, cpu in figures), figures
    assert re.fullmatch(r"local AddressRates table: \d+ bytes per address \(1000 addresses, keys included\)", lines[4])


def test_an_unknown_aof_mode_is_refused() -> None:
    with pytest.raises(SystemExit):
        limiter.main(["--quick", "--aof", "sometimes"])
