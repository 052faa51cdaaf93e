from __future__ import annotations

import secrets

import pytest

from service import game, keys
from tests.support.chance import Draws
from tests.support.lua_harness import Game, Harness, new_aid, player


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


@pytest.mark.parametrize(("draw", "chosen"), [(0, 1), (1, 4), (2, 1), (839, 4)])
async def test_the_draw_picks_among_the_seated_players_still_in_in_seat_order(
    h: Harness, draws: Draws, draw: int, chosen: int
) -> None:
    # seat 2 is free and seat 3 is out: the eligible players are 1 and 4
    g = await table(h, 4, claimed=(1, 3, 4), eliminated=(3,))
    draws.next_below(draw)
    aid = new_aid()

    c = await h.commits(g.gid, "randomStartPlayer", h.store.random_start_player(g.gid, g.host, aid))

    assert draws.asked == [game.START_DRAW_RANGE]
    assert c.state["activePlayer"] == chosen
    assert c.events == [
        {"type": "randomPlayerSelected", "data": {"playerId": chosen, "playerName": f"Player {chosen}"}}
    ]
    assert c.entry["d"] == {"playerId": chosen}
    assert (c.entry["a"], c.entry["c"]) == (aid, g.host)
    assert c.state["status"] == "waiting"
    assert [p["id"] for p in c.state["players"]] == [1, 2, 3, 4]


async def test_start_runs_the_chosen_players_clock(h: Harness, draws: Draws) -> None:
    g = await table(h, 3, claimed=(1, 2, 3))
    draws.next_below(2)
    await h.store.random_start_player(g.gid, g.host, new_aid())

    out = await h.store.start(g.gid, g.host, new_aid())

    assert (out.state["status"], out.state["activePlayer"]) == ("running", 3)


def test_every_eligible_player_is_exactly_equally_likely() -> None:
    for count in range(1, game.MAX_PLAYERS + 1):
        assert game.START_DRAW_RANGE % count == 0, count


async def test_a_seated_player_who_is_not_the_host_may_not(h: Harness, draws: Draws) -> None:
    g = await table(h, 2, claimed=(1, 2))
    draws.next_below(0)

    await h.fails(g.gid, "NOT_OWNER_RANDOM_START", h.store.random_start_player(g.gid, "c1", new_aid()))


@pytest.mark.parametrize("status", ["running", "paused", "finished"])
async def test_only_before_the_game_starts(h: Harness, draws: Draws, status: str) -> None:
    g = await table(h, 2, claimed=(1, 2))
    await h.store.start(g.gid, g.host, new_aid())
    if status == "paused":
        await h.store.pause(g.gid, g.host, new_aid())
    if status == "finished":
        await h.store.eliminate(g.gid, g.host, new_aid(), 2)
    assert (await h.state(g.gid))["status"] == status
    draws.next_below(0)

    await h.fails(g.gid, "RANDOM_START_NOT_WAITING", h.store.random_start_player(g.gid, g.host, new_aid()))


@pytest.mark.parametrize(("claimed", "eliminated"), [((), ()), ((1, 2), (1, 2))])
async def test_with_nobody_seated_and_in_there_is_nobody_to_pick(
    h: Harness, draws: Draws, claimed: tuple[int, ...], eliminated: tuple[int, ...]
) -> None:
    # four seats, so that two eliminated still leave a waiting game
    g = await table(h, 4, claimed=claimed, eliminated=eliminated)
    draws.next_below(0)

    await h.fails(g.gid, "NO_ELIGIBLE_PLAYERS", h.store.random_start_player(g.gid, g.host, new_aid()))


async def test_retried_with_the_same_action_id_picks_once(h: Harness, draws: Draws) -> None:
    g = await table(h, 3, claimed=(1, 2, 3))
    aid = new_aid()
    draws.next_below(1, 2)
    first = await h.store.random_start_player(g.gid, g.host, aid)

    out = await h.quiet(g.gid, "dup", h.store.random_start_player(g.gid, g.host, aid))

    assert out.state_json == first.state_json
    assert out.state["activePlayer"] == 2


async def test_in_a_missing_game_fails(h: Harness, draws: Draws) -> None:
    gid = keys.new_game_id()
    draws.next_below(0)

    await h.fails(gid, "GAME_NOT_FOUND", h.store.random_start_player(gid, "host", new_aid()))


@pytest.mark.parametrize("draw", ["-1", "840", "1.5", "x", ""])
async def test_a_draw_the_service_would_never_send_is_refused(h: Harness, draw: str) -> None:
    g = await table(h, 2, claimed=(1, 2))

    await h.raw_fails(
        g.gid,
        "INVALID_ARGUMENT",
        h.run_script("random_start_player", g.gid, draw, action_id=new_aid(), client_id=g.host),
    )


async def test_the_choice_is_drawn_from_secrets(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    g = await table(h, 3, claimed=(1, 2, 3))
    asked: list[int] = []

    def randbelow(n: int) -> int:
        asked.append(n)
        return 5  # 5 mod 3 = 2: the third eligible player

    monkeypatch.setattr(secrets, "randbelow", randbelow)

    out = await h.store.random_start_player(g.gid, g.host, new_aid())

    assert asked == [840]
    assert out.state["activePlayer"] == 3
    assert player(out.state, 3)["claimedBy"] == "c3"
