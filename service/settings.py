"""Service configuration, read once from the environment into a frozen dataclass.

Each field is declared once, with `setting(...)`: its environment variable, default, range or
allowed values and a one-line doc. `Settings.from_env` reads the fields from those declarations,
and `markdown_table` renders them as the table in docs/configuration.md
(`python -m service.settings --write docs/configuration.md` regenerates it).

Standard library only: `make stack-down` imports this module with whatever python3 is at hand.
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

TABLE_BEGIN = "<!-- settings-table:begin -->"
TABLE_END = "<!-- settings-table:end -->"

INSTANCE_ID_MAX = 64
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_LOG_FORMATS = ("json", "text")
_VAR = "env"  # the key of a field's metadata that holds its Var


class ConfigError(ValueError):
    """An environment variable is missing a valid value; the message names it."""


def _boolean(raw: str) -> bool:
    v = raw.lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ValueError(raw)


def _addresses(raw: str) -> tuple[tuple[str, int], ...]:
    """'host:port,host:port' (IPv6 as [addr]:port)."""
    out: list[tuple[str, int]] = []
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        host, sep, port = item.rpartition(":")
        host = host.strip("[]")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65_536:
            raise ValueError(item)
        out.append((host, int(port)))
    if not out:
        raise ValueError(raw)
    return tuple(out)


def _comma_list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _public_url(raw: str) -> str:
    """An http(s) origin, optionally with a path, without query or fragment; no trailing slash."""
    scheme, sep, rest = raw.partition("://")
    host = rest.split("/", 1)[0]
    if not sep or scheme.lower() not in ("http", "https") or not host or any(c in rest for c in "?# "):
        raise ValueError(raw)
    return raw.rstrip("/")


def _instance_id(raw: str) -> str:
    return raw[:INSTANCE_ID_MAX]


def _random_instance_id() -> str:
    return f"i{secrets.token_hex(4)}"


# The parser a setting gets from its default's type when it names none.
_PARSERS: dict[type, Callable[[str], object]] = {bool: _boolean, int: int, float: float, str: str}


@dataclass(frozen=True)
class Var:
    """How one setting is read from the environment, and how the configuration table shows it."""

    names: tuple[str, ...]  # the first one set wins
    doc: str
    parse: Callable[[str], object]
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()
    # False: the value is taken verbatim (a password may end in a space) and only "" counts as unset
    strip: bool = True
    unset: Callable[[], object] | None = None  # the value when no name is set, instead of the default
    shown_default: str = ""  # the default column, where the default itself says too little
    values: str = ""  # the range/values column, where lo/hi/choices say nothing

    def read(self, env: Mapping[str, str], default: object) -> object:
        for name in self.names:
            raw = env.get(name)
            if raw is None:
                continue
            text = raw.strip() if self.strip else raw
            if text:
                return self._parse(name, raw, text)
        return self.unset() if self.unset is not None else default

    def _parse(self, name: str, raw: str, text: str) -> object:
        try:
            value = self.parse(text)
        except ValueError:
            kind = getattr(self.parse, "__name__", "value").lstrip("_")
            raise ConfigError(f"{name}={raw!r} is not a valid {kind}") from None
        if self.choices and value not in self.choices:
            raise ConfigError(f"{name}={text!r} must be one of {', '.join(self.choices)}")
        if isinstance(value, float) and math.isnan(value):
            # NaN passes every range comparison
            raise ConfigError(f"{name}={raw!r} is not a number")
        if isinstance(value, int | float) and not isinstance(value, bool) and not self._within(value):
            raise ConfigError(f"{name}={raw!r} is out of range [{self.lo}, {self.hi}]")
        return value

    def _within(self, value: float) -> bool:
        return (self.lo is None or value >= self.lo) and (self.hi is None or value <= self.hi)

    def row(self, default: object) -> tuple[str, str, str, str]:
        """variable, default, range/values, meaning: this setting's line of the configuration table."""
        return (" / ".join(f"`{n}`" for n in self.names), self._shown_default(default), self._values(), self.doc)

    def _shown_default(self, default: object) -> str:
        if self.shown_default:
            return self.shown_default
        if default in ("", ()):
            return "unset"
        if isinstance(default, bool):
            return f"`{int(default)}`"
        return f"`{_number(default) if isinstance(default, int | float) else default}`"

    def _values(self) -> str:
        if self.values:
            return self.values
        if self.choices:
            return ", ".join(f"`{c}`" for c in self.choices)
        if self.parse is _boolean:
            return ", ".join(f"`{yes}`/`{no}`" for yes, no in zip(_TRUE, _FALSE, strict=True))
        if self.lo is not None and self.hi is not None:
            return f"{_number(self.lo)}–{_number(self.hi)}"
        return ""


def _number(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def setting(
    names: str | tuple[str, ...],
    default: T,
    *,
    doc: str,
    parse: Callable[[str], object] | None = None,
    lo: float | None = None,
    hi: float | None = None,
    choices: tuple[str, ...] = (),
    secret: bool = False,
    strip: bool = True,
    unset: Callable[[], T] | None = None,
    shown_default: str = "",
    values: str = "",
) -> T:
    """A Settings field read from `names` (the first set wins); secret: left out of repr."""
    var = Var(
        names=(names,) if isinstance(names, str) else names,
        doc=doc,
        parse=parse or _PARSERS[type(default)],
        lo=lo,
        hi=hi,
        choices=choices,
        strip=strip,
        unset=unset,
        shown_default=shown_default,
        values=values,
    )
    return field(default=default, repr=not secret, metadata={_VAR: var})


@dataclass(frozen=True)
class Settings:
    port: int = setting("PORT", 3000, lo=1, hi=65_535, doc="TCP port for HTTP and WebSocket (the original's `PORT`)")
    host: str = setting("HOST", "0.0.0.0", strip=False, doc="bind address")
    redis_url: str = setting(
        "REDIS_URL",
        "",
        secret=True,
        values=f"{', '.join(f'`{s}…`' for s in _REDIS_SCHEMES[:-1])} or `{_REDIS_SCHEMES[-1]}…`",
        doc="URL of Redis. Unset: embedded in-process engine (fakeredis), single instance, state in memory",
    )
    redis_cluster: bool = setting(
        "REDIS_CLUSTER",
        False,
        doc="`1`: `REDIS_URL` names any node of a Redis Cluster; the client learns the others, routes each script "
        "to its game's slot and subscribes with SSUBSCRIBE per shard",
    )
    redis_sentinels: tuple[tuple[str, int], ...] = setting(
        "REDIS_SENTINELS",
        (),
        parse=_addresses,
        values="`host:port,host:port,…` (IPv6 as `[addr]:port`)",
        doc="addresses of Redis Sentinels; Redis is then the primary they name, found again after every failover. "
        "Replaces `REDIS_URL`",
    )
    redis_sentinel_master: str = setting(
        "REDIS_SENTINEL_MASTER", "mymaster", doc="the primary's name in the Sentinel configuration"
    )
    redis_password: str = setting(
        "REDIS_PASSWORD",
        "",
        secret=True,
        strip=False,
        doc="password of the primary and replicas found through Sentinel (with `REDIS_URL`, put it in the URL)",
    )
    redis_sentinel_password: str = setting(
        "REDIS_SENTINEL_PASSWORD",
        "",
        secret=True,
        strip=False,
        doc="password of the sentinels themselves, if they require one",
    )
    allowed_origins: tuple[str, ...] = setting(
        "ALLOWED_ORIGINS",
        (),
        parse=_comma_list,
        shown_default="unset (this app's own origin)",
        values="comma-separated origins, or `*`",
        doc="origins whose pages may open a WebSocket: exact (`https://play.example.com`) or wildcards "
        "(`*.example.com`, `https://*.example.com`, subdomains on a dot boundary); `*` allows any origin. Unset: "
        "only pages whose Origin names the request's own Host (http or https; ports 80/443 may be omitted); "
        "behind a proxy that rewrites Host, list the public origin. A request without Origin (a non-browser "
        "client) is always allowed; others get HTTP 403 `Forbidden: Origin not allowed`",
    )
    public_url: str = setting(
        "PUBLIC_URL",
        "",
        parse=_public_url,
        values="`https://…` or `http://…`, no query",
        doc="the address players open (`https://clock.example.com`): the join link in `GET /qr` QR codes. Unset: "
        "the request's own scheme and Host (the scheme from `X-Forwarded-Proto` only when `CLIENT_IP_HEADER` "
        "is set, that is behind a trusted proxy)",
    )
    tick_interval_ms: int = setting(
        "TICK_INTERVAL_MS",
        1000,
        lo=50,
        hi=60_000,
        doc="interval of the `tick` frames each instance sends to its sockets (`100` reproduces the original)",
    )
    deadline_poll_ms: int = setting(
        "DEADLINE_POLL_MS", 50, lo=10, hi=1000, doc="how often each instance looks for due timeouts and warnings"
    )
    game_retention_s: int = setting(
        "GAME_RETENTION_S",
        86_400,
        lo=60,
        hi=30 * 86_400,
        doc="a game with no action for this long is deleted by Redis TTL",
    )
    idle_game_retention_s: int = setting(
        "IDLE_GAME_RETENTION_S",
        3600,
        lo=60,
        hi=30 * 86_400,
        doc="a finished game, or one where nobody holds a seat, is deleted this long after its last action "
        "(at most `GAME_RETENTION_S`); a player who comes back within it still finds the game",
    )
    token_ttl_s: int = setting(
        "TOKEN_TTL_S",
        7 * 86_400,
        lo=60,
        hi=365 * 86_400,
        doc="seat and host tokens stay valid this long after their last use; must be ≥ `GAME_RETENTION_S`",
    )
    cache_ttl_s: float = setting(
        "CACHE_TTL_S", 30.0, lo=1.0, hi=3600.0, doc="a cached game snapshot is re-read from Redis at least this often"
    )
    redis_timeout_ms: int = setting(
        "REDIS_TIMEOUT_MS",
        2000,
        lo=50,
        hi=60_000,
        doc="connect and socket timeout of one Redis call; an action waiting longer is answered with an error",
    )
    redis_wait_replicas: int = setting(
        "REDIS_WAIT_REPLICAS",
        0,
        lo=0,
        hi=16,
        doc="durable acknowledgement: an action is answered only once this many replicas have its write "
        "(`WAIT`); one that fewer confirm within `REDIS_WAIT_TIMEOUT_MS` gets the storage error. "
        "0: answered once the primary has it. Needs `REDIS_URL` or `REDIS_SENTINELS`, not Cluster",
    )
    redis_wait_timeout_ms: int = setting(
        "REDIS_WAIT_TIMEOUT_MS",
        200,
        lo=1,
        hi=10_000,
        doc="how long an action waits for `REDIS_WAIT_REPLICAS` replicas before it is answered with the storage error",
    )
    action_timeout_ms: int = setting(
        "ACTION_TIMEOUT_MS",
        4000,
        lo=100,
        hi=60_000,
        doc="upper bound on one action (retries included) before the client gets an error",
    )
    max_frame_bytes: int = setting(
        "MAX_FRAME_BYTES",
        65_536,
        lo=1024,
        hi=16 * 1_048_576,
        doc="largest inbound WebSocket frame; a larger one closes the socket with 1009",
    )
    max_send_queue_bytes: int = setting(
        "MAX_SEND_QUEUE_BYTES",
        1_048_576,
        lo=4096,
        hi=1 << 30,
        doc='outbound bytes queued for one socket before it is closed with 1008 "Buffer overflow"',
    )
    socket_send_buffer_bytes: int = setting(
        "SOCKET_SEND_BUFFER_BYTES",
        65_536,
        lo=0,
        hi=1 << 24,
        doc="the kernel's send buffer of each WebSocket (SO_SNDBUF; Linux keeps twice it for its own "
        "bookkeeping); 0 leaves it to the kernel, which grows it up to net.ipv4.tcp_wmem's maximum "
        "(4 MiB by default) for a client that stops reading, on top of MAX_SEND_QUEUE_BYTES",
    )
    drain_timeout_s: float = setting(
        "DRAIN_TIMEOUT_S",
        10.0,
        lo=0.0,
        hi=600.0,
        doc="on SIGTERM, upper bound on closing sockets (so that clients move elsewhere) before the process exits",
    )
    drain_notice_s: float = setting(
        "DRAIN_NOTICE_S",
        0.0,
        lo=0.0,
        hi=600.0,
        doc="on SIGTERM, seconds to keep the listener open with `/ready` answering 503 and WebSocket upgrades "
        "refused (503) before it closes, so a load balancer health-checking `/ready` takes the instance out first; "
        "set it above the balancer's check interval × fall count. A second SIGTERM/SIGINT ends it early. "
        "`0`: close at once",
    )
    redis_lost_close_s: float = setting(
        "REDIS_LOST_CLOSE_S",
        10.0,
        lo=0.0,
        hi=3600.0,
        doc="an instance that has had no answer from Redis (its probe's nor any script's) for this long is cut "
        "off: it closes its sockets with 1012 so "
        "their clients reconnect to an instance that can serve them, and refuses upgrades (503) until Redis "
        "answers again; above a Sentinel failover's or a restart's outage. `0`: never (sockets wait it out)",
    )
    instance_dead_after_s: float = setting(
        "INSTANCE_DEAD_AFTER_S",
        30.0,
        lo=1.0,
        hi=3600.0,
        doc="an instance that has not beaten in Redis for this long is dead: another instance releases the seats "
        "its clients held (tokens kept)",
    )
    instance_id: str = setting(
        ("INSTANCE_ID", "FLY_ALLOC_ID"),
        "",
        parse=_instance_id,
        strip=False,
        unset=_random_instance_id,
        shown_default="random",
        values=f"up to {INSTANCE_ID_MAX} characters",
        doc="name of this instance in logs and `/health`",
    )
    log_level: str = setting(
        "LOG_LEVEL", "INFO", parse=str.upper, choices=_LOG_LEVELS, doc="least severe log records written (any case)"
    )
    log_format: str = setting(
        "LOG_FORMAT",
        "text",
        parse=str.lower,
        choices=_LOG_FORMATS,
        doc="`json` for one JSON object per line, `text` for development",
    )
    client_ip_header: str = setting(
        "CLIENT_IP_HEADER",
        "",
        doc="the one header a trusted proxy sets to the client's address (`Fly-Client-IP` on Fly.io; "
        "`X-Forwarded-For` behind HAProxy/nginx, whose **last** entry is used). Unset: the TCP peer address. "
        "Set it only when every request comes through that proxy: any client can send any header",
    )
    rate_connections_per_min: int = setting(
        "RATE_LIMIT_CONNECTIONS_PER_MIN",
        20,
        lo=0,
        hi=1_000_000,
        doc="new WebSocket connections per client address per minute, shared by all instances; over it: HTTP 429 "
        "`Too Many Requests: Connection rate limit exceeded` with `Retry-After`. `0`: off",
    )
    rate_messages_per_s: int = setting(
        "RATE_LIMIT_MESSAGES_PER_S",
        30,
        lo=0,
        hi=1_000_000,
        doc="frames per client address per second, one budget for all instances: each live instance enforces its "
        "share (this divided by the live-instance count, at least 1 frame of burst; see "
        "[The frame limit per address](operations.md#the-frame-limit-per-address)); over it the frame is dropped and "
        'answered `error "Rate limit exceeded"`. `0`: off',
    )
    rate_limit_address_table_size: int = setting(
        "RATE_LIMIT_ADDRESS_TABLE_SIZE",
        100_000,
        lo=1,
        hi=100_000_000,
        doc="client addresses whose frame budget an instance remembers (least recently seen forgotten first, counted "
        "in `tapotarp_rate_limit_evictions_total`); bounds the memory a flood of new addresses can take, about "
        "200 bytes an address. A forgotten address starts again with a full burst",
    )
    rate_socket_messages_per_s: int = setting(
        "RATE_LIMIT_SOCKET_MESSAGES_PER_S",
        20,
        lo=0,
        hi=1_000_000,
        doc="frames per socket per second (checked in the instance, before the shared limit); same answer. `0`: off",
    )
    rate_games_per_hour: int = setting(
        "RATE_LIMIT_GAMES_PER_HOUR",
        120,
        lo=0,
        hi=1_000_000,
        doc="`create`s per client address per hour, shared by all instances; same answer, no game created. `0`: off",
    )
    rate_feedback_per_hour: int = setting(
        "RATE_LIMIT_FEEDBACK_PER_HOUR",
        30,
        lo=0,
        hi=1_000_000,
        doc="`feedback`, `updateFeedback` and `deleteFeedback` frames per client address per hour, shared by all "
        "instances; same answer, nothing stored. `0`: off",
    )
    feedback_per_author: int = setting(
        "FEEDBACK_MAX_PER_AUTHOR",
        20,
        lo=1,
        hi=1000,
        doc="feedbacks one author (one feedback token) may hold at once; a further `feedback` is refused "
        "`FEEDBACK_LIMIT` until one is deleted or expires",
    )
    feedback_max_total: int = setting(
        "FEEDBACK_MAX_TOTAL",
        10_000,
        lo=16,
        hi=10_000_000,
        doc="feedbacks kept in all, spread over 16 buckets of authors, each capped at its share; a `feedback` into a "
        "full bucket is refused `FEEDBACK_FULL`",
    )
    feedback_retention_s: int = setting(
        "FEEDBACK_RETENTION_S",
        365 * 86_400,
        lo=60,
        hi=5 * 365 * 86_400,
        doc="a feedback is deleted this long after it was written or last edited (the original's 1 year)",
    )
    rate_lobby_lists_per_min: int = setting(
        "RATE_LIMIT_LOBBY_LISTS_PER_MIN",
        30,
        lo=0,
        hi=1_000_000,
        doc="`GET /api/games` requests per client address per minute, shared by all instances; over it: HTTP 429 "
        '`{"error": "Rate limit exceeded"}` with `Retry-After`. `GET /qr` has a limit of its own with this count '
        "(over it: HTTP 429 `Rate limit exceeded`, text). `0`: off",
    )
    max_sockets_per_ip: int = setting(
        "MAX_SOCKETS_PER_IP",
        100,
        lo=0,
        hi=1_000_000,
        doc="open sockets per client address on one instance; over it: HTTP 429 "
        "`Too Many Requests: Too many open connections`. `0`: off",
    )
    ws_heartbeat_s: float = setting(
        "WS_HEARTBEAT_S",
        30.0,
        lo=1.0,
        hi=3600.0,
        doc="WebSocket ping interval; a peer that does not answer a ping within it is closed "
        "(half-open connections are found)",
    )
    metrics_token: str = setting(
        "METRICS_TOKEN",
        "",
        secret=True,
        doc="when set, `/metrics` requires `Authorization: Bearer <token>` (401 otherwise). Unset: `/metrics` is open",
    )
    metrics_port: int = setting(
        "METRICS_PORT",
        0,
        lo=0,
        hi=65_535,
        doc="serve `/metrics` on this separate port only (e.g. a private network interface); must differ from "
        "`PORT`. `0`: on `PORT`",
    )
    allow_evicting_policy: bool = setting(
        "ALLOW_EVICTING_POLICY",
        False,
        doc="start even when Redis's `maxmemory-policy` may evict keys (otherwise the process refuses to start, "
        "exit code 2, and `/ready` stays 503 if Redis changes to such a policy later)",
    )
    hsts_max_age_s: int = setting(
        "HSTS_MAX_AGE_S",
        0,
        lo=0,
        hi=2 * 365 * 86_400,
        doc="when > 0, every response carries `Strict-Transport-Security: max-age=…; includeSubDomains`; set it "
        "when clients reach the service over TLS (a proxy terminating it). `0`: no HSTS",
    )
    gc_freeze: bool = setting(
        "GC_FREEZE",
        True,
        doc="freeze the survivors of each full garbage collection (service/gcpolicy.py): shorter pauses under "
        "load, for about 4 MB more resident memory per instance at 60 live games (docs/soak.md). "
        "`0`: CPython's default",
    )
    gc_young_threshold: int = setting(
        "GC_YOUNG_THRESHOLD",
        10_000,
        lo=100,
        hi=1_000_000,
        doc="net new container objects between young garbage collections (CPython's default is 700). An "
        "action's objects live for milliseconds while it waits on Redis, so under load 700 is reached over "
        "and over by objects about to be freed, and each collection walks and promotes them: at 2,000 games "
        "10,000 took the collections in 30 s from about 150 to none, and the ack p99 from 188 to 73 ms "
        "(docs/benchmark.md)",
    )
    test_clock: bool = setting(
        "TAPOTARP_TEST_CLOCK",
        False,
        doc='test configurations only: enables `POST /_test/clock {"offsetMs": n}`, which shifts this instance\'s '
        "game time. Never enable in production",
    )

    @property
    def embedded(self) -> bool:
        return not self.redis_url and not self.redis_sentinels

    @property
    def redis_mode(self) -> str:
        """embedded, single, sentinel or cluster: how the Redis client is built."""
        if self.redis_sentinels:
            return "sentinel"
        if self.redis_cluster:
            return "cluster"
        return "embedded" if self.embedded else "single"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        # Any: each Var's parser returns its own field's type, which the declarations tie together
        values: dict[str, Any] = {f.name: f.metadata[_VAR].read(e, f.default) for f in fields(cls)}
        s = cls(**values)
        if s.redis_url and not s.redis_url.startswith(_REDIS_SCHEMES):
            raise ConfigError("REDIS_URL must start with redis://, rediss:// or unix://")
        if s.redis_sentinels and (s.redis_url or s.redis_cluster):
            raise ConfigError("REDIS_SENTINELS replaces REDIS_URL and cannot be combined with it or REDIS_CLUSTER")
        if s.redis_cluster and not s.redis_url:
            raise ConfigError("REDIS_CLUSTER=1 needs REDIS_URL naming a node of the cluster")
        if s.redis_cluster and s.redis_url.startswith("unix://"):
            raise ConfigError("REDIS_CLUSTER=1 needs a redis:// or rediss:// REDIS_URL: cluster nodes are TCP")
        if s.redis_wait_replicas and s.redis_mode not in ("single", "sentinel"):
            raise ConfigError(
                "REDIS_WAIT_REPLICAS needs one primary with replicas (REDIS_URL or REDIS_SENTINELS), "
                f"not the {s.redis_mode} engine"
            )
        if s.redis_wait_replicas and s.redis_wait_timeout_ms >= s.action_timeout_ms:
            raise ConfigError(
                f"REDIS_WAIT_TIMEOUT_MS ({s.redis_wait_timeout_ms}) must be below ACTION_TIMEOUT_MS "
                f"({s.action_timeout_ms}), which bounds the whole action"
            )
        if s.metrics_port and s.metrics_port == s.port:
            raise ConfigError("METRICS_PORT must differ from PORT (or be 0 to serve /metrics on PORT)")
        if s.token_ttl_s < s.game_retention_s:
            raise ConfigError(
                f"TOKEN_TTL_S ({s.token_ttl_s}) must be at least GAME_RETENTION_S ({s.game_retention_s}) "
                "so that players can come back for as long as their game is kept"
            )
        return s


def declarations() -> list[tuple[str, Var, object]]:
    """(field name, Var, default) of every setting, in declaration order."""
    return [(f.name, f.metadata[_VAR], f.default) for f in fields(Settings)]


def markdown_table() -> str:
    """The configuration table: one row a setting, rendered from the declarations."""
    lines = ["| variable | default | range / values | meaning |", "|---|---|---|---|"]
    for _, var, default in declarations():
        lines.append("| " + " | ".join(cell.replace("|", r"\|") for cell in var.row(default)) + " |")
    return "\n".join(lines) + "\n"


def table_in(text: str) -> str:
    """What stands between the settings-table markers of a document (ValueError without them)."""
    start, end = text.find(TABLE_BEGIN), text.find(TABLE_END)
    if start < 0 or end < start:
        raise ValueError(f"no {TABLE_BEGIN} … {TABLE_END} block")
    return text[start + len(TABLE_BEGIN) : end].strip("\n") + "\n"


def with_table(text: str) -> str:
    """The document with the rendered table between its markers."""
    table_in(text)  # the markers are there, in order
    head, rest = text.split(TABLE_BEGIN, 1)
    _, tail = rest.split(TABLE_END, 1)
    return f"{head}{TABLE_BEGIN}\n{markdown_table()}{TABLE_END}{tail}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.settings", description="The configuration table.")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--markdown", action="store_true", help="print the table as markdown")
    action.add_argument("--write", metavar="FILE", type=Path, help="replace the table between the markers in FILE")
    args = parser.parse_args(argv)
    if args.markdown:
        sys.stdout.write(markdown_table())
        return 0
    path: Path = args.write
    try:
        path.write_text(with_table(path.read_text(encoding="utf-8")), encoding="utf-8")
    except (OSError, ValueError) as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
