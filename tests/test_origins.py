"""ALLOWED_ORIGINS matching: exact origins and dot-boundary wildcards (defect C25)."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from service.app import create_app
from service.origins import origin_allowed
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


def test_an_empty_allow_list_allows_every_origin() -> None:
    assert origin_allowed("https://anything.example", ())


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
