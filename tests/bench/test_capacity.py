"""The capacity model (bench/capacity.py): the sizing arithmetic on given figures, the check's
prediction, the command line, and one tiny real run of every measurement.

The figures themselves are measured by running `python -m bench.capacity`, not here.
"""

from __future__ import annotations

import dataclasses

import pytest

from bench import capacity
from bench.capacity import (
    Assumptions,
    CoreFigures,
    Figures,
    MemoryFigures,
    PeekFigures,
    Plan,
    ScriptFigures,
    Unit,
)

#: round unit costs, so that every figure below can be worked out by hand
UNIT = Unit(
    script_us=100.0,
    # the saturated cost plus one delivery: the figures below hold at either cost
    script_us_light=105.0,
    redis_base_cores=0.01,
    delivery_us=5.0,
    pipeline_us=10.0,
    peek_us=0.5,
    actions_per_core_s=1000.0,
    instance_idle_cores=0.0,
    bytes_per_socket=50_000.0,
    redis_bytes_per_game=20_000.0,
    redis_bytes_per_game_full_log=200_000.0,
    instance_base_mb=60.0,
)


def script_figures(subscribers: int, scripts: int, us: float) -> ScriptFigures:
    return ScriptFigures("always", subscribers, 256, 1.0, scripts, float(scripts), 50.0, 90.0, us, 4 * scripts)


def test_the_unit_costs_come_from_the_figures() -> None:
    f = Figures(
        scripts={"always": script_figures(0, 1000, 100.0), "everysec": script_figures(0, 2000, 90.0)},
        fanout=script_figures(4, 1000, 120.0),
        peek=PeekFigures(polls=100, polls_per_s=100.0, cpu_us_per_poll=42.0, cpu_us_per_single=10.5),
        core=CoreFigures(4, 16, "on", 2.0, 1000, 5000, 1.0, 0.1, 1000, 0, 1000.0, 5000.0, 1.0),
        memory=MemoryFigures(4, 16, 60.0, 61.0, 50_000.0, 15_000.0, 20_000.0, 1_000.0, 200_000.0, 10.0, 2.0),
    )
    u = Unit.of(f)
    # 20 µs more per script with 4 deliveries each; 31.5 µs more for 63 more peeks
    assert (u.script_us, u.delivery_us, u.pipeline_us, u.peek_us) == (100.0, 5.0, 10.0, 0.5)
    assert u.poll_us == 42.0
    # 1 CPU s in the 2 s window, 0.2 of it at rest: 1,000 actions in 0.8 s
    assert (u.actions_per_core_s, u.instance_idle_cores) == (1250.0, 0.1)
    assert (u.bytes_per_socket, u.instance_base_mb) == (50_000.0, 60.0)
    assert (u.redis_bytes_per_game, u.redis_bytes_per_game_full_log) == (20_000.0, 200_000.0)
    # Redis: 0.1 CPU s for the 1,000 scripts in the 2 s window, 0.04 s of it at rest
    assert (u.redis_base_cores, u.script_us_light) == (0.02, 60.0)


def test_game_ids_live_in_64_slots_of_16384() -> None:
    assert capacity.GAME_SLOTS == 64
    assert capacity.GAME_IDS == 32**6 * 64 // 16384 == 4_194_304


def test_the_busiest_shard_holds_the_slots_that_do_not_divide_evenly() -> None:
    assert [capacity.busiest_slots(s) for s in (1, 2, 3, 32, 33, 63, 64)] == [64, 32, 22, 2, 2, 2, 1]


def test_players_spread_at_random_land_on_fewer_instances_than_players() -> None:
    assert capacity.spread(1, 4) == 1.0
    assert capacity.spread(2, 4) == pytest.approx(2 * (1 - 0.5**4))
    assert capacity.spread(10, 4) == pytest.approx(3.439)
    assert 3.99 < capacity.spread(1000, 4) < 4.0


def test_10k_games_size_by_hand() -> None:
    s = capacity.size(10_000, UNIT)
    # 5,000 actions/s at 1,000 per core planned at 50 %: 10 instances
    assert (s.sockets, s.actions_per_s, s.instances, s.sockets_per_instance) == (40_000, 5000.0, 10, 4000)
    per_game = 3.439
    assert s.instances_per_game == pytest.approx(per_game)
    # one shard: 5,000 x (100 + 3.439 x 5) µs + 10 x 20 polls x 42 µs = 594 ms per s > 500: two
    assert (s.shards, s.slots_per_shard) == (2, 32)
    assert s.scripts_per_s_shard == 2500.0
    assert s.deliveries_per_s_shard == pytest.approx(2500 * per_game)
    assert s.polls_per_s_shard == 200.0
    assert s.shard_cpu_percent == pytest.approx((250_000 + 2500 * per_game * 5 + 200 * (10 + 16)) / 1e4)
    assert s.delivery_cpu_percent == pytest.approx(2500 * per_game * 5 / 1e4)
    assert s.poll_cpu_percent == pytest.approx(0.52)
    assert s.pubsub_in_per_s_instance == pytest.approx(5000 * per_game / 10)
    assert s.redis_connections_shard_max == 10 * 257
    assert s.fds_per_instance_max == 4000 + 2 * 257
    assert s.redis_memory_gb == pytest.approx(0.4)
    assert s.redis_memory_gb_at_log_cap == pytest.approx(4.0)
    assert s.instance_memory_gb == pytest.approx(2.0 + 0.6)
    assert s.game_id_use_percent == pytest.approx(100 * 10_000 / 4_194_304)
    assert s.bottlenecks == ["none close: the busiest Redis shard at 30% CPU"]


def test_1m_games_need_more_shards_than_the_game_slots_allow() -> None:
    s = capacity.size(1_000_000, UNIT)
    assert s.instances == 1000
    assert s.shards is None and s.slots_per_shard == 1
    # the scripts alone of one game slot: 500,000 x 100 µs / 64 = 78 % of a core
    per_game = capacity.spread(1000, 4)
    cpu_us = 500_000 * 100 / 64 + 500_000 / 64 * per_game * 5 + 1000 * 20 * 10.5
    assert s.shard_cpu_percent == pytest.approx(cpu_us / 1e4)
    assert s.redis_connections_shard_max == 257_000
    assert s.fds_per_instance_max == 4000 + 64 * 257
    heads = [b.split(":", 1)[0] for b in s.bottlenecks]
    assert heads == ["game slots", "connections", "game ids"]


def test_the_light_load_script_cost_sizes_the_shards_unless_scripts_batch() -> None:
    costly = dataclasses.replace(UNIT, script_us_light=305.0)
    light = capacity.size(10_000, costly)
    # a slot's 78.125 scripts/s x (300 + 3.439 x 5) µs = 24.8 ms, plus 200 x (10 + 0.5) µs of
    # polls per slot: at most 20 slots fit in 500 ms, so 4 shards of 16
    assert (light.shards, light.slots_per_shard, light.shards_batched) == (4, 16, 2)
    batched = capacity.size(10_000, costly, Assumptions(batched=True))
    assert (batched.shards, batched.shards_batched) == (2, 2)
    assert batched.shard_cpu_percent == pytest.approx(capacity.size(10_000, UNIT).shard_cpu_percent)
    text = capacity.sizing_table([light], Assumptions())
    assert "light-load cost" in text and "if scripts batch (saturated cost)" in text


def test_half_the_game_slots_in_use_is_named() -> None:
    s = capacity.size(100_000, dataclasses.replace(UNIT, script_us_light=405.0))
    # 50,000 scripts/s at 400 µs: only one game slot per shard keeps the busiest under 50 %
    assert (s.instances, s.shards, s.slots_per_shard) == (100, 64, 1)
    assert s.bottlenecks[0] == "game slots: 64 shards of the 64 that can hold games"
    assert [b.split(":", 1)[0] for b in s.bottlenecks] == ["game slots", "connections"]


def test_many_instances_for_few_games_make_the_deadline_polls_the_bottleneck() -> None:
    slow = dataclasses.replace(UNIT, actions_per_core_s=10.0)
    s = capacity.size(10_000, slow)
    assert s.instances == 1000
    # 20,000 pipelines/s x (10 + 0.5 per partition) µs come on top of every shard's share of
    # the scripts: at most 15 partitions per shard fit in 500 ms, so 5 shards (13 each)
    assert (s.shards, s.slots_per_shard) == (5, 13)
    assert s.poll_cpu_percent == pytest.approx(20_000 * (10 + 6.5) / 1e4)
    assert [b.split(":", 1)[0] for b in s.bottlenecks] == ["deadline polls", "connections"]


def test_costly_deliveries_make_the_fan_out_the_bottleneck() -> None:
    s = capacity.size(10_000, dataclasses.replace(UNIT, delivery_us=50.0))
    assert (s.shards, s.slots_per_shard) == (3, 22)
    assert s.delivery_cpu_percent == pytest.approx(5000 * 22 / 64 * 3.439 * 50 / 1e4)
    assert [b.split(":", 1)[0] for b in s.bottlenecks] == ["pub/sub fan-out"]


def test_assumptions_change_the_sizing() -> None:
    tight = capacity.size(10_000, UNIT, Assumptions(utilization=1.0, replication=3, poll_ms=100))
    assert tight.instances == 5
    assert tight.shards == 1 and tight.polls_per_s_shard == 50.0
    assert tight.redis_memory_gb == pytest.approx(0.6)
    # never fewer than two instances
    assert capacity.size(10, UNIT).instances == 2


def test_an_instance_at_rest_leaves_less_of_its_core_for_actions() -> None:
    idle = dataclasses.replace(UNIT, instance_idle_cores=0.1)
    # 5,000 actions/s at 1,000 per core-second in the 0.4 core left of the 0.5 planned
    assert capacity.size(10_000, idle).instances == 13
    with pytest.raises(ValueError, match="at rest"):
        capacity.size(10_000, dataclasses.replace(UNIT, instance_idle_cores=0.5))
    p = capacity.predict(idle, 1000, 2)
    assert p["instance_cpu_percent"] == pytest.approx(100 * (2 * 0.1 + 0.5))
    assert p["instance_cpu_ms_per_action"] == pytest.approx(1.4)


def test_the_table_names_every_size_and_its_bottlenecks() -> None:
    a = Assumptions()
    sizes = [capacity.size(g, UNIT, a) for g in capacity.SIZES]
    text = capacity.sizing_table(sizes, a)
    assert "headroom x2" in text
    for g in ("10,000", "100,000", "1,000,000"):
        assert f"  {g} games:" in text
    assert f">{capacity.GAME_SLOTS}" in text
    assert text.count("    - ") == sum(len(s.bottlenecks) for s in sizes)


def test_the_prediction_of_a_check_point() -> None:
    p = capacity.predict(UNIT, 1000, 2)
    assert p["instance_cpu_ms_per_action"] == 1.0
    assert p["instance_cpu_percent"] == 50.0
    assert p["scripts_per_s"] == 500.0
    # Redis at rest with one instance, the second's 20 polls of 42 µs, and 500 scripts at the
    # light cost with 0.875 more deliveries of 5 µs each, per second
    assert p["redis_cpu_percent"] == pytest.approx(1 + (20 * 42 + 500 * (105 + 0.875 * 5)) / 1e4)
    # as the sizing counts a shard: 500 x (100 µs + 1.875 x 5 µs) + 40 polls x 42 µs
    assert p["redis_cpu_percent_saturated_cost"] == pytest.approx((50_000 + 500 * 1.875 * 5 + 40 * 42) / 1e4)


def test_the_check_report_sets_prediction_beside_measurement() -> None:
    c = capacity.Check(
        games=1000,
        instances=2,
        window_s=30.0,
        actions=15000,
        errors=0,
        predicted_instance_cpu_ms_per_action=1.0,
        measured_instance_cpu_ms_per_action=1.2,
        predicted_instance_cpu_percent=50.0,
        measured_instance_cpu_percent=60.0,
        predicted_scripts_per_s=500.0,
        measured_scripts_per_s=0.0,
        predicted_redis_cpu_percent=0.0,
        predicted_redis_cpu_percent_saturated_cost=2.5,
        measured_redis_cpu_percent=5.0,
    )
    lines = capacity.check_report(c).splitlines()
    assert lines[2].split()[-3:] == ["1.000", "1.200", "1.20"]
    assert lines[4].split()[-3:] == ["500.0", "0.0", "0.00"]
    assert lines[5].split()[-1] == "-"
    assert lines[6].split()[-3:] == ["2.5", "5.0", "2.00"]


def test_the_command_line() -> None:
    args = capacity.parse_args([])
    assert (args.quick, args.check, args.check_games, args.ticks, args.utilization) == (False, False, 1000, "on", 0.5)
    args = capacity.parse_args(["--quick", "--check", "--check-games", "200", "--ticks", "off"])
    assert (args.quick, args.check, args.check_games, args.ticks) == (True, True, 200, "off")
    for bad in (["--utilization", "0"], ["--utilization", "1.5"], ["--check-games", "0"]):
        with pytest.raises(SystemExit):
            capacity.parse_args(bad)


TINY = Plan(
    script_s=0.5, script_games=16, subscribers=2, peek_s=0.3, core_games=4, core_s=2.0, memory_games=4, memory_warm=2
)


@pytest.mark.slow
async def test_a_tiny_run_measures_every_figure() -> None:
    f = await capacity.measure(TINY, "on")

    assert set(f.scripts) == {"always", "everysec"}
    for s in (*f.scripts.values(), f.fanout):
        assert s.tasks == 16 and s.scripts > 0 and s.cpu_us_per_script > 0
        assert s.scripts_per_s == pytest.approx(s.scripts / s.seconds, rel=0.01)
    assert [s.deliveries for s in f.scripts.values()] == [0, 0]
    # each pass-turn publishes once, to both subscribers
    assert f.fanout.deliveries == 2 * f.fanout.scripts
    # a tiny run's Redis CPU is read in 10 ms clock ticks from /proc: it may round to 0, so
    # only the counts are exact here (the arithmetic on the figures is tested above)
    assert f.peek.polls > 0 and f.peek.cpu_us_per_poll >= 0 and f.peek.cpu_us_per_single >= 0

    c = f.core
    assert (c.games, c.sockets, c.errors) == (4, 16, 0)
    # every scheduled action confirmed, each one script, and nothing else ran a script but
    # the deadline polls, taken off; the instance counts a poll once its reply is in, so a
    # poll crossing one end of the window may be counted on one side only
    assert c.actions == 4 * round(TINY.core_s * 0.5)
    assert abs(c.redis_scripts - c.actions) <= 2
    assert c.instance_cpu_s > 0 and c.actions_per_core_s == pytest.approx(c.actions / c.instance_cpu_s, rel=0.01)
    # each action's state reaches 4 sockets, and the ticks come on top
    assert c.frames_out >= 4 * c.actions

    m = f.memory
    assert (m.games, m.sockets) == (4, 16)
    assert m.rss_after_mb >= m.rss_before_mb > 0
    assert m.redis_bytes_per_game > 0 and m.redis_bytes_per_game_10_actions > m.redis_bytes_per_game
    assert m.redis_bytes_per_action > 0
    assert m.redis_bytes_per_game_full_log > m.redis_bytes_per_game_10_actions
    # /proc counts in 10 ms ticks: a quiet instance may show none in the tiny run's 2 s
    assert 0 <= m.idle_cpu_percent < 50

    sizes = [capacity.size(g, Unit.of(f)) for g in capacity.SIZES]
    assert [s.games for s in sizes] == list(capacity.SIZES)
    assert sizes[0].instances <= sizes[1].instances <= sizes[2].instances
