"""/metrics in process: Prometheus text that parses, bounded labels, exact counts, the token."""

from __future__ import annotations

import asyncio
import random
import string
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest_asyncio
from aiohttp.test_utils import TestServer
from prometheus_client.parser import text_string_to_metric_families

from service.app import RUNTIME, create_app
from service.errors import ERROR_CODES
from service.messages import TYPES, message_label
from service.metrics import Metrics
from service.settings import Settings
from stack.client import Client
from stack.presets import UNLIMITED

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def labels_of(parsed: Samples, name: str, label: str) -> set[str]:
    return {dict(lbl)[label] for (n, lbl) in parsed if n == name}


@pytest_asyncio.fixture
async def server(aiohttp_server: Any, redis_url: str) -> AsyncIterator[TestServer]:
    srv: TestServer = await aiohttp_server(create_app(Settings(redis_url=redis_url, **UNLIMITED)))
    yield srv


async def scrape(server: TestServer, headers: dict[str, str] | None = None) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(server.make_url("/metrics"), headers=headers) as r:
        return r.status, await r.text()


def test_message_labels_are_the_protocol_types_or_unknown() -> None:
    assert {message_label(t) for t in TYPES} == set(TYPES)
    assert [message_label(x) for x in ("nope", "", None, 3, ["create"], "Create")] == ["unknown"] * 6


def test_a_fresh_registry_renders_the_original_names_and_process_metrics() -> None:
    parsed = samples(Metrics().render().decode())
    names = {n for n, _ in parsed}
    assert {"tapotarp_process_cpu_seconds_total", "tapotarp_process_resident_memory_bytes"} <= names
    # counters without labels appear at 0 from the start, so rates work from the first scrape
    assert parsed[("tapotarp_websocket_buffer_overflows_total", ())] == 0.0
    assert parsed[("tapotarp_game_sessions_created_total", ())] == 0.0


async def test_a_flood_of_random_types_keeps_every_label_set_bounded_and_counts_exact(server: TestServer) -> None:
    c = await Client.connect(str(server.make_url("/ws")))
    try:
        rng = random.Random(7)
        junk_types = ["".join(rng.choices(string.printable, k=rng.randint(1, 40))) for _ in range(150)]
        junk_types = [t for t in junk_types if t not in TYPES]
        for t in junk_types:
            await c.send(t, {"x": 1})
        garbage = ["{", "[]", '{"type": 5}', "null", '"x"', "{}" * 10]
        for g in garbage:
            await c.send_raw(g)
        await c.request("time", {"clientTime": 1})
        await c.request("create", {"settings": {"playerCount": 3}})
        _, text = await scrape(server)
    finally:
        await c.close()
    parsed = samples(text)
    received = "tapotarp_websocket_messages_received_total"
    assert labels_of(parsed, received, "type") <= set(TYPES) | {"unknown"}
    assert parsed[(received, (("type", "unknown"),))] == len(junk_types) + len(garbage)
    assert parsed[(received, (("type", "time"),))] == 1
    assert parsed[(received, (("type", "create"),))] == 1
    codes = labels_of(parsed, "tapotarp_errors_total", "type")
    assert codes <= set(ERROR_CODES) | {"INVALID_INPUT", "STORAGE_UNAVAILABLE", "RATE_LIMITED", "INTERNAL"}
    assert parsed[("tapotarp_errors_total", (("type", "INVALID_INPUT"),))] == len(junk_types) + len(garbage)
    assert parsed[("tapotarp_game_sessions_created_total", ())] == 1
    assert parsed[("tapotarp_action_duration_seconds_count", (("action", "create"),))] == 1
    assert labels_of(parsed, "tapotarp_action_duration_seconds_count", "action") == {"time", "create"}


async def test_gauges_follow_open_sockets_and_games_served(server: TestServer) -> None:
    a = await Client.connect(str(server.make_url("/ws")))
    b = await Client.connect(str(server.make_url("/ws")))
    try:
        created = await a.request("create", {})
        gid = created["data"]["gameId"]
        await b.request("join", {"gameId": gid})
        parsed = samples((await scrape(server))[1])
        assert parsed[("tapotarp_websocket_connections_total", ())] == 2
        assert parsed[("tapotarp_game_sessions_active", ())] == 1
        assert parsed[("tapotarp_cache_misses_total", ())] == 1
        assert parsed[("tapotarp_cache_hits_total", ())] == 1
        assert parsed[("tapotarp_websocket_connections_created_total", ())] == 2
        assert parsed[("tapotarp_ready", ())] == 1
    finally:
        await a.close()
        await b.close()


async def test_readings_mirror_the_hub_and_the_loops_and_the_redis_probe_is_timed(server: TestServer) -> None:
    a = await Client.connect(str(server.make_url("/ws")))
    b = await Client.connect(str(server.make_url("/ws")))
    try:
        gid = (await a.request("create", {}))["data"]["gameId"]
        await b.request("join", {"gameId": gid})
        await a.request("claim", {"playerId": 1})
        await a.request("start")
        await b.state_at_least(3)
        rt = server.app[RUNTIME]
        for _ in range(100):
            parsed = samples((await scrape(server))[1])
            if parsed[("tapotarp_redis_roundtrip_seconds_count", ())] >= 1:
                break
            await asyncio.sleep(0.05)
        # compared while the game is quiet: closing a seated socket commits (and publishes) again
        assert parsed[("tapotarp_redis_roundtrip_seconds_count", ())] >= 1
        assert parsed[("tapotarp_pubsub_messages_total", ())] == rt.hub.pubsub_messages >= 2
        assert parsed[("tapotarp_version_gaps_total", ())] == rt.hub.version_gaps == 0
        assert parsed[("tapotarp_events_replayed_total", ())] == rt.hub.events_replayed == 0
        assert parsed[("tapotarp_games_rewound_total", ())] == rt.hub.rewinds == 0
        # one Redis server, no Sentinel: nothing to fence or follow
        assert parsed[("tapotarp_sentinel_fences_total", ())] == parsed[("tapotarp_primary_changes_total", ())] == 0
        assert parsed[("tapotarp_redis_up", ())] == 1
        assert parsed[("tapotarp_deadlines_fired_total", ())] == rt.deadlines.fired == 0
        # the loop polls on while the page is read: the reading is one it had reached
        assert 1 <= parsed[("tapotarp_deadline_polls_total", ())] <= rt.deadlines.polls
        assert parsed[("tapotarp_seats_released_total", ())] == rt.liveness.released == 0
        assert parsed[("tapotarp_games_seated", ())] == len(rt.liveness.seats) == 1
        assert parsed[("tapotarp_rate_limiter_errors_total", ())] == 0
        # the session's Redis may list other tests' instances too: the gauge is whatever the beat counted
        assert parsed[("tapotarp_rate_limit_instances", ())] == rt.liveness.live_instances >= 1
        assert parsed[("tapotarp_rate_limit_addresses", ())] == len(rt.deps.frames.tats)
        assert parsed[("tapotarp_rate_limit_evictions_total", ())] == rt.deps.frames.evictions == 0
    finally:
        await a.close()
        await b.close()


async def test_authorization_refusals_and_script_errors_count_by_action_and_code(server: TestServer) -> None:
    a = await Client.connect(str(server.make_url("/ws")))
    b = await Client.connect(str(server.make_url("/ws")))
    try:
        gid = (await a.request("create", {}))["data"]["gameId"]
        await b.request("join", {"gameId": gid})
        assert (await b.request("reset"))["data"]["message"] == "Only the game owner can reset"
        assert (await b.request("start"))["data"]["message"] == "Not authorized to start game"
        parsed = samples((await scrape(server))[1])
    finally:
        await a.close()
        await b.close()
    assert parsed[("tapotarp_authorization_denied_total", (("action", "reset"),))] == 1
    assert parsed[("tapotarp_authorization_denied_total", (("action", "start"),))] == 1
    assert parsed[("tapotarp_script_errors_total", (("code", "NOT_OWNER_RESET"),))] == 1
    assert parsed[("tapotarp_errors_total", (("type", "NOT_AUTHORIZED_START"),))] == 1


async def test_a_metrics_token_is_required_when_configured(aiohttp_server: Any, redis_url: str) -> None:
    settings = Settings(redis_url=redis_url, metrics_token="s3cret", **UNLIMITED)
    server: TestServer = await aiohttp_server(create_app(settings))
    assert (await scrape(server))[0] == 401
    assert (await scrape(server, {"Authorization": "Bearer wrong"}))[0] == 401
    status, text = await scrape(server, {"Authorization": "Bearer s3cret"})
    assert status == 200 and "tapotarp_websocket_connections_total" in text


async def test_with_a_metrics_port_the_main_port_does_not_serve_metrics(aiohttp_server: Any, redis_url: str) -> None:
    server: TestServer = await aiohttp_server(create_app(Settings(redis_url=redis_url, metrics_port=1, **UNLIMITED)))
    assert (await scrape(server))[0] == 404
