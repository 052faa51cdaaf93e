"""The load benchmark (bench/load.py): one small run end to end against real processes, and
the pieces its figures rest on (schedule, percentiles, the WebSocket frame codec, profiles).

The benchmark's own targets (thousands of games, p99 bounds) are measured by running it, not
here: these tests check that what it counts is counted right.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from bench import load, wsproto
from bench.procinfo import cpu_seconds, memory_kb, summarize_collapsed
from service.gcpolicy import PAUSE_BUCKETS, PauseTimer
from stack.presets import out_of_reach_env
from stack.redis_server import RedisProcess

GAMES, PLAYERS, RATE, DURATION = 4, 3, 2.0, 3.0


@pytest.mark.slow
async def test_a_small_run_confirms_every_scheduled_action_and_reports_sane_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the instances inherit it: a run this small allocates too little for the default
    # threshold to set off a collection, and the test reads their pauses
    monkeypatch.setenv("GC_YOUNG_THRESHOLD", "100")
    config = load.Config(
        games=GAMES,
        players=PLAYERS,
        rate=RATE,
        duration=DURATION,
        instances=2,
        aof="everysec",
        # Redis rewrites its AOF at every chance it gets (serverCron, 10 a second)
        aof_rewrite_percentage=1,
        aof_rewrite_min_size="1kb",
        seed=7,
        samples=tmp_path / "samples.csv",
    )
    r = await load.run(config)

    # by default the limits are on, out of reach: nothing below is refused
    assert (r.limits, r.limit_env) == ("on", out_of_reach_env(GAMES, PLAYERS, RATE))
    assert "limits on" in load.report(r).splitlines()[0]
    per_game = round(DURATION * RATE)
    assert r.expected_actions == GAMES * per_game
    # one action at a time per game, each scheduled inside the window: all sent, all confirmed
    assert (r.sent, r.acked, r.skipped) == (GAMES * per_game, GAMES * per_game, 0)
    assert r.errors == 0, r.error_detail
    assert r.version_skew == 0
    assert r.ack.n == r.acked
    # every other player of the game saw every action
    assert r.fanout.n == r.fanout_expected == (PLAYERS - 1) * r.acked
    for d in (r.ack, r.fanout):
        assert 0 < d.p50 <= d.p95 <= d.p99 <= d.max < config.timeout_s * 1000
    assert DURATION <= r.window_s < DURATION + config.timeout_s
    assert r.actions_per_s == pytest.approx(r.acked / r.window_s, rel=0.01)
    # two state broadcasts per action reach the two instances' subscriptions
    assert r.pubsub_messages == 2 * r.acked
    assert r.version_gaps == 0

    procs = {p.name: p for p in r.processes}
    assert set(procs) == {"inst0", "inst1", "redis", "loadgen"}
    for p in procs.values():
        assert p.pid > 0 and p.peak_rss_mb > 0 and p.rss_mb > 0 and p.peak_rss_mb >= p.rss_mb
        assert p.cpu_s >= 0
    # /proc counts CPU in 10 ms ticks: the instances and the loadgen do enough in 3 s to show
    for name in ("inst0", "inst1", "loadgen"):
        assert procs[name].cpu_s > 0
    assert r.cost_ms_per_action is not None and r.cost_ms_per_action > 0
    assert r.redis_ping.n > 0 and set(r.health) == {"inst0", "inst1"}
    # each instance allocates enough in the window for young collections, read from its /metrics
    assert [g.name for g in r.gc_pauses] == ["inst0", "inst1"]
    for g in r.gc_pauses:
        assert g.collections[0] > 0 and g.pause_s[0] > 0 and g.longest_under_s > 0

    # the rewrites are counted, and every ack falls on one side of them
    assert r.rewrites is not None and r.rewrites.count > 0
    assert r.rewrites.ack_during.n + r.rewrites.ack_outside.n == r.ack.n
    assert 0 <= r.rewrites.running_s <= r.window_s

    text = load.report(r)
    assert f"confirmed {r.acked} of {r.expected_actions}" in text and "errors: 0" in text
    assert f"Redis AOF rewrites begun in the window: {r.rewrites.count}," in text
    assert json.loads(json.dumps(r.to_json()))["acked"] == r.acked
    rows = (tmp_path / "samples.csv").read_text().splitlines()
    assert rows[0] == "kind,sent_s,ms" and len(rows) == 1 + r.ack.n + r.fanout.n


@pytest.mark.slow
async def test_two_load_generator_processes_split_the_games_and_their_figures_merge_exactly(tmp_path: Path) -> None:
    games = 10
    config = load.Config(
        games=games,
        players=PLAYERS,
        rate=RATE,
        duration=DURATION,
        instances=2,
        aof="everysec",
        seed=7,
        samples=tmp_path / "samples.csv",
        loadgen_procs=2,
    )
    r = await load.run(config)

    per_game = round(DURATION * RATE)
    assert r.loadgen_procs == 2 and len(r.loadgen_workers) == 2
    # every game in exactly one worker, set up there once, with its whole schedule
    blocks = [(w.first_game, w.first_game + w.games) for w in r.loadgen_workers]
    assert blocks == [(0, 5), (5, 10)]
    for w in r.loadgen_workers:
        assert w.set_up == w.games
        assert w.scheduled == w.sent == w.acked == w.games * per_game
    assert sum(w.acked for w in r.loadgen_workers) == r.acked == r.sent == r.expected_actions == games * per_game
    assert r.skipped == 0 and r.errors == 0, r.error_detail
    assert r.version_skew == 0
    # the merged samples are all the samples: one ack per action, one fan-out per other player
    assert r.ack.n == r.acked
    assert r.fanout.n == r.fanout_expected == (PLAYERS - 1) * r.acked
    for d in (r.ack, r.fanout):
        assert 0 < d.p50 <= d.p95 <= d.p99 <= d.max < config.timeout_s * 1000
    # the service saw exactly these actions: no game was played from both workers
    assert r.pubsub_messages == 2 * r.acked
    assert r.version_gaps == 0
    assert DURATION <= r.window_s < DURATION + config.timeout_s
    # each worker timed its own loop all through the window (every 50 ms)
    assert r.loop_lag.n >= 2 * 0.8 * DURATION / 0.05
    assert r.redis_ping.n > 0 and set(r.health) == {"inst0", "inst1"}

    # the load generator's CPU and memory are those of the parent and both workers
    procs = {p.name: p for p in r.processes}
    assert set(procs) == {"inst0", "inst1", "redis", "loadgen"}
    pids = {w.pid for w in r.loadgen_workers}
    assert len(pids) == 2 and os.getpid() not in pids and procs["loadgen"].pid == os.getpid()
    assert all(w.cpu_s > 0 and w.peak_rss_mb > 0 for w in r.loadgen_workers)
    assert procs["loadgen"].cpu_s >= sum(w.cpu_s for w in r.loadgen_workers) - 0.002
    assert procs["loadgen"].peak_rss_mb > sum(w.peak_rss_mb for w in r.loadgen_workers)

    text = load.report(r)
    assert f"confirmed {r.acked} of {r.expected_actions}" in text and "errors: 0" in text
    assert "worker 0 (pid" in text and "worker 1 (pid" in text
    assert json.loads(json.dumps(r.to_json()))["loadgen_workers"][1]["first_game"] == 5
    rows = (tmp_path / "samples.csv").read_text().splitlines()
    assert rows[0] == "kind,sent_s,ms" and len(rows) == 1 + r.ack.n + r.fanout.n
    # send times from both workers, on the common window's clock (a game due at its very start may
    # fire just before the worker notes the time)
    sent_s = [float(row.split(",")[1]) for row in rows[1:]]
    assert min(sent_s) > -0.05 and max(sent_s) < DURATION + 1


@pytest.mark.parametrize(
    ("sockets", "limit", "procs"),
    [
        (400, 20_000, 1),
        # 4,000 games of 4: one process, as before
        (16_000, 20_000, 1),
        (17_000, 20_000, 1),
        (17_001, 20_000, 2),
        # 5,000 and 6,000 games of 4
        (20_000, 20_000, 2),
        (24_000, 20_000, 2),
        (34_001, 20_000, 3),
        (4_000, 1_024, 5),
        (10**6, -1, 1),
        (10**6, 0, 1),
    ],
)
def test_the_automatic_process_count_keeps_each_within_its_share_of_the_limit(
    sockets: int, limit: int, procs: int
) -> None:
    assert load.auto_loadgen_procs(sockets, limit) == procs
    if limit > 0:
        assert sockets / procs <= load.SOCKET_SHARE * limit


def test_games_are_split_into_contiguous_blocks_that_cover_them_once() -> None:
    assert load.game_blocks(10, 2) == [(0, 5), (5, 10)]
    assert load.game_blocks(6000, 1) == [(0, 6000)]
    for games, procs in ((7, 3), (5001, 2), (6000, 7), (3, 3)):
        blocks = load.game_blocks(games, procs)
        assert [i for lo, hi in blocks for i in range(lo, hi)] == list(range(games))
        sizes = [hi - lo for lo, hi in blocks]
        assert max(sizes) - min(sizes) <= 1 and min(sizes) >= 1


def test_workers_figures_merge_into_sums_and_one_list_of_samples() -> None:
    a, b = load.Stats(), load.Stats()
    a.sent, a.acked, a.ack_ms, a.ack_at = 3, 2, [1.0, 9.0], [10.0, 11.0]
    b.sent, b.acked, b.ack_ms, b.ack_at = 4, 4, [2.0, 3.0, 4.0, 50.0], [20.0, 20.5, 21.0, 21.5]
    a.error_frames["slow down"] = 1
    b.error_frames.update({"slow down": 2, "bad": 1})
    b.closes["closed 1006"] = 1
    b.ack_timeouts, b.frames, b.ticks, b.loop_lag_ms = 1, 40, 30, [0.5]
    merged = load.Stats()
    for part, origin in ((a, 10.0), (b, 20.0)):
        load.merge_stats(merged, load.stats_to_wire(part, origin))
    assert (merged.sent, merged.acked, merged.ack_timeouts, merged.frames, merged.ticks) == (7, 6, 1, 40, 30)
    assert merged.ack_ms == [1.0, 9.0, 2.0, 3.0, 4.0, 50.0]
    # send times relative to each worker's window start
    assert merged.ack_at == [0.0, 1.0, 0.0, 0.5, 1.0, 1.5]
    assert merged.error_frames == {"slow down": 3, "bad": 1} and merged.closes == {"closed 1006": 1}
    assert merged.errors == a.errors + b.errors == 6
    # the percentile of the merged samples, not a combination of the workers' percentiles
    assert load.Dist.of(merged.ack_ms).p50 == 3.0
    assert merged.loop_lag_ms == [0.5] and not merged.measuring


def test_a_hook_on_the_window_needs_one_process_and_a_count_is_checked_against_the_games() -> None:
    def hook(stack: load.Stack, stats: load.Stats, opening: bool) -> None:
        pass

    assert load.loadgen_procs(load.Config(games=20, loadgen_procs=3)) == 3
    assert load.loadgen_procs(load.Config(games=20)) == 1
    assert load.loadgen_procs(load.Config(games=20, loadgen_procs=1, on_window=hook)) == 1
    with pytest.raises(ValueError, match="single load-generator process"):
        load.loadgen_procs(load.Config(games=20, loadgen_procs=2, on_window=hook))
    with pytest.raises(ValueError, match="1..4"):
        load.loadgen_procs(load.Config(games=4, loadgen_procs=5))


def test_the_help_renders_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        load.parse_args(["--help"])
    assert exc.value.code == 0
    assert "--loadgen-procs" in capsys.readouterr().out


def test_the_load_generator_process_count_is_auto_by_default_or_a_number() -> None:
    _, (auto,) = load.parse_args(["--games", "50"])
    _, configs = load.parse_args(["--games", "10,50", "--loadgen-procs", "3"])
    assert auto.loadgen_procs is None
    assert [c.loadgen_procs for c in configs] == [3, 3]


def test_a_schedule_has_duration_times_rate_sends_spread_over_the_window() -> None:
    rng = random.Random(1)
    for rate, duration in ((0.5, 30.0), (2.0, 3.0), (3.0, 1.0)):
        for _ in range(50):
            slots = load.schedule(rng, rate, duration)
            period = 1 / rate
            assert len(slots) == round(duration * rate)
            assert slots == sorted(slots)
            assert 0 <= slots[0] < 1.1 * period and slots[-1] < duration + 0.1 * period
            gaps = [b - a for a, b in zip(slots, slots[1:], strict=False)]
            assert all(0.8 * period - 1e-9 <= g <= 1.2 * period + 1e-9 for g in gaps)
    # phases differ between games: they do not all fire together
    firsts = {round(load.schedule(rng, 0.5, 30.0)[0], 3) for _ in range(20)}
    assert len(firsts) == 20


def exposition(gen2: tuple[int, float, dict[float, int]]) -> str:
    """A pause histogram with young collections of 1 ms and full ones as given."""
    timer = PauseTimer()
    count, total, pauses = gen2
    for bound, n in pauses.items():
        timer.buckets[2][PAUSE_BUCKETS.index(bound)] += n
    timer.sums[2] = total
    assert sum(pauses.values()) == count
    timer.buckets[0][1] = 40
    timer.sums[0] = 0.04
    registry = CollectorRegistry()
    registry.register(timer)
    return generate_latest(registry).decode()


def test_gc_pauses_in_the_window_are_the_difference_of_two_readings() -> None:
    before = load.pause_histogram(exposition((2, 0.3, {0.25: 2})))
    after = load.pause_histogram(exposition((5, 0.33, {0.25: 2, 0.005: 2, 0.025: 1})))
    g = load.pauses_between("inst0", before, after)
    # the young collections did not change; of three new full ones, one took over 10 ms
    assert g.collections == [0, 0, 3] and g.pause_s == [0.0, 0.0, 0.03]
    assert (g.over_10ms, g.longest_under_s) == (1, 0.025)
    idle = load.pauses_between("inst0", before, before)
    assert (idle.collections, idle.over_10ms, idle.longest_under_s) == ([0, 0, 0], 0, 0.0)
    # an instance whose /metrics could not be read counts from nothing
    assert load.pauses_between("inst0", {}, after).collections == [40, 0, 5]

    # a pause past the last bound is only known to be over it
    timer = PauseTimer()
    timer._on_gc("start", {"generation": 2})
    timer._started -= 2.0
    timer._on_gc("stop", {"generation": 2})
    registry = CollectorRegistry()
    registry.register(timer)
    long = load.pauses_between("inst0", {}, load.pause_histogram(generate_latest(registry).decode()))
    assert long.collections == [0, 0, 1] and long.longest_under_s == math.inf and long.over_10ms == 1


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    random.Random(3).shuffle(values)
    d = load.Dist.of(values)
    assert (d.n, d.p50, d.p95, d.p99, d.max) == (100, 50.0, 95.0, 99.0, 100.0)
    assert load.percentile([], 0.99) == 0.0
    assert load.percentile([5.0], 0.5) == 5.0


async def test_client_frames_are_masked_and_server_frames_of_every_length_parse() -> None:
    payload = b'{"type":"passTurn","data":{}}' * 10
    frame = wsproto.encode_frame(wsproto.OP_TEXT, payload)
    assert frame[0] == 0x80 | wsproto.OP_TEXT and frame[1] == 0x80 | 126
    key = frame[4:8]
    assert wsproto.mask(frame[8:], key) == payload
    assert wsproto.mask(wsproto.mask(b"abcde", b"wxyz"), b"wxyz") == b"abcde"

    got: list[tuple[int, bytes]] = []
    client = wsproto.WsClient("h:1", "/", None, lambda op, data: got.append((op, data)), lambda code, asked: None)
    client.upgraded = True
    messages = [b"x" * n for n in (0, 5, 125, 126, 300, 70_000)]
    stream = b""
    for m in messages:
        n = len(m)
        if n < 126:
            head = bytes((0x81, n))
        elif n < 1 << 16:
            head = bytes((0x81, 126)) + n.to_bytes(2, "big")
        else:
            head = bytes((0x81, 127)) + n.to_bytes(8, "big")
        stream += head + m
    # a fragmented message: "ab" + "cd"
    stream += bytes((0x01, 2)) + b"ab" + bytes((0x80, 2)) + b"cd"
    # fed in awkward pieces, as TCP may deliver them
    for i in range(0, len(stream), 7):
        client.data_received(stream[i : i + 7])
    assert got == [(wsproto.OP_TEXT, m) for m in messages] + [(wsproto.OP_TEXT, b"abcd")]
    assert client.buf == bytearray()


def test_a_py_spy_profile_is_summarized_by_leaf_package_and_stack() -> None:
    raw = "\n".join(
        [
            # py-spy writes paths relative to their import root, sometimes absolute ones
            "main (service/__main__.py:65);Hub.tick (service/hub.py:400);"
            "_SelectorSocketTransport.write (/usr/lib/python3.11/asyncio/selector_events.py:9) 30",
            "main (service/__main__.py:65);Hub.tick (service/hub.py:400) 10",
            "main (service/__main__.py:65);Session.handle (/srv/app/service/ws.py:1);"
            "loads (/v/lib/python3.11/site-packages/orjson/a.py:3) 60",
        ]
    )
    s = summarize_collapsed(raw)
    assert s.samples == 100
    assert s.self_top[0] == ("loads (orjson/a.py)", 60.0)
    assert dict(s.self_top)["_SelectorSocketTransport.write (asyncio/selector_events.py)"] == 30.0
    assert dict(s.areas) == {"orjson": 60.0, "asyncio": 30.0, "service": 10.0}
    inclusive = dict(s.inclusive_top)
    assert inclusive["Hub.tick (service/hub.py)"] == 40.0
    assert inclusive["Session.handle (service/ws.py)"] == 60.0
    # the entry point is on every stack: left out of the printed inclusive view
    printed = s.lines()
    assert any("Hub.tick" in line for line in printed)
    assert not any(line.endswith("main (service/__main__.py)") for line in printed)


def test_cpu_and_memory_of_a_process_are_read_from_proc() -> None:
    before = cpu_seconds(os.getpid())
    sum(i * i for i in range(2_000_000))
    assert cpu_seconds(os.getpid()) > before
    peak, rss = memory_kb(os.getpid())
    assert peak >= rss > 0


@pytest.mark.parametrize(
    "argv",
    [
        ["--games", "0"],
        ["--games", "10,x"],
        ["--players", "9"],
        ["--rate", "0"],
        ["--target-pids", "1"],
        ["--target", "https://example.org"],
        ["--loadgen-procs", "0"],
        ["--loadgen-procs", "-1"],
        ["--loadgen-procs", "two"],
        ["--loadgen-procs", "33"],
        # each process needs at least one game of every run
        ["--games", "100,3", "--loadgen-procs", "4"],
    ],
)
def test_bad_arguments_are_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        load.parse_args(argv)
    assert exc.value.code == 2


def test_the_limits_are_on_out_of_reach_by_default_and_off_on_request() -> None:
    _, (on,) = load.parse_args(["--games", "50", "--rate", "0.5"])
    _, (off,) = load.parse_args(["--games", "50", "--limits", "off"])
    _, (target,) = load.parse_args(["--games", "50", "--target", "ws://127.0.0.1:3000/"])
    assert (on.limits, off.limits) == ("on", "off")
    assert load.limit_env(on) == out_of_reach_env(50, 4, 0.5)
    # off: ServiceProcess's own preset, every limit off; a target keeps whatever it runs with
    assert load.limit_env(off) == load.limit_env(target) == {}
    with pytest.raises(SystemExit):
        load.parse_args(["--limits", "sometimes"])


def test_redis_rewrites_its_aof_as_stack_redis_conf_says_unless_told_otherwise() -> None:
    conf = (Path(__file__).resolve().parents[2] / "stack" / "redis.conf").read_text().splitlines()
    _, (default,) = load.parse_args(["--games", "50"])
    assert f"auto-aof-rewrite-percentage {default.aof_rewrite_percentage}" in conf
    assert f"auto-aof-rewrite-min-size {default.aof_rewrite_min_size}" in conf
    _, (redis_own,) = load.parse_args(["--aof-rewrite-percentage", "100", "--aof-rewrite-min-size", "64mb"])
    assert (redis_own.aof_rewrite_percentage, redis_own.aof_rewrite_min_size) == (100, "64mb")


async def test_info_sections_are_read_off_one_bare_connection(redis_proc: RedisProcess) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", redis_proc.port)
    try:
        info = await load.info_section(reader, writer, "persistence")
        assert info["aof_enabled"] == "0" and info["aof_rewrite_in_progress"] == "0"
        # the first reply was read to its end: the next one parses on the same connection
        assert int((await load.info_section(reader, writer, "stats"))["latest_fork_usec"]) >= 0
    finally:
        writer.close()
    assert await load.aof_rewrites(redis_proc.port) == int(info["aof_rewrites"])


async def test_the_latency_monitor_history_is_read_off_a_bare_connection(redis_proc: RedisProcess) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", redis_proc.port)

    async def command(*args: str) -> bytes:
        writer.write(f"*{len(args)}\r\n".encode() + b"".join(f"${len(a)}\r\n{a}\r\n".encode() for a in args))
        return await reader.readline()

    try:
        await command("CONFIG", "SET", "latency-monitor-threshold", "1")
        # a script that spins for 20 ms: the monitor records its second under "command"
        spin = (
            "local t = redis.call('TIME') "
            "repeat local n = redis.call('TIME') until (n[1] - t[1]) * 1e6 + n[2] - t[2] > 20000"
        )
        # (it returns nothing: a nil bulk, one line)
        assert await command("EVAL", spin, "0") == b"$-1\r\n"
        ((at, ms),) = await load.latency_history(redis_proc.port, "command")
        assert ms >= 20 and abs(at - time.time()) < 60
        assert await load.latency_history(redis_proc.port, "aof-fsync-always") == []
    finally:
        await command("CONFIG", "SET", "latency-monitor-threshold", "0")
        await command("LATENCY", "RESET")
        writer.close()


def test_acks_are_split_by_whether_their_action_left_during_a_rewrite() -> None:
    at = [0.5, 1.0, 1.5, 2.0, 3.5, 9.0]
    ms = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    # both ends of a span count as inside it
    inside, outside = load.split_by_spans(at, ms, [(1.0, 2.0), (3.0, 4.0)])
    assert (inside, outside) == ([2.0, 3.0, 4.0, 5.0], [1.0, 6.0])
    assert load.split_by_spans(at, ms, []) == ([], ms)


def test_a_comma_list_of_game_counts_makes_one_run_each() -> None:
    _, configs = load.parse_args(["--games", "100,500", "--rate", "1", "--target", "http://127.0.0.1:3000/"])
    assert [c.games for c in configs] == [100, 500]
    assert all(c.rate == 1.0 and c.targets == ["ws://127.0.0.1:3000/"] for c in configs)


def test_clients_without_ticks_connect_with_ticks_0_on_any_url() -> None:
    assert load.with_ticks("ws://127.0.0.1:8080/", "on") == "ws://127.0.0.1:8080/"
    assert load.with_ticks("ws://127.0.0.1:8080/", "off") == "ws://127.0.0.1:8080/?ticks=0"
    assert load.with_ticks("ws://h/ws?x=1", "off") == "ws://h/ws?x=1&ticks=0"
    _, configs = load.parse_args(["--games", "10", "--ticks", "off"])
    assert [c.ticks for c in configs] == ["off"]
