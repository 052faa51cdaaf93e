"""The clocks: format, agreement between devices, agreement with the server, no drift.

This module's server runs 10 minutes ahead of the machine's clock (the test-only clock
shift), as a phone's clock may be off: a client that used its own Date.now() as server time
would freeze every running clock, so each test here also checks the offset measurement.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from stack.instance import ServiceProcess
from stack.redis_server import RedisProcess
from tests.static.conftest import OpenApp
from tests.static.test_table_rules import seated
from tests.support.page import App

pytestmark = pytest.mark.slow

SERVER_AHEAD_MS = 600_000
TOLERANCE_MS = 100


@pytest.fixture(scope="module")
def service(redis_proc: RedisProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    if not redis_proc.is_running():
        redis_proc.start()
    proc = ServiceProcess(redis_proc.url, tmp_path_factory.mktemp("clock-logs"), name="clock").start()
    body = json.dumps({"offsetMs": SERVER_AHEAD_MS}).encode()
    req = urllib.request.Request(
        proc.url + "/_test/clock", data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=5) as r:
        assert r.status == 200
    try:
        yield proc
    finally:
        proc.stop()


def running_game(open_app: OpenApp) -> tuple[App, App]:
    (a, b), _ = seated(open_app, 2, 2)
    a.start()
    return a, b


def latest_state(app: App) -> dict[str, Any]:
    states = [f["data"] for f in app.received if f.get("type") == "state"]
    return max(states, key=lambda s: int(s["version"]))


def test_format_level_and_duration_parsing_follow_the_original(open_app: OpenApp) -> None:
    app = open_app()
    out = app.page.evaluate(
        """async () => {
             const c = await import('/static/js/clock.js');
             const s = await import('/static/js/settings.js');
             const ms = [600000, 60001, 60000, 59999, 61001, 3600000, 3599001, 150, 50, 0, -5];
             const text = ['10', '0.05', '90s', '1:30', '1h', '0,5', '2 s', '1:00:00', 'abc', '', '1:75'];
             return {
               format: ms.map(c.formatClock),
               level: [300001, 299999, 60000, 59999, 1, 0].map((m) => c.levelOf(m, false)),
               eliminated: c.levelOf(0, true),
               parse: text.map((t) => { const v = s.parseDuration(t); return Number.isNaN(v) ? null : v; }),
             };
           }"""
    )
    assert out["format"] == [
        "10:00",
        "1:01",
        "1:00",
        "0:59.9",
        "1:02",
        "1:00:00",
        "1:00:00",
        "0:00.1",
        "0:00.0",
        "0:00.0",
        "0:00.0",
    ]
    assert out["level"] == ["normal", "warning", "warning", "critical", "critical", "timeout"]
    assert out["eliminated"] == "normal"
    assert out["parse"] == [600_000, 3_000, 90_000, 90_000, 3_600_000, 30_000, 2_000, 3_600_000, None, None, None]


def agree(a: App, b: App, player: int) -> tuple[int, int]:
    """Samples both pages and checks they agree; returns (A's, B's) values."""
    ta, ma = a.sample_clock(player)
    tb, mb = b.sample_clock(player)
    # B read later than A by (tb - ta): its clock should be lower by exactly that much
    assert abs(mb - (ma - (tb - ta))) < TOLERANCE_MS, (ta, ma, tb, mb)
    return ma, mb


def server_probe(app: App) -> dict[str, Any]:
    """An independent reading of the server's time, from inside the page, and the clock as
    rendered at the same moment."""
    result: dict[str, Any] = app.page.evaluate(
        """() => new Promise((resolve) => {
             const ws = new WebSocket(`ws://${location.host}/ws`);
             let t0 = 0;
             ws.onmessage = (ev) => {
               const msg = JSON.parse(ev.data);
               if (msg.type === 'clientId') { t0 = Date.now(); ws.send(JSON.stringify({type: 'time', data: {}})); }
               if (msg.type === 'time') {
                 const t1 = Date.now();
                 const el = document.querySelector('#board .card[data-player="1"] .clock');
                 requestAnimationFrame(() => {
                   resolve({serverMid: msg.data.serverTime, mid: (t0 + t1) / 2, rtt: t1 - t0,
                            readAt: Date.now(), rendered: Number(el.dataset.ms)});
                   ws.close();
                 });
               }
             };
           })"""
    )
    return result


def test_running_clocks_agree_across_devices_with_the_server_and_after_a_stall(open_app: OpenApp) -> None:
    a, b = running_game(open_app)

    for _ in range(3):
        agree(a, b, 1)

    state = latest_state(a)
    # the probe is as exact as its round trip is short: on a loaded machine (two test workers
    # on two cores) one can take 90 ms, so the best of a few is the reading
    probes = []
    for _ in range(8):
        probes.append(server_probe(a))
        if probes[-1]["rtt"] < 50:
            break
    probe = min(probes, key=lambda p: int(p["rtt"]))
    assert probe["rtt"] < 50, [p["rtt"] for p in probes]
    server_now = probe["serverMid"] + (probe["readAt"] - probe["mid"])
    active = next(p for p in state["players"] if p["id"] == state["activePlayer"])
    expected = active["timeRemaining"] - (server_now - state["serverTime"])
    # the rendered value may be a frame old, plus the probe's half round trip
    assert abs(probe["rendered"] - expected) < TOLERANCE_MS, (probe, expected)

    _, before = b.sample_clock(1)
    # a stalled (or sleeping) tab: no frame, no timer, no socket event for two seconds;
    # a client that subtracted per-frame deltas, or capped them, would now be behind
    b.page.evaluate("() => { const end = Date.now() + 2000; while (Date.now() < end) {} }")
    tb, after = b.sample_clock(1)
    assert before - after >= 1_950, (before, after)
    ta, ma = a.sample_clock(1)
    assert abs(after - (ma + (ta - tb))) < TOLERANCE_MS, (ta, ma, tb, after)
    assert ma < 598_000, "the running clock does not run"


def test_the_web_client_asks_for_no_ticks_gets_none_and_its_clocks_still_run(open_app: OpenApp) -> None:
    a, b = running_game(open_app)
    _, before = b.sample_clock(1)
    # longer than a tick interval (1 s by default): a socket that wanted ticks had one by now
    b.page.wait_for_timeout(1_500)
    _, after = b.sample_clock(1)
    for app in (a, b):
        assert app.socket_urls and all(url.endswith("/ws?ticks=0") for url in app.socket_urls), app.socket_urls
        assert [f for f in app.received if f.get("type") == "tick"] == []
    assert 1_300 <= before - after <= 1_900, (before, after)
