from __future__ import annotations

from service import keys
from service.game import token_digest
from tests.support.lua_harness import Game, Harness, new_aid, player


async def seated(h: Harness, players: int = 4, held: int = 2) -> tuple[Game, dict[int, str]]:
    """A running game whose first `held` seats are held by p1, p2, ..."""
    g = await h.running_game(players)
    tokens = {pid: await h.claim(g, f"p{pid}", pid) for pid in range(1, held + 1)}
    return g, tokens


def moved(client: str, source: int, target: int) -> dict[str, object]:
    return {"type": "seatMoved", "data": {"fromPlayerId": source, "toPlayerId": target}, "to": client}


async def test_move_takes_the_claim_and_the_token_to_the_free_seat(h: Harness) -> None:
    g, tokens = await seated(h)
    before = await h.fields(g.gid)
    aid = new_aid()

    c = await h.commits(g.gid, "moveSeat", h.store.move_seat(g.gid, g.host, aid, 2, 4))

    assert [p["claimedBy"] for p in c.state["players"]] == ["p1", None, None, "p2"]
    fields = await h.fields(g.gid)
    assert "tok:2" not in fields and "exp:2" not in fields
    assert (fields["tok:4"], fields["exp:4"]) == (token_digest(tokens[2]), before["exp:2"])
    assert c.events == [moved("p2", 2, 4)]
    assert c.entry["d"] == {"fromPlayerId": 2, "toPlayerId": 4, "client": "p2"}
    assert (c.entry["a"], c.entry["c"]) == (aid, g.host)


async def test_each_seat_keeps_its_own_player(h: Harness) -> None:
    g, _ = await seated(h)
    await h.store.update_player(g.gid, g.host, new_aid(), 2, {"name": "Ann", "life": 7})
    before = await h.state(g.gid)

    c = await h.commits(g.gid, "moveSeat", h.store.move_seat(g.gid, g.host, new_aid(), 2, 4))

    for pid in (2, 4):
        was, now = player(before, pid), player(c.state, pid)
        assert {k: v for k, v in now.items() if k not in ("claimedBy", "timeRemaining")} == {
            k: v for k, v in was.items() if k not in ("claimedBy", "timeRemaining")
        }
    assert player(c.state, 2)["name"] == "Ann"


async def test_the_moved_client_acts_as_the_new_seat(h: Harness) -> None:
    g, _ = await seated(h)
    await h.store.move_seat(g.gid, g.host, new_aid(), 2, 4)

    c = await h.commits(g.gid, "interrupt", h.store.interrupt(g.gid, "p2", new_aid()))

    assert c.state["interruptingPlayers"] == [4]


async def test_a_reload_with_the_old_seat_reconnects_to_the_new_one(h: Harness) -> None:
    g, tokens = await seated(h)
    await h.store.move_seat(g.gid, g.host, new_aid(), 2, 4)
    await h.store.leave(g.gid, "p2", new_aid(), "disconnect")

    c = await h.commits(g.gid, "reconnect", h.store.reconnect(g.gid, "p2-again", new_aid(), 2, tokens[2], None))

    assert [p["claimedBy"] for p in c.state["players"]] == ["p1", None, None, "p2-again"]
    assert c.entry["d"] == {"playerId": 4, "host": False}


async def test_move_onto_an_absent_players_seat_replaces_its_token(h: Harness) -> None:
    g, tokens = await seated(h, held=3)
    await h.store.leave(g.gid, "p3", new_aid(), "disconnect")

    await h.commits(g.gid, "moveSeat", h.store.move_seat(g.gid, g.host, new_aid(), 2, 3))

    assert (await h.fields(g.gid))["tok:3"] == token_digest(tokens[2])
    await h.fails(g.gid, "INVALID_TOKEN", h.store.reconnect(g.gid, "p3-again", new_aid(), 3, tokens[3], None))


async def test_the_host_role_bound_to_the_seat_moves_with_it(h: Harness) -> None:
    g, tokens = await seated(h)
    await h.store.transfer_host(g.gid, g.host, new_aid(), 2)

    c = await h.commits(g.gid, "moveSeat", h.store.move_seat(g.gid, "p2", new_aid(), 2, 4))

    assert (c.state["ownerId"], c.state["hostSeat"]) == ("p2", 4)
    await h.store.leave(g.gid, "p2", new_aid(), "disconnect")
    out = await h.store.reconnect(g.gid, "p2-again", new_aid(), 2, tokens[2], None)
    assert (out.state["ownerId"], player(out.state, 4)["claimedBy"]) == ("p2-again", "p2-again")


async def test_moving_someone_onto_the_absent_hosts_seat_unbinds_the_role(h: Harness) -> None:
    g, _ = await seated(h)
    await h.store.transfer_host(g.gid, g.host, new_aid(), 2)
    await h.store.leave(g.gid, "p2", new_aid(), "disconnect")

    c = await h.commits(g.gid, "moveSeat", h.store.move_seat(g.gid, "p2", new_aid(), 1, 2))

    assert (c.state["hostSeat"], player(c.state, 2)["claimedBy"]) == (None, "p1")


async def test_move_while_waiting_works_onto_any_free_seat(h: Harness) -> None:
    g = await h.new_game(3)
    await h.claim(g, "p1", 1)

    c = await h.commits(g.gid, "moveSeat", h.store.move_seat(g.gid, g.host, new_aid(), 1, 3))

    assert [p["claimedBy"] for p in c.state["players"]] == [None, None, "p1"]


async def test_move_to_a_held_seat_fails(h: Harness) -> None:
    g, _ = await seated(h)

    await h.fails(g.gid, "PLAYER_CLAIMED", h.store.move_seat(g.gid, g.host, new_aid(), 2, 1))


async def test_move_from_a_free_seat_fails(h: Harness) -> None:
    g, _ = await seated(h)

    await h.fails(g.gid, "PLAYER_NOT_CLAIMED", h.store.move_seat(g.gid, g.host, new_aid(), 3, 4))


async def test_move_to_an_eliminated_player_in_a_started_game_fails(h: Harness) -> None:
    g, _ = await seated(h)
    await h.store.eliminate(g.gid, g.host, new_aid(), 4)

    await h.fails(g.gid, "PLAYER_ELIMINATED", h.store.move_seat(g.gid, g.host, new_aid(), 2, 4))


async def test_move_by_a_seated_player_fails(h: Harness) -> None:
    g, _ = await seated(h)

    await h.fails(g.gid, "NOT_OWNER_SEATS", h.store.move_seat(g.gid, "p1", new_aid(), 1, 4))


async def test_move_from_or_to_a_player_that_does_not_exist_fails(h: Harness) -> None:
    g, _ = await seated(h)

    await h.fails(g.gid, "PLAYER_NOT_FOUND", h.store.move_seat(g.gid, g.host, new_aid(), 2, 5))
    await h.fails(g.gid, "PLAYER_NOT_FOUND", h.store.move_seat(g.gid, g.host, new_aid(), 6, 3))


async def test_move_to_the_same_seat_or_without_numbers_is_rejected(h: Harness) -> None:
    g, _ = await seated(h)

    for source, target in (("2", "2"), ("2", "x"), ("", "3")):
        await h.raw_fails(
            g.gid,
            "INVALID_ARGUMENT",
            h.run_script("move_seat", g.gid, source, target, action_id=new_aid(), client_id=g.host),
        )


async def test_move_in_a_missing_game_fails(h: Harness) -> None:
    gid = keys.new_game_id()

    await h.fails(gid, "GAME_NOT_FOUND", h.store.move_seat(gid, "host", new_aid(), 1, 2))


async def test_move_retried_with_the_same_action_id_applies_once(h: Harness) -> None:
    g, _ = await seated(h)
    aid = new_aid()
    first = await h.store.move_seat(g.gid, g.host, aid, 2, 4)

    out = await h.quiet(g.gid, "dup", h.store.move_seat(g.gid, g.host, aid, 2, 4))

    assert out.state_json == first.state_json
    assert [e["t"] for e in await h.log(g.gid)].count("moveSeat") == 1
