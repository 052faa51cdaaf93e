"""The soak (bench/soak.py): a short run against real processes must stay within what its live
games explain, and the plateau/slope analysis must tell levelling off from growth.

The short run is too short to judge RSS (the GC policy's warm-up alone takes ~16 minutes at
the issue's load): it checks the exact bounds, which hold at any time. Plateaus and slopes
are checked here on synthetic series; the long runs are in docs/soak.md.
"""

from __future__ import annotations

import asyncio
import math
import random

import pytest

from bench import soak
from service import keys

SHORT = soak.Config(
    games_per_minute=60,
    minutes=1.75,
    alive=10,
    players=3,
    seed=3,
    instances=2,
    # the clock of a game left running runs out within the run, and its keys expire within it
    env={"GAME_RETENTION_S": "60"},
    initial_time_s=20,
    sample_s=3,
    actions=6,
)


@pytest.fixture(scope="module")
def short_soak() -> soak.Result:
    return asyncio.run(soak.run(SHORT))


def checks(result: soak.Result, prefix: str) -> list[soak.Check]:
    found = [c for c in result.checks if c.name.startswith(prefix)]
    assert found, f"no {prefix} check in {[c.name for c in result.checks]}"
    return found


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_short_soak_plays_every_game_without_errors_and_drains(short_soak: soak.Result) -> None:
    st = short_soak.stats
    expected = SHORT.games_per_minute * SHORT.minutes
    assert 0.9 * expected <= st["games_started"] <= 1.1 * expected + 1
    assert st["games_done"] == st["games_started"] and st["games_failed"] == 0 and st["starts_skipped"] == 0
    assert [c for c in short_soak.checks if c.name in ("errors", "drain") and not c.ok] == []
    assert {c.name for c in short_soak.checks} >= {"errors", "drain"}


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_soak_samples_every_instance_and_redis_figure(short_soak: soak.Result) -> None:
    churn = [s for s in short_soak.samples if s.phase == "churn"]
    assert len(churn) >= SHORT.minutes * 60 / SHORT.sample_s - 2
    last = churn[-1].figures
    for inst in ("inst0", "inst1"):
        # tasks and GC counts come from the instance's /metrics (service/app.py, service/metrics.py)
        assert last[f"{inst}.tasks"] > 0 and last[f"{inst}.gc_gen0"] > 0 and f"{inst}.gc_frozen" in last
        assert last[f"{inst}.rss_mb"] > 10 and last[f"{inst}.fds"] > 0 and last[f"{inst}.connections"] > 0
        assert f"set.{inst}" in last
    assert last["keys.game"] > 0 and last["keys.log"] > 0 and last["keys.instances"] == 1
    assert last["redis.used_memory_mb"] > 0 and last["redis.rss_mb"] > 0 and last["deadline_entries"] > 0
    assert last["keys.other"] == 0
    drained = short_soak.samples[-1]
    assert drained.phase == "drained" and drained.figures["inst0.connections"] == 0


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_every_redis_key_family_stays_within_what_the_live_games_explain(short_soak: soak.Result) -> None:
    families = checks(short_soak, "bound:keys.") + checks(short_soak, "bound:deadline_entries")
    assert {c.name for c in families} >= {f"bound:keys.{f.name}" for f in soak.FAMILIES}
    assert [c for c in families if not c.ok] == []
    # the per-game families did reach their steady state: games expired during the run
    game_keys = [s.figures["keys.game"] for s in short_soak.samples if s.phase == "churn"]
    assert max(game_keys) < short_soak.stats["games_started"]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_each_instance_games_set_holds_only_the_games_seated_there(short_soak: soak.Result) -> None:
    """Before service/liveness.py pruned it, each set held every game the instance had ever
    seated: 105 of them at the end of this run, against at most 13 with a seat there."""
    sets = checks(short_soak, "bound:set.")
    assert len(sets) == SHORT.instances
    assert [c for c in sets if not c.ok] == []


# -- the analysis, on synthetic series --------------------------------------------------------


def minutes(n: int, every_s: float = 5.0) -> list[float]:
    return [i * every_s for i in range(int(n * 60 / every_s))]


def test_a_series_that_levels_off_passes_with_its_plateau_and_a_flat_slope() -> None:
    # RSS as the issue measured it: 49 MB rising to 84 MB, flat after ~16 minutes
    ts = minutes(40)
    vs = [49 + 35 * (1 - math.exp(-t / 240)) for t in ts]
    tr = soak.trend(ts, vs, 0.05, 2.0)
    assert tr.levels_off
    assert tr.plateau_from_s is not None and tr.plateau_from_s < 0.67 * ts[-1]
    assert tr.plateau == pytest.approx(84, abs=1.5)
    # the plateau starts where what is left of the rise is within the tolerance: the slope from
    # there is what remains of the warm-up, a few MB/h, nothing like the +76 MB/h of its start
    assert tr.growth <= tr.tolerance and 0 <= tr.slope_per_h < 10


def test_linear_growth_fails_once_the_run_is_long_enough_to_show_it() -> None:
    # 36 MB/h on 50 MB: a third of a 3-minute run rises 0.6 MB, within any useful tolerance;
    # the docs say so (a run must last long enough for its last third to show the slope)
    assert soak.trend(minutes(3), [50 + 0.01 * t for t in minutes(3)], 0.05, 2.0).levels_off
    for length in (15, 60):
        ts = minutes(length)
        vs = [50 + 0.01 * t for t in ts]  # 36 MB/h
        tr = soak.trend(ts, vs, 0.05, 2.0)
        assert not tr.levels_off and tr.plateau_from_s is None, length
        assert tr.slope_per_h == pytest.approx(36, rel=0.01)


def test_growth_that_starts_late_in_the_run_fails() -> None:
    ts = minutes(30)
    vs = [80.0 if t < 1200 else 80 + 0.02 * (t - 1200) for t in ts]
    assert not soak.trend(ts, vs, 0.05, 2.0).levels_off


def test_a_noisy_flat_series_passes_and_a_falling_one_too() -> None:
    rng = random.Random(5)
    ts = minutes(30)
    noisy = [60 + rng.gauss(0, 6) for _ in ts]
    tr = soak.trend(ts, noisy, 0.05, 2.0)
    assert tr.levels_off and tr.plateau == pytest.approx(60, abs=2)
    falling = [100 - 0.01 * t for t in ts]
    assert soak.trend(ts, falling, 0.05, 2.0).levels_off


def test_a_figure_past_its_bound_fails_its_check_and_the_verdict() -> None:
    stats = soak.Stats()
    samples = [
        soak.Sample(float(t), {"keys.game": 10.0, "set.inst0": 3.0 + t}, {"keys.game": 12.0, "set.inst0": 4.0})
        for t in range(10)
    ]
    _, found = soak.analyse(stats, samples, None)
    by_name = {c.name: c for c in found}
    assert by_name["bound:keys.game"].ok
    assert not by_name["bound:set.inst0"].ok and "12 > 4" in by_name["bound:set.inst0"].detail
    assert soak.verdict_line(SHORT, stats, found).startswith("soak FAIL")


def test_every_key_the_service_builds_belongs_to_one_family() -> None:
    gid = keys.new_game_id(b"soak")
    assert soak.family_of(keys.game(gid)) == "game"
    assert soak.family_of(keys.log(gid)) == "log"
    assert soak.family_of(keys.actions(gid)) == "actions"
    assert soak.family_of(keys.undo(gid)) == "undo"
    assert {soak.family_of(keys.deadline_partition(p)) for p in range(keys.PARTITIONS)} == {"deadlines"}
    assert {soak.family_of(keys.lobby_partition(p)) for p in range(keys.PARTITIONS)} == {"lobby"}
    assert soak.family_of(keys.instances()) == "instances"
    assert soak.family_of(keys.instance_games("0a1b2c3d4e")) == "instance_games"
    assert soak.family_of(keys.rate_limit("127.0.0.1", "conn")) == "rate_limits"
    assert soak.family_of("somebody:else") == "other"


def test_a_game_left_running_keeps_its_keys_until_its_clock_ran_out_plus_the_retention() -> None:
    g = soak.GameRun(0, soak.Stats(), created_at=100.0)
    assert g.keys_until(60, 20) == math.inf
    g.started, g.left_at, g.running_at_leave = True, 130.0, True
    assert g.keys_until(60, 20) == 130 + 20 + 60 + soak.EXPIRY_SLACK_S
    assert g.may_have_deadline(140.0, 20) and not g.may_have_deadline(160.0, 20)
    g.running_at_leave = False
    assert g.keys_until(60, 20) == 130 + 60 + soak.EXPIRY_SLACK_S


def test_the_command_line_stays_on_loopback() -> None:
    with pytest.raises(SystemExit):
        soak.parse_args(["--url", "ws://10.0.0.5:3000/"])
    with pytest.raises(SystemExit):
        soak.parse_args(["--env", "GAME_RETENTION_S"])
    c = soak.parse_args(["--url", "ws://127.0.0.1:4000/", "--pid", "12", "--retention-s", "300"])
    assert (c.urls, c.pids, c.retention, c.instances) == (["ws://127.0.0.1:4000/"], [12], 300, 1)
    c = soak.parse_args(["--minutes", "2", "--env", "GAME_RETENTION_S=90"])
    assert c.retention == 90 and c.urls == []
    # every soak game ends with everyone gone: its keys live for the idle retention
    c = soak.parse_args(["--env", "GAME_RETENTION_S=86400", "--env", "IDLE_GAME_RETENTION_S=600"])
    assert c.retention == 600
