from __future__ import annotations

import json
import secrets
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from service import game, keys
from tests.support.chance import Draws
from tests.support.lua_harness import Game, Harness, new_aid


@pytest.fixture
def draws(monkeypatch: pytest.MonkeyPatch) -> Draws:
    return Draws(monkeypatch)


async def table(h: Harness, seats: int, claimed: tuple[int, ...], eliminated: tuple[int, ...] = ()) -> Game:
    g = await h.new_game(seats)
    for pid in claimed:
        await h.claim(g, f"c{pid}", pid)
    for pid in eliminated:
        await h.store.eliminate(g.gid, g.host, new_aid(), pid)
    return g


def order(state: dict[str, Any]) -> list[int]:
    return [p["id"] for p in state["players"]]


def row(pid: int, rolls: list[int], position: int) -> dict[str, Any]:
    return {
        "playerId": pid,
        "playerName": f"Player {pid}",
        "rolls": rolls,
        "finalRoll": rolls[-1],
        "position": position,
    }


async def test_a_group_tied_on_a_high_roll_keeps_the_place_its_roll_earned(h: Harness, draws: Draws) -> None:
    # C19: A=20, B=20, C=5. HEAD put C first (resolved in round 1) and the re-rolled A, B after
    g = await table(h, 3, claimed=(1, 2, 3))
    draws.d20([20, 20, 5, 3, 7])
    aid = new_aid()

    c = await h.commits(g.gid, "rollPlayOrder", h.store.roll_play_order(g.gid, g.host, aid))

    rolls = [row(2, [20, 7], 1), row(1, [20, 3], 2), row(3, [5], 3)]
    assert c.events == [{"type": "playOrderRolled", "data": {"rolls": rolls, "newOrder": [2, 1, 3]}}]
    assert (order(c.state), c.state["activePlayer"], c.state["status"]) == ([2, 1, 3], 2, "waiting")
    # the whole roll is in the log: it can be checked and replayed from there
    assert c.entry["d"] == {"rolls": rolls, "newOrder": [2, 1, 3]}
    assert (c.entry["a"], c.entry["c"]) == (aid, g.host)


async def test_players_not_in_the_roll_follow_in_the_order_they_had(h: Harness, draws: Draws) -> None:
    # seats 1 and 3 are free, 4 is out: 2 and 5 roll
    g = await table(h, 5, claimed=(2, 4, 5), eliminated=(4,))
    draws.d20([4, 9])

    c = await h.commits(g.gid, "rollPlayOrder", h.store.roll_play_order(g.gid, g.host, new_aid()))

    assert c.events[0]["data"] == {"rolls": [row(5, [9], 1), row(2, [4], 2)], "newOrder": [5, 2]}
    assert order(c.state) == [5, 2, 1, 3, 4]
    assert c.state["activePlayer"] == 5


async def test_tied_groups_of_one_round_reroll_together_highest_group_first(h: Harness, draws: Draws) -> None:
    # round 1: 2 and 4 tie on 18, 1 and 3 on 10; round 2 is drawn for 2, 4, then 1, 3
    g = await table(h, 4, claimed=(1, 2, 3, 4))
    draws.d20([10, 18, 10, 18, 5, 6, 2, 1])

    c = await h.commits(g.gid, "rollPlayOrder", h.store.roll_play_order(g.gid, g.host, new_aid()))

    assert c.events[0]["data"]["rolls"] == [
        row(4, [18, 6], 1),
        row(2, [18, 5], 2),
        row(1, [10, 2], 3),
        row(3, [10, 1], 4),
    ]
    assert order(c.state) == [4, 2, 1, 3]


async def test_a_tie_inside_a_tie_is_resolved_in_its_place(h: Harness, draws: Draws) -> None:
    # round 1: 1, 2, 3 tie on 12 above 4's 2; round 2: 1 and 3 tie on 8 above 2's 6; round 3: 3 beats 1
    g = await table(h, 4, claimed=(1, 2, 3, 4))
    draws.d20([12, 12, 12, 2, 8, 6, 8, 1, 19])

    c = await h.commits(g.gid, "rollPlayOrder", h.store.roll_play_order(g.gid, g.host, new_aid()))

    assert c.events[0]["data"]["rolls"] == [
        row(3, [12, 8, 19], 1),
        row(1, [12, 8, 1], 2),
        row(2, [12, 6], 3),
        row(4, [2], 4),
    ]


async def test_players_still_tied_after_a_hundred_rounds_keep_their_seat_order(h: Harness, draws: Draws) -> None:
    g = await table(h, 3, claimed=(1, 2, 3))
    draws.d20([], fill=7)

    c = await h.commits(g.gid, "rollPlayOrder", h.store.roll_play_order(g.gid, g.host, new_aid()))

    assert c.events[0]["data"]["rolls"] == [row(pid, [7] * 100, pid) for pid in (1, 2, 3)]
    assert order(c.state) == [1, 2, 3]


async def test_the_turn_passes_in_the_rolled_order(h: Harness, draws: Draws) -> None:
    g = await table(h, 4, claimed=(1, 2, 3))
    draws.d20([3, 17, 20])
    await h.store.roll_play_order(g.gid, g.host, new_aid())
    started = await h.store.start(g.gid, g.host, new_aid())
    seen = [started.state["activePlayer"]]

    for _ in range(4):
        out = await h.store.switch(g.gid, g.host, new_aid(), "next")
        seen.append(out.state["activePlayer"])

    # the unclaimed seat 4 is still in the game (as in HEAD): it plays last
    assert seen == [3, 2, 1, 4, 3]


async def test_a_seated_player_who_is_not_the_host_may_not(h: Harness, draws: Draws) -> None:
    g = await table(h, 2, claimed=(1, 2))

    await h.fails(g.gid, "NOT_OWNER_PLAY_ORDER", h.store.roll_play_order(g.gid, "c1", new_aid()))


@pytest.mark.parametrize("status", ["running", "paused", "finished"])
async def test_only_before_the_game_starts(h: Harness, draws: Draws, status: str) -> None:
    g = await table(h, 2, claimed=(1, 2))
    await h.store.start(g.gid, g.host, new_aid())
    if status == "paused":
        await h.store.pause(g.gid, g.host, new_aid())
    if status == "finished":
        await h.store.eliminate(g.gid, g.host, new_aid(), 2)
    assert (await h.state(g.gid))["status"] == status

    await h.fails(g.gid, "PLAY_ORDER_NOT_WAITING", h.store.roll_play_order(g.gid, g.host, new_aid()))


@pytest.mark.parametrize(("claimed", "eliminated"), [((), ()), ((2,), ()), ((1, 2), (1,))])
async def test_fewer_than_two_seated_players_still_in_cannot_roll(
    h: Harness, draws: Draws, claimed: tuple[int, ...], eliminated: tuple[int, ...]
) -> None:
    g = await table(h, 3, claimed=claimed, eliminated=eliminated)

    await h.fails(g.gid, "PLAY_ORDER_TOO_FEW_PLAYERS", h.store.roll_play_order(g.gid, g.host, new_aid()))


async def test_retried_with_the_same_action_id_rolls_once(h: Harness, draws: Draws) -> None:
    g = await table(h, 2, claimed=(1, 2))
    aid = new_aid()
    draws.d20([1, 2])
    first = await h.store.roll_play_order(g.gid, g.host, aid)

    out = await h.quiet(g.gid, "dup", h.store.roll_play_order(g.gid, g.host, aid))

    assert out.state_json == first.state_json
    assert [e["t"] for e in await h.log(g.gid)].count("rollPlayOrder") == 1


async def test_in_a_missing_game_fails(h: Harness, draws: Draws) -> None:
    gid = keys.new_game_id()

    await h.fails(gid, "GAME_NOT_FOUND", h.store.roll_play_order(gid, "host", new_aid()))


@pytest.mark.parametrize(
    "pool",
    [
        "",
        "A" * 199,  # two players need 200 rolls: one per round each
        "A" * 199 + "U",
        "A" * 199 + "@",
        "a" * 200,
        "A" * 100 + " " + "A" * 99,
    ],
)
async def test_a_pool_the_service_would_never_send_is_refused(h: Harness, pool: str) -> None:
    g = await table(h, 2, claimed=(1, 2))

    await h.raw_fails(
        g.gid,
        "INVALID_ARGUMENT",
        h.run_script("roll_play_order", g.gid, pool, action_id=new_aid(), client_id=g.host),
    )


async def test_a_pool_of_exactly_a_hundred_rolls_per_player_is_enough(h: Harness) -> None:
    g = await table(h, 2, claimed=(1, 2))

    reply = await h.run_script("roll_play_order", g.gid, "T" * 200, action_id=new_aid(), client_id=g.host)

    assert reply[0] == "ok"


def test_the_pool_is_drawn_from_secrets_every_face_equally(monkeypatch: pytest.MonkeyPatch) -> None:
    size = game.PLAY_ORDER_ROUNDS * game.MAX_PLAYERS
    asked: list[int] = []
    # every byte value once, then again: bytes 240..255 are dropped, the rest are b mod 20 + 1
    chunks = [bytes(range(256)) * 4, bytes(range(256)) * 4]

    def token_bytes(n: int) -> bytes:
        asked.append(n)
        return chunks.pop(0)[:n]

    monkeypatch.setattr(secrets, "token_bytes", token_bytes)

    pool = game.d20_pool()

    assert asked == [size, size]  # 800 bytes leave 750 faces: a second draw tops it up
    assert len(pool) == size
    faces = [ord(ch) - 64 for ch in pool]
    assert faces[:240] == [b % 20 + 1 for b in range(240)]
    assert faces[240:480] == faces[:240]
    assert set(Counter(faces[:720]).values()) == {36}


def test_the_real_pool_has_only_d20_faces() -> None:
    pool = game.d20_pool()
    assert len(pool) == game.PLAY_ORDER_ROUNDS * game.MAX_PLAYERS
    assert set(pool) <= {chr(64 + face) for face in range(1, 21)}


# -- the ranking, as a property -----------------------------------------------------------


def outranks(a: list[int], b: list[int]) -> bool | None:
    """Whether rolls `a` beat rolls `b`: at the first round where they differ, the higher roll
    wins (before it they were tied, so both rolled each round). None if they never differ."""
    for x, y in zip(a, b, strict=False):
        if x != y:
            return x > y
    return None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seats=hs.lists(hs.sampled_from(["in", "free", "out"]), min_size=2, max_size=8).filter(lambda s: s.count("in") >= 2),
    faces=hs.integers(1, 20),
    rolls=hs.lists(hs.integers(1, 20), min_size=1, max_size=40),
)
async def test_no_player_is_placed_below_one_who_rolled_lower(
    h: Harness, monkeypatch: pytest.MonkeyPatch, seats: list[str], faces: int, rolls: list[int]
) -> None:
    # few faces force ties, and ties inside ties
    rolls = [(r - 1) % faces + 1 for r in rolls]
    draws = Draws(monkeypatch)
    draws.d20(rolls * (game.PLAY_ORDER_ROUNDS * game.MAX_PLAYERS // len(rolls) + 1))
    claimed = tuple(i + 1 for i, s in enumerate(seats) if s != "free")
    out = tuple(i + 1 for i, s in enumerate(seats) if s == "out")
    # at least two players stay in, so the eliminations never finish the game
    g = await table(h, len(seats), claimed=claimed, eliminated=out)
    before = await h.state(g.gid)
    eligible = [p["id"] for p in before["players"] if p["claimedBy"] is not None and not p["isEliminated"]]

    result = await h.store.roll_play_order(g.gid, g.host, new_aid())

    data = json.loads(result.events_json)[0]["data"]
    table_rows = data["rolls"]
    ranked = [r["playerId"] for r in table_rows]
    assert sorted(ranked) == sorted(eligible)
    assert data["newOrder"] == ranked
    assert [r["position"] for r in table_rows] == list(range(1, len(ranked) + 1))
    assert all(r["finalRoll"] == r["rolls"][-1] and len(r["rolls"]) <= game.PLAY_ORDER_ROUNDS for r in table_rows)
    for i, upper in enumerate(table_rows):
        for lower in table_rows[i + 1 :]:
            beats = outranks(upper["rolls"], lower["rolls"])
            # never below one who rolled lower; never tied throughout out of seat order
            assert beats is not False, (upper, lower)
            if beats is None:
                assert upper["rolls"] == lower["rolls"]
                assert eligible.index(upper["playerId"]) < eligible.index(lower["playerId"])
    # every roll came from the pool, which was consumed from its start
    used = sum(len(r["rolls"]) for r in table_rows)
    assert Counter(x for r in table_rows for x in r["rolls"]) == Counter(ord(ch) - 64 for ch in draws.pools[0][:used])
    others = [pid for pid in order(before) if pid not in eligible]
    assert order(result.state) == ranked + others
    assert result.state["activePlayer"] == ranked[0]
