"""Settings shared by tests that exercise something other than the limits, and the benchmarks'
limits.

The protocol, multi-instance and chaos tests send hundreds of frames a second from
127.0.0.1, far past the per-address defaults that protect a real deployment; they turn the
limits off so a refusal can never be mistaken for the behaviour under test. The limit tests
(tests/test_limits.py) set their own small limits.

The benchmarks measure what runs in production, so they keep every limit on (each check is
paid as in production) but out of reach of the run: out_of_reach_env.
"""

from __future__ import annotations

import math
from typing import Any

from service.settings import Settings

#: every per-address limit: its Settings field and its environment variable
LIMIT_VARS: dict[str, str] = {
    "rate_connections_per_min": "RATE_LIMIT_CONNECTIONS_PER_MIN",
    "rate_messages_per_s": "RATE_LIMIT_MESSAGES_PER_S",
    "rate_socket_messages_per_s": "RATE_LIMIT_SOCKET_MESSAGES_PER_S",
    "rate_games_per_hour": "RATE_LIMIT_GAMES_PER_HOUR",
    "rate_feedback_per_hour": "RATE_LIMIT_FEEDBACK_PER_HOUR",
    "rate_lobby_lists_per_min": "RATE_LIMIT_LOBBY_LISTS_PER_MIN",
    "max_sockets_per_ip": "MAX_SOCKETS_PER_IP",
}

UNLIMITED: dict[str, Any] = {name: 0 for name in LIMIT_VARS}

UNLIMITED_ENV: dict[str, str] = {var: "0" for var in LIMIT_VARS.values()}

#: When Redis rewrites its append-only file: once the file has grown by this percentage over
#: the last rewrite's size, and is at least this large. Redis's defaults (100, 64mb) suit a
#: read-mostly cache; here every action appends about 4.5 KB (the new state, its undo
#: snapshot, the log entry and the TTLs), so at the defaults a shard rewrote its whole dataset
#: every 5-30 s, forever, and each rewrite took the fsyncs of AOF `always` off their usual
#: latency (docs/operations.md, Redis requirements). stack/redis.conf sets the same.
AOF_REWRITE_PERCENTAGE = 400
AOF_REWRITE_MIN_SIZE_MB = 256
AOF_REWRITE_MIN_SIZE = f"{AOF_REWRITE_MIN_SIZE_MB}mb"

#: how far above the worst case a run can produce the benchmarks set each limit
HEADROOM = 4
#: the largest value the settings accept for a count limit (service/settings.py, `hi`)
LIMIT_MAX = 1_000_000


def out_of_reach_env(games: int, players: int, actions_per_s: float) -> dict[str, str]:
    """Every per-address limit on, at HEADROOM times the most a load-generator run of `games`
    games of `players` sockets, each game sending `actions_per_s` actions, can produce from
    its one address (127.0.0.1), as if it all came in the limit's shortest window; never below
    the production default, never above the settings' maximum.

    - sockets and upgrades: every socket of the run, all on one instance, all in one minute;
    - creates: one per game, all in one hour;
    - frames per address: the whole set-up (the host's create, claim and start, each other
      player's join and claim: 2*players+1 a game) plus one second of actions, in one second;
    - frames per socket: a host's three set-up frames plus a second of its game's actions;
    - feedback and lobby lists: the run sends none, so the defaults stay.
    """
    sockets = games * players
    frames = games * (2 * players + 1) + math.ceil(games * actions_per_s)
    worst = {
        "rate_connections_per_min": sockets,
        "max_sockets_per_ip": sockets,
        "rate_games_per_hour": games,
        "rate_messages_per_s": frames,
        "rate_socket_messages_per_s": 3 + math.ceil(actions_per_s),
        "rate_feedback_per_hour": 0,
        "rate_lobby_lists_per_min": 0,
    }
    return {
        var: str(min(LIMIT_MAX, max(getattr(Settings, name), HEADROOM * worst[name])))
        for name, var in LIMIT_VARS.items()
    }
