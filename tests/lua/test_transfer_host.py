from __future__ import annotations

from service import keys
from service.game import token_digest
from tests.support.lua_harness import Game, Harness, new_aid, player


async def seated(h: Harness, players: int = 3, *, start: bool = True) -> tuple[Game, dict[int, str]]:
    """A game whose seats are held by p1, p2, ...; started unless `start` is False."""
    g = await h.new_game(players)
    tokens = {pid: await h.claim(g, f"p{pid}", pid) for pid in range(1, players + 1)}
    if start:
        await h.store.start(g.gid, g.host, new_aid())
    return g, tokens


async def test_transfer_makes_the_seat_holder_host_bound_to_the_seat_and_tells_them_alone(h: Harness) -> None:
    g, _ = await seated(h)
    aid = new_aid()

    c = await h.commits(g.gid, "transferHost", h.store.transfer_host(g.gid, g.host, aid, 2))

    assert (c.state["ownerId"], c.state["hostSeat"], c.state["hostAwaySince"]) == ("p2", 2, None)
    assert c.events == [{"type": "hostGranted", "data": {"playerId": 2}, "to": "p2"}]
    assert c.entry["d"] == {"playerId": 2, "client": "p2"}
    assert (c.entry["a"], c.entry["c"]) == (aid, g.host)
    fields = await h.fields(g.gid)
    assert "host" not in fields and "hostExp" not in fields
    assert [p["claimedBy"] for p in c.state["players"]] == ["p1", "p2", "p3"]


async def test_after_a_transfer_the_new_host_has_host_rights_and_the_old_host_none(h: Harness) -> None:
    g, _ = await seated(h)
    await h.store.transfer_host(g.gid, g.host, new_aid(), 2)

    await h.fails(g.gid, "NOT_OWNER_RESET", h.store.reset(g.gid, g.host, new_aid()))
    await h.commits(g.gid, "reset", h.store.reset(g.gid, "p2", new_aid()))


async def test_the_old_host_token_no_longer_brings_host_rights_back(h: Harness) -> None:
    g, _ = await seated(h)
    await h.store.transfer_host(g.gid, g.host, new_aid(), 2)

    await h.fails(
        g.gid, "INVALID_HOST_TOKEN", h.store.reconnect(g.gid, "host-again", new_aid(), None, None, g.host_token)
    )


async def test_the_new_host_who_reloads_gets_host_rights_back_with_the_seat_token(h: Harness) -> None:
    g, tokens = await seated(h)
    await h.store.transfer_host(g.gid, g.host, new_aid(), 2)
    await h.store.leave(g.gid, "p2", new_aid(), "disconnect")

    c = await h.commits(g.gid, "reconnect", h.store.reconnect(g.gid, "p2-again", new_aid(), 2, tokens[2], None))

    assert (c.state["ownerId"], c.state["hostSeat"], c.state["hostAwaySince"]) == ("p2-again", 2, None)
    assert player(c.state, 2)["claimedBy"] == "p2-again"
    assert c.entry["d"] == {"playerId": 2, "host": True}


async def test_the_old_host_who_reloads_with_its_seat_token_gets_the_seat_but_not_the_role(h: Harness) -> None:
    g = await h.running_game(3)
    token = await h.claim(g, g.host, 1)
    await h.claim(g, "p2", 2)
    await h.store.transfer_host(g.gid, g.host, new_aid(), 2)
    await h.store.leave(g.gid, g.host, new_aid(), "disconnect")

    c = await h.commits(g.gid, "reconnect", h.store.reconnect(g.gid, "old-host", new_aid(), 1, token, None))

    assert player(c.state, 1)["claimedBy"] == "old-host"
    assert c.state["ownerId"] == "p2"
    assert c.entry["d"] == {"playerId": 1, "host": False}


async def test_a_second_transfer_moves_the_role_on_again(h: Harness) -> None:
    g, tokens = await seated(h)
    await h.store.transfer_host(g.gid, g.host, new_aid(), 2)

    c = await h.commits(g.gid, "transferHost", h.store.transfer_host(g.gid, "p2", new_aid(), 3))

    assert (c.state["ownerId"], c.state["hostSeat"]) == ("p3", 3)
    out = await h.store.reconnect(g.gid, "p2-again", new_aid(), 2, tokens[2], None)
    assert out.state["ownerId"] == "p3"


async def test_transfer_while_waiting_works_too(h: Harness) -> None:
    g, _ = await seated(h, start=False)

    c = await h.commits(g.gid, "transferHost", h.store.transfer_host(g.gid, g.host, new_aid(), 1))

    assert (c.state["status"], c.state["ownerId"]) == ("waiting", "p1")


async def test_transfer_charges_the_running_clock_first(h: Harness) -> None:
    g, _ = await seated(h)
    before = await h.state(g.gid)
    h.clock.offset_ms = 2_000

    c = await h.commits(g.gid, "transferHost", h.store.transfer_host(g.gid, g.host, new_aid(), 2))

    charged = c.state["serverTime"] - before["serverTime"]
    assert charged >= 2_000
    assert player(c.state, 1)["timeRemaining"] == 600_000 - charged


async def test_transfer_to_a_free_seat_fails(h: Harness) -> None:
    g = await h.running_game(3)
    await h.claim(g, "p1", 1)

    await h.fails(g.gid, "PLAYER_NOT_CLAIMED", h.store.transfer_host(g.gid, g.host, new_aid(), 2))


async def test_transfer_to_the_hosts_own_seat_fails(h: Harness) -> None:
    g = await h.running_game(3)
    await h.claim(g, g.host, 1)

    await h.fails(g.gid, "ALREADY_HOST", h.store.transfer_host(g.gid, g.host, new_aid(), 1))


async def test_transfer_by_a_seated_player_fails(h: Harness) -> None:
    g, _ = await seated(h)

    await h.fails(g.gid, "NOT_OWNER_TRANSFER", h.store.transfer_host(g.gid, "p1", new_aid(), 2))


async def test_transfer_to_a_player_that_does_not_exist_fails(h: Harness) -> None:
    g, _ = await seated(h)

    await h.fails(g.gid, "PLAYER_NOT_FOUND", h.store.transfer_host(g.gid, g.host, new_aid(), 4))


async def test_transfer_with_a_player_id_that_is_not_a_number_is_rejected(h: Harness) -> None:
    g, _ = await seated(h)

    await h.raw_fails(
        g.gid, "INVALID_ARGUMENT", h.run_script("transfer_host", g.gid, "two", action_id=new_aid(), client_id=g.host)
    )


async def test_transfer_in_a_missing_game_fails(h: Harness) -> None:
    gid = keys.new_game_id()

    await h.fails(gid, "GAME_NOT_FOUND", h.store.transfer_host(gid, "host", new_aid(), 1))


async def test_transfer_retried_with_the_same_action_id_applies_once(h: Harness) -> None:
    g, _ = await seated(h)
    aid = new_aid()
    first = await h.store.transfer_host(g.gid, g.host, aid, 2)

    out = await h.quiet(g.gid, "dup", h.store.transfer_host(g.gid, g.host, aid, 2))

    assert out.state_json == first.state_json
    assert [e["t"] for e in await h.log(g.gid)].count("transferHost") == 1


async def test_a_game_without_a_transfer_keeps_its_host_token(h: Harness) -> None:
    g, _ = await seated(h)

    assert (await h.fields(g.gid))["host"] == token_digest(g.host_token)
    assert "hostSeat" not in await h.state(g.gid)
