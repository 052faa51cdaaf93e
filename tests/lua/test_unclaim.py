from __future__ import annotations

from service import keys
from service.game import token_digest
from tests.support.lua_harness import Harness, new_aid, player


async def test_unclaim_while_waiting_frees_the_seat_and_clears_its_token(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "alice", 1)
    await h.claim(g, "bob", 2)
    aid = new_aid()

    c = await h.commits(g.gid, "unclaim", h.store.unclaim(g.gid, "alice", aid))

    assert [p["claimedBy"] for p in c.state["players"]] == [None, "bob"]
    assert c.entry["a"] == aid and c.entry["c"] == "alice" and "d" not in c.entry
    fields = await h.fields(g.gid)
    assert "tok:1" not in fields and "exp:1" not in fields
    assert "tok:2" in fields and "exp:2" in fields


async def test_unclaim_after_the_start_frees_the_seat_but_keeps_its_token(h: Harness) -> None:
    g = await h.new_game()
    token = await h.claim(g, "alice", 1)
    await h.store.start(g.gid, g.host, new_aid())
    fields_before = await h.fields(g.gid)

    c = await h.commits(g.gid, "unclaim", h.store.unclaim(g.gid, "alice", new_aid()))

    assert player(c.state, 1)["claimedBy"] is None
    fields = await h.fields(g.gid)
    assert (fields["tok:1"], fields["exp:1"]) == (token_digest(token), fields_before["exp:1"])


async def test_unclaim_releases_every_seat_the_client_holds(h: Harness) -> None:
    g = await h.new_game(3)
    await h.claim(g, "alice", 1)
    bobs = await h.claim(g, "bob", 2)
    await h.store.start(g.gid, g.host, new_aid())
    # reconnecting with bob's token gives alice a second seat
    await h.store.reconnect(g.gid, "alice", new_aid(), 2, bobs, None)
    before = await h.state(g.gid)
    assert [p["claimedBy"] for p in before["players"]] == ["alice", "alice", None]

    c = await h.commits(g.gid, "unclaim", h.store.unclaim(g.gid, "alice", new_aid()))

    assert [p["claimedBy"] for p in c.state["players"]] == [None, None, None]


async def test_unclaim_charges_the_running_clock_up_to_now(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "alice", 1)
    started = await h.store.start(g.gid, g.host, new_aid())
    h.clock.offset_ms = 2_000

    c = await h.commits(g.gid, "unclaim", h.store.unclaim(g.gid, "alice", new_aid()))

    charged = c.state["serverTime"] - started.state["serverTime"]
    assert charged >= 2_000
    assert player(c.state, 1)["timeRemaining"] == 600_000 - charged


async def test_unclaim_without_a_seat_is_a_noop(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "bob", 1)

    await h.quiet(g.gid, "noop", h.store.unclaim(g.gid, "alice", new_aid()))


async def test_unclaim_without_a_client_id_is_a_noop(h: Harness) -> None:
    g = await h.new_game()

    await h.quiet(g.gid, "noop", h.store.unclaim(g.gid, "", new_aid()))


async def test_unclaim_retried_with_the_same_action_id_applies_once(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "alice", 1)
    aid = new_aid()
    first = await h.store.unclaim(g.gid, "alice", aid)
    # alice sits down again; the retried unclaim must not release the new seat
    await h.claim(g, "alice", 2)

    out = await h.quiet(g.gid, "dup", h.store.unclaim(g.gid, "alice", aid))

    assert out.version == first.version + 1
    assert [e["t"] for e in await h.log(g.gid)].count("unclaim") == 1


async def test_unclaim_in_a_missing_game_fails(h: Harness) -> None:
    gid = keys.new_game_id()

    await h.fails(gid, "GAME_NOT_FOUND", h.store.unclaim(gid, "alice", new_aid()))


async def test_unclaim_while_waiting_of_the_seat_the_host_role_is_bound_to_unbinds_it(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "alice", 1)
    await h.store.transfer_host(g.gid, g.host, new_aid(), 1)

    c = await h.commits(g.gid, "unclaim", h.store.unclaim(g.gid, "alice", new_aid()))

    assert (c.state["ownerId"], c.state["hostSeat"]) == ("alice", None)


async def test_unclaim_after_the_start_keeps_the_host_role_bound_to_the_seat(h: Harness) -> None:
    g = await h.running_game()
    token = await h.claim(g, "alice", 1)
    await h.store.transfer_host(g.gid, g.host, new_aid(), 1)

    c = await h.commits(g.gid, "unclaim", h.store.unclaim(g.gid, "alice", new_aid()))

    assert c.state["hostSeat"] == 1
    back = await h.store.reconnect(g.gid, "alice-2", new_aid(), 1, token, None)
    assert back.state["ownerId"] == "alice-2"
