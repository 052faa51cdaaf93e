"""bench/aof_replay.py: the AOF bytes of an action and the time a restart takes to load them."""

from __future__ import annotations

import pytest

from bench import aof_replay


async def test_every_pass_stays_in_the_file_and_a_restart_loads_it() -> None:
    r = await aof_replay.play(games=6, passes=10)

    # a pass writes the state, its undo snapshot, the log entry and the TTLs: two states of
    # about 1.8 KB each and well under a kilobyte more (docs/operations.md says about 4.5 KB)
    assert 3_500 < r.bytes_per_pass < 6_000
    # the set-up's writes are in the file too, before the passes
    assert r.aof_bytes > r.pass_bytes
    assert r.play_s > 0 and 0 < r.load_s < 5
    assert "AOF bytes per pass" in aof_replay.report(r)


def test_bad_counts_are_refused() -> None:
    with pytest.raises(SystemExit):
        aof_replay.main(["--games", "0"])
