"""Client address, and the limits: GCRA arguments, the local per-socket rate, the frame budget
per address (this instance's share of it), the socket cap, and the shared limiter against a
real Redis (including failing open when it is gone)."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict
from redis.asyncio import Redis

from service import limits
from service.limits import AddressRates, Limit, LocalRate, SharedLimiter, SocketCounts, client_ip
from service.scripts import Scripts
from stack.redis_server import free_port

PEER = "198.51.100.9"


def request(headers: dict[str, str] | None = None, peer: str | None = PEER) -> web.Request:
    transport = mock.Mock()
    address = None if peer is None else (peer, 40000)
    transport.get_extra_info.side_effect = lambda name, default=None: address if name == "peername" else default
    return make_mocked_request("GET", "/", headers=headers or {}, transport=transport)


# -- client address ----------------------------------------------------------------------


def test_without_a_trusted_header_the_peer_address_is_used_whatever_the_client_sends() -> None:
    spoofed = {"X-Forwarded-For": "1.2.3.4", "X-Real-IP": "5.6.7.8", "Fly-Client-IP": "9.9.9.9"}
    assert client_ip(request(spoofed), "") == PEER


def test_the_configured_header_is_believed_and_others_ignored() -> None:
    headers = {"X-Forwarded-For": "1.2.3.4", "Fly-Client-IP": "203.0.113.5"}
    assert client_ip(request(headers), "Fly-Client-IP") == "203.0.113.5"


def test_x_forwarded_for_sent_as_two_lines_takes_the_proxys_line_not_the_clients() -> None:
    """HAProxy's `option forwardfor` adds its own header line after the one the client sent."""
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (PEER, 40000) if name == "peername" else default
    headers = CIMultiDict([("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-For", "203.0.113.5")])
    req = make_mocked_request("GET", "/", headers=headers, transport=transport)
    assert client_ip(req, "X-Forwarded-For") == "203.0.113.5"


def test_x_forwarded_for_takes_the_entry_our_proxy_appended_not_the_clients_claim() -> None:
    headers = {"X-Forwarded-For": "6.6.6.6, 10.0.0.1 , 203.0.113.5"}
    assert client_ip(request(headers), "X-Forwarded-For") == "203.0.113.5"


@pytest.mark.parametrize("value", ["", "not-an-ip", "203.0.113.5:443", "<script>"])
def test_a_missing_or_malformed_header_value_falls_back_to_the_peer(value: str) -> None:
    assert client_ip(request({"Fly-Client-IP": value}), "Fly-Client-IP") == PEER
    assert client_ip(request({}), "Fly-Client-IP") == PEER


def test_ipv6_header_values_are_normalised_so_one_client_has_one_budget() -> None:
    assert client_ip(request({"Fly-Client-IP": "2001:DB8:0:0::1"}), "Fly-Client-IP") == "2001:db8::1"


def test_a_request_without_a_peer_address_is_unknown() -> None:
    assert client_ip(request(peer=None), "") == "unknown"


# -- limits ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "limit, argv",
    [
        (Limit("connection", 20, 60.0), (3_000_000, 60_000_000)),
        (Limit("ip", 30, 1.0), (33_333, 1_000_000)),
        (Limit("create", 120, 3600.0), (30_000_000, 3_600_000_000)),
        (Limit("ip", 3_000_000, 1.0), (1, 1_000_000)),
    ],
)
def test_limit_arguments_are_the_emission_interval_and_period_in_microseconds(
    limit: Limit, argv: tuple[int, int]
) -> None:
    assert limit.argv() == argv


def test_the_local_rate_lets_a_burst_through_and_refills_one_unit_per_interval() -> None:
    now = [1000.0]
    with mock.patch("service.limits.time.monotonic", lambda: now[0]):
        rate = LocalRate(4, 1.0)
        assert [rate.allow() for _ in range(6)] == [True] * 4 + [False] * 2
        now[0] += 0.25
        assert [rate.allow() for _ in range(2)] == [True, False]
        now[0] += 10.0
        assert [rate.allow() for _ in range(5)] == [True] * 4 + [False]


def test_a_local_rate_of_zero_is_off() -> None:
    rate = LocalRate(0, 1.0)
    assert all(rate.allow() for _ in range(10_000))


class Clock:
    """time.monotonic_ns for AddressRates, moved by the test."""

    def __init__(self) -> None:
        self.ns = 1_000_000_000_000

    def __call__(self) -> int:
        return self.ns

    def advance(self, s: float) -> None:
        self.ns += round(s * 1_000_000_000)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr("service.limits.time.monotonic_ns", c)
    return c


def frames(rates: AddressRates, ip: str, n: int) -> int:
    return sum(rates.allow(ip) for _ in range(n))


@pytest.mark.parametrize(
    "budget, live, burst",
    [(30, 1, 30), (30, 2, 15), (30, 4, 7), (10, 3, 3), (1000, 7, 142), (2, 5, 1), (1, 1, 1)],
)
def test_an_instance_lets_an_address_burst_floor_budget_over_live_instances_frames(
    clock: Clock, budget: int, live: int, burst: int
) -> None:
    rates = AddressRates(budget, 1.0, 100, lambda: live)
    assert frames(rates, "a", 3 * budget) == burst
    # another address has its own budget
    assert frames(rates, "b", 3 * budget) == burst


@pytest.mark.parametrize("budget, live", [(30, 1), (30, 2), (30, 4), (10, 3), (2, 5)])
def test_an_address_sustains_exactly_its_share_of_the_budget_per_period(clock: Clock, budget: int, live: int) -> None:
    """After the burst, one frame every period*live/budget: over 60 s, budget*60/live frames
    (rounded down) and not one more, whatever the spacing of the attempts."""
    rates = AddressRates(budget, 1.0, 100, lambda: live)
    burst = frames(rates, "a", budget + 1)
    allowed = 0
    for _ in range(60 * 100):
        clock.advance(0.01)
        allowed += frames(rates, "a", 3)
    assert allowed == budget * 60 // live
    assert burst == max(1, budget // live)


def test_a_refused_frame_costs_nothing_and_the_next_one_is_allowed_one_interval_later(clock: Clock) -> None:
    rates = AddressRates(10, 1.0, 100, lambda: 2)
    assert frames(rates, "a", 5) == 5
    assert [rates.allow("a") for _ in range(100)] == [False] * 100
    clock.advance(0.199)
    assert rates.allow("a") is False
    clock.advance(0.001)
    assert [rates.allow("a"), rates.allow("a")] == [True, False]


def test_a_change_in_the_live_instance_count_changes_the_share_at_the_next_frame(clock: Clock) -> None:
    live = [1]
    rates = AddressRates(12, 1.0, 100, lambda: live[0])
    assert frames(rates, "a", 20) == 12
    clock.advance(5.0)
    live[0] = 3
    assert frames(rates, "a", 20) == 4
    clock.advance(5.0)
    live[0] = 2
    assert frames(rates, "a", 20) == 6
    # an instance count of 0 (never reported) is taken as this instance alone
    clock.advance(5.0)
    live[0] = 0
    assert frames(rates, "a", 20) == 12


def test_a_frame_limit_of_zero_is_off_and_remembers_no_address(clock: Clock) -> None:
    rates = AddressRates(0, 1.0, 10, lambda: 1)
    assert all(rates.allow(f"10.0.0.{i % 200}") for i in range(10_000))
    assert len(rates.tats) == 0


def test_the_address_table_is_bounded_and_forgets_the_least_recently_seen_address_first(clock: Clock) -> None:
    rates = AddressRates(3, 1.0, 3, lambda: 1)
    for ip in ("a", "b", "c"):
        assert frames(rates, ip, 5) == 3
    # "a" was seen last of the three: "b" is the oldest, so the fourth address evicts it
    assert rates.allow("a") is False
    assert frames(rates, "d", 5) == 3
    assert list(rates.tats) == ["c", "a", "d"]
    assert rates.evictions == 1
    # the forgotten address starts again with a full burst, and evicts the next oldest
    assert frames(rates, "b", 5) == 3
    assert list(rates.tats) == ["a", "d", "b"]
    assert rates.evictions == 2
    for i in range(1000):
        rates.allow(f"10.0.{i // 250}.{i % 250}")
    assert len(rates.tats) == 3
    assert rates.evictions == 1002


def test_the_socket_cap_counts_per_address_and_frees_on_release() -> None:
    counts = SocketCounts(2)
    assert [counts.acquire("a"), counts.acquire("a"), counts.acquire("a"), counts.acquire("b")] == [
        True,
        True,
        False,
        True,
    ]
    counts.release("a")
    assert counts.acquire("a") is True
    for _ in range(2):
        counts.release("a")
    counts.release("b")
    # no entry is kept for an address without sockets
    assert dict(counts.counts) == {}


def test_a_socket_cap_of_zero_is_off() -> None:
    counts = SocketCounts(0)
    assert all(counts.acquire("a") for _ in range(1000))


# -- shared limiter ----------------------------------------------------------------------


async def test_the_shared_limiter_answers_none_until_the_limit_then_the_wait_in_ms(redis_url: str) -> None:
    client = Redis.from_url(redis_url, decode_responses=True)
    try:
        limiter = SharedLimiter(Scripts(client)["rate_limit"], 1.0)
        limit = Limit("ip", 3, 30.0)
        results = [await limiter.check("192.0.2.1", limit) for _ in range(4)]
        assert results[:3] == [None, None, None]
        assert results[3] is not None and 0 < results[3] <= 10_000
        # limits that are off are not sent at all, and nothing else is then asked
        assert await limiter.check("192.0.2.1", Limit("ip", 0, 1.0)) is None
        assert limiter.errors == 0
    finally:
        await client.aclose()


async def test_the_shared_limiter_fails_open_and_stops_asking_for_a_moment(monkeypatch: pytest.MonkeyPatch) -> None:
    client = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.2)
    try:
        limiter = SharedLimiter(Scripts(client)["rate_limit"], 0.5)
        started = time.monotonic()
        assert await limiter.check("192.0.2.1", Limit("ip", 1, 1.0)) is None
        assert limiter.errors == 1
        # within the back-off nothing waits on Redis again
        assert [await limiter.check("192.0.2.1", Limit("ip", 1, 1.0)) for _ in range(50)] == [None] * 50
        assert limiter.errors == 1
        assert time.monotonic() - started < 1.0
        monkeypatch.setattr(limits, "FAIL_OPEN_BACKOFF_S", 0.0)
        limiter._skip_until = 0.0
        assert await limiter.check("192.0.2.1", Limit("ip", 1, 1.0)) is None
        assert limiter.errors == 2
    finally:
        await client.aclose()
