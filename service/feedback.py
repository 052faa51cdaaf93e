"""Feedback: who its author is, and the typed calls of the feedback scripts.

The author is whoever holds a feedback token. The server issues one with the first
`feedback` of a connection that has none, returns it in `feedbackSubmitted` (our addition)
and remembers it for the connection; a client that stores it and sends it back as
`authorToken` is the same author on every later connection. A client written for the
original never sends one, so its feedback is its own for that connection only. Only the
token's SHA-256 reaches Redis, and it names the author's key: an author's feedback is
reachable only through its own key, so nobody else can list, edit or delete it, and an id
that is someone else's reads exactly like one that does not exist. No address and no
client id is stored.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from redis.exceptions import ResponseError

from service import keys
from service.clock import GameClock
from service.errors import from_lua
from service.redis_errors import storage_errors
from service.scripts import Scripts

if TYPE_CHECKING:
    from service.metrics import Metrics


def new_author_token() -> str:
    """32 random bytes as 64 hex characters, like a seat token."""
    return secrets.token_hex(32)


def author_of(token: str) -> str:
    """The author's name in Redis: the token's digest (the token itself is never stored)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_feedback_id(author: str, request_id: str | None) -> str:
    """`fb_` + a UUID, as the original's ids. With a requestId the UUID is derived from the
    author and the requestId, so a retry names the same feedback and is stored once."""
    if request_id is None:
        return f"fb_{uuid.uuid4()}"
    digest = hashlib.sha256(f"{author}\0feedback\0{request_id}".encode()).digest()
    return f"fb_{uuid.UUID(bytes=digest[:16], version=4)}"


@dataclass(frozen=True)
class Submitted:
    feedback_id: str
    #: ms, Redis time
    timestamp: int
    #: "dup": this author already had this id (a retry), nothing was written
    status: Literal["ok", "dup"]


class FeedbackStore:
    def __init__(
        self,
        client: Any,
        scripts: Scripts,
        clock: GameClock,
        *,
        retention_s: int,
        per_author: int,
        max_total: int,
        action_timeout_s: float,
        metrics: Metrics | None = None,
    ) -> None:
        self.client = client
        self.scripts = scripts
        self.clock = clock
        self.retention_ms = retention_s * 1000
        self.per_author = per_author
        # each bucket may hold its share, so the total never passes the cap
        self.per_bucket = max(1, max_total // keys.FEEDBACK_BUCKETS)
        self.action_timeout_s = action_timeout_s
        self.metrics = metrics

    async def _run(self, name: str, key_list: list[str], *args: str | int) -> Any:
        script = self.scripts[name]
        argv = [self.clock.offset_ms, self.retention_ms, *args]
        async with storage_errors(self.action_timeout_s):
            try:
                return await script(keys=key_list, args=argv)
            except ResponseError as exc:
                err = from_lua(str(exc))
                if err is None:
                    raise
                if self.metrics is not None:
                    self.metrics.script_errors.labels(err.code).inc()
                raise err from None

    async def submit(self, author: str, feedback_id: str, text: str) -> Submitted:
        key_list = keys.FeedbackKeys(author).as_list()
        status, at = await self._run("feedback_submit", key_list, self.per_author, self.per_bucket, feedback_id, text)
        return Submitted(feedback_id, int(at), "dup" if status == "dup" else "ok")

    async def list(self, author: str) -> list[dict[str, Any]]:
        """The author's feedback, newest first: `{id, text, timestamp}` each."""
        raw = await self._run("feedback_list", [keys.feedback(author)])
        return [json.loads(entry) for entry in raw]

    async def update(self, author: str, feedback_id: str, text: str) -> int:
        """The new timestamp (ms)."""
        return int(await self._run("feedback_update", keys.FeedbackKeys(author).as_list(), feedback_id, text))

    async def delete(self, author: str, feedback_id: str) -> None:
        await self._run("feedback_delete", keys.FeedbackKeys(author).as_list(), feedback_id)
