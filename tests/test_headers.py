"""Security headers on every HTTP response: pages, JSON, errors, refusals and upgrades."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from service.app import create_app
from service.headers import BASE_HEADERS, CONTENT_SECURITY_POLICY
from service.settings import Settings
from stack.presets import UNLIMITED


async def serve(aiohttp_server: Any, redis_url: str, **fields: Any) -> TestServer:
    server: TestServer = await aiohttp_server(create_app(Settings(redis_url=redis_url, **{**UNLIMITED, **fields})))
    return server


def assert_secured(headers: Any, hsts: str | None = None) -> None:
    for name, value in BASE_HEADERS.items():
        assert headers.get(name) == value, name
    assert headers.get("Strict-Transport-Security") == hsts


def test_the_policy_allows_only_this_origin_and_no_inline_code() -> None:
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY and "unsafe-eval" not in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("path", ["/health", "/ready", "/metrics", "/nope", "/static/nope.js"])
async def test_every_response_carries_the_headers_errors_included(
    aiohttp_server: Any, redis_url: str, path: str
) -> None:
    server = await serve(aiohttp_server, redis_url)
    async with aiohttp.ClientSession() as http, http.get(server.make_url(path)) as r:
        assert_secured(r.headers)


async def test_a_refused_upgrade_carries_the_headers(aiohttp_server: Any, redis_url: str) -> None:
    server = await serve(aiohttp_server, redis_url, allowed_origins=("https://play.example.com",))
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await http.ws_connect(server.make_url("/ws"), headers={"Origin": "https://evil.example.net"})
    assert info.value.status == 403
    assert info.value.headers is not None
    assert_secured(info.value.headers)


async def test_an_accepted_upgrade_carries_the_headers(aiohttp_server: Any, redis_url: str) -> None:
    server = await serve(aiohttp_server, redis_url)
    async with aiohttp.ClientSession() as http, http.ws_connect(server.make_url("/ws")) as ws:
        assert_secured(ws._response.headers)


async def test_hsts_is_sent_only_when_configured(aiohttp_server: Any, redis_url: str) -> None:
    server = await serve(aiohttp_server, redis_url, hsts_max_age_s=31_536_000)
    async with aiohttp.ClientSession() as http, http.get(server.make_url("/health")) as r:
        assert_secured(r.headers, hsts="max-age=31536000; includeSubDomains")
