"""The only place Redis key and channel names are formed.

Every key of one game carries the hash tag ``{GAMEID}`` so that a script touching them
runs in one Redis Cluster slot. The deadline index (and the lobby index beside it) is
split into ``PARTITIONS`` sorted sets; partition ``p`` is named with a tag chosen so that
it hashes to slot ``SLOTS[p]``, and game ids are only ever issued whose own slot is one of ``SLOTS``. So the deadline
partition of a game lives in the same slot as the game itself, and a game script can
update the index atomically, on a single node, even in a cluster.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from redis.crc import key_slot

#: The original's 32-character alphabet (no I, O, 0, 1).
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ID_LENGTH = 6
PREFIX = "tot"
PARTITIONS = 64


def _partition_tags() -> tuple[tuple[str, ...], dict[int, int]]:
    tags: list[str] = []
    slot_to_partition: dict[int, int] = {}
    n = 0
    while len(tags) < PARTITIONS:
        tag = f"dl{n}"
        n += 1
        slot = key_slot(tag.encode())
        if slot not in slot_to_partition:
            slot_to_partition[slot] = len(tags)
            tags.append(tag)
    return tuple(tags), slot_to_partition


PARTITION_TAGS, SLOT_TO_PARTITION = _partition_tags()


def partition_of(game_id: str) -> int | None:
    """The deadline partition a game id belongs to, or None for an id this service never issues."""
    return SLOT_TO_PARTITION.get(key_slot(game_id.encode()))


def is_valid_game_id(game_id: str) -> bool:
    return len(game_id) == ID_LENGTH and all(c in ALPHABET for c in game_id) and partition_of(game_id) is not None


def normalize_game_id(raw: str) -> str:
    """Join codes are case-insensitive and tolerate surrounding blanks."""
    return raw.strip().upper()


def new_game_id(seed: bytes | None = None) -> str:
    """A random id whose slot holds a deadline partition.

    With ``seed`` the sequence of candidates is deterministic, so an action retried with the
    same seed (client id + request id) tries the same ids and finds its own game again.
    """
    counter = 0
    while True:
        if seed is None:
            raw = secrets.token_bytes(ID_LENGTH)
        else:
            raw = hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()[:ID_LENGTH]
            counter += 1
        # 256 is a multiple of 32, so the modulo keeps every character equally likely.
        candidate = "".join(ALPHABET[b % 32] for b in raw)
        if partition_of(candidate) is not None:
            return candidate


def game(game_id: str) -> str:
    """Hash: ``state`` (public JSON), token hashes and expiries (see lua/README.md)."""
    return f"{PREFIX}:{{{game_id}}}"


def log(game_id: str) -> str:
    """List: the capped action log, newest first."""
    return f"{PREFIX}:{{{game_id}}}:log"


def actions(game_id: str) -> str:
    """Hash: action id -> version, for every action still in the log (exactly-once)."""
    return f"{PREFIX}:{{{game_id}}}:acts"


def undo(game_id: str) -> str:
    """List: the undo stack, newest first: each entry an undoable action's header JSON, a
    newline, and the state JSON from just before that action (lua/lib/commit.lua)."""
    return f"{PREFIX}:{{{game_id}}}:undo"


def channel(game_id: str) -> str:
    """Pub/sub channel carrying every committed change of the game."""
    return f"{PREFIX}:{{{game_id}}}:ch"


def deadline_partition(partition: int) -> str:
    """Sorted set: game id -> epoch ms of its next timeout or warning."""
    return f"{PREFIX}:deadlines:{{{PARTITION_TAGS[partition]}}}"


def lobby_partition(partition: int) -> str:
    """Sorted set: game id -> epoch ms of its last activity, for the listed games whose slot
    is this partition's (the lobby list, GET /api/games). It shares the deadline partition's
    tag, so a game script updates it in the game's own slot."""
    return f"{PREFIX}:lobby:{{{PARTITION_TAGS[partition]}}}"


def instances() -> str:
    """Sorted set: instance incarnation -> epoch ms of its last heartbeat (Redis time)."""
    return f"{PREFIX}:instances"


def instance_games(incarnation: str) -> str:
    """Set: games in which clients of this incarnation took a seat."""
    return f"{PREFIX}:instance:{incarnation}:games"


def rate_limit(client_ip: str, kind: str) -> str:
    """String: GCRA theoretical arrival time (us) of one limit of one client address. The
    address is the hash tag, so one script can check all of its limits in one Cluster slot."""
    return f"{PREFIX}:rl:{{{client_ip}}}:{kind}"


#: Feedback authors are spread over this many hash tags (`{fb0}` … `{fb15}`): one author's
#: keys share a slot, and the total cap is kept exactly per bucket, in the same script.
FEEDBACK_BUCKETS = 16


def feedback_bucket(author: str) -> int:
    """The bucket of an author, named by the hex digest of its feedback token."""
    return int(author[:8], 16) % FEEDBACK_BUCKETS


def feedback(author: str) -> str:
    """Hash: feedback id -> `{id, text, timestamp}` JSON, one author's feedback only."""
    return f"{PREFIX}:fb:{{fb{feedback_bucket(author)}}}:{author}"


def feedback_index(bucket: int) -> str:
    """Sorted set: feedback id -> timestamp (ms) of every feedback of the bucket's authors,
    so the bucket's count is one ZCOUNT and entries past retention go by score."""
    return f"{PREFIX}:fb:{{fb{bucket}}}:idx"


@dataclass(frozen=True)
class FeedbackKeys:
    """KEYS of the feedback scripts: the author's hash, then its bucket's index (one slot)."""

    author: str

    def as_list(self) -> list[str]:
        return [feedback(self.author), feedback_index(feedback_bucket(self.author))]


@dataclass(frozen=True)
class GameKeys:
    """KEYS of every game script, in the order the scripts expect them."""

    game_id: str

    def as_list(self) -> list[str]:
        p = partition_of(self.game_id)
        if p is None:
            raise ValueError(f"game id {self.game_id!r} has no deadline partition")
        gid = self.game_id
        return [game(gid), log(gid), actions(gid), deadline_partition(p), lobby_partition(p), undo(gid)]
