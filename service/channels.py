"""Pub/sub subscriptions of one instance: which connection carries which game channel.

On one Redis (plain or found through Sentinel) a single connection carries every channel,
with SUBSCRIBE. In a Redis Cluster, games publish with SPUBLISH, which reaches only the
node owning the channel's slot, so there is one connection per primary node, each with
SSUBSCRIBE for the channels of its slots. A listener whose connection fails is rebuilt
(in a cluster, after re-reading the slot map, since a failover moves slots) and then the
owner is told, because commits published while it was away were missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_never, wait_exponential, wait_random

log = logging.getLogger(__name__)

#: pauses between attempts to subscribe again: 0.1 s doubling up to 5 s, each with up to
#: 0.25 s added at random so that the instances that lost one Redis do not all return at once
# (wait_exponential plus wait_random, not wait_exponential_jitter: its `initial` is deprecated
# in tenacity 9 and its `multiplier` missing from 8, which pyproject allows)
RESUBSCRIBE_WAIT = wait_exponential(multiplier=0.1, max=5.0) + wait_random(0, 0.25)


def resubscribing(before_sleep: Callable[[RetryCallState], Awaitable[None] | None]) -> AsyncRetrying:
    """The retry loop of one pub/sub outage: every Exception retried, forever, with the pauses
    above; a cancellation is no Exception, so it ends the loop at once."""
    return AsyncRetrying(
        retry=retry_if_exception_type(Exception), stop=stop_never, wait=RESUBSCRIBE_WAIT, before_sleep=before_sleep
    )


#: channel, payload
OnMessage = Callable[[str, str], None]
#: called after a listener lost its connection and subscribed again
OnGap = Callable[[], Coroutine[Any, Any, None]]


class Channels(Protocol):
    async def start(self, on_message: OnMessage, on_gap: OnGap) -> None: ...
    async def add(self, channel: str) -> None: ...
    async def remove(self, channel: str) -> None: ...
    async def stop(self) -> None: ...


class Listener:
    """One pub/sub connection, the channels subscribed on it, and the task reading it."""

    def __init__(
        self,
        client: Any,
        *,
        sharded: bool,
        on_message: OnMessage,
        on_lost: OnGap,
        name: str = "",
        on_failure: Callable[[Listener], Awaitable[bool]] | None = None,
    ) -> None:
        self.client = client
        self.on_failure = on_failure or Listener.recover
        self.sharded = sharded
        self.name = name or "pubsub"
        self.channels: set[str] = set()
        #: some channel is listed but not subscribed on the current connection
        self.dirty = False
        self.on_message = on_message
        self.on_lost = on_lost
        self.pubsub: Any = client.pubsub(ignore_subscribe_messages=True)
        self._lock = asyncio.Lock()
        self._busy = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"listen-{self.name}", context=contextvars.Context()
        )

    async def _subscribe(self, *channels: str) -> None:
        if self.sharded:
            # one SSUBSCRIBE per channel: a cluster refuses a batch that spans slots
            for ch in channels:
                await self.pubsub.ssubscribe(ch)
        else:
            await self.pubsub.subscribe(*channels)
        self._watch_connection()

    async def add(self, channel: str) -> None:
        async with self._lock:
            await self._subscribe(channel)
            self.channels.add(channel)
            self._busy.set()

    async def remove(self, channel: str) -> None:
        async with self._lock:
            self.channels.discard(channel)
            with contextlib.suppress(Exception):
                if self.sharded:
                    await self.pubsub.sunsubscribe(channel)
                else:
                    await self.pubsub.unsubscribe(channel)

    def _watch_connection(self) -> None:
        """Have redis-py say when it reconnects the pub/sub connection by itself.

        It then subscribes again on its own, so get_message() never fails and nothing else
        would notice that commits published meanwhile were missed.
        """
        connection = getattr(self.pubsub, "connection", None)
        register = getattr(connection, "register_connect_callback", None)
        if register is not None:
            register(self._on_reconnect)

    def _unwatch_connection(self) -> None:
        """Before the pub/sub object is closed: its connection goes back to the client's pool,
        and the next pub/sub taking it would otherwise report its first connect as a reconnect
        (a second gap, and a second line, after every outage)."""
        connection = getattr(self.pubsub, "connection", None)
        deregister = getattr(connection, "deregister_connect_callback", None)
        if deregister is not None:
            deregister(self._on_reconnect)

    def _on_reconnect(self, connection: Any) -> None:
        log.warning("pub/sub connection %s re-established; re-reading every game served", self.name)
        # a fresh context: the reconnect may happen inside some client's action, whose ids
        # must not label the instance's re-read in the logs
        task = asyncio.get_running_loop().create_task(self.on_lost(), context=contextvars.Context())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self) -> None:
        """Read until the connection fails, then subscribe again until that works, forever.

        Each outage is one run of the retry loop: its first attempt is the reading that failed,
        the later ones the attempts to recover. A cancellation is no Exception: it ends the
        task at once, during an attempt or a pause."""
        while True:
            async for attempt in resubscribing(self._before_sleep):
                with attempt:
                    if attempt.retry_state.attempt_number == 1:
                        await self._read()
                    elif not await self.on_failure(self):
                        return
                    elif self.dirty:
                        raise ConnectionError("channels waiting for a subscription")
            log.info("pub/sub %s subscribed again", self.name)

    async def _read(self) -> None:
        """Hand each message on until the connection fails (this never returns otherwise)."""
        while True:
            if not self.channels:
                # get_message on a connection with no subscription returns at once
                self._busy.clear()
                await self._busy.wait()
                continue
            if self.dirty:
                raise ConnectionError("channels waiting for a subscription")
            msg = await self.pubsub.get_message(timeout=1.0)
            if msg is None or msg.get("type") not in ("message", "smessage"):
                continue
            self.on_message(str(msg["channel"]), str(msg["data"]))

    def _before_sleep(self, state: RetryCallState) -> None:
        # one line when the connection goes away (and one when it is back, in _run); the
        # attempts in between only for whoever asked for DEBUG
        assert state.outcome is not None and state.next_action is not None
        reason = _reason(state.outcome.exception())
        if state.attempt_number == 1:
            log.warning("pub/sub %s lost (%s); subscribing again", self.name, reason)
        else:
            log.debug("pub/sub %s still down (%s); next attempt in %.2fs", self.name, reason, state.next_action.sleep)

    async def recover(self) -> bool:
        """On its own connection: subscribe again, then report the gap. Keeps running."""
        if await self.reset():
            await self.on_lost()
        return True

    async def reset(self) -> bool:
        """A fresh connection with every channel subscribed again; False if that failed."""
        async with self._lock:
            self._unwatch_connection()
            with contextlib.suppress(Exception):
                await self.pubsub.aclose()
            self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            self.dirty = bool(self.channels)
            if self.channels:
                try:
                    await self._subscribe(*sorted(self.channels))
                except Exception as exc:
                    # the retry loop says the listener is still down; this is the why, for DEBUG
                    log.debug("resubscribe on %s failed: %s", self.name, _reason(exc))
                    return False
            self.dirty = False
        return True

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._tasks) if t is not None]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._unwatch_connection()
        with contextlib.suppress(Exception):
            await self.pubsub.aclose()


class SingleChannels:
    """Every channel on one connection: a plain Redis, or the primary Sentinel names."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.listener: Listener | None = None

    async def start(self, on_message: OnMessage, on_gap: OnGap) -> None:
        self.listener = Listener(self.client, sharded=False, on_message=on_message, on_lost=on_gap)
        self.listener.start()

    def _live(self) -> Listener:
        if self.listener is None:
            raise RuntimeError("channels not started")
        return self.listener

    async def add(self, channel: str) -> None:
        await self._live().add(channel)

    async def remove(self, channel: str) -> None:
        await self._live().remove(channel)

    async def stop(self) -> None:
        if self.listener is not None:
            await self.listener.stop()


class ClusterChannels:
    """One SSUBSCRIBE connection per primary, each carrying the channels of its slots."""

    def __init__(self, cluster: Any, node_client: Callable[[str, int], Any]) -> None:
        self.cluster = cluster
        self.node_client = node_client
        #: every channel the hub wants, whether or not it is subscribed right now
        self.wanted: set[str] = set()
        self.listeners: dict[str, Listener] = {}
        self.clients: dict[str, Any] = {}
        self._on_message: OnMessage | None = None
        self._on_gap: OnGap | None = None
        self._route_lock = asyncio.Lock()
        self._rebuilder: asyncio.Task[None] | None = None

    async def start(self, on_message: OnMessage, on_gap: OnGap) -> None:
        self._on_message, self._on_gap = on_message, on_gap
        with contextlib.suppress(Exception):
            # the slot map, so the first subscription can be routed; a cluster that is down
            # now is mapped by the rebuild its first failed subscription starts
            await self.cluster.initialize()

    def _listener_for(self, channel: str) -> Listener:
        assert self._on_message is not None and self._on_gap is not None
        node = self.cluster.get_node_from_key(channel)
        listener = self.listeners.get(node.name)
        if listener is None:
            client = self.clients.get(node.name)
            if client is None:
                client = self.clients[node.name] = self.node_client(node.host, int(node.port))
            listener = Listener(
                client,
                sharded=True,
                on_message=self._on_message,
                on_lost=self._on_gap,
                name=node.name,
                on_failure=self._failed,
            )
            listener.start()
            self.listeners[node.name] = listener
        return listener

    async def add(self, channel: str) -> None:
        async with self._route_lock:
            self.wanted.add(channel)
            try:
                listener = self._listener_for(channel)
            except Exception:
                self._kick()
                raise
        try:
            await listener.add(channel)
        except Exception:
            # perhaps the slot moved; the rebuild subscribes it where it now lives
            self._kick()
            raise

    async def remove(self, channel: str) -> None:
        async with self._route_lock:
            self.wanted.discard(channel)
            listener = next((li for li in self.listeners.values() if channel in li.channels), None)
        if listener is not None:
            await listener.remove(channel)

    async def _failed(self, listener: Listener) -> bool:
        # every listener is replaced by the rebuild, this one included: end its loop
        self._kick()
        return False

    def _kick(self) -> None:
        if self._rebuilder is None or self._rebuilder.done():
            self._rebuilder = asyncio.get_running_loop().create_task(
                self._rebuild(), name="cluster-resubscribe", context=contextvars.Context()
            )

    async def _rebuild(self) -> None:
        """A node's connection failed, or a subscription did: maybe a node died and its
        slots moved. Re-read the slot map and subscribe every wanted channel where it now
        lives, until that succeeds, reporting the gap after each attempt."""
        async for attempt in resubscribing(self._before_sleep):
            with attempt:
                await self._resubscribe_all()
        log.info("pub/sub resubscribed on %d nodes after a cluster change", len(self.listeners))

    async def _resubscribe_all(self) -> None:
        assert self._on_gap is not None
        async with self._route_lock:
            await self._drop_listeners()
            with contextlib.suppress(Exception):
                await self.cluster.nodes_manager.initialize()
            missing = 0
            for ch in sorted(self.wanted):
                try:
                    await self._listener_for(ch).add(ch)
                except Exception:
                    missing += 1
        try:
            await self._on_gap()
        except Exception as exc:
            # while channels are missing another attempt (and re-read) follows anyway
            log.log(
                logging.DEBUG if missing else logging.WARNING,
                "re-reading games after a cluster change failed: %s",
                _reason(exc),
            )
        if missing:
            raise ConnectionError(f"{missing} channels not resubscribed")

    @staticmethod
    def _before_sleep(state: RetryCallState) -> None:
        assert state.outcome is not None and state.next_action is not None
        reason = _reason(state.outcome.exception())
        if state.attempt_number == 1:
            log.warning("pub/sub after a cluster change: %s; retrying", reason)
        else:
            log.debug("pub/sub after a cluster change: %s; next attempt in %.2fs", reason, state.next_action.sleep)

    async def _drop_listeners(self) -> None:
        for li in self.listeners.values():
            await li.stop()
        for client in self.clients.values():
            with contextlib.suppress(Exception):
                await client.aclose()
        self.listeners, self.clients = {}, {}

    async def stop(self) -> None:
        if self._rebuilder is not None:
            self._rebuilder.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._rebuilder
        await self._drop_listeners()


def _reason(exc: BaseException | None) -> str:
    """An error in a few words for a log line: its type, and its text when it has one."""
    if exc is None:
        return "no error"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def node_url(url: str, host: str, port: int) -> str:
    """The cluster URL with its address replaced by one node's, keeping credentials and TLS."""
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{address}" if userinfo else address, path=""))


def node_client_factory(url: str, **kwargs: Any) -> Callable[[str, int], Any]:
    def make(host: str, port: int) -> Any:
        return aioredis.from_url(node_url(url, host, port), **kwargs)

    return make
