"""Several real service instances on one Redis, then on a 3-primary Redis Cluster: fan-out
order, atomicity, deadlines.

Each instance is a `python -m service` subprocess; clients talk WebSocket over loopback.
The module has its own Redis (or Cluster, created by the tests with `redis-cli --cluster
create`) so that no other test's games share the deadline index. Every test runs on both;
on the Cluster, the last test checks that no node ever answered CROSSSLOT.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from service import keys
from stack.client import Client
from stack.instance import ServiceProcess
from stack.redis_server import RedisProcess
from stack.topologies import ClusterSet, command
from tests.support.instances import (
    Clients,
    action_id,
    actor_of,
    claim,
    create_game,
    game_log,
    game_state,
    ok,
    services,
    state_versions,
    stream_faults,
)
from tests.support.lua_harness import summary_of

pytestmark = pytest.mark.slow

#: Fire time of a timeout or warning, measured in Redis time, may trail its due time by this much.
DEADLINE_SLACK_MS = 250


@pytest.fixture(scope="module", params=["redis", "cluster"])
def redis_server(request: pytest.FixtureRequest) -> Iterator[RedisProcess | ClusterSet]:
    server: RedisProcess | ClusterSet = RedisProcess() if request.param == "redis" else ClusterSet()
    with server:
        yield server


@pytest.fixture(scope="module")
def instances(
    redis_server: RedisProcess | ClusterSet, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[ServiceProcess]]:
    """Three instances on the module's Redis (most tests use the first two)."""
    log_dir: Path = tmp_path_factory.mktemp("multi-instance-logs")
    env = {"REDIS_CLUSTER": "1"} if isinstance(redis_server, ClusterSet) else {}
    with services(redis_server.url, log_dir, 3, prefix="multi", **env) as procs:
        yield procs


@pytest_asyncio.fixture
async def r(redis_server: RedisProcess | ClusterSet) -> AsyncIterator[Any]:
    """A client of the module's Redis; on the Cluster one that routes each key to its node."""
    client: Any = (
        RedisCluster.from_url(redis_server.url, decode_responses=True)
        if isinstance(redis_server, ClusterSet)
        else Redis.from_url(redis_server.url, decode_responses=True)
    )
    try:
        yield client
    finally:
        await client.aclose()


def urls(instances: list[ServiceProcess], n: int, among: int = 2) -> list[str]:
    """`n` WebSocket URLs spread round-robin over the first `among` instances."""
    return [instances[i % among].ws_url for i in range(n)]


async def wait_all_at(cs: list[Client], version: int, timeout: float = 10.0) -> None:
    await asyncio.gather(*(c.state_at_least(version, timeout) for c in cs))


# -- fan-out ------------------------------------------------------------------------------


async def test_every_client_on_either_instance_receives_every_version_in_order_without_gaps(
    instances: list[ServiceProcess], pool: Clients, r: Redis
) -> None:
    a, b = instances[0].ws_url, instances[1].ws_url
    # seats alternate between the instances, so consecutive turns are taken on different ones
    host, p2, p3, p4 = [await pool.connect(u) for u in (a, b, a, b)]
    gid, _, _ = await create_game(host, playerCount=4)
    await claim(host, gid, 1, join=False)
    await claim(p2, gid, 2)
    await claim(p3, gid, 3)
    await claim(p4, gid, 4)
    seat = {1: host, 2: p2, 3: p3, 4: p4}
    state = (await ok(host, "start"))["data"]

    for i in range(60):
        active = state["activePlayer"]
        if i % 3 == 2:
            # the player whose clock runs changes its own life total
            # (above 0: at or below 0 the player would be eliminated and the game could end)
            state = (await ok(seat[active], "updatePlayer", {"playerId": active, "life": 80 - i}))["data"]
        else:
            # and passes the turn
            state = (await ok(seat[active], "passTurn"))["data"]
    final = state["version"]
    everyone = [host, p2, p3, p4]
    await wait_all_at(everyone, final)

    for name, c in zip(("host", "p2", "p3", "p4"), everyone, strict=True):
        assert stream_faults(c) == [], (name, state_versions(c))
        assert max(m["data"]["version"] for m in c.of_type("state")) == final, name
    log = await game_log(r, gid)
    assert [e["v"] for e in log] == list(range(1, final + 1))
    assert (await game_state(r, gid))["version"] == final


async def test_players_acting_at_once_on_two_instances_get_each_version_exactly_once(
    instances: list[ServiceProcess], pool: Clients, r: Redis
) -> None:
    """Four players, two on each instance, change their own life at the same time: the
    broadcast of a player's own commit often reaches its instance before the script's reply,
    and the others' commits arrive while its action runs. Each socket still gets each version
    once, in order, and each action's own state carries its requestId."""
    a, b = instances[0].ws_url, instances[1].ws_url
    players = [await pool.connect(u) for u in (a, b, a, b)]
    host = players[0]
    gid, _, _ = await create_game(host, playerCount=4)
    await claim(host, gid, 1, join=False)
    for seat, c in enumerate(players[1:], start=2):
        await claim(c, gid, seat)
    base = (await game_state(r, gid))["version"]
    await wait_all_at(players, base)
    marks = [len(c.messages) for c in players]
    rounds = 25

    async def play(seat: int, c: Client) -> list[str]:
        rids = []
        for i in range(rounds):
            rid = await c.send("updatePlayer", {"playerId": seat, "life": 100 + i})
            reply = await c.reply(rid, timeout=10)
            assert reply["type"] == "state", reply
            rids.append(rid)
        return rids

    sent = await asyncio.gather(*(play(seat, c) for seat, c in enumerate(players, start=1)))
    final = base + 4 * rounds
    assert (await game_state(r, gid))["version"] == final
    await wait_all_at(players, final)
    await asyncio.sleep(0.3)  # a duplicate would come after the version it repeats
    for i, (c, mark) in enumerate(zip(players, marks, strict=True)):
        states = [m for m in c.messages[mark:] if m["type"] == "state"]
        versions = [m["data"]["version"] for m in states]
        assert Counter(versions) == Counter(range(base + 1, final + 1)), f"player {i + 1}: {versions}"
        # in order: no reply overtook a broadcast before it
        assert versions == sorted(versions), f"player {i + 1}: {versions}"
        # each of its own actions answered by the state of that action's commit, once
        assert sorted(m["requestId"] for m in states if "requestId" in m) == sorted(sent[i])


async def test_clients_watching_on_an_instance_miss_no_version_when_others_join_there_during_commits(
    instances: list[ServiceProcess], pool: Clients, r: Redis
) -> None:
    """Commits flow from instance A while clients keep joining the game on instance C.

    A join must not cost anyone a version: the clients already watching on C, and each
    joiner from its join reply on, see every later version, and all end at the last one.
    """
    host = await pool.connect(instances[0].ws_url)
    gid, _, _ = await create_game(host, playerCount=2)
    # the host passes the turn over and over: only in a running game
    await ok(host, "start")
    watcher = await pool.connect(instances[2].ws_url)
    await ok(watcher, "join", {"gameId": gid})
    stop = asyncio.Event()
    passes = 0

    async def drive() -> None:
        nonlocal passes
        while not stop.is_set():
            await ok(host, "passTurn")
            passes += 1

    driver = asyncio.create_task(drive())
    joiners: list[Client] = []
    try:
        for _ in range(40):
            c = await pool.connect(instances[2].ws_url)
            joiners.append(c)
            await ok(c, "join", {"gameId": gid})
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        await driver
    final = (await game_state(r, gid))["version"]
    assert passes >= 40
    await wait_all_at([watcher, *joiners], final, timeout=5)
    faults = {i: stream_faults(c) for i, c in enumerate([watcher, *joiners])}
    joined_at = [state_versions(c)[0][0] for c in joiners]
    assert {i: f for i, f in faults.items() if f} == {}, f"joiners joined at versions {joined_at}"


# -- atomicity ----------------------------------------------------------------------------


async def test_one_hundred_concurrent_creates_on_two_instances_give_one_hundred_distinct_games(
    instances: list[ServiceProcess], pool: Clients, r: Redis
) -> None:
    conns = await pool.connect_many(urls(instances, 20))

    async def create_five(c: Client) -> list[tuple[str, str]]:
        rids = [await c.send("create", {"settings": {"playerCount": 2}}) for _ in range(5)]
        out = []
        for rid in rids:
            m = await c.wait_for(lambda m, rid=rid: m.get("requestId") == rid and m["type"] in ("created", "error"), 20)
            assert m["type"] == "created", m
            out.append((m["data"]["gameId"], c.client_id))
        return out

    batches = await asyncio.gather(*(create_five(c) for c in conns))
    created = [g for batch in batches for g in batch]
    ids = {gid for gid, _ in created}
    assert len(created) == 100
    assert len(ids) == 100
    for batch in batches:
        for i, (gid, owner) in enumerate(batch):
            st = await game_state(r, gid)
            # each create binds the socket to its new game: the host has left the one before
            kinds = ["create"] if i == len(batch) - 1 else ["create", "disconnect"]
            assert (st["version"], st["ownerId"], st["status"]) == (len(kinds), owner, "waiting")
            assert (st.get("hostAwaySince") is None) == (len(kinds) == 1)
            assert [e["t"] for e in await game_log(r, gid)] == kinds


async def test_fifty_concurrent_updates_from_fifty_clients_commit_fifty_contiguous_versions(
    instances: list[ServiceProcess], pool: Clients, r: Redis
) -> None:
    host = await pool.connect(instances[0].ws_url)
    gid, _, first = await create_game(host, playerCount=4)
    v0 = first["version"]
    players = await pool.connect_many(urls(instances, 50))
    await asyncio.gather(*(ok(c, "join", {"gameId": gid}) for c in players))

    # while waiting, anyone bound may edit a free seat; each sets a life total of its own, so
    # every update changes the game
    rids = await asyncio.gather(
        *(c.send("updatePlayer", {"playerId": i % 4 + 1, "life": 100 + i}) for i, c in enumerate(players))
    )
    replies = await asyncio.gather(*(c.reply(rid, timeout=20) for c, rid in zip(players, rids, strict=True)))

    assert [m["type"] for m in replies] == ["state"] * 50
    log = await game_log(r, gid)
    assert await r.llen(keys.log(gid)) == v0 + 50
    assert [e["v"] for e in log] == list(range(1, v0 + 51))
    # each request committed exactly one version, and its reply is that version or newer
    committed = {e["a"]: e["v"] for e in log if e["t"] == "updatePlayer"}
    aids = [action_id(actor_of(c), "updatePlayer", rid) for c, rid in zip(players, rids, strict=True)]
    assert sorted(committed[a] for a in aids) == list(range(v0 + 1, v0 + 51))
    for aid, m in zip(aids, replies, strict=True):
        assert m["data"]["version"] >= committed[aid]
    assert Counter(e["t"] for e in log) == Counter({"create": 1, "updatePlayer": 50})
    assert {e["c"] for e in log if e["t"] == "updatePlayer"} == {c.client_id for c in players}
    state = await game_state(r, gid)
    # each seat holds the life of the update to it that committed last
    last = {pid: max((committed[aids[i]], 100 + i) for i in range(50) if i % 4 + 1 == pid)[1] for pid in range(1, 5)}
    assert state["version"] == v0 + 50
    assert {p["id"]: p["life"] for p in state["players"]} == last
    await wait_all_at([host, *players], v0 + 50)


async def test_eight_clients_claiming_the_same_seat_at_once_yield_exactly_one_claim(
    instances: list[ServiceProcess], pool: Clients, r: Redis
) -> None:
    host = await pool.connect(instances[1].ws_url)
    gid, _, _ = await create_game(host, playerCount=3)
    rivals = await pool.connect_many(urls(instances, 8))
    await asyncio.gather(*(ok(c, "join", {"gameId": gid}) for c in rivals))

    rids = await asyncio.gather(*(c.send("claim", {"playerId": 2}) for c in rivals))
    replies = await asyncio.gather(
        *(
            c.wait_for(lambda m, rid=rid: m.get("requestId") == rid and m["type"] in ("claimed", "error"), 10)
            for c, rid in zip(rivals, rids, strict=True)
        )
    )

    kinds = Counter(m["type"] for m in replies)
    assert kinds == Counter({"claimed": 1, "error": 7})
    assert {m["data"]["message"] for m in replies if m["type"] == "error"} == {"Player already claimed"}
    winner = next(c for c, m in zip(rivals, replies, strict=True) if m["type"] == "claimed")
    state = await game_state(r, gid)
    assert state["players"][1]["claimedBy"] == winner.client_id
    assert [e["t"] for e in await game_log(r, gid)] == ["create", "claim"]


# -- deadlines ----------------------------------------------------------------------------


async def test_timeouts_and_warnings_fire_exactly_once_and_on_time_with_three_instances_for_every_penalty(
    instances: list[ServiceProcess], pool: Clients, r: Redis
) -> None:
    initial = 2000
    thresholds = [1500, 1000, 500]
    n_games = 6
    hosts = await pool.connect_many([instances[g % 3].ws_url for g in range(n_games)])
    watchers = await pool.connect_many([instances[(g + 1) % 3].ws_url for g in range(n_games)])
    penalty = ["warning", "time_deduction", "game_loss"]
    games = await asyncio.gather(
        *(
            create_game(
                h,
                playerCount=2,
                initialTime=initial,
                warningThresholds=thresholds,
                penaltyType=penalty[g % 3],
                penaltyTimeDeduction=30_000,
            )
            for g, h in enumerate(hosts)
        )
    )
    gids = [gid for gid, _, _ in games]
    await asyncio.gather(*(ok(w, "join", {"gameId": gid}) for w, gid in zip(watchers, gids, strict=True)))
    started = await asyncio.gather(*(ok(h, "start") for h in hosts))
    start_ms = [m["data"]["serverTime"] for m in started]
    assert [m["data"]["activePlayer"] for m in started] == [1] * n_games

    await asyncio.gather(
        *(c.wait_for(lambda m: m["type"] == "timeout", timeout=initial / 1000 + 8) for c in [*hosts, *watchers])
    )
    await asyncio.sleep(1.0)  # room for any duplicate to show up

    for g, gid in enumerate(gids):
        due: dict[tuple[str, int], int] = {("warning", t): start_ms[g] + initial - t for t in thresholds}
        due[("timeout", 0)] = start_ms[g] + initial
        for c in (hosts[g], watchers[g]):
            fired: list[tuple[tuple[str, int], int]] = []
            for i, m in enumerate(c.messages):
                if m["type"] in ("warning", "timeout"):
                    assert m["data"]["playerId"] == 1
                    # events precede the state frame of the commit that carries them
                    carrier = next(s for s in c.messages[i + 1 :] if s["type"] == "state")
                    fired.append(((m["type"], m["data"].get("threshold", 0)), carrier["data"]["serverTime"]))
            assert sorted(k for k, _ in fired) == sorted(due), (gid, fired)
            for key, at in fired:
                assert 0 <= at - due[key] <= DEADLINE_SLACK_MS, (gid, key, at - due[key])
        state = await game_state(r, gid)
        p1 = state["players"][0]
        assert (p1["timeRemaining"], p1["penalties"]) == (0, 1)
        if penalty[g % 3] == "game_loss":
            # the timed-out player is out; the last one standing wins
            assert (state["status"], state["winner"], p1["isEliminated"]) == ("finished", 2, True)
            # and every instance told its sockets once, right after the timeout (HEAD's gameComplete)
            for c in (hosts[g], watchers[g]):
                complete = {"winnerId": 2, "winnerName": "Player 2", "summary": summary_of(state)}
                assert c.of_type("gameComplete") == [{"type": "gameComplete", "data": complete}]
                i = next(i for i, m in enumerate(c.messages) if m["type"] == "gameComplete")
                assert (c.messages[i - 1]["type"], c.messages[i + 1]["type"]) == ("timeout", "state")
        else:
            # a time deduction never takes a clock below zero
            assert (state["status"], state["winner"], p1["isEliminated"]) == ("paused", None, False)
            assert hosts[g].of_type("gameComplete") == watchers[g].of_type("gameComplete") == []
        log = await game_log(r, gid)
        # warnings and the timeout commit once each, or fewer times when they fall together
        kinds = [e["t"] for e in log]
        assert kinds[:2] == ["create", "start"] and 1 <= len(kinds) - 2 <= 4
        assert set(kinds[2:]) == {"deadline"}
        assert [e["v"] for e in log] == list(range(1, state["version"] + 1))
        # the last commit is the timeout, stamped with the paused state's time
        assert (log[-1]["t"], log[-1]["at"]) == ("deadline", state["serverTime"])
        assert 0 <= log[-1]["at"] - due[("timeout", 0)] <= DEADLINE_SLACK_MS
        # a paused game has nothing due
        assert await r.zscore(keys.GameKeys(gid).as_list()[3], gid) is None


def fired_at(c: Client, mtype: str, pid: int) -> list[tuple[dict[str, Any], int]]:
    """Each `mtype` event about player `pid` the client got, with the serverTime of the state
    frame that carried it (events come just before the state of their commit)."""
    out = []
    for i, m in enumerate(c.messages):
        if m["type"] == mtype and m["data"].get("playerId") == pid:
            carrier = next(s for s in c.messages[i + 1 :] if s["type"] == "state")
            out.append((m["data"], carrier["data"]["serverTime"]))
    return out


def out_at(c: Client, pid: int) -> int:
    """The serverTime of the first state the client got with player `pid` eliminated."""
    return int(
        next(
            m["data"]["serverTime"]
            for m in c.messages
            if m["type"] == "state" and any(p["id"] == pid and p["isEliminated"] for p in m["data"]["players"])
        )
    )


async def test_interrupt_and_target_clocks_and_their_grace_deadlines_fire_once_on_time_over_three_instances(
    instances: list[ServiceProcess], pool: Clients, r: Redis
) -> None:
    """Two HEAD games, each with its three seats on the three instances. In one an interrupter's
    clock runs out; in the other two targets' clocks run at once and both run out. Every
    warning, every timeout choice and every grace deadline comes once, on time, to every
    seat, whichever instance's deadline loop fired it; a choice answered over the wire stops
    its grace, one left alone resolves as die."""
    grace = 5_000
    head = {"name": "Three", "playerCount": 3, "initialTime": 600_000, "warningThresholds": [1000]}
    tables = []
    for _ in range(2):
        seats = [await pool.connect(instances[i].ws_url) for i in range(3)]
        gid, _, _ = await create_game(seats[0], **head, timeoutGracePeriod=grace)
        await claim(seats[0], gid, 1, join=False)
        await claim(seats[1], gid, 2)
        await claim(seats[2], gid, 3)
        tables.append((gid, seats))
    (ga, a), (gb, b) = tables
    # short clocks set while waiting: the interrupter's in game A, the two targets' in game B
    await ok(a[0], "updatePlayer", {"playerId": 2, "time": 1_500})
    await ok(b[0], "updatePlayer", {"playerId": 2, "time": 1_500})
    await ok(b[0], "updatePlayer", {"playerId": 3, "time": 2_200})
    await ok(a[0], "start")
    await ok(b[0], "start")
    interrupted = (await ok(a[1], "interrupt"))["data"]["serverTime"]
    await ok(b[0], "toggleTarget", {"playerId": 2})
    await ok(b[0], "toggleTarget", {"playerId": 3})
    confirmed = (await ok(b[0], "confirmTargets"))["data"]
    assert (confirmed["targetingState"], confirmed["awaitingPriority"]) == ("resolving", [2, 3])
    targeted = confirmed["serverTime"]

    # B's first target answers its choice as soon as it is offered; B's second and A's
    # interrupter let the grace run out
    offer = await b[1].wait_for(lambda m: m["type"] == "timeoutChoice", timeout=10)
    answered = (await ok(b[1], "timeoutChoice", {"choice": "loseLives"}))["data"]
    assert offer["data"]["playerId"] == 2
    await asyncio.gather(
        *(c.wait_for(lambda m: m["type"] == "state" and m["data"]["players"][1]["isEliminated"], 15) for c in a),
        *(c.wait_for(lambda m: m["type"] == "state" and m["data"]["players"][2]["isEliminated"], 15) for c in b),
    )
    await asyncio.sleep(1.0)  # room for any duplicate to show up

    def held_to(c: Client, pid: int, zero_at: int, deadline: bool) -> None:
        (warned,) = fired_at(c, "warning", pid)
        assert 0 <= warned[1] - (zero_at - 1_000) <= DEADLINE_SLACK_MS
        offers = fired_at(c, "timeoutChoice", pid)
        assert len(offers) == 1, offers
        ((data, at),) = offers
        assert 0 <= at - zero_at <= DEADLINE_SLACK_MS
        # the grace counts from the clock's real zero, however late the loop fired
        assert data == {"playerId": pid, "options": {"livesLoss": 2, "drunkGain": 2}, "deadline": zero_at + grace}
        if deadline:
            assert 0 <= out_at(c, pid) - (zero_at + grace) <= DEADLINE_SLACK_MS

    for c in a:
        # game A: the interrupter's clock ran from the interrupt; the die dropped it from the stack
        held_to(c, 2, interrupted + 1_500, deadline=True)
        assert c.of_type("timeout") == [] and c.of_type("gameComplete") == []
    for c in b:
        # game B: both targets' clocks ran at once from the confirm
        held_to(c, 2, targeted + 1_500, deadline=False)
        held_to(c, 3, targeted + 2_200, deadline=True)
        assert c.of_type("timeout") == [] and c.of_type("gameComplete") == []
    sa, sb = await game_state(r, ga), await game_state(r, gb)
    assert (sa["status"], sa["interruptingPlayers"], sa["activePlayer"]) == ("running", [], 1)
    assert [p["isEliminated"] for p in sa["players"]] == [False, True, False]
    # B: the answered target is back at 60 s and still to respond; the other one is out
    assert (sb["status"], sb["targetingState"], sb["awaitingPriority"]) == ("running", "resolving", [2])
    p2 = sb["players"][1]
    assert (p2["life"], p2["timeoutPending"], p2["isEliminated"]) == (18, False, False)
    assert answered["players"][1]["timeRemaining"] == 60_000
    for gid, state, expected in ((ga, sa, 3), (gb, sb, 5)):
        log = await game_log(r, gid)
        # warning, offer and die: one deadline commit each (B: two of each but one die, and
        # the answer is its own commit)
        assert [e["t"] for e in log].count("deadline") == expected, [e["t"] for e in log]
        assert [e["v"] for e in log] == list(range(1, state["version"] + 1))


def carried(c: Client, types: tuple[str, ...]) -> list[tuple[str, int | None, int]]:
    """Each event of `types` the client got, as (type, playerId, serverTime of the state frame
    that carried it: events come just before the state of their commit)."""
    out = []
    for i, m in enumerate(c.messages):
        if m["type"] in types:
            carrier = next(s for s in c.messages[i + 1 :] if s["type"] == "state")
            out.append((m["type"], m["data"].get("playerId"), int(carrier["data"]["serverTime"])))
    return out


def held_on_time(
    c: Client, types: tuple[str, ...], due: list[tuple[str, int, int]], since: int = 0, slack: int = 0
) -> None:
    """The client got each event of `due` ((type, playerId, due ms) due after `since`) exactly
    once, fired no earlier than due and at most `slack` ms late, and no other event of `types`."""
    got = [e for e in carried(c, types) if e[2] > since]
    expected = [d for d in due if d[2] > since]
    assert [(t, p) for t, p, _ in got] == [(t, p) for t, p, _ in expected], (got, expected)
    for (t, p, at), (_, _, when) in zip(got, expected, strict=True):
        assert 0 <= at - when <= slack, (t, p, at - when)


async def test_fischer_bronstein_and_turn_cap_deadlines_fire_once_on_time_over_three_instances_one_killed(
    redis_server: RedisProcess | ClusterSet, pool: Clients, r: Redis, tmp_path: Path
) -> None:
    """Three games, one per time control, each with its three seats on three instances of their
    own. The Fischer and Bronstein players pass over the wire, then their clocks run out; the
    turn cap passes the turn by itself. Once the cap's first warning has fired, the third
    instance is killed (SIGKILL) and its players reconnect elsewhere. Every warning, timeout,
    cap warning and cap pass comes once, on time, to every socket, from whichever instance's
    deadline loop fired it."""
    slack = 2 * DEADLINE_SLACK_MS  # a loaded 2-core machine: three instances and their clients
    cap, lead = 2_000, 700
    env = {"REDIS_CLUSTER": "1"} if isinstance(redis_server, ClusterSet) else {}
    controls = {
        "fischer": {"initialTime": 3_000, "timeControl": "fischer", "timeControlMs": 1_500},
        "bronstein": {"initialTime": 2_000, "timeControl": "bronstein", "timeControlMs": 2_000},
        "turnCap": {"initialTime": 600_000, "timeControl": "turnCap", "timeControlMs": cap, "turnCapWarningMs": lead},
    }
    with services(redis_server.url, tmp_path, 3, prefix="clocks", **env) as procs:
        tables: dict[str, tuple[str, list[Client], list[str]]] = {}
        for kind, settings in controls.items():
            seats = [await pool.connect(procs[i].ws_url) for i in range(3)]
            gid, _, _ = await create_game(seats[0], playerCount=3, warningThresholds=[1_000], **settings)
            tokens = [await claim(seats[0], gid, 1, join=False), await claim(seats[1], gid, 2)]
            tokens.append(await claim(seats[2], gid, 3))
            tables[kind] = (gid, seats, tokens)
        (gf, f, _), (gb, b, _), (gt, t, t_tokens) = tables["fischer"], tables["bronstein"], tables["turnCap"]
        t0 = {k: (await ok(seats[0], "start"))["data"]["serverTime"] for k, (_, seats, _) in tables.items()}
        # Fischer: each seat passes once, from its own instance; Bronstein: seat 1 within its delay
        for seat in f:
            await ok(seat, "passTurn")
        passed_b = (await ok(b[0], "passTurn"))["data"]
        after_f = await game_state(r, gf)
        assert (after_f["turn"], after_f["round"], after_f["activePlayer"]) == (4, 2, 1)
        rem = {p["id"]: p["timeRemaining"] for p in after_f["players"]}
        used = {p["id"]: p["timeUsed"] for p in after_f["players"]}
        assert all(rem[i] == 3_000 - used[i] + 1_500 for i in (1, 2, 3)), after_f["players"]
        assert [p["timeRemaining"] for p in passed_b["players"]] == [2_000, 2_000, 2_000]

        # the cap's first warning (its state frame follows the event), then the third instance
        # dies and its players come back elsewhere
        warned = cap - lead
        await asyncio.gather(
            *(c.wait_for(lambda m: m["type"] == "state" and m["data"]["turnTime"] >= warned, 5) for c in t)
        )
        procs[2].kill()
        killed_at = await r.time()
        killed_ms = int(killed_at[0]) * 1000 + int(killed_at[1]) // 1000
        back = await pool.connect(procs[1].ws_url)
        rid = await back.send("reconnect", {"gameId": gt, "playerId": 3, "token": t_tokens[2]})
        rejoined = await back.wait_for(lambda m: m.get("requestId") == rid and m["type"] == "state", 10)
        assert rejoined["data"]["status"] == "running"

        await asyncio.gather(*(c.wait_for(lambda m: m["type"] == "timeout", 10) for c in [*f[:2], *b[:2]]))
        # after the fourth cap (turn 5 is player 2's) the host pauses the cap game
        await t[0].wait_for(lambda m: m["type"] == "state" and m["data"]["turn"] == 5, 12)
        paused = (await ok(t[0], "pause"))["data"]
        await asyncio.sleep(1.0)  # room for any duplicate to show up

        clock = ("warning", "timeout")
        f_due = [("warning", 1, after_f["serverTime"] + rem[1] - 1_000), ("timeout", 1, after_f["serverTime"] + rem[1])]
        b_start = passed_b["serverTime"]
        b_due = [("warning", 2, b_start + 2_000 + 1_000), ("timeout", 2, b_start + 2_000 + 2_000)]
        capping = ("turnCapWarning", "turnCapped")
        t_due = []
        for k in range(1, 5):
            pid = (k - 1) % 3 + 1
            t_due += [
                ("turnCapWarning", pid, t0["turnCap"] + k * cap - lead),
                ("turnCapped", pid, t0["turnCap"] + k * cap),
            ]
        assert paused["serverTime"] < t0["turnCap"] + 5 * cap - lead
        for c in f[:2]:
            held_on_time(c, clock, f_due, slack=slack)
        for c in b[:2]:
            held_on_time(c, clock, b_due, slack=slack)
        for c in t[:2]:
            held_on_time(c, capping, t_due, slack=slack)
        # the killed instance's sockets got what fired before the kill; the reconnected one the rest
        held_on_time(t[2], capping, t_due[:1], slack=slack)
        held_on_time(back, capping, t_due, since=rejoined["data"]["serverTime"], slack=slack)
        assert killed_ms < t_due[1][2] - 200, "the kill fell too near the first cap"
        for c in (f[2], b[2]):
            assert carried(c, clock) == []

        sf, sb, st = [await game_state(r, g) for g in (gf, gb, gt)]
        assert (sf["status"], sf["players"][0]["timeRemaining"], sf["players"][0]["timeUsed"]) == (
            "paused",
            0,
            used[1] + rem[1],
        )
        # Bronstein: the player who passed within the delay paid nothing; the next one's clock
        # ran down after its delay
        assert [p["timeUsed"] for p in sb["players"]] == [0, 2_000, 0]
        assert (sb["status"], sb["activePlayer"], sb["turn"]) == ("paused", 2, 2)
        assert 4_000 <= sb["turnTime"] <= 4_000 + slack
        # turn cap: four caps, 1 -> 2 -> 3 -> 1 -> 2, the wrap to player 1 a new round
        assert (st["status"], st["turn"], st["round"], st["activePlayer"]) == ("paused", 5, 2, 2)
        assert [p["turns"] for p in st["players"]] == [2, 2, 1]
        assert [p["timeUsed"] for p in st["players"]][::2] == [2 * cap, cap]
        for gid, commits in ((gf, 2), (gb, 2), (gt, 8)):
            log = await game_log(r, gid)
            assert [e["t"] for e in log].count("deadline") == commits, [e["t"] for e in log]


# -- undo ---------------------------------------------------------------------------------


async def test_an_undo_through_another_instance_after_the_acting_one_was_killed_reaches_every_socket(
    redis_server: RedisProcess | ClusterSet,
    instances: list[ServiceProcess],
    pool: Clients,
    r: Redis,
    tmp_path: Path,
) -> None:
    env = {"REDIS_CLUSTER": "1"} if isinstance(redis_server, ClusterSet) else {}
    with services(redis_server.url, tmp_path, 1, prefix="undo", **env) as (doomed,):
        p1 = (await pool.connect_many([doomed.ws_url]))[0]
        host, p2, watcher = await pool.connect_many([instances[i].ws_url for i in range(3)])
        gid, _, _ = await create_game(host, playerCount=2, initialTime=600_000)
        token = await claim(p1, gid, 1)
        await claim(p2, gid, 2)
        await ok(watcher, "join", {"gameId": gid})
        await ok(host, "start")
        passed = (await ok(p1, "passTurn"))["data"]
        assert passed["activePlayer"] == 2
        doomed.kill()

    # the player who passed takes their seat back through another instance and undoes the pass
    again = (await pool.connect_many([instances[1].ws_url]))[0]
    back = await again.request("reconnect", {"gameId": gid, "playerId": 1, "token": token})
    assert back["type"] == "reconnected", back
    undone = (await ok(again, "undo"))["data"]

    assert undone["activePlayer"] == 1 and undone["version"] > passed["version"]
    assert await game_state(r, gid) == undone
    for c in (host, p2, watcher, again):
        state = await c.state_at_least(undone["version"])
        assert (state["data"]["version"], state["data"]["activePlayer"]) == (undone["version"], 1)
        event = await c.wait_for(lambda m: m["type"] == "undone")
        assert event["data"] == {"versions": [passed["version"]], "by": 1, "host": False}
    log = await game_log(r, gid)
    assert log[-1]["t"] == "undo" and log[-1]["d"] == {"versions": [passed["version"]]}


# -- cluster hygiene (last: it looks back over every test above) ----------------------


async def lobby_ids(url: str) -> list[str]:
    """Every game id GET /api/games lists, page by page."""
    seen: list[str] = []
    cursor = ""
    async with aiohttp.ClientSession() as http:
        while True:
            async with http.get(f"{url}/api/games", params={"limit": "100", "cursor": cursor}) as resp:
                assert resp.status == 200
                body = await resp.json()
            seen += [g["id"] for g in body["games"]]
            if body["nextCursor"] is None:
                return seen
            cursor = body["nextCursor"]


async def test_the_lobby_list_and_end_game_work_across_instances_and_slots(
    instances: list[ServiceProcess], pool: Clients, r: Redis
) -> None:
    host = (await pool.connect_many([instances[0].ws_url]))[0]
    made = []
    for settings in ({"name": "one"}, {"name": "two"}, {"name": "hidden", "listed": False}):
        created = await host.request("create", {"settings": settings})
        assert created["type"] == "created", created
        made.append(created["data"]["gameId"])
    listed = await lobby_ids(instances[1].url)
    assert made[0] in listed and made[1] in listed and made[2] not in listed
    assert len(listed) == len(set(listed))

    # the host of made[1] is on instance 0; a spectator on instance 1 is told and unbound
    owner = (await pool.connect_many([instances[0].ws_url]))[0]
    created = await owner.request("create", {"settings": {"name": "ended"}})
    gid = created["data"]["gameId"]
    watcher = (await pool.connect_many([instances[1].ws_url]))[0]
    assert (await watcher.request("join", {"gameId": gid}))["type"] == "state"
    assert (await owner.request("endGame"))["type"] == "gameEnded"
    assert await watcher.next("gameEnded") == {"type": "gameEnded", "data": {"gameId": gid}}
    assert (await watcher.request("pause"))["data"]["code"] == "NOT_IN_GAME"
    assert await r.exists(keys.game(gid)) == 0
    assert gid not in await lobby_ids(instances[0].url)


def test_commits_went_out_by_the_topologys_publish_and_no_node_ever_answered_crossslot(
    redis_server: RedisProcess | ClusterSet, instances: list[ServiceProcess]
) -> None:
    """A Cluster gets SPUBLISH on every primary (games spread over the shards); one Redis
    gets plain PUBLISH. No server ever refused a command for spanning slots."""
    cluster = isinstance(redis_server, ClusterSet)
    nodes = redis_server.nodes if isinstance(redis_server, ClusterSet) else [redis_server]
    for node in nodes:
        stats = command(node.port, "INFO", "errorstats")
        calls = {
            line.split(":", 1)[0].removeprefix("cmdstat_"): line
            for line in command(node.port, "INFO", "commandstats").splitlines()
            if line.startswith("cmdstat_")
        }
        assert "evalsha" in calls, (node.port, sorted(calls))
        assert ("spublish" in calls, "publish" in calls) == (cluster, not cluster), (node.port, sorted(calls))
        assert "CROSSSLOT" not in stats, (node.port, stats)
    for svc in instances:
        text = svc.log_path.read_text()
        assert "CROSSSLOT" not in text and "Traceback" not in text, svc.log_path
