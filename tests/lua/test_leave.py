from __future__ import annotations

import pytest

from service import keys
from service.game import token_digest
from tests.support.lua_harness import Harness, new_aid, player


async def test_explicit_leave_while_waiting_gives_the_seat_up_with_its_token(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "alice", 1)
    aid = new_aid()

    c = await h.commits(g.gid, "leave", h.store.leave(g.gid, "alice", aid, "leave"))

    assert player(c.state, 1)["claimedBy"] is None
    assert (c.entry["a"], c.entry["c"]) == (aid, "alice")
    fields = await h.fields(g.gid)
    assert "tok:1" not in fields and "exp:1" not in fields


async def test_disconnect_while_waiting_frees_the_seat_but_keeps_the_token(h: Harness) -> None:
    g = await h.new_game()
    token = await h.claim(g, "alice", 1)
    exp = (await h.fields(g.gid))["exp:1"]

    c = await h.commits(g.gid, "disconnect", h.store.leave(g.gid, "alice", new_aid(), "disconnect"))

    assert player(c.state, 1)["claimedBy"] is None
    fields = await h.fields(g.gid)
    assert (fields["tok:1"], fields["exp:1"]) == (token_digest(token), exp)


async def test_explicit_leave_after_the_start_keeps_the_token_for_reconnect(h: Harness) -> None:
    g = await h.new_game()
    token = await h.claim(g, "alice", 1)
    await h.store.start(g.gid, g.host, new_aid())

    c = await h.commits(g.gid, "leave", h.store.leave(g.gid, "alice", new_aid(), "leave"))

    assert player(c.state, 1)["claimedBy"] is None
    assert (await h.fields(g.gid))["tok:1"] == token_digest(token)
    await h.commits(g.gid, "reconnect", h.store.reconnect(g.gid, "alice2", new_aid(), 1, token, None))


async def test_leave_of_the_host_keeps_host_rights_with_the_host(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, g.host, 1)

    c = await h.commits(g.gid, "leave", h.store.leave(g.gid, g.host, new_aid(), "leave"))

    assert c.state["ownerId"] == g.host
    assert (await h.fields(g.gid))["host"] == token_digest(g.host_token)


async def test_leave_charges_the_running_clock_up_to_now(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "alice", 1)
    started = await h.store.start(g.gid, g.host, new_aid())
    h.clock.offset_ms = 1_500

    c = await h.commits(g.gid, "disconnect", h.store.leave(g.gid, "alice", new_aid(), "disconnect"))

    charged = c.state["serverTime"] - started.state["serverTime"]
    assert charged >= 1_500
    assert player(c.state, 1)["timeRemaining"] == 600_000 - charged


async def test_leave_without_a_seat_is_a_noop(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "bob", 2)

    await h.quiet(g.gid, "noop", h.store.leave(g.gid, "alice", new_aid(), "leave"))
    await h.quiet(g.gid, "noop", h.store.leave(g.gid, "alice", new_aid(), "disconnect"))


async def test_leave_retried_with_the_same_action_id_applies_once(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "alice", 1)
    aid = new_aid()
    first = await h.store.leave(g.gid, "alice", aid, "disconnect")
    await h.claim(g, "alice", 1)

    out = await h.quiet(g.gid, "dup", h.store.leave(g.gid, "alice", aid, "disconnect"))

    assert out.version == first.version + 1
    assert player(out.state, 1)["claimedBy"] == "alice"


async def test_leave_with_an_unknown_mode_is_rejected(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "alice", 1)

    await h.fails(g.gid, "INVALID_ARGUMENT", h.store.leave(g.gid, "alice", new_aid(), "vanish"))


async def test_leave_of_a_missing_game_fails(h: Harness) -> None:
    gid = keys.new_game_id()

    await h.fails(gid, "GAME_NOT_FOUND", h.store.leave(gid, "alice", new_aid(), "leave"))


@pytest.mark.parametrize("mode", ["leave", "disconnect"])
async def test_the_host_leaving_without_a_seat_is_away_from_then(h: Harness, mode: str) -> None:
    g = await h.running_game()

    c = await h.commits(g.gid, mode, h.store.leave(g.gid, g.host, new_aid(), mode))

    assert c.state["hostAwaySince"] == c.state["serverTime"]
    assert c.state["ownerId"] == g.host
    await h.quiet(g.gid, "noop", h.store.leave(g.gid, g.host, new_aid(), mode))


async def test_the_host_leaving_its_seat_is_away_from_then(h: Harness) -> None:
    g = await h.running_game()
    await h.claim(g, g.host, 1)

    c = await h.commits(g.gid, "disconnect", h.store.leave(g.gid, g.host, new_aid(), "disconnect"))

    assert (player(c.state, 1)["claimedBy"], c.state["hostAwaySince"]) == (None, c.state["serverTime"])


async def test_a_player_leaving_does_not_make_the_host_away(h: Harness) -> None:
    g = await h.running_game()
    await h.claim(g, "alice", 1)

    c = await h.commits(g.gid, "disconnect", h.store.leave(g.gid, "alice", new_aid(), "disconnect"))

    assert "hostAwaySince" not in c.state


async def test_the_host_leaving_the_seat_the_role_is_bound_to_while_waiting_unbinds_it(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "alice", 1)
    await h.store.transfer_host(g.gid, g.host, new_aid(), 1)

    c = await h.commits(g.gid, "leave", h.store.leave(g.gid, "alice", new_aid(), "leave"))

    assert (c.state["ownerId"], c.state["hostSeat"], c.state["hostAwaySince"]) == ("alice", None, c.state["serverTime"])
