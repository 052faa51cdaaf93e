from __future__ import annotations

from service import keys
from tests.support.formats import format_game
from tests.support.lua_harness import Game, Harness, new_aid, player


async def seated(h: Harness, players: int = 3, *, start: bool = True) -> tuple[Game, dict[int, str]]:
    """A game whose seats are held by p1, p2, ...; started unless `start` is False."""
    g = await h.new_game(players)
    tokens = {pid: await h.claim(g, f"p{pid}", pid) for pid in range(1, players + 1)}
    if start:
        await h.store.start(g.gid, g.host, new_aid())
    return g, tokens


def kicked(client: str, pid: int) -> dict[str, object]:
    return {"type": "kicked", "data": {"playerId": pid}, "to": client}


async def test_kick_frees_the_seat_deletes_its_token_and_eliminates_the_player(h: Harness) -> None:
    g, _ = await seated(h)
    aid = new_aid()

    c = await h.commits(g.gid, "adminKick", h.store.admin_kick(g.gid, g.host, aid, 2))

    p = player(c.state, 2)
    assert (p["claimedBy"], p["isEliminated"], p["eliminatedReason"]) == (None, True, "kicked")
    assert [q["claimedBy"] for q in c.state["players"]] == ["p1", None, "p3"]
    assert (c.state["status"], c.state["activePlayer"]) == ("running", 1)
    fields = await h.fields(g.gid)
    assert "tok:2" not in fields and "exp:2" not in fields
    assert {"tok:1", "exp:1", "tok:3", "exp:3"} <= set(fields)
    assert c.events == [kicked("p2", 2)]
    assert c.entry["d"] == {"playerId": 2, "client": "p2"}
    assert (c.entry["a"], c.entry["c"]) == (aid, g.host)


async def test_the_kicked_player_cannot_reconnect_with_the_old_token(h: Harness) -> None:
    g, tokens = await seated(h)
    await h.store.admin_kick(g.gid, g.host, new_aid(), 2)

    await h.fails(g.gid, "NO_TOKEN", h.store.reconnect(g.gid, "p2-again", new_aid(), 2, tokens[2], None))


async def test_kick_of_the_active_player_passes_the_turn_to_the_next_in_turn_order(h: Harness) -> None:
    g, _ = await seated(h, 4)
    await h.store.switch(g.gid, g.host, new_aid(), 3)

    c = await h.commits(g.gid, "adminKick", h.store.admin_kick(g.gid, g.host, new_aid(), 3))

    assert c.state["activePlayer"] == 4
    assert await h.due(g.gid) == c.state["serverTime"] + 600_000 - 300_000


async def test_kick_charges_the_running_clock_first(h: Harness) -> None:
    g, _ = await seated(h)
    started = await h.state(g.gid)
    h.clock.offset_ms = 1_200

    c = await h.commits(g.gid, "adminKick", h.store.admin_kick(g.gid, g.host, new_aid(), 1))

    charged = c.state["serverTime"] - started["serverTime"]
    assert charged >= 1_200
    assert player(c.state, 1)["timeRemaining"] == 600_000 - charged
    assert c.state["activePlayer"] == 2


async def test_kick_down_to_one_player_finishes_the_game_with_that_winner_and_kicked_comes_first(h: Harness) -> None:
    g, _ = await seated(h, 2)

    c = await h.commits(g.gid, "adminKick", h.store.admin_kick(g.gid, g.host, new_aid(), 1))

    assert (c.state["status"], c.state["winner"], c.state["activePlayer"]) == ("finished", 2, None)
    assert c.events[0] == kicked("p1", 1)
    assert await h.due(g.gid) is None


async def test_kick_while_waiting_eliminates_in_the_lobby(h: Harness) -> None:
    g, _ = await seated(h, 3, start=False)

    c = await h.commits(g.gid, "adminKick", h.store.admin_kick(g.gid, g.host, new_aid(), 3))

    assert (c.state["status"], player(c.state, 3)["isEliminated"], player(c.state, 3)["claimedBy"]) == (
        "waiting",
        True,
        None,
    )


async def test_kick_of_the_last_seated_player_gives_the_game_the_idle_retention(h: Harness) -> None:
    g = await h.new_game(3)
    await h.claim(g, "p1", 1)

    # commits() checks the TTL against the state: nobody seated any more means idle
    c = await h.commits(g.gid, "adminKick", h.store.admin_kick(g.gid, g.host, new_aid(), 1))

    assert all(p["claimedBy"] is None for p in c.state["players"])


async def test_kick_of_a_seated_eliminated_player_only_frees_the_seat(h: Harness) -> None:
    g, _ = await seated(h, 3)
    await h.store.eliminate(g.gid, g.host, new_aid(), 2)
    before = await h.state(g.gid)

    c = await h.commits(g.gid, "adminKick", h.store.admin_kick(g.gid, g.host, new_aid(), 2))

    assert player(c.state, 2) == {**player(before, 2), "claimedBy": None}
    assert (c.state["status"], c.state["activePlayer"]) == ("running", 1)
    assert c.events == [kicked("p2", 2)]


async def test_kick_in_a_finished_game_frees_the_seat_and_the_result_stands(h: Harness) -> None:
    g, _ = await seated(h, 2)
    await h.store.eliminate(g.gid, g.host, new_aid(), 1)

    c = await h.commits(g.gid, "adminKick", h.store.admin_kick(g.gid, g.host, new_aid(), 2))

    assert (c.state["status"], c.state["winner"]) == ("finished", 2)
    assert (player(c.state, 2)["isEliminated"], player(c.state, 2)["claimedBy"]) == (False, None)
    assert "tok:2" not in await h.fields(g.gid)
    assert c.events == [kicked("p2", 2)]


async def test_kick_of_a_free_seat_fails(h: Harness) -> None:
    g = await h.running_game(3)

    await h.fails(g.gid, "PLAYER_NOT_CLAIMED", h.store.admin_kick(g.gid, g.host, new_aid(), 2))


async def test_kick_by_a_seated_player_fails(h: Harness) -> None:
    g, _ = await seated(h)

    await h.fails(g.gid, "NOT_OWNER_ADMIN", h.store.admin_kick(g.gid, "p1", new_aid(), 2))


async def test_kick_by_a_spectator_fails(h: Harness) -> None:
    g, _ = await seated(h)

    await h.fails(g.gid, "NOT_OWNER_ADMIN", h.store.admin_kick(g.gid, "watcher", new_aid(), 2))


async def test_kick_of_a_player_that_does_not_exist_fails(h: Harness) -> None:
    g, _ = await seated(h)

    await h.fails(g.gid, "PLAYER_NOT_FOUND", h.store.admin_kick(g.gid, g.host, new_aid(), 4))


async def test_kick_in_a_missing_game_fails(h: Harness) -> None:
    gid = keys.new_game_id()

    await h.fails(gid, "GAME_NOT_FOUND", h.store.admin_kick(gid, "host", new_aid(), 1))


async def test_kick_retried_with_the_same_action_id_applies_once(h: Harness) -> None:
    g, _ = await seated(h)
    aid = new_aid()
    first = await h.store.admin_kick(g.gid, g.host, aid, 2)

    out = await h.quiet(g.gid, "dup", h.store.admin_kick(g.gid, g.host, aid, 2))

    assert out.state_json == first.state_json
    assert [e["t"] for e in await h.log(g.gid)].count("adminKick") == 1


async def test_kick_of_the_seat_the_host_role_is_bound_to_unbinds_it(h: Harness) -> None:
    g, _ = await seated(h)
    await h.store.transfer_host(g.gid, g.host, new_aid(), 2)

    c = await h.commits(g.gid, "adminKick", h.store.admin_kick(g.gid, "p2", new_aid(), 2))

    assert (c.state["ownerId"], c.state["hostSeat"]) == ("p2", None)


async def test_kick_in_two_headed_giant_takes_the_team_out_and_frees_only_the_kicked_seat(h: Harness) -> None:
    g = await format_game(h, "twoHeadedGiant", 4)
    for pid in (1, 2, 3, 4):
        await h.claim(g, f"p{pid}", pid)
    await h.store.start(g.gid, g.host, new_aid())

    c = await h.commits(g.gid, "adminKick", h.store.admin_kick(g.gid, g.host, new_aid(), 2))

    assert [(p["claimedBy"], p["isEliminated"], p["eliminatedReason"]) for p in c.state["players"]] == [
        ("p1", True, "kicked"),
        (None, True, "kicked"),
        ("p3", False, None),
        ("p4", False, None),
    ]
    assert (c.state["status"], c.state["winner"]) == ("finished", 3)
