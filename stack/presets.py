"""Settings shared by tests that exercise something other than the limits.

The protocol, multi-instance and chaos tests send hundreds of frames a second from
127.0.0.1, far past the per-address defaults that protect a real deployment; they turn the
limits off so a refusal can never be mistaken for the behaviour under test. The limit tests
(tests/test_limits.py) set their own small limits.
"""

from __future__ import annotations

from typing import Any

UNLIMITED: dict[str, Any] = {
    "rate_connections_per_min": 0,
    "rate_messages_per_s": 0,
    "rate_socket_messages_per_s": 0,
    "rate_games_per_hour": 0,
    "rate_feedback_per_hour": 0,
    "rate_lobby_lists_per_min": 0,
    "max_sockets_per_ip": 0,
}

UNLIMITED_ENV: dict[str, str] = {
    "RATE_LIMIT_CONNECTIONS_PER_MIN": "0",
    "RATE_LIMIT_MESSAGES_PER_S": "0",
    "RATE_LIMIT_SOCKET_MESSAGES_PER_S": "0",
    "RATE_LIMIT_GAMES_PER_HOUR": "0",
    "RATE_LIMIT_FEEDBACK_PER_HOUR": "0",
    "RATE_LIMIT_LOBBY_LISTS_PER_MIN": "0",
    "MAX_SOCKETS_PER_IP": "0",
}
