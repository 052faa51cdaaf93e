from __future__ import annotations

from service import keys
from service.game import token_digest
from tests.support.lua_harness import Harness, new_aid, player

DEAD = "client_deadbeef_"


async def test_release_clients_frees_the_seats_of_the_dead_instance_and_keeps_their_tokens(h: Harness) -> None:
    g = await h.new_game(3)
    t1 = await h.claim(g, DEAD + "1", 1)
    await h.claim(g, "client_alive_1", 2)
    t3 = await h.claim(g, DEAD + "2", 3)
    tokens_before = {k: v for k, v in (await h.fields(g.gid)).items() if k != "state"}

    c = await h.commits(g.gid, "release", h.store.release_clients(g.gid, DEAD))

    assert [p["claimedBy"] for p in c.state["players"]] == [None, "client_alive_1", None]
    assert (c.entry["a"], c.entry["c"], "d" in c.entry) == ("", "", False)
    fields = await h.fields(g.gid)
    assert {k: v for k, v in fields.items() if k != "state"} == tokens_before
    assert (fields["tok:1"], fields["tok:3"]) == (token_digest(t1), token_digest(t3))


async def test_released_seats_can_be_taken_back_with_reconnect(h: Harness) -> None:
    g = await h.new_game()
    token = await h.claim(g, DEAD + "1", 1)
    await h.store.start(g.gid, g.host, new_aid())
    await h.store.release_clients(g.gid, DEAD)

    c = await h.commits(g.gid, "reconnect", h.store.reconnect(g.gid, "client_new_1", new_aid(), 1, token, None))

    assert player(c.state, 1)["claimedBy"] == "client_new_1"


async def test_release_clients_charges_the_running_clock(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, DEAD + "1", 1)
    started = await h.store.start(g.gid, g.host, new_aid())
    h.clock.offset_ms = 2_500

    c = await h.commits(g.gid, "release", h.store.release_clients(g.gid, DEAD))

    charged = c.state["serverTime"] - started.state["serverTime"]
    assert charged >= 2_500
    assert player(c.state, 1)["timeRemaining"] == 600_000 - charged


async def test_release_clients_keeps_host_rights(h: Harness) -> None:
    g = await h.new_game(host=DEAD + "host")
    await h.claim(g, DEAD + "host", 1)

    c = await h.commits(g.gid, "release", h.store.release_clients(g.gid, DEAD))

    assert c.state["ownerId"] == DEAD + "host"


async def test_release_clients_with_no_matching_seat_is_a_noop(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "client_alive_1", 1)

    await h.quiet(g.gid, "noop", h.store.release_clients(g.gid, DEAD))


async def test_release_clients_matches_the_prefix_only_at_the_start(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "x" + DEAD + "1", 1)

    await h.quiet(g.gid, "noop", h.store.release_clients(g.gid, DEAD))


async def test_release_clients_rejects_a_prefix_shorter_than_eight_characters(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "client_1", 1)

    await h.fails(g.gid, "INVALID_ARGUMENT", h.store.release_clients(g.gid, "client_"))
    await h.fails(g.gid, "INVALID_ARGUMENT", h.store.release_clients(g.gid, ""))


async def test_release_clients_in_a_missing_game_fails(h: Harness) -> None:
    gid = keys.new_game_id()

    await h.fails(gid, "GAME_NOT_FOUND", h.store.release_clients(gid, DEAD))


async def test_release_clients_makes_a_host_of_the_dead_instance_away_even_without_a_seat(h: Harness) -> None:
    g = await h.new_game(host=DEAD + "host")
    await h.claim(g, "client_alive_1", 1)

    c = await h.commits(g.gid, "release", h.store.release_clients(g.gid, DEAD))

    assert (c.state["ownerId"], c.state["hostAwaySince"]) == (DEAD + "host", c.state["serverTime"])
    assert player(c.state, 1)["claimedBy"] == "client_alive_1"
    await h.quiet(g.gid, "noop", h.store.release_clients(g.gid, DEAD))


async def test_release_clients_leaves_a_host_of_another_instance_here(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, DEAD + "1", 1)

    c = await h.commits(g.gid, "release", h.store.release_clients(g.gid, DEAD))

    assert "hostAwaySince" not in c.state
