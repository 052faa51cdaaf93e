"""The WebSocket Origin allow-list (ALLOWED_ORIGINS)."""

from __future__ import annotations

from urllib.parse import urlsplit


def origin_allowed(origin: str | None, allowed: tuple[str, ...]) -> bool:
    """Whether a WebSocket upgrade from `origin` may proceed.

    An empty list allows every origin, and a request without Origin (a non-browser client)
    is allowed, as in the original. An entry is either an exact origin
    (`https://play.example.com`) or a wildcard `*.example.com` / `https://*.example.com`
    that matches subdomains on a dot boundary (`evilexample.com` does not match).
    """
    if not allowed or origin is None:
        return True
    origin = origin.strip().lower()
    try:
        parts = urlsplit(origin)
        host = parts.hostname or ""
    except ValueError:
        return False
    for entry in allowed:
        entry = entry.strip().lower().rstrip("/")
        if "*." not in entry:
            if origin.rstrip("/") == entry:
                return True
            continue
        scheme, _, pattern = entry.rpartition("://")
        if scheme and scheme != parts.scheme:
            continue
        suffix = pattern[1:]  # ".example.com"
        if host.endswith(suffix) and len(host) > len(suffix):
            return True
    return False
