"""The WebSocket Origin check (ALLOWED_ORIGINS).

A browser names the page that opens a socket in the upgrade's Origin header; other clients
(native apps, scripts, tests) usually send none, and can send any, so the check only keeps
other sites' pages from using a visitor's browser to play here. Those pages are the risk that
matters for a server on a home network: a page of any site, opened on a phone at the table,
could otherwise reach the clock at 192.168.x.y and play with its games.

- ALLOWED_ORIGINS unset: the app's own origin only. An Origin passes when its host[:port]
  equals the request's Host header (case-insensitive, 80 and 443 counting as no port), with
  scheme http or https alike, since TLS may end at a proxy in front of us. A proxy that
  rewrites Host must keep the public one (or the public origin must be listed).
- ALLOWED_ORIGINS set: only the listed origins. An entry is an exact origin
  (`https://play.example.com`) or a wildcard `*.example.com` / `https://*.example.com`
  matching subdomains on a dot boundary (`evilexample.com` does not match).
- `*` (alone or among other entries): any origin. It is accepted rather than refused because
  it is the one way to open the socket to every site (a web client hosted elsewhere, pages
  whose origins are not known in advance, the old open default), it reads as it does in CORS,
  and what it opens is small: the socket carries no cookie or other ambient credential (a
  player's tokens stay in the page's own storage and travel in frames), so a foreign page gets
  only what a non-browser client already has.
- No Origin header: allowed in every case.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

#: the ALLOWED_ORIGINS entry that lets every origin in
ANY_ORIGIN = "*"
#: ports a browser leaves out of Origin and Host, for https and http: the same as none
DEFAULT_PORTS = frozenset({80, 443})


def upgrade_allowed(headers: Mapping[str, str], allowed: tuple[str, ...]) -> bool:
    """Whether a WebSocket upgrade with these request headers may proceed."""
    return origin_allowed(headers.get("Origin"), allowed, headers.get("Host"))


def origin_allowed(origin: str | None, allowed: tuple[str, ...], host: str | None = None) -> bool:
    """Whether a WebSocket upgrade from `origin` may proceed; `host` is the request's Host
    header, which an empty `allowed` compares the origin with (see the module's docstring)."""
    if origin is None:
        return True
    entries = [entry.strip().lower().rstrip("/") for entry in allowed]
    if ANY_ORIGIN in entries:
        return True
    origin = origin.strip().lower()
    try:
        parts = urlsplit(origin)
        origin_host = parts.hostname or ""
    except ValueError:
        return False
    if not entries:
        return host is not None and same_host(origin, host)
    for entry in entries:
        if "*." not in entry:
            if origin.rstrip("/") == entry:
                return True
            continue
        scheme, _, pattern = entry.rpartition("://")
        if scheme and scheme != parts.scheme:
            continue
        suffix = pattern[1:]  # ".example.com"
        if origin_host.endswith(suffix) and len(origin_host) > len(suffix):
            return True
    return False


def same_host(origin: str, host: str) -> bool:
    """Whether an http(s) `origin` names the host[:port] of a Host header."""
    try:
        theirs = urlsplit(origin.strip().lower())
        ours = urlsplit("//" + host.strip().lower())
        if theirs.scheme not in ("http", "https") or not theirs.hostname or theirs.hostname != ours.hostname:
            return False
        return _port(theirs.port) == _port(ours.port)
    except ValueError:
        # a port out of range or an unbalanced IPv6 bracket
        return False


def _port(port: int | None) -> int | None:
    return None if port in DEFAULT_PORTS else port
