"""/metrics of a real service process: it parses as Prometheus text, no client can grow its
label space, and its counts are exact.

One instance serves the module; tests compare scrapes taken before and after what they do,
so they do not depend on each other.
"""

from __future__ import annotations

import asyncio
import json
import random
import string
from collections import Counter
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from service.errors import ERROR_CODES
from service.messages import TYPES
from stack.instance import ServiceProcess
from stack.redis_server import RedisProcess
from tests.support.instances import Clients, claim, create_game, ok

pytestmark = pytest.mark.slow

#: every code an error can be counted under: the Lua codes and the service's own
SERVICE_CODES = {"INVALID_INPUT", "STORAGE_UNAVAILABLE", "RATE_LIMITED", "INTERNAL", "CREATE_FAILED"}
ERROR_LABELS = frozenset(ERROR_CODES) | SERVICE_CODES
MESSAGE_LABELS = TYPES | {"unknown"}
#: the fixed label values of every labelled family ("le" is the histogram's bucket bound)
BOUNDED_LABELS: dict[str, dict[str, frozenset[str]]] = {
    "tapotarp_websocket_messages_received": {"type": MESSAGE_LABELS},
    "tapotarp_errors": {"type": ERROR_LABELS},
    "tapotarp_authorization_denied": {"action": TYPES},
    "tapotarp_rate_limit_exceeded": {
        "type": frozenset({"connection", "ip", "socket", "create", "open_sockets", "lobby", "feedback"})
    },
    "tapotarp_action_duration_seconds": {"action": TYPES},
    "tapotarp_script_errors": {"code": frozenset(ERROR_CODES)},
}

#: a sample's name and labels (without "le") -> value
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    with RedisProcess() as redis:
        svc = ServiceProcess(redis.url, tmp_path_factory.mktemp("metrics-logs"), "metrics")
        svc.start()
        try:
            yield svc
        finally:
            svc.kill()


async def scrape(svc: ServiceProcess) -> tuple[dict[str, Any], Samples]:
    """The families by name, and every sample that is not a histogram bucket."""
    async with aiohttp.ClientSession() as session, session.get(svc.url + "/metrics") as resp:
        assert resp.status == 200
        text = await resp.text()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    samples: Samples = {
        (s.name, frozenset(s.labels.items())): float(s.value)
        for f in families.values()
        for s in f.samples
        if "le" not in s.labels
    }
    return families, samples


def by_label(samples: Samples, name: str, label: str) -> Counter[str]:
    return Counter({dict(k[1])[label]: v for k, v in samples.items() if k[0] == name and k[1]})


def delta(after: Samples, before: Samples, name: str, label: str) -> Counter[str]:
    """How much each labelled series of `name` grew (series that did not grow are left out)."""
    grown = by_label(after, name, label)
    grown.subtract(by_label(before, name, label))
    return +grown


def value(samples: Samples, name: str) -> float:
    return samples.get((name, frozenset()), 0.0)


def assert_bounded(families: dict[str, Any]) -> None:
    for name, allowed in BOUNDED_LABELS.items():
        for s in families[name].samples:
            labels = {k: v for k, v in s.labels.items() if k != "le"}
            assert set(labels) <= set(allowed), (s.name, labels)
            for label, v in labels.items():
                assert v in allowed[label], f"{s.name} has a label value outside its fixed set: {label}={v!r}"


async def wait_gauge(svc: ServiceProcess, name: str, expected: float, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while (seen := value((await scrape(svc))[1], name)) != expected:
        assert loop.time() < end, f"{name} is {seen}, not {expected}, after {timeout}s"
        await asyncio.sleep(0.05)


def random_text(rng: random.Random, alphabet: str, lo: int, hi: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))


WEIRD = string.ascii_letters + string.digits + string.punctuation + " \t\u00e9\u4e2d\U0001f600\u200b"


async def test_a_flood_of_random_types_and_garbage_grows_no_label_and_counts_exactly(
    service: ServiceProcess, pool: Clients
) -> None:
    c = await pool.connect(service.ws_url)
    rng = random.Random(20240611)
    fixed = ["Create", "create ", " time", "__proto__", "constructor", "toString", "state", "tick", "error", "x" * 2000]
    frames: list[str] = []
    #: what each frame must count: (message label, error code or None)
    expected: list[tuple[str, str | None]] = []
    for i in range(500):
        kind = i % 6
        if kind == 0:
            mtype = fixed[i // 6] if i // 6 < len(fixed) else random_text(rng, WEIRD, 1, 40)
            assert mtype not in TYPES
            frames.append(json.dumps({"type": mtype, "data": {}, "requestId": f"f{i}"}))
            expected.append(("unknown", "INVALID_INPUT"))
        elif kind == 1:
            # never JSON: "<" starts no JSON value
            frames.append("<" + random_text(rng, WEIRD, 0, 200))
            expected.append(("unknown", "INVALID_INPUT"))
        elif kind == 2:
            not_envelope = rng.choice(
                ["[]", "42", "null", '"create"', '{"type": 7}', '{"type": ""}', "{}", '{"type": ["time"]}']
            )
            frames.append(not_envelope)
            expected.append(("unknown", "INVALID_INPUT"))
        elif kind == 3:
            frames.append(json.dumps({"type": "time", "data": {"clientTime": i}, "requestId": f"f{i}"}))
            expected.append(("time", None))
        elif kind == 4:
            # a known type that this socket may not use yet, or with a malformed value
            if i % 12 == 4:
                frames.append(json.dumps({"type": "claim", "data": {"playerId": 1}, "requestId": f"f{i}"}))
                expected.append(("claim", "INVALID_INPUT"))
            else:
                frames.append(json.dumps({"type": "time", "data": {"clientTime": "soon"}, "requestId": f"f{i}"}))
                expected.append(("time", "INVALID_INPUT"))
        else:
            frames.append(json.dumps({"type": "join", "data": {"gameId": "!!!!!!"}, "requestId": f"f{i}"}))
            expected.append(("join", "GAME_NOT_FOUND"))

    _, before = await scrape(service)
    for text in frames:
        await c.send_raw(text)
    # every frame is answered, in order: a `time` reply or an error
    loop = asyncio.get_running_loop()
    end = loop.time() + 15
    while len(c.messages) < 1 + len(frames):
        assert c.closed_code is None, c.closed_code
        assert loop.time() < end, f"{len(c.messages) - 1} of {len(frames)} frames answered"
        await asyncio.sleep(0.02)
    replies = c.messages[1:]
    assert [m["type"] for m in replies] == ["error" if code else "time" for _, code in expected]
    families, after = await scrape(service)

    assert_bounded(families)
    assert delta(after, before, "tapotarp_websocket_messages_received_total", "type") == Counter(
        label for label, _ in expected
    )
    assert delta(after, before, "tapotarp_errors_total", "type") == Counter(code for _, code in expected if code)
    # only frames that reached a handler are timed, by their (known) type
    assert delta(after, before, "tapotarp_action_duration_seconds_count", "action") == Counter(
        label for label, _ in expected if label != "unknown"
    )
    assert delta(after, before, "tapotarp_rate_limit_exceeded_total", "type") == Counter()


async def test_a_short_game_with_a_timeout_is_counted_in_deadlines_actions_games_and_sockets(
    service: ServiceProcess, pool: Clients
) -> None:
    # sockets of earlier tests may still be closing on the server: start from a quiet instance
    await wait_gauge(service, "tapotarp_websocket_connections_total", 0)
    _, before = await scrape(service)
    host, player, spectator, other_host = [await pool.connect(service.ws_url) for _ in range(4)]
    await wait_gauge(service, "tapotarp_websocket_connections_total", 4)

    gid, _, _ = await create_game(host, playerCount=2, initialTime=3000, warningThresholds=[1000])
    await create_game(other_host, playerCount=3)
    await claim(host, gid, 1, join=False)
    await claim(player, gid, 2)
    await ok(spectator, "join", {"gameId": gid})
    await ok(host, "start")
    sent = Counter({"create": 2, "claim": 2, "join": 2, "start": 1})

    # game time jumps past player 1's clock: the warning and the timeout are due
    async with aiohttp.ClientSession() as session:
        try:
            async with session.post(service.url + "/_test/clock", json={"offsetMs": 4000}) as resp:
                assert resp.status == 200
            timeout = await spectator.wait_for(lambda m: m["type"] == "timeout", 5)
        finally:
            async with session.post(service.url + "/_test/clock", json={"offsetMs": 0}) as resp:
                assert resp.status == 200
    assert timeout["data"] == {"playerId": 1}
    assert [m["data"] for m in spectator.of_type("warning")] in ([], [{"playerId": 1, "threshold": 1000}])

    families, after = await scrape(service)
    assert_bounded(families)
    fired = value(after, "tapotarp_deadlines_fired_total") - value(before, "tapotarp_deadlines_fired_total")
    lagged = value(after, "tapotarp_deadline_lag_seconds_count") - value(before, "tapotarp_deadline_lag_seconds_count")
    assert fired >= 1
    assert lagged == fired
    assert delta(after, before, "tapotarp_action_duration_seconds_count", "action") == sent
    games = value(after, "tapotarp_game_sessions_created_total") - value(before, "tapotarp_game_sessions_created_total")
    assert games == 2
    opened = value(after, "tapotarp_websocket_connections_created_total") - value(
        before, "tapotarp_websocket_connections_created_total"
    )
    assert opened == 4
    assert value(after, "tapotarp_websocket_connections_total") == 4
    assert value(after, "tapotarp_game_sessions_active") == 2
    assert delta(after, before, "tapotarp_errors_total", "type") == Counter()

    # the gauge follows the sockets down as well
    await spectator.close()
    await wait_gauge(service, "tapotarp_websocket_connections_total", 3)
    await other_host.close()
    await wait_gauge(service, "tapotarp_websocket_connections_total", 2)
    # the game leaves the hub once its last socket is unbound, after the socket count drops
    await wait_gauge(service, "tapotarp_game_sessions_active", 1)
