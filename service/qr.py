"""GET /qr?game=CODE: the join link of a game as an SVG QR code, for the players at a table.

The link is the one the web client shares (`<origin>/?game=CODE`), from the public URL
setting when set, else from the request itself. The code is only checked for its form, not
looked up: a QR code of a join link reveals nothing the link does not, and no Redis read is
spent on it. The code is drawn with segno; an image depends only on its link, so the last
few are kept.
"""

from __future__ import annotations

import functools
import io

import segno
from aiohttp import web

from service import keys

#: the image names only the link it encodes: a day in any cache is safe
CACHE_CONTROL = "public, max-age=86400"
INVALID_CODE = "Invalid game code: expected ?game= and the 6 letters and digits of a game"


def join_link(base: str, game_id: str) -> str:
    """The web client's join link (service/static/js/main.js share-link) under `base`."""
    return f"{base.rstrip('/')}/?game={game_id}"


def request_base(request: web.Request, public_url: str, trust_proxy: bool) -> str:
    """Where players reach this service: `public_url` when set; else the request's own scheme
    and Host, the scheme from X-Forwarded-Proto only when a trusted proxy is in front
    (`trust_proxy`: CLIENT_IP_HEADER is set, so every request comes through it)."""
    if public_url:
        return public_url
    scheme = request.scheme
    forwarded = request.headers.get("X-Forwarded-Proto", "").strip().lower()
    if trust_proxy and forwarded in ("http", "https"):
        scheme = forwarded
    return f"{scheme}://{request.host}"


@functools.lru_cache(maxsize=64)
def svg(link: str) -> bytes:
    """The QR code of `link`: black modules on white (so it scans on a dark page too), 8 px a
    module and the standard 4-module quiet zone, error correction M at least."""
    out = io.BytesIO()
    segno.make_qr(link, error="m").save(out, kind="svg", scale=8, border=4, dark="#000", light="#fff", xmldecl=False)
    return out.getvalue()


def game_code(raw: str | None) -> str | None:
    """The normalised game code of a query value, or None when it is not one."""
    if raw is None:
        return None
    gid = keys.normalize_game_id(raw)
    return gid if keys.is_valid_game_id(gid) else None


def response(request: web.Request, public_url: str, trust_proxy: bool) -> web.Response:
    gid = game_code(request.query.get("game"))
    if gid is None:
        return web.Response(status=400, text=INVALID_CODE, headers={"Cache-Control": "no-store"})
    body = svg(join_link(request_base(request, public_url, trust_proxy), gid))
    headers = {"Cache-Control": CACHE_CONTROL}
    if not public_url and trust_proxy:
        headers["Vary"] = "X-Forwarded-Proto"
    return web.Response(body=body, content_type="image/svg+xml", headers=headers)
