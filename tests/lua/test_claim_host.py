from __future__ import annotations

import json

from service import keys
from tests.support.lua_harness import Game, Harness, new_aid, player


async def host_gone(h: Harness, *, timeout: int | None = None) -> tuple[Game, dict[int, str]]:
    """A running game with seats held by p1 and p2 and a host who held seat 3 and closed."""
    g = await h.running_game(3)
    if timeout is not None:
        await h.store.update_settings(g.gid, g.host, new_aid(), {"hostTimeout": timeout})
    tokens = {pid: await h.claim(g, f"p{pid}", pid) for pid in (1, 2)}
    tokens[3] = await h.claim(g, g.host, 3)
    out = await h.store.leave(g.gid, g.host, new_aid(), "disconnect")
    assert out.state["hostAwaySince"] == out.state["serverTime"]
    return g, tokens


async def test_a_seated_player_takes_the_role_once_the_host_has_been_away_long_enough(h: Harness) -> None:
    g, _ = await host_gone(h)
    h.clock.offset_ms = 120_000
    aid = new_aid()

    c = await h.commits(g.gid, "claimHost", h.store.claim_host(g.gid, "p2", aid))

    assert (c.state["ownerId"], c.state["hostSeat"], c.state["hostAwaySince"]) == ("p2", 2, None)
    assert c.events == []
    assert c.entry["d"] == {"playerId": 2, "client": g.host}
    assert (c.entry["a"], c.entry["c"]) == (aid, "p2")
    fields = await h.fields(g.gid)
    assert "host" not in fields and "hostExp" not in fields


async def test_the_role_taken_works_as_after_a_transfer(h: Harness) -> None:
    g, tokens = await host_gone(h)
    h.clock.offset_ms = 120_000
    await h.store.claim_host(g.gid, "p2", new_aid())

    await h.commits(g.gid, "reset", h.store.reset(g.gid, "p2", new_aid()))
    await h.fails(
        g.gid, "INVALID_HOST_TOKEN", h.store.reconnect(g.gid, "host-back", new_aid(), None, None, g.host_token)
    )
    out = await h.store.reconnect(g.gid, "old-host", new_aid(), 3, tokens[3], None)
    assert (out.state["ownerId"], player(out.state, 3)["claimedBy"]) == ("p2", "old-host")
    await h.store.leave(g.gid, "p2", new_aid(), "disconnect")
    back = await h.store.reconnect(g.gid, "p2-again", new_aid(), 2, tokens[2], None)
    assert (back.state["ownerId"], back.state["hostAwaySince"]) == ("p2-again", None)


async def test_claim_before_the_timeout_is_refused(h: Harness) -> None:
    g, _ = await host_gone(h)
    h.clock.offset_ms = 110_000

    await h.fails(g.gid, "HOST_AWAY_TOO_SHORT", h.store.claim_host(g.gid, "p1", new_aid()))


async def test_the_games_own_host_timeout_decides(h: Harness) -> None:
    g, _ = await host_gone(h, timeout=10_000)
    h.clock.offset_ms = 5_000
    await h.fails(g.gid, "HOST_AWAY_TOO_SHORT", h.store.claim_host(g.gid, "p1", new_aid()))
    h.clock.offset_ms = 10_000

    c = await h.commits(g.gid, "claimHost", h.store.claim_host(g.gid, "p1", new_aid()))

    assert c.state["ownerId"] == "p1"


async def test_claim_while_the_host_is_here_is_refused(h: Harness) -> None:
    g = await h.running_game(3)
    await h.claim(g, "p1", 1)
    h.clock.offset_ms = 3_600_000

    await h.fails(g.gid, "HOST_PRESENT", h.store.claim_host(g.gid, "p1", new_aid()))


async def test_the_hosts_return_ends_the_absence(h: Harness) -> None:
    g, tokens = await host_gone(h)
    back = await h.store.reconnect(g.gid, "host-back", new_aid(), 3, tokens[3], g.host_token)
    assert (back.state["ownerId"], back.state["hostAwaySince"]) == ("host-back", None)
    h.clock.offset_ms = 3_600_000

    await h.fails(g.gid, "HOST_PRESENT", h.store.claim_host(g.gid, "p1", new_aid()))


async def test_claim_by_a_spectator_is_refused(h: Harness) -> None:
    g, _ = await host_gone(h)
    h.clock.offset_ms = 120_000

    await h.fails(g.gid, "NOT_AUTHORIZED_CLAIM_HOST", h.store.claim_host(g.gid, "watcher", new_aid()))


async def test_claim_by_the_host_is_refused(h: Harness) -> None:
    g = await h.running_game(3)
    await h.claim(g, g.host, 1)
    state = await h.state(g.gid)
    # a host marked away whose socket is still here (a state written by hand)
    state["hostAwaySince"] = state["serverTime"] - 3_600_000
    await h.client.hset(keys.game(g.gid), "state", json.dumps(state))

    await h.fails(g.gid, "ALREADY_HOST", h.store.claim_host(g.gid, g.host, new_aid()))


async def test_an_eliminated_seated_player_may_take_the_role(h: Harness) -> None:
    g, _ = await host_gone(h)
    h.clock.offset_ms = 120_000
    out = await h.store.eliminate(g.gid, g.host, new_aid(), 1)
    assert player(out.state, 1)["isEliminated"] is True

    c = await h.commits(g.gid, "claimHost", h.store.claim_host(g.gid, "p1", new_aid()))

    assert c.state["ownerId"] == "p1"


async def test_a_state_stored_before_host_absence_existed_has_a_present_host(h: Harness) -> None:
    g = await h.running_game(3)
    await h.claim(g, "p1", 1)
    state = await h.state(g.gid)
    assert "hostAwaySince" not in state
    h.clock.offset_ms = 3_600_000

    await h.fails(g.gid, "HOST_PRESENT", h.store.claim_host(g.gid, "p1", new_aid()))


async def test_claim_in_a_missing_game_fails(h: Harness) -> None:
    gid = keys.new_game_id()

    await h.fails(gid, "GAME_NOT_FOUND", h.store.claim_host(gid, "p1", new_aid()))


async def test_claim_retried_with_the_same_action_id_applies_once(h: Harness) -> None:
    g, _ = await host_gone(h)
    h.clock.offset_ms = 120_000
    aid = new_aid()
    first = await h.store.claim_host(g.gid, "p1", aid)

    out = await h.quiet(g.gid, "dup", h.store.claim_host(g.gid, "p1", aid))

    assert out.state_json == first.state_json
    assert [e["t"] for e in await h.log(g.gid)].count("claimHost") == 1
