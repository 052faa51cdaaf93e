"""ALLOWED_ORIGINS matching: exact origins and dot-boundary wildcards (defect C25); unset, the
app's own origin only; `*`, any origin; no Origin header, always allowed."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict

from service.app import create_app
from service.origins import origin_allowed, upgrade_allowed
from service.settings import Settings

ALLOWED = ("https://play.example.com", "*.tapotarp.app", "https://*.secure.dev")


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        (None, True),
        ("https://play.example.com", True),
        ("https://PLAY.example.com/", True),
        ("http://play.example.com", False),
        ("https://play.example.com:8443", False),
        ("https://other.example.com", False),
        ("https://eu.tapotarp.app", True),
        ("http://a.b.tapotarp.app:3000", True),
        ("https://tapotarp.app", False),
        ("https://eviltapotarp.app", False),
        ("https://tapotarp.app.evil.com", False),
        ("https://x.secure.dev", True),
        ("http://x.secure.dev", False),
        ("null", False),
        ("not a url", False),
    ],
)
def test_origins_match_exactly_or_on_a_dot_boundary(origin: str | None, expected: bool) -> None:
    assert origin_allowed(origin, ALLOWED) is expected


def test_an_empty_allow_list_allows_only_the_apps_own_origin() -> None:
    """Changed by issue 10: unset used to allow every origin."""
    assert not origin_allowed("https://anything.example", (), "play.local:3000")
    assert origin_allowed("http://play.local:3000", (), "play.local:3000")
    assert origin_allowed(None, (), "play.local:3000")


@pytest.mark.parametrize(
    ("origin", "host", "expected"),
    [
        ("http://play.local:3000", "play.local:3000", True),
        ("http://PLAY.Local:3000", "play.LOCAL:3000", True),
        # TLS may end at a proxy: the page is https, the upgrade reaches us as plain http
        ("https://play.local:3000", "play.local:3000", True),
        ("https://play.example.com", "play.example.com", True),
        ("https://play.example.com:443", "play.example.com", True),
        ("http://play.example.com", "play.example.com:80", True),
        ("https://play.example.com", "play.example.com:443", True),
        ("http://192.168.1.20:3000", "192.168.1.20:3000", True),
        ("http://[::1]:3000", "[::1]:3000", True),
        ("http://evil.example", "play.local:3000", False),
        ("http://play.local:3001", "play.local:3000", False),
        ("http://play.local", "play.local:3000", False),
        ("http://play.local:3000", "play.local", False),
        ("http://play.local.evil.example:3000", "play.local:3000", False),
        ("http://evil.play.local:3000", "play.local:3000", False),
        ("http://localhost:3000", "127.0.0.1:3000", False),
        ("ws://play.local:3000", "play.local:3000", False),
        ("file://", "play.local:3000", False),
        ("null", "play.local:3000", False),
        ("http://play.local:99999", "play.local:99999", False),
        ("http://[::1:3000", "[::1:3000", False),
        ("http://play.local:3000", None, False),
        (None, None, True),
    ],
)
def test_unset_the_origin_must_name_the_host_the_request_was_sent_to(
    origin: str | None, host: str | None, expected: bool
) -> None:
    assert origin_allowed(origin, (), host) is expected


def test_a_list_allows_only_its_entries_not_the_own_host() -> None:
    assert not origin_allowed("http://play.local:3000", ("https://play.example.com",), "play.local:3000")
    assert origin_allowed("https://play.example.com", ("https://play.example.com",), "play.local:3000")


@pytest.mark.parametrize("allowed", [("*",), (" * ",), ("https://play.example.com", "*")])
def test_a_star_allows_every_origin(allowed: tuple[str, ...]) -> None:
    assert origin_allowed("http://evil.example", allowed, "play.local:3000")
    assert origin_allowed("null", allowed)
    assert origin_allowed(None, allowed)


def test_upgrade_allowed_reads_origin_and_host_from_the_headers() -> None:
    assert upgrade_allowed(CIMultiDict({"host": "play.local:3000", "origin": "http://play.local:3000"}), ())
    assert not upgrade_allowed(CIMultiDict({"Host": "play.local:3000", "Origin": "http://evil.example"}), ())
    assert upgrade_allowed(CIMultiDict({"Host": "play.local:3000"}), ())


async def upgrade_status(server: TestServer, origin: str | None) -> int:
    """The status of a WebSocket upgrade sent with `origin` (101 when it connects)."""
    async with aiohttp.ClientSession() as session:
        try:
            ws = await session.ws_connect(server.make_url("/"), origin=origin)
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status
        hello = await ws.receive_json(timeout=5)
        assert hello["type"] == "clientId"
        await ws.close()
        return 101


async def test_unset_a_foreign_page_is_refused_and_the_apps_own_page_and_native_clients_connect() -> None:
    server = TestServer(create_app(Settings()), host="127.0.0.1")
    await server.start_server()
    try:
        assert server.port is not None
        own = f"http://127.0.0.1:{server.port}"
        assert await upgrade_status(server, "http://evil.example") == 403
        assert await upgrade_status(server, f"http://127.0.0.1:{server.port + 1}") == 403
        assert await upgrade_status(server, own) == 101
        assert await upgrade_status(server, own.replace("http:", "https:")) == 101
        assert await upgrade_status(server, None) == 101
    finally:
        await server.close()


async def test_a_star_lets_any_page_connect() -> None:
    server = TestServer(create_app(Settings(allowed_origins=("*",))), host="127.0.0.1")
    await server.start_server()
    try:
        assert await upgrade_status(server, "http://evil.example") == 101
        assert await upgrade_status(server, None) == 101
    finally:
        await server.close()


async def test_a_foreign_origin_is_refused_with_403_and_an_allowed_one_connects() -> None:
    # the embedded engine is enough here: the check happens before any game code runs
    server = TestServer(create_app(Settings(allowed_origins=("https://play.example.com",))))
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(server.make_url("/"), origin="https://evilexample.com")
            assert refused.value.status == 403
            ws = await session.ws_connect(server.make_url("/"), origin="https://play.example.com")
            hello = await ws.receive_json(timeout=5)
            assert hello["type"] == "clientId"
            await ws.close()
    finally:
        await server.close()
