"""Security headers on every HTTP response, including WebSocket upgrade refusals and errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

# The web client ships its own scripts, styles and icons and talks only to this origin, so
# everything else is refused; Chromium treats ws:/wss: to the same host as 'self' (CSP 3).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

BASE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def security_headers(hsts_max_age_s: int) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    """An on_response_prepare hook: it runs for every response aiohttp sends, errors and
    WebSocket upgrades included, which a middleware would miss. HSTS only when the operator
    says clients reach us over TLS (a proxy terminates it)."""
    headers = dict(BASE_HEADERS)
    if hsts_max_age_s > 0:
        headers["Strict-Transport-Security"] = f"max-age={hsts_max_age_s}; includeSubDomains"

    async def add(request: web.Request, response: web.StreamResponse) -> None:
        response.headers.update(headers)

    return add
