"""The hub on a real redis-server: per-socket queues, (un)subscription, fan-out order, replies
waiting for their broadcast, version gaps, local ticks and pub/sub reconnects.

Only the WebSocket is fake (a recorder). Synthetic channel payloads are fed to deliver() for
games in which nothing is committed, so no real broadcast can interleave with them.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Any

import pytest
import pytest_asyncio

from service import clock as clock_module
from service import hub as hub_module
from service import keys
from service.clock import GameClock
from service.game import GameStore, Outcome, new_action_id
from service.hub import Hub
from service.logs import CLIENT_ID
from service.outbound import Ack, Conn, frame, outgoing, state_frame
from service.protocol import GameSettings
from service.redis_client import connect
from service.scripts import Scripts
from service.settings import Settings
from stack.redis_server import RedisProcess
from tests.support.fakes import FakeSocket, FakeTime, MakeConn
from tests.support.waits import eventually, settle

HOST = "client_host"


class FrozenClock(GameClock):
    """A GameClock whose now_ms() can be pinned, so tick arithmetic is exact."""

    def __init__(self) -> None:
        super().__init__()
        self.frozen_ms: int | None = None

    def now_ms(self) -> int:
        return super().now_ms() if self.frozen_ms is None else self.frozen_ms


def payload(state: dict[str, Any], version: int, events: list[dict[str, Any]] | None = None) -> tuple[str, str]:
    """(channel message, state JSON) of `state` at `version`, as a script publishes it."""
    state_json = json.dumps({**state, "version": version})
    return f"{version}\n{json.dumps(events or [])}\n{state_json}", state_json


# -- fixtures ----------------------------------------------------------------------------


@pytest_asyncio.fixture
async def client(redis_proc: RedisProcess) -> AsyncIterator[Any]:
    """A client configured as the service configures it, on the emptied shared redis-server."""
    if not redis_proc.is_running():
        redis_proc.start()
    c = connect(Settings(redis_url=redis_proc.url)).client
    await c.flushall()
    try:
        yield c
    finally:
        await c.aclose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def store(client: Any, clock: FrozenClock) -> GameStore:
    return GameStore(client, Scripts(client), clock, retention_s=3600, token_ttl_s=7200, action_timeout_s=5)


@pytest_asyncio.fixture
async def hub(store: GameStore, client: Any, clock: FrozenClock) -> AsyncIterator[Hub]:
    # long intervals: only the tests call tick() and nothing goes stale on its own
    h = Hub(store, client, clock, tick_interval_s=3600, cache_ttl_s=3600)
    await h.start()
    try:
        yield h
    finally:
        await h.stop()


async def new_game(store: GameStore) -> tuple[str, dict[str, Any]]:
    gid, _, out = await store.create(HOST, GameSettings(), new_action_id())
    return gid, out.state


async def bound_game(hub: Hub, store: GameStore, make_conn: MakeConn) -> tuple[str, dict[str, Any], Conn, FakeSocket]:
    """A new game (new_game) with one socket bound to it."""
    gid, state = await new_game(store)
    conn, ws = make_conn()
    await hub.bind(conn, gid)
    return gid, state, conn, ws


async def channels(client: Any) -> list[str]:
    """The channels with a subscriber, as the server sees them."""
    return sorted(await client.pubsub_channels())


def channels_are(client: Any, expected: list[str]) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await channels(client) == expected

    return check


# -- background work ------------------------------------------------------------------


async def test_background_work_does_not_inherit_the_context_of_the_socket_that_started_it(hub: Hub) -> None:
    seen: list[str | None] = []

    async def work() -> None:
        seen.append(CLIENT_ID.get())

    token = CLIENT_ID.set("client_who_triggered_it")
    try:
        hub._spawn(work())
    finally:
        CLIENT_ID.reset(token)
    await eventually(lambda: seen == [None])


# -- bind / unbind -----------------------------------------------------------------------


async def test_bind_subscribes_to_the_games_channel_and_caches_its_current_state(
    hub: Hub, store: GameStore, client: Any, make_conn: MakeConn
) -> None:
    gid, state = await new_game(store)
    await store.switch(gid, HOST, new_action_id(), 2)
    conn, ws = make_conn()
    await hub.bind(conn, gid)
    assert conn.game_id == gid
    assert await channels(client) == [keys.channel(gid)]
    entry = hub.games[gid]
    assert entry.conns == {conn}
    assert entry.version == 2
    decoded = entry.decoded()
    assert decoded is not None and decoded["activePlayer"] == 2
    assert entry.state_json == await client.hget(keys.game(gid), "state")
    # binding only caches: the socket's first state is the reply to its own action
    await settle()
    assert ws.frames == []


async def test_only_the_unbind_of_the_last_socket_unsubscribes(
    hub: Hub, store: GameStore, client: Any, make_conn: MakeConn
) -> None:
    gid, _ = await new_game(store)
    other_gid, _ = await new_game(store)
    (a, _), (b, _), (c, _) = make_conn(), make_conn(), make_conn()
    await hub.bind(a, gid)
    await hub.bind(b, gid)
    await hub.bind(c, other_gid)
    assert await channels(client) == sorted([keys.channel(gid), keys.channel(other_gid)])

    await hub.unbind(a)
    assert (a.game_id, a.last_version) == (None, 0)
    await settle()
    assert keys.channel(gid) in await channels(client)
    assert hub.games[gid].conns == {b}

    await hub.unbind(b)
    assert gid not in hub.games
    await eventually(channels_are(client, [keys.channel(other_gid)]))
    assert set(hub.games) == {other_gid}


async def test_a_socket_bound_while_another_bind_still_reads_the_game_gets_its_reply_at_once(
    hub: Hub, store: GameStore, client: Any, make_conn: MakeConn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two sockets join a game this instance does not serve yet (as when clients come back
    after a restart). A join commits and publishes nothing, so its reply must not wait for a
    broadcast: it is due as soon as the game is cached, for the second socket as for the first."""
    gid, _ = await new_game(store)
    state_json = await client.hget(keys.game(gid), "state")
    gate = asyncio.Event()
    read_state = store.read_state

    async def slow_read(game_id: str) -> str | None:
        await gate.wait()
        return await read_state(game_id)

    monkeypatch.setattr(store, "read_state", slow_read)
    (a, ws_a), (b, ws_b) = make_conn(), make_conn()
    first = asyncio.create_task(hub.bind(a, gid))
    await eventually(lambda: gid in hub.games)
    second = asyncio.create_task(hub.bind(b, gid))
    await settle()
    # the second bind waits for the first read rather than binding to an empty cache
    assert not second.done()
    gate.set()
    await first
    await second
    hub.reply_state(b, Outcome("ok", state_json), Ack("rq-b"))
    hub.reply_state(a, Outcome("ok", state_json), Ack("rq-a"))
    await eventually(lambda: len(ws_a.frames) == 1)
    await settle()
    assert ws_a.frames == [state_frame(state_json, "rq-a")]
    assert ws_b.frames == [state_frame(state_json, "rq-b")], f"still pending: {b.pending}"


# -- deliver -----------------------------------------------------------------------------


async def test_deliver_sends_the_events_before_the_state(hub: Hub, store: GameStore, make_conn: MakeConn) -> None:
    gid, state, conn, ws = await bound_game(hub, store, make_conn)
    events = [
        {"type": "warning", "data": {"playerId": 1, "threshold": 300000}},
        {"type": "timeout", "data": {"playerId": 1}},
    ]
    message, state_json = payload(state, 2, events)
    hub.deliver(gid, message)
    await eventually(lambda: len(ws.frames) == 3)
    assert ws.frames == [
        frame("warning", {"playerId": 1, "threshold": 300000}),
        frame("timeout", {"playerId": 1}),
        state_frame(state_json),
    ]
    assert hub.games[gid].version == 2
    assert hub.games[gid].state_json == state_json


async def test_the_snapshot_of_a_game_is_kept_as_text_and_holds_nothing_the_collector_walks(
    hub: Hub, store: GameStore, make_conn: MakeConn
) -> None:
    gid, state, conn, ws = await bound_game(hub, store, make_conn)
    for version in range(2, 12):
        hub.deliver(gid, payload(state, version, [])[0])
    await eventually(lambda: len(ws.frames) == 10)
    entry = hub.games[gid]
    assert entry.version == 11
    # a decoded state would be a dict here (and thirty containers under it) for every game
    kept = [v for k, v in vars(entry).items() if k not in ("conns", "loaded")]
    assert not [v for v in kept if gc.is_tracked(v)], kept
    decoded = entry.decoded()
    assert decoded is not None and decoded["version"] == 11 and entry.decoded() is not decoded


async def test_an_event_addressed_to_one_client_goes_to_its_socket_alone_without_the_address(
    hub: Hub, store: GameStore, make_conn: MakeConn
) -> None:
    gid, state = await new_game(store)
    (kicked, kicked_ws), (other, other_ws) = make_conn(), make_conn()
    told: list[tuple[str, str, dict[str, int]]] = []
    for conn in (kicked, other):
        await hub.bind(conn, gid)
        conn.on_addressed = lambda mtype, data, conn=conn: told.append((conn.client_id, mtype, data))
    events = [
        {"type": "kicked", "data": {"playerId": 2}, "to": kicked.client_id},
        {"type": "warning", "data": {"playerId": 1, "threshold": 300000}},
    ]
    message, state_json = payload(state, 2, events)

    hub.deliver(gid, message)

    await eventually(lambda: len(kicked_ws.frames) == 3 and len(other_ws.frames) == 2)
    warning = frame("warning", {"playerId": 1, "threshold": 300000})
    assert kicked_ws.frames == [frame("kicked", {"playerId": 2}), warning, state_frame(state_json)]
    assert other_ws.frames == [warning, state_frame(state_json)]
    assert told == [(kicked.client_id, "kicked", {"playerId": 2})]


async def test_deliver_sends_each_version_once_per_socket_and_skips_older_or_equal_ones(
    hub: Hub, store: GameStore, make_conn: MakeConn
) -> None:
    gid, state = await new_game(store)
    (a, ws_a), (b, ws_b) = make_conn(), make_conn()
    await hub.bind(a, gid)
    await hub.bind(b, gid)
    v2, _ = payload(state, 2)
    v3, _ = payload(state, 3)
    hub.deliver(gid, v2)
    hub.deliver(gid, v2)
    hub.deliver(gid, payload(state, 1)[0])
    hub.deliver(gid, v3)
    hub.deliver(gid, v2)
    await settle()
    assert ws_a.states() == [(2, None), (3, None)]
    assert ws_b.states() == [(2, None), (3, None)]
    assert hub.version_gaps == 0
    # a socket bound later gets the next version even though its siblings already had older ones
    c, ws_c = make_conn()
    await hub.bind(c, gid)
    hub.deliver(gid, payload(state, 4)[0])
    await settle()
    assert ws_c.states() == [(4, None)]
    assert ws_a.states() == [(2, None), (3, None), (4, None)]


async def test_deliver_for_a_game_this_instance_does_not_serve_is_ignored(hub: Hub, store: GameStore) -> None:
    gid, state = await new_game(store)
    hub.deliver(gid, payload(state, 2)[0])
    assert gid not in hub.games


# -- reply_state -------------------------------------------------------------------------


async def test_a_reply_ahead_of_the_cache_waits_for_its_broadcast_which_carries_the_request_id(
    hub: Hub, store: GameStore, make_conn: MakeConn
) -> None:
    gid, state = await new_game(store)
    (actor, ws), (watcher, ws_watcher) = make_conn(), make_conn()
    await hub.bind(actor, gid)
    await hub.bind(watcher, gid)
    message, state_json = payload(state, 2, [{"type": "warning", "data": {"playerId": 2, "threshold": 60000}}])
    claimed = outgoing("claimed", {"playerId": 1, "token": "t", "gameId": gid}, "rq1")
    hub.reply_state(actor, Outcome("ok", state_json), Ack("rq1", (claimed,)))
    await settle()
    assert ws.frames == []
    assert actor.pending == {2: [Ack("rq1", (claimed,))]}

    hub.deliver(gid, message)
    await eventually(lambda: len(ws.frames) == 3)
    assert ws.frames == [
        frame("warning", {"playerId": 2, "threshold": 60000}),
        state_frame(state_json, "rq1"),
        claimed.text,
    ]
    assert ws_watcher.states() == [(2, None)]
    assert actor.pending == {}
    # the overdue timer finds nothing left to send: the version went out once
    await asyncio.sleep(hub_module.ACK_WAIT_S + 0.3)
    assert len(ws.frames) == 3


async def test_a_reply_the_cache_already_has_is_sent_at_once(hub: Hub, store: GameStore, make_conn: MakeConn) -> None:
    gid, state, conn, ws = await bound_game(hub, store, make_conn)
    message, state_json = payload(state, 2)
    hub.deliver(gid, message)
    hub.reply_state(conn, Outcome("ok", state_json), Ack("rq1"))
    assert conn.pending == {}
    await settle()
    assert ws.states() == [(2, None), (2, "rq1")]


async def test_a_reply_older_than_the_cache_is_answered_with_the_newer_state(
    hub: Hub, store: GameStore, make_conn: MakeConn
) -> None:
    gid, state, conn, ws = await bound_game(hub, store, make_conn)
    _, old_json = payload(state, 2)
    message, new_json = payload(state, 3)
    hub.deliver(gid, message)
    hub.reply_state(conn, Outcome("ok", old_json), Ack("rq1"))
    await settle()
    assert ws.frames == [state_frame(new_json), state_frame(new_json, "rq1")]


async def test_a_broadcast_that_comes_during_its_own_action_goes_once_as_the_reply(
    hub: Hub, store: GameStore, make_conn: MakeConn
) -> None:
    gid, state = await new_game(store)
    (actor, ws), (watcher, ws_watcher) = make_conn(), make_conn()
    await hub.bind(actor, gid)
    await hub.bind(watcher, gid)
    warning: dict[str, Any] = {"type": "warning", "data": {"playerId": 2, "threshold": 60000}}
    earlier, earlier_json = payload(state, 2)
    own, own_json = payload(state, 3, [warning])
    hub.hold(actor)
    # another player's commit, then the actor's own, reach the instance before the script's reply
    hub.deliver(gid, earlier)
    hub.deliver(gid, own)
    await settle()
    assert ws.frames == []
    assert ws_watcher.states() == [(2, None), (3, None)]
    claimed = outgoing("claimed", {"playerId": 1, "token": "t", "gameId": gid}, "rq1")
    hub.reply_state(actor, Outcome("ok", own_json), Ack("rq1", (claimed,)))
    await settle()
    assert ws.frames == [
        state_frame(earlier_json),
        frame("warning", warning["data"]),
        state_frame(own_json, "rq1"),
        claimed.text,
    ]
    assert actor.pending == {} and actor.held is None
    # the next broadcast goes straight through again
    hub.deliver(gid, payload(state, 4)[0])
    await settle()
    assert ws.states() == [(2, None), (3, "rq1"), (4, None)]


async def test_a_reply_whose_broadcast_did_not_come_during_the_action_still_waits_for_it(
    hub: Hub, store: GameStore, make_conn: MakeConn
) -> None:
    gid, state = await new_game(store)
    actor, ws = make_conn()
    await hub.bind(actor, gid)
    earlier, earlier_json = payload(state, 2)
    own, own_json = payload(state, 3)
    hub.hold(actor)
    hub.deliver(gid, earlier)
    hub.reply_state(actor, Outcome("ok", own_json), Ack("rq1"))
    await settle()
    assert ws.frames == [state_frame(earlier_json)]
    assert actor.pending == {3: [Ack("rq1")]}
    hub.deliver(gid, own)
    await settle()
    assert ws.frames == [state_frame(earlier_json), state_frame(own_json, "rq1")]


async def test_an_action_refused_sends_the_broadcasts_held_meanwhile(
    hub: Hub, store: GameStore, make_conn: MakeConn
) -> None:
    gid, state = await new_game(store)
    actor, ws = make_conn()
    await hub.bind(actor, gid)
    message, state_json = payload(state, 2)
    hub.hold(actor)
    hub.deliver(gid, message)
    await settle()
    assert ws.frames == []
    hub.release(actor)
    await settle()
    assert ws.frames == [state_frame(state_json)]
    assert actor.held is None


async def test_a_socket_that_leaves_during_its_action_gets_nothing_of_the_game_it_left(
    hub: Hub, store: GameStore, make_conn: MakeConn
) -> None:
    gid, state = await new_game(store)
    actor, ws = make_conn()
    await hub.bind(actor, gid)
    hub.hold(actor)
    hub.deliver(gid, payload(state, 2)[0])
    await hub.unbind(actor)
    hub.release(actor)
    await settle()
    assert ws.frames == []


async def test_a_reply_whose_broadcast_never_comes_is_sent_after_the_ack_wait(
    hub: Hub, store: GameStore, make_conn: MakeConn
) -> None:
    gid, state, conn, ws = await bound_game(hub, store, make_conn)
    _, state_json = payload(state, 2)
    left = outgoing("left", {"gameId": gid}, "rq1")
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    hub.reply_state(conn, Outcome("ok", state_json), Ack("rq1", (left,)))
    await asyncio.sleep(hub_module.ACK_WAIT_S / 2)
    assert ws.frames == []
    await eventually(lambda: len(ws.frames) == 2)
    # asyncio may run a timer up to its clock resolution early
    assert loop.time() - t0 >= hub_module.ACK_WAIT_S - 0.001
    assert ws.frames == [state_frame(state_json, "rq1"), left.text]
    assert conn.pending == {} and conn.last_version == 2


async def test_the_ack_wait_holds_the_state_as_text_not_the_decoded_outcome(
    hub: Hub, store: GameStore, make_conn: MakeConn, monkeypatch: pytest.MonkeyPatch
) -> None:
    gid, state, conn, ws = await bound_game(hub, store, make_conn)
    _, state_json = payload(state, 2)
    loop = asyncio.get_running_loop()
    timers: list[tuple[Any, ...]] = []
    real = loop.call_later

    def recorded(delay: float, callback: Any, *args: Any) -> asyncio.TimerHandle:
        timers.append(args)
        return real(delay, callback, *args)

    monkeypatch.setattr(loop, "call_later", recorded)
    out = Outcome("ok", state_json)
    hub.reply_state(conn, out, Ack("rq1"))
    monkeypatch.undo()
    # the timer lives ACK_WAIT_S, mostly after its reply went with the broadcast: what it
    # holds the collector walks, and a decoded state is thirty containers
    assert timers == [(conn, 2, state_json)]
    assert out._state is None
    hub.deliver(gid, payload(state, 2)[0])
    await eventually(lambda: ws.frames == [state_frame(state_json, "rq1")])


# -- version gaps ------------------------------------------------------------------------


def log_entry(version: int, events: list[dict[str, Any]] | None = None) -> str:
    """A log entry as lib/commit.lua writes it, with only what a repair reads."""
    entry: dict[str, Any] = {"v": version, "t": "test", "a": "", "c": "", "at": 0}
    if events:
        entry["e"] = json.dumps(events)
    return json.dumps(entry)


async def test_the_events_of_versions_lost_in_a_gap_are_replayed_from_the_log_once(
    hub: Hub, store: GameStore, client: Any, make_conn: MakeConn
) -> None:
    gid, state, conn, ws = await bound_game(hub, store, make_conn)
    hub.deliver(gid, payload(state, 2)[0])
    # versions 3 and 4 never came on the channel; 3 had a warning, 4 nothing, 5 a timeout
    warning: dict[str, Any] = {"type": "warning", "data": {"playerId": 1, "threshold": 60000}}
    timeout = {"type": "timeout", "data": {"playerId": 1}}
    await client.delete(keys.log(gid))
    await client.lpush(keys.log(gid), log_entry(2), log_entry(3, [warning]), log_entry(4), log_entry(5, [timeout]))
    message, stored = payload(state, 5, [timeout])
    await client.hset(keys.game(gid), "state", stored)

    hub.deliver(gid, message)

    await eventually(lambda: len(ws.frames) == 4)
    assert ws.frames[1:] == [frame("timeout", {"playerId": 1}), state_frame(stored), frame("warning", warning["data"])]
    assert (hub.version_gaps, hub.events_replayed) == (1, 1)
    # nothing more comes: the timeout of version 5 was not replayed
    await asyncio.sleep(0.1)
    assert len(ws.frames) == 4


async def test_a_repair_that_finds_newer_versions_sends_their_events_before_the_state(
    hub: Hub, store: GameStore, client: Any, make_conn: MakeConn
) -> None:
    gid, state, conn, ws = await bound_game(hub, store, make_conn)
    hub.deliver(gid, payload(state, 2)[0])
    dice: dict[str, Any] = {
        "type": "diceRolled",
        "data": {"playerName": "Host", "sides": 6, "result": 3, "timestamp": 1},
    }
    await client.delete(keys.log(gid))
    await client.lpush(keys.log(gid), log_entry(2), log_entry(3, [dice]), log_entry(4))
    _, stored = payload(state, 4)
    await client.hset(keys.game(gid), "state", stored)

    # what the pub/sub reconnect does for every game served
    await hub.resync_all()

    await eventually(lambda: len(ws.frames) == 3)
    assert ws.frames[1:] == [frame("diceRolled", dice["data"]), state_frame(stored)]
    assert (hub.version_gaps, hub.events_replayed, hub.games[gid].version) == (0, 1, 4)


async def test_a_version_gap_is_counted_and_the_game_is_re_read(
    hub: Hub, store: GameStore, client: Any, make_conn: MakeConn
) -> None:
    gid, state, conn, ws = await bound_game(hub, store, make_conn)
    hub.deliver(gid, payload(state, 2)[0])
    assert hub.version_gaps == 0
    # Redis holds a version the channel never carried: only a re-read can find it
    _, stored = payload(state, 6)
    await client.hset(keys.game(gid), "state", stored)
    hub.deliver(gid, payload(state, 4)[0])
    assert hub.version_gaps == 1
    await eventually(lambda: len(ws.frames) == 3)
    assert ws.states() == [(2, None), (4, None), (6, None)]
    assert hub.games[gid].version == 6
    assert ws.frames[-1] == state_frame(stored)


async def test_after_a_primary_change_a_game_older_there_is_rewound_and_its_sockets_rejoin(
    hub: Hub, store: GameStore, client: Any, make_conn: MakeConn
) -> None:
    gid, state, conn, ws = await bound_game(hub, store, make_conn)
    # this instance saw version 3; the new primary never got past version 2
    hub.deliver(gid, payload(state, 3)[0])
    _, stored = payload(state, 2)
    await client.hset(keys.game(gid), "state", stored)

    assert await hub.reread_all() == 1

    await eventually(lambda: ws.closed)
    assert (ws.close_codes, ws.close_messages) == ([1012], [b"Game state moved back"])
    assert (hub.rewinds, hub.games[gid].version, hub.games[gid].state_json) == (1, 2, stored)
    # the socket was never sent the older state: it rejoins and takes it then
    assert ws.states() == [(3, None)]


async def test_after_a_primary_change_a_game_newer_there_is_delivered_and_one_the_same_left_alone(
    hub: Hub, store: GameStore, client: Any, make_conn: MakeConn
) -> None:
    newer, state = await new_game(store)
    same, _ = await new_game(store)
    conn_newer, ws_newer = make_conn()
    conn_same, ws_same = make_conn()
    await hub.bind(conn_newer, newer)
    await hub.bind(conn_same, same)
    _, stored = payload(state, 4)
    await client.hset(keys.game(newer), "state", stored)

    assert await hub.reread_all() == 0

    await eventually(lambda: len(ws_newer.frames) == 1)
    assert ws_newer.frames[-1] == state_frame(stored)
    await settle()
    assert (ws_newer.closed, ws_same.closed, hub.rewinds) == (False, False, 0)
    assert ws_same.frames == []


# -- ticks -------------------------------------------------------------------------------


def running_state(state: dict[str, Any], server_time: int) -> dict[str, Any]:
    players = [
        {**state["players"][0], "timeRemaining": 600_000},
        {**state["players"][1], "timeRemaining": 10_000},
        {**state["players"][0], "id": 3, "timeRemaining": 1_000, "isEliminated": True},
    ]
    return {**state, "status": "running", "activePlayer": 2, "serverTime": server_time, "players": players}


async def running_game(hub: Hub, store: GameStore, make_conn: MakeConn) -> tuple[str, FakeSocket]:
    """A game bound to one socket, whose cache holds it running since 5,000,000 ms (player 2 active)."""
    gid, state, conn, ws = await bound_game(hub, store, make_conn)
    hub.deliver(gid, payload(running_state(state, 5_000_000), 2)[0])
    return gid, ws


async def test_tick_charges_only_the_active_running_player_and_keys_times_by_string_ids(
    hub: Hub, store: GameStore, clock: FrozenClock, make_conn: MakeConn
) -> None:
    gid, ws = await running_game(hub, store, make_conn)
    clock.frozen_ms = 5_001_500
    await hub.tick()
    clock.frozen_ms = 5_012_000
    await hub.tick()
    await eventually(lambda: len(ws.frames) == 3)
    assert ws.frames[1:] == [
        frame("tick", {"times": {"1": 600_000, "2": 8_500, "3": 1_000}}),
        # never below zero
        frame("tick", {"times": {"1": 600_000, "2": 0, "3": 1_000}}),
    ]


async def test_ticks_decode_each_snapshot_once_and_follow_the_next_one(
    hub: Hub, store: GameStore, clock: FrozenClock, make_conn: MakeConn, monkeypatch: pytest.MonkeyPatch
) -> None:
    gid, ws = await running_game(hub, store, make_conn)
    entry = hub.games[gid]
    decodes: list[int] = []
    real = hub_module.Entry.decoded

    def counted(self: hub_module.Entry) -> dict[str, Any] | None:
        decodes.append(self.version)
        return real(self)

    monkeypatch.setattr(hub_module.Entry, "decoded", counted)
    for ms in (5_001_000, 5_002_000, 5_003_000):
        clock.frozen_ms = ms
        await hub.tick()
    assert decodes == [2]
    # the next commit: player 1 active from 5,003,000
    later = {**running_state(json.loads(entry.state_json), 5_003_000), "activePlayer": 1}
    hub.deliver(gid, payload(later, 3)[0])
    clock.frozen_ms = 5_004_000
    await hub.tick()
    await eventually(lambda: len(ws.frames) == 6)
    assert decodes == [2, 3]
    assert json.loads(ws.frames[-1]) == {"type": "tick", "data": {"times": {"1": 599_000, "2": 10_000, "3": 1_000}}}
    # the kept view is tuples of numbers and strings: the collector stops walking them
    assert entry._clocks is not None and all(isinstance(x, (str, int)) for p in entry._clocks[1] for x in p)


@pytest.mark.parametrize(
    ("fields", "times"),
    [
        # every target still to respond counts down at once; the active player's clock stands
        (
            {"targetingState": "resolving", "targetedPlayers": [1, 3], "awaitingPriority": [1, 3]},
            {"1": 598_500, "2": 10_000, "3": 1_000},
        ),
        # an interrupt overrides them: only the stack's top
        (
            {"targetingState": "resolving", "awaitingPriority": [1], "interruptingPlayers": [2]},
            {"1": 600_000, "2": 8_500, "3": 1_000},
        ),
        # picking targets stops nobody's clock
        ({"targetingState": "selecting", "targetedPlayers": [1]}, {"1": 600_000, "2": 8_500, "3": 1_000}),
    ],
    ids=["resolving", "interrupted", "selecting"],
)
async def test_tick_charges_the_clocks_that_run_while_targets_respond(
    hub: Hub, store: GameStore, clock: FrozenClock, make_conn: MakeConn, fields: dict[str, Any], times: dict[str, int]
) -> None:
    gid, state, conn, ws = await bound_game(hub, store, make_conn)
    hub.deliver(gid, payload({**running_state(state, 5_000_000), **fields}, 2)[0])
    clock.frozen_ms = 5_001_500

    await hub.tick()

    await eventually(lambda: len(ws.frames) == 2)
    # player 3 is eliminated: never charged, awaiting or not
    assert ws.frames[1] == frame("tick", {"times": times})


async def test_within_one_turn_no_tick_shows_a_clock_more_time_than_the_tick_before(
    hub: Hub, store: GameStore, clock: FrozenClock, make_conn: MakeConn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The instance's view of Redis time is corrected at every probe, and under load each probe's
    round trip holds up to 400 ms of event-loop lag (as at 2,000 games): the ticks between
    still only count down."""
    fake = FakeTime()
    monkeypatch.setattr(clock_module, "time", fake)
    redis_at = 5_000_000.0 - fake.mono * 1000  # true Redis ms = redis_at + monotonic ms
    clock.observe(5_000_000.0, 0.0)
    gid, state, conn, ws = await bound_game(hub, store, make_conn)
    hub.deliver(gid, payload({**running_state(state, 5_000_000), "activePlayer": 1}, 2)[0])
    rng = random.Random(16)
    for _ in range(150):
        t0 = fake.mono
        fake.mono += rng.uniform(0, 0.2)
        seen = redis_at + fake.mono * 1000
        fake.mono += rng.uniform(0, 0.2)
        # the tick loop runs while the probe waits for its reply
        await hub.tick()
        fake.mono += 0.001
        clock.observe(seen, fake.mono - t0)
        for _ in range(rng.randint(1, 3)):
            fake.mono += 0.02
            await hub.tick()
    await settle()
    shown = [m["data"]["times"]["1"] for m in ws.decoded() if m["type"] == "tick"]
    assert len(shown) >= 300
    rises = [(a, b) for a, b in itertools.pairwise(shown) if b > a]
    assert rises == []


def frame_counts_are(sockets: list[Any], expected: list[int]) -> bool:
    return [len(ws.frames) for ws in sockets] == expected


async def test_the_tick_loop_runs_in_ten_slices_that_together_tick_every_running_game_once(
    hub: Hub, store: GameStore, clock: FrozenClock, make_conn: MakeConn
) -> None:
    """Ticks for thousands of sockets are spread over the interval, not sent in one burst."""
    games = [await running_game(hub, store, make_conn) for _ in range(30)]
    sockets = [ws for _, ws in games]
    await eventually(lambda: [len(ws.frames) for ws in sockets] == [1] * 30)
    slices = [hub.games[gid].tick_slice for gid, _ in games]
    assert len(set(slices)) > 1
    clock.frozen_ms = 5_000_500
    for entry in hub.games.values():
        # their states went out long ago, so every game is due a tick (monotonic time may
        # itself be less than an interval: a machine booted within the hour)
        entry.broadcast_at -= 2 * hub.tick_interval_s
    first = hub.next_tick_slice
    done: set[int] = set()
    for run in range(10):
        await hub.tick_next_slice()
        done.add((first + run) % 10)
        # after each run, exactly the games of the slices run so far have had their tick
        expected = [2 if sl in done else 1 for sl in slices]
        await eventually(partial(frame_counts_are, sockets, expected))
    # the next interval starts over with the same slice as this one
    await hub.tick_next_slice()
    await eventually(partial(frame_counts_are, sockets, [3 if sl == first else 2 for sl in slices]))


async def test_the_tick_loop_skips_a_game_whose_state_went_out_within_the_interval(
    hub: Hub, store: GameStore, clock: FrozenClock, make_conn: MakeConn
) -> None:
    gid, ws = await running_game(hub, store, make_conn)
    clock.frozen_ms = 5_001_500
    await hub.tick(skip_fresh=True)
    await asyncio.sleep(0.05)
    # the state frame just sent already lets the client compute its clocks
    assert [f["type"] for f in map(json.loads, ws.frames)] == ["state"]
    # an interval later, with no commit since, the tick goes out again
    hub.games[gid].broadcast_at -= hub.tick_interval_s
    await hub.tick(skip_fresh=True)
    await eventually(lambda: len(ws.frames) == 2)
    assert ws.frames[1] == frame("tick", {"times": {"1": 600_000, "2": 8_500, "3": 1_000}})


async def test_tick_never_charges_a_clock_for_time_before_its_server_time(
    hub: Hub, store: GameStore, clock: FrozenClock, make_conn: MakeConn
) -> None:
    gid, ws = await running_game(hub, store, make_conn)
    clock.frozen_ms = 4_999_000
    await hub.tick()
    await eventually(lambda: len(ws.frames) == 2)
    assert ws.frames[1] == frame("tick", {"times": {"1": 600_000, "2": 10_000, "3": 1_000}})


@pytest.mark.parametrize("status", ["waiting", "paused", "finished"])
async def test_tick_sends_nothing_for_a_game_that_is_not_running(
    hub: Hub, store: GameStore, clock: FrozenClock, make_conn: MakeConn, status: str
) -> None:
    gid, state, conn, ws = await bound_game(hub, store, make_conn)
    hub.deliver(gid, payload({**running_state(state, 5_000_000), "status": status}, 2)[0])
    clock.frozen_ms = 5_001_500
    await hub.tick()
    await settle()
    assert [m["type"] for m in ws.decoded()] == ["state"]


# -- pub/sub -----------------------------------------------------------------------------


async def test_a_commit_reaches_every_bound_socket_through_the_channel(
    hub: Hub, store: GameStore, make_conn: MakeConn
) -> None:
    gid, _ = await new_game(store)
    (a, ws_a), (b, ws_b) = make_conn(), make_conn()
    await hub.bind(a, gid)
    await hub.bind(b, gid)
    out = await store.switch(gid, HOST, new_action_id(), 2)
    await eventually(lambda: len(ws_a.frames) == 1 and len(ws_b.frames) == 1)
    assert ws_a.frames == ws_b.frames == [state_frame(out.state_json)]
    assert hub.pubsub_messages == 1


async def test_after_the_pubsub_connection_is_killed_the_hub_resubscribes_and_delivers_new_commits(
    hub: Hub, store: GameStore, client: Any, make_conn: MakeConn
) -> None:
    gid, _ = await new_game(store)
    conn, ws = make_conn()
    await hub.bind(conn, gid)
    await store.switch(gid, HOST, new_action_id(), 2)
    await eventually(lambda: ws.states() == [(2, None)])

    assert await client.execute_command("CLIENT", "KILL", "TYPE", "pubsub") == 1
    await eventually(channels_are(client, [keys.channel(gid)]))
    out = await store.switch(gid, HOST, new_action_id(), 1)
    await eventually(lambda: len(ws.frames) == 2)
    assert ws.frames[-1] == state_frame(out.state_json)


async def test_a_commit_made_while_the_pubsub_connection_was_down_reaches_the_socket_after_the_reconnect(
    hub: Hub, store: GameStore, client: Any, make_conn: MakeConn
) -> None:
    """The channel is at-most-once: whatever was published while this instance was not
    subscribed must be re-read once it is subscribed again (Hub.resync_all), not left until
    the cache TTL or the game's next commit."""
    gid, _ = await new_game(store)
    conn, ws = make_conn()
    await hub.bind(conn, gid)
    await store.switch(gid, HOST, new_action_id(), 2)
    await eventually(lambda: ws.states() == [(2, None)])

    script = store.scripts["switch"]
    args = store.game_args(gid, new_action_id(), HOST, 1)
    # one transaction: the commit is published after the kill and before any reconnect
    async with client.pipeline(transaction=True) as pipe:
        pipe.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        key_list = keys.GameKeys(gid).as_list()
        pipe.evalsha(script.sha, len(key_list), *key_list, *args)
        killed, (status, state_json, _) = await pipe.execute()
    assert (killed, status) == (1, "ok")

    await eventually(channels_are(client, [keys.channel(gid)]))
    await eventually(lambda: len(ws.frames) == 2, timeout=5.0)
    assert ws.frames[-1] == state_frame(state_json)


# -- a deleted game (endGame) ----------------------------------------------------------------


async def test_a_game_ended_broadcast_tells_unbinds_and_lets_go_of_the_game(
    hub: Hub, store: GameStore, client: Any, make_conn: MakeConn
) -> None:
    gid, _ = await new_game(store)
    (a, wa), (b, wb) = make_conn(), make_conn()
    ended: list[str] = []

    async def on_ended(game_id: str) -> None:
        ended.append(game_id)

    a.on_game_ended = on_ended
    await hub.bind(a, gid)
    await hub.bind(b, gid)

    assert await store.end_game(gid, HOST, new_action_id()) == "ok"

    frame = json.dumps({"type": "gameEnded", "data": {"gameId": gid}}, separators=(",", ":"))
    await eventually(lambda: wa.frames == [frame] and wb.frames == [frame])
    assert (a.game_id, b.game_id) == (None, None)
    await eventually(lambda: ended == [gid])
    await eventually(lambda: gid not in hub.games)
    await eventually(channels_are(client, []))


async def test_a_socket_ending_its_own_game_is_unbound_without_the_broadcast_frame(
    hub: Hub, store: GameStore, make_conn: MakeConn
) -> None:
    gid, _ = await new_game(store)
    (a, wa), (b, wb) = make_conn(), make_conn()
    await hub.bind(a, gid)
    await hub.bind(b, gid)

    with hub.ending(a):
        await store.end_game(gid, HOST, new_action_id())
        await eventually(lambda: b.game_id is None)

    assert a.game_id is None
    assert wa.frames == [] and len(wb.frames) == 1


async def test_a_game_found_gone_on_a_re_read_is_ended_for_its_sockets(
    hub: Hub, store: GameStore, client: Any, make_conn: MakeConn
) -> None:
    # the gameEnded broadcast was lost (pub/sub is at-most-once), or the game expired
    gid, _ = await new_game(store)
    conn, ws = make_conn()
    await hub.bind(conn, gid)
    await client.delete(keys.game(gid), keys.log(gid), keys.actions(gid))

    await hub.resync_all()

    await eventually(
        lambda: ws.frames == [json.dumps({"type": "gameEnded", "data": {"gameId": gid}}, separators=(",", ":"))]
    )
    assert conn.game_id is None
    await eventually(lambda: gid not in hub.games)
