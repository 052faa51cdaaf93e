from __future__ import annotations

import json

from service import keys
from service.game import new_token, token_digest
from tests.support.lua_harness import TOKEN_MS, Game, Harness, new_aid, player


async def seated_game(h: Harness, *, start: bool = True) -> tuple[Game, str]:
    g = await h.new_game()
    token = await h.claim(g, "alice", 1)
    if start:
        await h.store.start(g.gid, g.host, new_aid())
    return g, token


async def test_reconnect_with_the_seat_token_moves_the_seat_to_the_new_client(h: Harness) -> None:
    g, token = await seated_game(h)
    aid = new_aid()

    c = await h.commits(g.gid, "reconnect", h.store.reconnect(g.gid, "alice-2", aid, 1, token, None))

    assert player(c.state, 1)["claimedBy"] == "alice-2"
    assert c.state["ownerId"] == g.host
    assert c.entry["d"] == {"playerId": 1, "host": False}
    assert (c.entry["a"], c.entry["c"]) == (aid, "alice-2")
    fields = await h.fields(g.gid)
    assert fields["tok:1"] == token_digest(token)
    assert fields["exp:1"] == str(c.state["lastActivity"] + TOKEN_MS)
    assert token not in json.dumps([fields, await h.log(g.gid)])


async def test_reconnect_works_again_with_the_same_token_because_tokens_do_not_rotate(h: Harness) -> None:
    g, token = await seated_game(h)
    await h.commits(g.gid, "reconnect", h.store.reconnect(g.gid, "alice-2", new_aid(), 1, token, None))

    c = await h.commits(g.gid, "reconnect", h.store.reconnect(g.gid, "alice-3", new_aid(), 1, token, None))

    assert player(c.state, 1)["claimedBy"] == "alice-3"
    assert (await h.fields(g.gid))["tok:1"] == token_digest(token)


async def test_reconnect_by_the_client_already_holding_the_seat_is_a_noop_that_slides_the_expiry(
    h: Harness,
) -> None:
    g, token = await seated_game(h)
    before = await h.snapshot(g.gid)
    await h.published.drain()
    h.clock.offset_ms = 5_000

    out = await h.store.reconnect(g.gid, "alice", new_aid(), 1, token, None)

    assert (out.status, out.state_json, out.events_json) == ("noop", before[0]["state"], "[]")
    after = await h.snapshot(g.gid)
    assert after[1:] == before[1:]
    assert {k: v for k, v in after[0].items() if k != "exp:1"} == {k: v for k, v in before[0].items() if k != "exp:1"}
    assert int(after[0]["exp:1"]) >= int(before[0]["exp:1"]) + 5_000
    assert await h.published.drain() == []


async def test_reconnect_with_the_host_token_transfers_host_rights(h: Harness) -> None:
    g, _ = await seated_game(h)
    aid = new_aid()

    c = await h.commits(g.gid, "reconnect", h.store.reconnect(g.gid, "host-2", aid, None, None, g.host_token))

    assert c.state["ownerId"] == "host-2"
    assert c.entry["d"] == {"playerId": None, "host": True}
    fields = await h.fields(g.gid)
    assert fields["host"] == token_digest(g.host_token)
    assert fields["hostExp"] == str(c.state["lastActivity"] + TOKEN_MS)
    await h.fails(g.gid, "NOT_OWNER_RESET", h.store.reset(g.gid, g.host, new_aid()))
    await h.commits(g.gid, "reset", h.store.reset(g.gid, "host-2", new_aid()))


async def test_reconnect_of_host_and_seat_together_takes_both(h: Harness) -> None:
    g, token = await seated_game(h)

    c = await h.commits(g.gid, "reconnect", h.store.reconnect(g.gid, "both", new_aid(), 1, token, g.host_token))

    assert (c.state["ownerId"], player(c.state, 1)["claimedBy"]) == ("both", "both")
    assert c.entry["d"] == {"playerId": 1, "host": True}


async def test_reconnect_of_the_current_host_is_a_noop_that_slides_the_host_expiry(h: Harness) -> None:
    g = await h.new_game()
    before = await h.fields(g.gid)
    h.clock.offset_ms = 3_000

    out = await h.store.reconnect(g.gid, g.host, new_aid(), None, None, g.host_token)

    assert out.status == "noop"
    after = await h.fields(g.gid)
    assert after["state"] == before["state"]
    assert int(after["hostExp"]) >= int(before["hostExp"]) + 3_000


async def test_reconnect_charges_the_running_clock_up_to_now(h: Harness) -> None:
    g, token = await seated_game(h)
    started = await h.state(g.gid)
    h.clock.offset_ms = 1_500

    c = await h.commits(g.gid, "reconnect", h.store.reconnect(g.gid, "alice-2", new_aid(), 1, token, None))

    charged = c.state["serverTime"] - started["serverTime"]
    assert charged >= 1_500
    assert player(c.state, 1)["timeRemaining"] == 600_000 - charged


async def test_reconnect_retried_with_the_same_action_id_applies_once(h: Harness) -> None:
    g, token = await seated_game(h)
    aid = new_aid()
    first = await h.store.reconnect(g.gid, "alice-2", aid, 1, token, None)

    out = await h.quiet(g.gid, "dup", h.store.reconnect(g.gid, "alice-2", aid, 1, token, None))

    assert out.state_json == first.state_json
    assert [e["t"] for e in await h.log(g.gid)].count("reconnect") == 1


async def test_reconnect_with_a_wrong_token_fails(h: Harness) -> None:
    g, _ = await seated_game(h)

    await h.fails(g.gid, "INVALID_TOKEN", h.store.reconnect(g.gid, "mallory", new_aid(), 1, new_token(), None))


async def test_reconnect_to_a_seat_without_a_token_fails_with_invalid_token(h: Harness) -> None:
    g, _ = await seated_game(h)

    await h.fails(g.gid, "INVALID_TOKEN", h.store.reconnect(g.gid, "mallory", new_aid(), 1, None, None))


async def test_reconnect_with_the_plaintext_token_instead_of_its_digest_fails(h: Harness) -> None:
    g, token = await seated_game(h)

    await h.raw_fails(
        g.gid,
        "INVALID_TOKEN",
        h.run_script("reconnect", g.gid, 1, token, "", TOKEN_MS, action_id=new_aid(), client_id="x"),
    )


async def test_reconnect_with_an_expired_seat_token_fails(h: Harness) -> None:
    g, token = await seated_game(h)
    h.clock.offset_ms = TOKEN_MS + 1_000

    await h.fails(g.gid, "TOKEN_EXPIRED", h.store.reconnect(g.gid, "alice-2", new_aid(), 1, token, None))


async def test_reconnect_just_before_the_expiry_still_works(h: Harness) -> None:
    g, token = await seated_game(h)
    h.clock.offset_ms = TOKEN_MS - 1_000

    c = await h.commits(g.gid, "reconnect", h.store.reconnect(g.gid, "alice-2", new_aid(), 1, token, None))

    assert int((await h.fields(g.gid))["exp:1"]) == c.state["lastActivity"] + TOKEN_MS


async def test_reconnect_with_an_expired_host_token_fails(h: Harness) -> None:
    g, _ = await seated_game(h)
    h.clock.offset_ms = TOKEN_MS + 1_000

    await h.fails(g.gid, "TOKEN_EXPIRED", h.store.reconnect(g.gid, "host-2", new_aid(), None, None, g.host_token))


async def test_reconnect_with_a_wrong_host_token_fails(h: Harness) -> None:
    g, _ = await seated_game(h)

    await h.fails(g.gid, "INVALID_HOST_TOKEN", h.store.reconnect(g.gid, "mallory", new_aid(), None, None, new_token()))


async def test_reconnect_with_a_good_seat_token_and_a_wrong_host_token_changes_nothing(h: Harness) -> None:
    g, token = await seated_game(h)

    await h.fails(g.gid, "INVALID_HOST_TOKEN", h.store.reconnect(g.gid, "mallory", new_aid(), 1, token, new_token()))


async def test_reconnect_to_a_seat_never_claimed_fails_with_no_token(h: Harness) -> None:
    g, _ = await seated_game(h)

    await h.fails(g.gid, "NO_TOKEN", h.store.reconnect(g.gid, "bob", new_aid(), 2, new_token(), None))


async def test_reconnect_to_a_seat_given_up_while_waiting_fails_with_no_token(h: Harness) -> None:
    g, token = await seated_game(h, start=False)
    await h.store.unclaim(g.gid, "alice", new_aid())

    await h.fails(g.gid, "NO_TOKEN", h.store.reconnect(g.gid, "alice", new_aid(), 1, token, None))


async def test_reconnect_to_a_player_that_does_not_exist_fails(h: Harness) -> None:
    g, token = await seated_game(h)

    await h.fails(g.gid, "PLAYER_NOT_FOUND", h.store.reconnect(g.gid, "alice", new_aid(), 3, token, None))


async def test_reconnect_proving_neither_seat_nor_host_is_rejected(h: Harness) -> None:
    g, _ = await seated_game(h)

    await h.fails(g.gid, "INVALID_ARGUMENT", h.store.reconnect(g.gid, "alice", new_aid(), None, None, None))


async def test_reconnect_without_a_client_id_is_rejected(h: Harness) -> None:
    g, token = await seated_game(h)

    await h.fails(g.gid, "INVALID_ARGUMENT", h.store.reconnect(g.gid, "", new_aid(), 1, token, None))


async def test_reconnect_with_a_token_lifetime_that_is_not_a_number_is_rejected(h: Harness) -> None:
    g, token = await seated_game(h)

    await h.raw_fails(
        g.gid,
        "INVALID_ARGUMENT",
        h.run_script("reconnect", g.gid, 1, token_digest(token), "", "later", action_id=new_aid(), client_id="a"),
    )


async def test_reconnect_to_a_missing_game_fails(h: Harness) -> None:
    gid = keys.new_game_id()

    await h.fails(gid, "GAME_NOT_FOUND", h.store.reconnect(gid, "alice", new_aid(), 1, new_token(), None))


async def test_reconnect_with_a_token_the_host_moved_takes_the_seat_it_was_moved_to(h: Harness) -> None:
    g = await h.running_game(3)
    token = await h.claim(g, "alice", 1)
    await h.store.move_seat(g.gid, g.host, new_aid(), 1, 3)
    await h.store.leave(g.gid, "alice", new_aid(), "disconnect")

    c = await h.commits(g.gid, "reconnect", h.store.reconnect(g.gid, "alice-2", new_aid(), 1, token, None))

    assert [p["claimedBy"] for p in c.state["players"]] == [None, None, "alice-2"]
    assert c.entry["d"] == {"playerId": 3, "host": False}
    assert (await h.fields(g.gid))["exp:3"] == str(c.state["lastActivity"] + TOKEN_MS)


async def test_reconnect_with_the_token_of_the_seat_the_host_role_is_bound_to_brings_it_back(h: Harness) -> None:
    g, token = await seated_game(h)
    await h.store.transfer_host(g.gid, g.host, new_aid(), 1)
    await h.store.leave(g.gid, "alice", new_aid(), "disconnect")

    c = await h.commits(g.gid, "reconnect", h.store.reconnect(g.gid, "alice-2", new_aid(), 1, token, None))

    assert (c.state["ownerId"], c.state["hostAwaySince"]) == ("alice-2", None)
    assert c.entry["d"] == {"playerId": 1, "host": True}


async def test_reconnect_with_another_seats_token_does_not_bring_the_host_role(h: Harness) -> None:
    g, _ = await seated_game(h)
    bob = await h.claim(g, "bob", 2)
    await h.store.transfer_host(g.gid, g.host, new_aid(), 1)

    c = await h.commits(g.gid, "reconnect", h.store.reconnect(g.gid, "bob-2", new_aid(), 2, bob, None))

    assert c.state["ownerId"] == "alice"
    assert c.entry["d"] == {"playerId": 2, "host": False}


async def test_reconnect_of_the_host_ends_its_absence(h: Harness) -> None:
    g, _ = await seated_game(h)
    await h.client.hset(keys.game(g.gid), "state", json.dumps({**await h.state(g.gid), "hostAwaySince": 1}))

    c = await h.commits(g.gid, "reconnect", h.store.reconnect(g.gid, g.host, new_aid(), None, None, g.host_token))

    assert (c.state["ownerId"], c.state["hostAwaySince"]) == (g.host, None)
