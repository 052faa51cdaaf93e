from __future__ import annotations

import json

import pytest

from service import keys
from service.game import new_token, token_digest
from tests.support.lua_harness import TOKEN_MS, Harness, new_aid, player


async def test_claim_of_a_free_seat_gives_it_to_the_caller_and_stores_the_token_digest(h: Harness) -> None:
    g = await h.new_game()
    aid = new_aid()

    c = await h.commits(g.gid, "claim", h.store.claim(g.gid, "alice", 2, aid))

    token = c.result[0]
    assert player(c.state, 2)["claimedBy"] == "alice"
    assert player(c.state, 1)["claimedBy"] is None
    assert c.entry == {
        "v": 2,
        "t": "claim",
        "a": aid,
        "c": "alice",
        "at": c.state["lastActivity"],
        "d": {"playerId": 2},
        "p": 2,
        "h": False,
    }
    fields = await h.fields(g.gid)
    assert fields["tok:2"] == token_digest(token)
    assert fields["exp:2"] == str(c.state["lastActivity"] + TOKEN_MS)
    assert "tok:1" not in fields and "exp:1" not in fields
    assert token not in json.dumps([fields, await h.log(g.gid)])


async def test_claim_of_another_seat_releases_the_seat_held_before_and_its_token(h: Harness) -> None:
    g = await h.new_game(3)
    await h.claim(g, "alice", 1)

    c = await h.commits(g.gid, "claim", h.store.claim(g.gid, "alice", 3, new_aid()))

    assert [p["claimedBy"] for p in c.state["players"]] == [None, None, "alice"]
    fields = await h.fields(g.gid)
    assert sorted(k for k in fields if k.startswith(("tok:", "exp:"))) == ["exp:3", "tok:3"]
    assert fields["tok:3"] == token_digest(c.result[0])


async def test_claim_of_the_own_seat_again_rotates_its_token(h: Harness) -> None:
    g = await h.new_game()
    first = await h.claim(g, "alice", 1)

    c = await h.commits(g.gid, "claim", h.store.claim(g.gid, "alice", 1, new_aid()))

    assert player(c.state, 1)["claimedBy"] == "alice"
    assert (await h.fields(g.gid))["tok:1"] == token_digest(c.result[0]) != token_digest(first)


async def test_claim_retried_with_the_same_action_id_applies_once_and_takes_the_new_token(h: Harness) -> None:
    g = await h.new_game()
    aid = new_aid()
    first_token, first = await h.store.claim(g.gid, "alice", 1, aid)
    before = await h.snapshot(g.gid)
    await h.published.drain()
    h.clock.offset_ms = 1_000

    second_token, again = await h.store.claim(g.gid, "alice", 1, aid)

    assert (again.status, again.state_json, again.events_json) == ("dup", first.state_json, "[]")
    fields = await h.fields(g.gid)
    assert fields["tok:1"] == token_digest(second_token) != token_digest(first_token)
    assert int(fields["exp:1"]) >= first.state["lastActivity"] + 1_000 + TOKEN_MS
    after = await h.snapshot(g.gid)
    assert after[1:] == before[1:]
    assert fields["state"] == before[0]["state"]
    assert [e["t"] for e in await h.log(g.gid)] == ["claim", "create"]
    assert await h.published.drain() == []


async def test_claim_retried_after_the_seat_was_given_up_fails_with_player_claimed(h: Harness) -> None:
    g = await h.new_game()
    aid = new_aid()
    await h.store.claim(g.gid, "alice", 1, aid)
    await h.store.unclaim(g.gid, "alice", new_aid())

    await h.fails(g.gid, "PLAYER_CLAIMED", h.store.claim(g.gid, "alice", 1, aid))


async def test_claim_retried_after_someone_else_took_the_seat_fails_with_player_claimed(h: Harness) -> None:
    g = await h.new_game()
    aid = new_aid()
    await h.store.claim(g.gid, "alice", 1, aid)
    await h.store.unclaim(g.gid, "alice", new_aid())
    await h.claim(g, "bob", 1)

    await h.fails(g.gid, "PLAYER_CLAIMED", h.store.claim(g.gid, "alice", 1, aid))


async def test_claim_of_a_seat_held_by_another_client_fails(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "alice", 1)

    await h.fails(g.gid, "PLAYER_CLAIMED", h.store.claim(g.gid, "bob", 1, new_aid()))


# Once the game has started, HEAD's rule: a spectator may take a seat nobody holds whose
# player is still in the game (these replace v1's GAME_STARTED refusal).


@pytest.mark.parametrize("status", ["running", "paused", "finished"])
async def test_claim_of_a_free_seat_after_the_start_gives_it_to_the_spectator(h: Harness, status: str) -> None:
    g = await h.running_game(3)
    if status == "paused":
        await h.store.pause(g.gid, g.host, new_aid())
    if status == "finished":
        await h.store.eliminate(g.gid, g.host, new_aid(), 1)
        await h.store.eliminate(g.gid, g.host, new_aid(), 2)

    c = await h.commits(g.gid, "claim", h.store.claim(g.gid, "spectator", 3, new_aid()))

    assert c.before is not None
    assert c.state["status"] == status
    assert [p["claimedBy"] for p in c.state["players"]] == [None, None, "spectator"]
    assert c.entry["d"] == {"playerId": 3}
    assert (await h.fields(g.gid))["tok:3"] == token_digest(c.result[0])


async def test_claim_while_running_keeps_the_clock_running(h: Harness) -> None:
    g = await h.running_game()
    started = await h.state(g.gid)
    h.clock.offset_ms = 1_500

    c = await h.commits(g.gid, "claim", h.store.claim(g.gid, "spectator", 2, new_aid()))

    charged = c.state["serverTime"] - started["serverTime"]
    assert (c.state["status"], c.state["activePlayer"]) == ("running", 1)
    assert player(c.state, 1)["timeRemaining"] == 600_000 - charged


async def test_claim_after_the_start_of_a_seat_given_up_replaces_its_token(h: Harness) -> None:
    # alice held seat 1 and dropped after the start: her token is kept for a reconnect, but
    # the seat is free, and HEAD lets a spectator take a free seat
    g = await h.new_game()
    alice = await h.claim(g, "alice", 1)
    await h.store.start(g.gid, g.host, new_aid())
    await h.store.leave(g.gid, "alice", new_aid(), "disconnect")
    assert player(await h.state(g.gid), 1)["claimedBy"] is None

    c = await h.commits(g.gid, "claim", h.store.claim(g.gid, "bob", 1, new_aid()))

    assert player(c.state, 1)["claimedBy"] == "bob"
    assert (await h.fields(g.gid))["tok:1"] == token_digest(c.result[0]) != token_digest(alice)
    await h.fails(g.gid, "INVALID_TOKEN", h.store.reconnect(g.gid, "alice", new_aid(), 1, alice, None))


async def test_claim_after_the_start_by_a_seated_player_moves_them_and_frees_the_old_seat(h: Harness) -> None:
    g = await h.new_game(3)
    await h.claim(g, "alice", 1)
    await h.store.start(g.gid, g.host, new_aid())

    c = await h.commits(g.gid, "claim", h.store.claim(g.gid, "alice", 3, new_aid()))

    assert [p["claimedBy"] for p in c.state["players"]] == [None, None, "alice"]
    fields = await h.fields(g.gid)
    assert sorted(k for k in fields if k.startswith(("tok:", "exp:"))) == ["exp:3", "tok:3"]


@pytest.mark.parametrize("status", ["running", "paused", "finished"])
async def test_claim_of_the_own_seat_after_the_start_fails_with_already_your_player(h: Harness, status: str) -> None:
    g = await h.new_game(3)
    await h.claim(g, "alice", 1)
    await h.store.start(g.gid, g.host, new_aid())
    if status == "paused":
        await h.store.pause(g.gid, g.host, new_aid())
    if status == "finished":
        await h.store.eliminate(g.gid, g.host, new_aid(), 2)
        await h.store.eliminate(g.gid, g.host, new_aid(), 3)

    await h.fails(g.gid, "ALREADY_YOUR_PLAYER", h.store.claim(g.gid, "alice", 1, new_aid()))


@pytest.mark.parametrize("status", ["running", "paused", "finished"])
async def test_claim_of_an_eliminated_player_after_the_start_fails(h: Harness, status: str) -> None:
    g = await h.running_game(3)
    await h.store.eliminate(g.gid, g.host, new_aid(), 3)
    if status == "paused":
        await h.store.pause(g.gid, g.host, new_aid())
    if status == "finished":
        await h.store.eliminate(g.gid, g.host, new_aid(), 2)

    await h.fails(g.gid, "PLAYER_ELIMINATED", h.store.claim(g.gid, "spectator", 3, new_aid()))


async def test_claim_of_an_eliminated_player_held_by_another_after_the_start_fails_as_eliminated(h: Harness) -> None:
    # HEAD's order: already mine, then eliminated, then held by someone else
    g = await h.new_game(3)
    await h.claim(g, "alice", 3)
    await h.store.start(g.gid, g.host, new_aid())
    await h.store.eliminate(g.gid, g.host, new_aid(), 3)

    await h.fails(g.gid, "PLAYER_ELIMINATED", h.store.claim(g.gid, "bob", 3, new_aid()))


@pytest.mark.parametrize("status", ["running", "paused"])
async def test_claim_of_a_seat_held_by_another_after_the_start_fails(h: Harness, status: str) -> None:
    g = await h.new_game()
    await h.claim(g, "alice", 1)
    await h.store.start(g.gid, g.host, new_aid())
    if status == "paused":
        await h.store.pause(g.gid, g.host, new_aid())

    await h.fails(g.gid, "PLAYER_CLAIMED", h.store.claim(g.gid, "bob", 1, new_aid()))


async def test_claim_of_an_eliminated_player_while_waiting_is_allowed_as_before(h: Harness) -> None:
    g = await h.new_game(3)
    await h.store.eliminate(g.gid, g.host, new_aid(), 2)

    c = await h.commits(g.gid, "claim", h.store.claim(g.gid, "alice", 2, new_aid()))

    assert player(c.state, 2)["claimedBy"] == "alice"


async def test_claim_retried_after_the_start_applies_once_and_answers_dup(h: Harness) -> None:
    g = await h.running_game()
    aid = new_aid()
    _, first = await h.store.claim(g.gid, "spectator", 2, aid)

    token, again = await h.store.claim(g.gid, "spectator", 2, aid)

    assert (again.status, again.state_json) == ("dup", first.state_json)
    assert (await h.fields(g.gid))["tok:2"] == token_digest(token)


async def test_claim_of_a_player_that_does_not_exist_fails(h: Harness) -> None:
    g = await h.new_game()

    await h.fails(g.gid, "PLAYER_NOT_FOUND", h.store.claim(g.gid, "alice", 3, new_aid()))
    await h.fails(g.gid, "PLAYER_NOT_FOUND", h.store.claim(g.gid, "alice", 0, new_aid()))


async def test_claim_in_a_missing_game_fails(h: Harness) -> None:
    gid = keys.new_game_id()

    await h.fails(gid, "GAME_NOT_FOUND", h.store.claim(gid, "alice", 1, new_aid()))

    assert await h.client.dbsize() == 0


async def test_claim_without_a_client_id_is_rejected(h: Harness) -> None:
    g = await h.new_game()

    await h.fails(g.gid, "INVALID_ARGUMENT", h.store.claim(g.gid, "", 1, new_aid()))


async def test_claim_with_a_token_hash_that_is_not_64_characters_is_rejected(h: Harness) -> None:
    g = await h.new_game()

    await h.raw_fails(
        g.gid,
        "INVALID_ARGUMENT",
        h.run_script("claim", g.gid, 1, "abc", TOKEN_MS, action_id=new_aid(), client_id="alice"),
    )


async def test_claim_with_a_token_lifetime_that_is_not_a_number_is_rejected(h: Harness) -> None:
    g = await h.new_game()

    await h.raw_fails(
        g.gid,
        "INVALID_ARGUMENT",
        h.run_script("claim", g.gid, 1, token_digest(new_token()), "x", action_id=new_aid(), client_id="alice"),
    )


async def test_the_host_role_bound_to_a_seat_follows_its_holder_to_the_seat_they_claim(h: Harness) -> None:
    g = await h.new_game(3)
    await h.claim(g, "alice", 1)
    await h.store.transfer_host(g.gid, g.host, new_aid(), 1)

    token, out = await h.store.claim(g.gid, "alice", 3, new_aid())

    assert (out.state["ownerId"], out.state["hostSeat"]) == ("alice", 3)
    await h.store.leave(g.gid, "alice", new_aid(), "disconnect")
    back = await h.store.reconnect(g.gid, "alice-2", new_aid(), 3, token, None)
    assert back.state["ownerId"] == "alice-2"


async def test_another_client_claiming_the_absent_hosts_seat_unbinds_the_role(h: Harness) -> None:
    g = await h.running_game(3)
    await h.claim(g, "alice", 1)
    await h.store.transfer_host(g.gid, g.host, new_aid(), 1)
    await h.store.leave(g.gid, "alice", new_aid(), "disconnect")

    token, out = await h.store.claim(g.gid, "mallory", 1, new_aid())

    assert (out.state["ownerId"], out.state["hostSeat"]) == ("alice", None)
    await h.store.leave(g.gid, "mallory", new_aid(), "disconnect")
    again = await h.store.reconnect(g.gid, "mallory-2", new_aid(), 1, token, None)
    assert again.state["ownerId"] == "alice"
