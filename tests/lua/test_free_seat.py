from __future__ import annotations

from service import keys
from tests.support.lua_harness import Game, Harness, new_aid, player


async def seated(h: Harness, players: int = 3) -> tuple[Game, dict[int, str]]:
    """A running game whose seats are held by p1, p2, ..."""
    g = await h.running_game(players)
    tokens = {pid: await h.claim(g, f"p{pid}", pid) for pid in range(1, players + 1)}
    return g, tokens


async def test_free_releases_the_seat_deletes_its_token_and_keeps_the_player_in(h: Harness) -> None:
    g, _ = await seated(h)
    aid = new_aid()

    c = await h.commits(g.gid, "freeSeat", h.store.free_seat(g.gid, g.host, aid, 2))

    p = player(c.state, 2)
    assert (p["claimedBy"], p["isEliminated"]) == (None, False)
    assert (c.state["status"], c.state["activePlayer"]) == ("running", 1)
    fields = await h.fields(g.gid)
    assert "tok:2" not in fields and "exp:2" not in fields
    assert {"tok:1", "tok:3"} <= set(fields)
    assert c.events == [{"type": "seatFreed", "data": {"playerId": 2}, "to": "p2"}]
    assert c.entry["d"] == {"playerId": 2, "client": "p2"}
    assert (c.entry["a"], c.entry["c"]) == (aid, g.host)


async def test_the_freed_client_cannot_reconnect_and_anyone_may_claim_the_seat(h: Harness) -> None:
    g, tokens = await seated(h)
    await h.store.free_seat(g.gid, g.host, new_aid(), 2)

    await h.fails(g.gid, "NO_TOKEN", h.store.reconnect(g.gid, "p2-again", new_aid(), 2, tokens[2], None))
    await h.commits(g.gid, "claim", h.store.claim(g.gid, "newcomer", 2, new_aid()))


async def test_free_of_an_absent_players_seat_deletes_its_token_without_an_event(h: Harness) -> None:
    g, _ = await seated(h)
    await h.store.leave(g.gid, "p2", new_aid(), "disconnect")

    c = await h.commits(g.gid, "freeSeat", h.store.free_seat(g.gid, g.host, new_aid(), 2))

    assert c.events == []
    assert c.entry["d"] == {"playerId": 2, "client": None}
    assert "tok:2" not in await h.fields(g.gid)


async def test_free_of_the_seat_the_host_role_is_bound_to_unbinds_it(h: Harness) -> None:
    g, _ = await seated(h)
    await h.store.transfer_host(g.gid, g.host, new_aid(), 2)

    c = await h.commits(g.gid, "freeSeat", h.store.free_seat(g.gid, "p2", new_aid(), 2))

    assert (c.state["ownerId"], c.state["hostSeat"]) == ("p2", None)


async def test_free_of_a_seat_without_holder_or_token_fails(h: Harness) -> None:
    g = await h.running_game(3)

    await h.fails(g.gid, "PLAYER_NOT_CLAIMED", h.store.free_seat(g.gid, g.host, new_aid(), 2))


async def test_free_by_a_seated_player_fails(h: Harness) -> None:
    g, _ = await seated(h)

    await h.fails(g.gid, "NOT_OWNER_SEATS", h.store.free_seat(g.gid, "p1", new_aid(), 2))


async def test_free_of_a_player_that_does_not_exist_fails(h: Harness) -> None:
    g, _ = await seated(h)

    await h.fails(g.gid, "PLAYER_NOT_FOUND", h.store.free_seat(g.gid, g.host, new_aid(), 4))


async def test_free_with_a_player_id_that_is_not_a_number_is_rejected(h: Harness) -> None:
    g, _ = await seated(h)

    await h.raw_fails(
        g.gid, "INVALID_ARGUMENT", h.run_script("free_seat", g.gid, "two", action_id=new_aid(), client_id=g.host)
    )


async def test_free_in_a_missing_game_fails(h: Harness) -> None:
    gid = keys.new_game_id()

    await h.fails(gid, "GAME_NOT_FOUND", h.store.free_seat(gid, "host", new_aid(), 1))


async def test_free_retried_with_the_same_action_id_applies_once(h: Harness) -> None:
    g, _ = await seated(h)
    aid = new_aid()
    first = await h.store.free_seat(g.gid, g.host, aid, 2)

    out = await h.quiet(g.gid, "dup", h.store.free_seat(g.gid, g.host, aid, 2))

    assert out.state_json == first.state_json
    assert [e["t"] for e in await h.log(g.gid)].count("freeSeat") == 1
