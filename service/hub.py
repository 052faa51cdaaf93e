"""Local sockets per game, the snapshot cache, pub/sub fan-out and local ticks.

Each instance subscribes to a game's channel while it has sockets in that game. Every
message on the channel is a whole committed state, `version\\nevents\\nstate`, so the cache
is replaced, never patched; a version gap only means events were missed, and the game is
re-read from Redis to be sure nothing newer was missed as well. Each frame is encoded once
per instance (JSON, and MessagePack only if a socket asked for it: service/outbound.py) and
shared by every socket. An event may name one client id (`to`, lua/README.md "Events"): only
that client's socket gets it, on whichever instance it is, and its session is told
(Conn.on_addressed).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import time
import zlib
from collections.abc import Coroutine, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import orjson

from service import keys
from service.channels import Channels, SingleChannels
from service.clock import GameClock
from service.errors import ServiceError, StorageUnavailable
from service.game import GameStore, Outcome
from service.outbound import Ack, Conn, Held, Outgoing, StateFrame, outgoing
from service.periodic import Periodic

log = logging.getLogger(__name__)

#: How long a reply may wait for the broadcasts before it (pub/sub is at-most-once).
ACK_WAIT_S = 1.0
#: The tick interval is cut in this many runs, each sending the ticks of a tenth of the games.
TICK_SLICES = 10
#: The event lua/end_game.lua publishes: the game is deleted.
GAME_ENDED = "gameEnded"


#: a running game's clocks as of its snapshot: its serverTime, and each player's id, time
#: remaining then, and whether that clock runs
Clocks = tuple[int, tuple[tuple[str, int, bool], ...]]


@dataclass
class Entry:
    """What this instance knows of one game it serves."""

    conns: set[Conn] = field(default_factory=set)
    #: the snapshot, kept as the script's JSON text only (see decoded)
    state_json: str = ""
    version: int = 0
    fetched: float = 0.0
    #: set once the first read of the game is done (or failed): later binds wait for it
    loaded: asyncio.Event = field(default_factory=asyncio.Event)
    #: which of the tick loop's runs sends this game's ticks
    tick_slice: int = 0
    #: monotonic time this instance last sent the game's state to its sockets
    broadcast_at: float = 0.0
    _clocks: Clocks | None = None
    #: the snapshot text _clocks was taken from (the same object: each commit brings a new one)
    _clocks_of: str | None = None

    def decoded(self) -> dict[str, Any] | None:
        """The snapshot as an object, decoded anew on each call (orjson: a few µs).

        It is not kept: a decoded state is some thirty containers, each instance replaces
        one per commit of every game it serves, and kept for the seconds between commits
        each would survive the young collections and be walked by the older ones. At 2,000
        games that was a fifth of an instance's CPU in the garbage collector. A string is
        no work for the collector at all.
        """
        return orjson.loads(self.state_json) if self.state_json else None

    def clocks(self) -> Clocks | None:
        """What a tick needs of the snapshot, None unless the game runs: decoded once per
        version, and kept as tuples of numbers and strings, which the collector stops
        walking after its first look."""
        if self._clocks_of is not self.state_json:
            st = self.decoded()
            self._clocks = None
            if st is not None and st.get("status") == "running":
                running = running_clocks(st)
                self._clocks = (
                    int(st["serverTime"]),
                    tuple(
                        (str(p["id"]), int(p["timeRemaining"]), p["id"] in running and not p["isEliminated"])
                        for p in st["players"]
                    ),
                )
            self._clocks_of = self.state_json
        return self._clocks


def running_clocks(st: dict[str, Any]) -> set[Any]:
    """The players whose clocks run (lib/state.lua running_ids): the interrupter holding
    priority, the last of the stack; else, while targets resolve, every target still to
    respond, all at once; else the active player."""
    stack = st.get("interruptingPlayers") or []
    if stack:
        return {stack[-1]}
    awaiting = st.get("awaitingPriority") or []
    if st.get("targetingState") == "resolving" and awaiting:
        return set(awaiting)
    return {st.get("activePlayer")}


def decode_events(events_json: str) -> list[tuple[str | None, Outgoing]]:
    """A commit's events as frames, each with its recipient: an event with a `to` is for that
    client id's socket alone."""
    if events_json == "[]":
        return []
    return [(e.get("to"), outgoing(e["type"], e["data"])) for e in orjson.loads(events_json)]


def send_events(conn: Conn, events: list[tuple[str | None, Outgoing]]) -> None:
    for to, ev in events:
        if to is None:
            conn.send(ev)
        elif to == conn.client_id:
            conn.send(ev)
            if conn.on_addressed is not None:
                conn.on_addressed(ev.obj["type"], ev.obj["data"])


class Hub:
    def __init__(
        self,
        store: GameStore,
        client: Any,
        clock: GameClock,
        *,
        tick_interval_s: float,
        cache_ttl_s: float,
        channels: Channels | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.cache_ttl_s = cache_ttl_s
        self.tick_interval_s = tick_interval_s
        self._games: dict[str, Entry] = {}
        #: every open socket of this instance, in a game or not
        self._conns: set[Conn] = set()
        self.channels: Channels = channels or SingleChannels(client)
        #: versions this instance never got on pub/sub (a gap), then repaired from Redis
        self.version_gaps = 0
        #: events of those versions sent from the game's log instead
        self.events_replayed = 0
        #: games whose state a new primary had older than the snapshot (reread_all)
        self.rewinds = 0
        self.pubsub_messages = 0
        #: binds served from this instance's snapshot vs. those that had to read Redis first
        self.cache_hits = 0
        self.cache_misses = 0
        # one run per 100 ms at most: short intervals (tests use 50-100 ms) keep one pass
        self._tick_slices = max(1, min(TICK_SLICES, int(tick_interval_s / 0.1)))
        self.next_tick_slice = 0
        #: the games of each slice, so one run of the tick loop visits only its own
        self._slice_games: list[dict[str, Entry]] = [{} for _ in range(self._tick_slices)]
        self._loops = [
            Periodic("hub-tick", tick_interval_s / self._tick_slices, self.tick_next_slice),
            Periodic("hub-refresh", min(1.0, cache_ttl_s), self.refresh_stale),
        ]
        self._sub_lock = asyncio.Lock()
        self._background: set[asyncio.Task[None]] = set()
        #: sockets whose own endGame is running: its reply tells them, not the broadcast
        self._ending: set[Conn] = set()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run instance work in the background: referenced until done (the loop keeps only
        weak references), and in a fresh context, so its log lines do not carry the ids of
        whichever socket happened to trigger it."""
        task = asyncio.get_running_loop().create_task(coro, context=contextvars.Context())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        await self.channels.start(self.on_message, self.resync_all)
        for loop in self._loops:
            loop.start()

    async def stop(self) -> None:
        for loop in self._loops:
            await loop.stop()
        await self.channels.stop()

    # -- sockets ----------------------------------------------------------------------

    def add(self, conn: Conn) -> None:
        """A socket opened: it gets `send_all` and `close_all` until it is removed."""
        self._conns.add(conn)

    def remove(self, conn: Conn) -> None:
        self._conns.discard(conn)

    @property
    def socket_count(self) -> int:
        return len(self._conns)

    @property
    def game_count(self) -> int:
        """Games with a socket on this instance."""
        return len(self._games)

    @property
    def games(self) -> Mapping[str, Entry]:
        """A read-only view of the games served, for inspection."""
        return MappingProxyType(self._games)

    def send_all(self, out: Outgoing) -> None:
        for conn in self._conns:
            conn.send(out)

    async def close_all(self, code: int, reason: bytes) -> None:
        """Close every socket, each within its grace (Conn.shut), all at once."""
        await asyncio.gather(*(c.shut(code, reason) for c in list(self._conns)), return_exceptions=True)

    # -- binding ----------------------------------------------------------------------

    async def bind(self, conn: Conn, game_id: str) -> None:
        """Attach a socket to a game; the first socket of a game subscribes this instance."""
        first = False
        async with self._sub_lock:
            entry = self._games.get(game_id)
            if entry is None:
                await self.channels.add(keys.channel(game_id))
                entry = self._games[game_id] = Entry(tick_slice=zlib.crc32(game_id.encode()) % self._tick_slices)
                self._slice_games[entry.tick_slice][game_id] = entry
                first = True
        if first:
            self.cache_misses += 1
            # subscribed first, read now: nothing committed in between can be missed
            try:
                fresh = await self.store.read_state(game_id)
                # a broadcast may have overtaken the read: never move the cache back
                if fresh is not None and (version := int(json.loads(fresh)["version"])) > entry.version:
                    self._apply(entry, fresh, version)
            except BaseException:
                await self._drop_if_unused(game_id, entry)
                raise
            finally:
                entry.loaded.set()
        else:
            self.cache_hits += 1
            # a bind that found the entry still loading would otherwise reply before the
            # cache holds anything, and wait for a broadcast a join never makes
            await entry.loaded.wait()
        entry.conns.add(conn)
        conn.game_id = game_id

    async def unbind(self, conn: Conn) -> None:
        gid = conn.game_id
        conn.game_id = None
        conn.last_version = 0
        conn.pending.clear()
        if conn.held is not None:
            # the broadcasts of the game it left are of no use to it any more
            conn.held.clear()
        if gid is None:
            return
        entry = self._games.get(gid)
        if entry is None:
            return
        entry.conns.discard(conn)
        await self._drop_if_unused(gid, entry)

    async def _drop_if_unused(self, game_id: str, entry: Entry) -> None:
        if entry.conns:
            return
        async with self._sub_lock:
            # checked again under the lock: a bind may have taken the entry meanwhile, and
            # unsubscribing then would leave its socket without broadcasts
            if entry.conns or self._games.get(game_id) is not entry:
                return
            del self._games[game_id]
            del self._slice_games[entry.tick_slice][game_id]
            with contextlib.suppress(Exception):
                await self.channels.remove(keys.channel(game_id))

    # -- fan-out ----------------------------------------------------------------------

    def hold(self, conn: Conn) -> None:
        """`conn`'s own action starts: until its reply (reply_state) or release(), what the
        channel brings for it is held, so that the broadcast of the action's version, which
        often arrives before the script's reply, goes to it once, as the reply."""
        if conn.held is None:
            conn.held = []

    def release(self, conn: Conn) -> None:
        """The action ended without a state (an error, or a reply of other frames): the held
        broadcasts go now, in order."""
        held, conn.held = conn.held, None
        for item in held or ():
            self._push(conn, item)

    def reply_state(self, conn: Conn, out: Outcome, ack: Ack) -> None:
        """Answer an action with the state of `version`, in order with the broadcasts.

        The script's reply often reaches this instance before the broadcasts of earlier
        commits made elsewhere; sending it at once would put this socket ahead of them and
        they would be skipped. So the reply waits until this instance has delivered that
        version (the broadcast then carries the requestId), at most ACK_WAIT_S. The broadcasts
        held while the action ran (hold) go first, in order, the one of this version as the
        reply: each socket gets each version once.
        """
        version = out.version
        held, conn.held = conn.held, None
        if held:
            conn.pending.setdefault(version, []).append(ack)
            for item in held:
                self._push(conn, item)
            waiting = conn.pending.get(version, [])
            if not any(a is ack for a in waiting):
                return
            waiting.remove(ack)
            if not waiting:
                del conn.pending[version]
        entry = self._games.get(conn.game_id) if conn.game_id else None
        if entry is None or entry.version >= version:
            if entry is not None and entry.state_json and entry.version > version:
                conn.send_reply(entry.state_json, entry.version, ack)
            else:
                conn.send_reply(out.state_json, version, ack, out.state if conn.binary else None)
            return
        conn.pending.setdefault(version, []).append(ack)
        # the text, not the Outcome: its decoded state would live the whole second, and most
        # such timers find their reply long sent (service/gcpolicy.py on what that costs)
        asyncio.get_running_loop().call_later(ACK_WAIT_S, self._ack_overdue, conn, version, out.state_json)

    def _ack_overdue(self, conn: Conn, version: int, state_json: str) -> None:
        acks = conn.pending.pop(version, None)
        if not acks:
            return
        for ack in acks:
            conn.send_reply(state_json, version, ack)
        if conn.game_id is not None:
            # the broadcast was lost or is very late: make sure nothing newer was missed
            self._spawn(self._repair(conn.game_id))

    @staticmethod
    def _apply(entry: Entry, state_json: str, version: int) -> None:
        """Make `state_json`, of `version`, the cached snapshot."""
        entry.state_json = state_json
        entry.version = version
        entry.fetched = time.monotonic()

    def deliver(self, game_id: str, payload: str) -> None:
        """Forward one channel message to this instance's sockets in the game."""
        entry = self._games.get(game_id)
        if entry is None:
            return
        head, events_json, state_json = payload.split("\n", 2)
        version = int(head)
        if version <= entry.version:
            return
        if f'"{GAME_ENDED}"' in events_json and self._ended(game_id, entry, json.loads(events_json)):
            return
        if entry.version and version > entry.version + 1:
            self.version_gaps += 1
            # the versions in between will never come on the channel: their events are
            # replayed from the log, a little late rather than never
            self._spawn(self._repair(game_id, missed=(entry.version, version - 1)))
        self._fan_out(entry, version, decode_events(events_json), state_json)

    def _fan_out(self, entry: Entry, version: int, events: list[tuple[str | None, Outgoing]], state_json: str) -> None:
        """Make `state_json` the snapshot and send each socket the events, then the state
        (or the replies waiting for this version)."""
        self._apply(entry, state_json, version)
        # decoded only if a MessagePack socket needs the frame (StateFrame.packed)
        item = Held(events, version, state_json, StateFrame(state_json))
        entry.broadcast_at = time.monotonic()
        for conn in entry.conns:
            if conn.held is not None:
                conn.held.append(item)
            else:
                self._push(conn, item)

    @staticmethod
    def _push(conn: Conn, item: Held) -> None:
        """One broadcast to one socket: its events, then its state, or the replies waiting
        for that version (the first carries the state, Conn.send_reply)."""
        send_events(conn, item.events)
        if item.frame is None:
            return
        version = item.version
        acks = [a for v in sorted(k for k in conn.pending if k <= version) for a in conn.pending.pop(v)]
        if acks:
            for ack in acks:
                conn.send_reply(item.state_json, version, ack)
        else:
            conn.send_state(version, item.frame)

    @contextlib.contextmanager
    def ending(self, conn: Conn) -> Iterator[None]:
        """While `conn`'s own endGame runs, the gameEnded broadcast unbinds it without a frame:
        the reply (with the requestId) tells it, once, whichever arrives first."""
        self._ending.add(conn)
        try:
            yield
        finally:
            self._ending.discard(conn)

    def _ended(self, game_id: str, entry: Entry, events: list[dict[str, Any]]) -> bool:
        """If `events` say the game was deleted: its sockets here are sent them and unbound
        (each one's on_game_ended runs, so its session lets its seat go), and this instance
        stops serving the game. False when the events are of a game that goes on."""
        if not any(e.get("type") == GAME_ENDED for e in events):
            return False
        self._end(game_id, entry, [outgoing(e["type"], e["data"]) for e in events])
        return True

    def _end(self, game_id: str, entry: Entry, frames: list[Outgoing]) -> None:
        conns = list(entry.conns)
        entry.conns.clear()
        for conn in conns:
            self.release(conn)
            if conn not in self._ending:
                for out in frames:
                    conn.send(out)
            conn.game_id = None
            conn.last_version = 0
            conn.pending.clear()
            if conn.on_game_ended is not None:
                self._spawn(conn.on_game_ended(game_id))
        self._spawn(self._drop_if_unused(game_id, entry))

    async def _repair(self, game_id: str, missed: tuple[int, int] | None = None) -> None:
        """Re-read a game whose channel may have lost messages. With `missed` (after, upto):
        those versions are known lost (a gap), and their events are sent now; without it,
        whatever is newer than the snapshot is delivered with the events of the versions in
        between (the channel was down, or a reply's broadcast is late)."""
        entry = self._games.get(game_id)
        if entry is None:
            return
        since = missed[0] if missed is not None else entry.version
        try:
            fresh, logged = await self.store.missed_events(game_id, since)
        except StorageUnavailable as exc:
            # the Redis watcher tells the outage once (service/app.py check_redis)
            log.debug("repair of %s failed: %s", game_id, exc)
            return
        except ServiceError as exc:
            log.warning("repair of %s failed: %s", game_id, exc)
            return
        entry = self._games.get(game_id)
        if entry is None:
            return
        if fresh is None:
            # deleted (its gameEnded was lost on the at-most-once channel) or expired
            self._end(game_id, entry, [outgoing(GAME_ENDED, {"gameId": game_id})])
            return
        if missed is not None:
            replay = [e for v, events in logged if v <= missed[1] for e in decode_events(events)]
            self.events_replayed += len(replay)
            for conn in entry.conns:
                if conn.held is not None:
                    conn.held.append(Held(replay))
                else:
                    send_events(conn, replay)
        version = int(json.loads(fresh)["version"])
        if version > entry.version:
            # read after the await: versions the channel delivered meanwhile are not replayed
            newer = [e for v, events in logged if entry.version < v <= version for e in decode_events(events)]
            self.events_replayed += len(newer)
            self._fan_out(entry, version, newer, fresh)

    async def refresh_stale(self) -> None:
        """Re-read games whose snapshot is older than the cache TTL (pub/sub is at-most-once)."""
        limit = time.monotonic() - self.cache_ttl_s
        for gid in [g for g, e in self._games.items() if e.fetched < limit]:
            await self._repair(gid)
            entry = self._games.get(gid)
            if entry is not None:
                entry.fetched = time.monotonic()

    async def reread_all(self) -> int:
        """After the primary changed: every snapshot is read again from the new primary, and
        the number of games found rewound is returned.

        A primary killed before it replicated its last commits takes them along, but this
        instance's snapshot and its players still have them; the new primary's next commit
        reuses their version numbers, and the channel's rule (only newer versions) would
        leave the players with the lost state until the one after. A game whose state there
        is older than, or not the same as, the snapshot is rewound: the snapshot is replaced
        and its sockets here are closed with 1012, so that each client rejoins and takes the
        state it is then sent (a client never lets an older version replace a newer one on
        one socket). A newer state is delivered as a repair is.
        """
        rewound = 0
        for gid in list(self._games):
            entry = self._games.get(gid)
            if entry is None or not entry.state_json:
                continue
            try:
                fresh = await self.store.read_state(gid)
            except ServiceError as exc:
                log.warning("re-reading %s from the new primary failed: %s", gid, exc)
                continue
            entry = self._games.get(gid)
            if entry is None or fresh is None or not entry.state_json:
                # gone: the next repair or refresh ends it for the players
                continue
            version = int(json.loads(fresh)["version"])
            if version > entry.version or (version == entry.version and fresh == entry.state_json):
                await self._repair(gid)
                continue
            rewound += 1
            log.warning(
                "game %s is at version %d on the new primary, %d here: rejoining its players",
                gid,
                version,
                entry.version,
            )
            self._apply(entry, fresh, version)
            for conn in list(entry.conns):
                self._spawn(conn.shut(1012, b"Game state moved back"))
        self.rewinds += rewound
        return rewound

    async def resync_all(self) -> None:
        """After a pub/sub reconnect: subscribe again and re-read every game served."""
        for gid in list(self._games):
            await self._repair(gid)

    def on_message(self, channel: str, payload: str) -> None:
        self.pubsub_messages += 1
        self.deliver(channel.split("{", 1)[1].split("}", 1)[0], payload)

    # -- ticks ------------------------------------------------------------------------

    async def tick_next_slice(self) -> None:
        """One run of the tick loop: the games of the next slice.

        Each game has a fixed slice, so it still ticks once per interval, but thousands of
        sockets are not sent their ticks in one burst that holds every action behind it.
        """
        current = self.next_tick_slice
        self.next_tick_slice = (current + 1) % self._tick_slices
        await self.tick(current, skip_fresh=True)

    async def tick(self, tick_slice: int | None = None, skip_fresh: bool = False) -> None:
        """Send each running game's clocks (of one slice, or all) to its local sockets;
        computed here, no Redis traffic.

        With `skip_fresh`, a game whose state went out within the last interval is skipped:
        the client computes its clocks from that state, and a tick is only its drift check.
        Under load that drops about half the frames of a game with an action every 2 s.
        """
        now = self.clock.now_ms()
        fresh_after = time.monotonic() - self.tick_interval_s
        games = self._games if tick_slice is None else self._slice_games[tick_slice]
        for entry in games.values():
            if skip_fresh and entry.broadcast_at > fresh_after:
                continue
            # the sockets first: a game of web clients only is skipped without a decode
            if not any(c.ticks for c in entry.conns):
                continue
            clocks = entry.clocks()
            if clocks is None:
                continue
            server_time, players = clocks
            elapsed = max(0, now - server_time)
            times = {pid: max(0, t - elapsed) if runs else t for pid, t, runs in players}
            out = outgoing("tick", {"times": times})
            for conn in entry.conns:
                # a socket whose action runs gets its state soon; a tick now could overtake
                # the states held for it
                if conn.held is None and conn.ticks:
                    conn.send(out)
