"""undo.lua and the undo stack lib/commit.lua keeps: who may undo what, what comes back, what
stays, and the time rule (the restored clocks are charged the game's running time since the
snapshot)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from service import keys
from service.clock import GameClock
from service.errors import GameError
from service.game import GameStore, Outcome
from service.protocol import GameSettings
from service.scripts import Scripts
from tests.support.lua_harness import Game, Harness, new_aid, player

UNDO_CAP = 16


async def game(
    h: Harness, players: int = 3, *, bonus: int | None = None, window: int | None = None, start: bool = True
) -> Game:
    """A game whose seats are held by p1, p2, ... (p1 active once started)."""
    settings = GameSettings(players, 600_000, (300_000,), bonus_time=bonus, undo_window=window)
    gid, token, out = await h.store.create("host", settings, new_aid())
    g = Game(gid, token)
    for pid in range(1, players + 1):
        await h.claim(g, f"p{pid}", pid)
    if start:
        await h.store.start(gid, g.host, new_aid())
    return g


async def stack(h: Harness, gid: str) -> list[dict[str, Any]]:
    """The undo stack's headers, newest first."""
    return [json.loads(str(e).split("\n", 1)[0]) for e in await h.client.lrange(keys.undo(gid), 0, -1)]


async def test_the_host_undoes_a_turn_pass_and_the_passer_is_charged_the_time_since(h: Harness) -> None:
    g = await game(h, 2, bonus=10_000)
    started = await h.state(g.gid)
    h.clock.offset_ms = 5_000
    passed = await h.store.switch(g.gid, "p1", new_aid(), "next")
    assert (passed.state["activePlayer"], player(passed.state, 2)["timeRemaining"]) == (2, 610_000)
    h.clock.offset_ms = 12_000

    c = await h.commits(g.gid, "undo", h.store.undo(g.gid, g.host, new_aid(), 1))

    st = c.state
    ran = st["serverTime"] - started["serverTime"]
    assert st["activePlayer"] == 1
    assert [p["timeRemaining"] for p in st["players"]] == [600_000 - ran, 600_000]
    assert st["runTime"] == ran
    assert (st["status"], st["version"]) == ("running", passed.version + 1)
    assert c.events == [{"type": "undone", "data": {"versions": [passed.version], "by": None, "host": True}}]
    assert c.entry["d"] == {"versions": [passed.version]}
    assert (c.entry["p"], c.entry["h"]) == (None, True)
    assert c.entry["s"]["before"]["activePlayer"] == 2 and c.entry["s"]["after"]["activePlayer"] == 1
    assert await stack(h, g.gid) == []


async def test_a_player_undoes_their_own_last_action_within_the_window(h: Harness) -> None:
    g = await game(h, 3)
    passed = await h.store.switch(g.gid, "p1", new_aid(), "next")
    assert [(e["v"], e["t"], e["p"], e["h"]) for e in await stack(h, g.gid)] == [(passed.version, "switch", 1, False)]
    h.clock.offset_ms = 29_000

    c = await h.commits(g.gid, "undo", h.store.undo(g.gid, "p1", new_aid(), 1))

    assert c.state["activePlayer"] == 1
    assert c.events[0] == {"type": "undone", "data": {"versions": [passed.version], "by": 1, "host": False}}
    assert (c.entry["p"], c.entry["h"]) == (1, False)


async def test_a_player_may_not_undo_another_players_action_nor_more_than_one(h: Harness) -> None:
    g = await game(h, 3)
    await h.store.update_player(g.gid, "p1", new_aid(), 1, {"life": 15})
    await h.store.update_player(g.gid, "p2", new_aid(), 2, {"life": 17})

    await h.fails(g.gid, "NOT_AUTHORIZED_UNDO", h.store.undo(g.gid, "p1", new_aid(), 1))
    await h.fails(g.gid, "NOT_AUTHORIZED_UNDO", h.store.undo(g.gid, "p2", new_aid(), 2))
    await h.fails(g.gid, "NOT_AUTHORIZED_UNDO", h.store.undo(g.gid, "spectator", new_aid(), 1))
    c = await h.commits(g.gid, "undo", h.store.undo(g.gid, "p2", new_aid(), 1))
    assert [p["life"] for p in c.state["players"]] == [15, 20, 20]


async def test_a_player_may_not_undo_once_the_window_has_passed(h: Harness) -> None:
    g = await game(h, 2)
    await h.store.update_player(g.gid, "p1", new_aid(), 1, {"life": 15})
    h.clock.offset_ms = 30_500

    await h.fails(g.gid, "UNDO_WINDOW_PASSED", h.store.undo(g.gid, "p1", new_aid(), 1))
    # the host has no window
    await h.commits(g.gid, "undo", h.store.undo(g.gid, g.host, new_aid(), 1))


async def test_the_window_is_a_setting_and_zero_leaves_undo_to_the_host(h: Harness) -> None:
    g = await game(h, 2, window=60_000)
    await h.store.update_player(g.gid, "p1", new_aid(), 1, {"life": 15})
    h.clock.offset_ms = 45_000
    await h.commits(g.gid, "undo", h.store.undo(g.gid, "p1", new_aid(), 1))

    await h.store.update_settings(g.gid, g.host, new_aid(), {"undoWindow": 0})
    await h.store.update_player(g.gid, "p1", new_aid(), 1, {"life": 14})
    await h.fails(g.gid, "NOT_AUTHORIZED_UNDO", h.store.undo(g.gid, "p1", new_aid(), 1))
    assert (await h.state(g.gid))["settings"]["undoWindow"] == 0


async def test_nothing_to_undo_and_not_that_many(h: Harness) -> None:
    g = await game(h, 2)
    await h.fails(g.gid, "NOTHING_TO_UNDO", h.store.undo(g.gid, g.host, new_aid(), 1))
    await h.fails(g.gid, "NOTHING_TO_UNDO", h.store.undo(g.gid, "p1", new_aid(), 1))
    await h.store.update_player(g.gid, "p1", new_aid(), 1, {"life": 15})
    await h.store.add_penalty(g.gid, g.host, new_aid(), 2)

    await h.fails(g.gid, "NOT_ENOUGH_TO_UNDO", h.store.undo(g.gid, g.host, new_aid(), 3))


async def test_the_host_undoes_the_last_n_actions_at_once(h: Harness) -> None:
    g = await game(h, 3)
    life = await h.store.update_player(g.gid, "p1", new_aid(), 1, {"life": 12})
    penalty = await h.store.add_penalty(g.gid, g.host, new_aid(), 2)
    out = await h.store.eliminate(g.gid, g.host, new_aid(), 3)
    assert player(out.state, 3)["isEliminated"]

    c = await h.commits(g.gid, "undo", h.store.undo(g.gid, g.host, new_aid(), 2))

    assert c.events[0]["data"]["versions"] == [out.version, penalty.version]
    assert [(p["life"], p["penalties"], p["isEliminated"]) for p in c.state["players"]] == [
        (12, 0, False),
        (20, 0, False),
        (20, 0, False),
    ]
    assert [e["v"] for e in await stack(h, g.gid)] == [life.version]


async def test_undo_keeps_the_seats_names_colours_host_name_listing_and_settings(h: Harness) -> None:
    g = await game(h, 2)
    await h.store.update_player(g.gid, g.host, new_aid(), 2, {"life": 11})
    await h.store.unclaim(g.gid, "p2", new_aid())
    await h.claim(g, "newcomer", 2)
    await h.store.update_player(g.gid, "p1", new_aid(), 1, {"name": "Ann", "color": "teal"})
    await h.store.rename_game(g.gid, g.host, new_aid(), "Friday")
    await h.store.set_listed(g.gid, g.host, new_aid(), False)
    await h.store.update_settings(g.gid, g.host, new_aid(), {"penaltyType": "game_loss"})

    # the name change is the newest undoable action; undo it and the life change before it
    c = await h.commits(g.gid, "undo", h.store.undo(g.gid, g.host, new_aid(), 2))

    st = c.state
    assert (player(st, 2)["life"], player(st, 2)["claimedBy"]) == (20, "newcomer")
    assert (player(st, 1)["name"], player(st, 1)["color"], player(st, 1)["claimedBy"]) == ("Ann", "teal", "p1")
    assert (st["name"], st["listed"], st["ownerId"], st["settings"]["penaltyType"]) == (
        "Friday",
        False,
        "host",
        "game_loss",
    )


async def test_undoing_the_elimination_that_finished_the_game_reopens_it_paused(h: Harness) -> None:
    g = await game(h, 2)
    out = await h.store.eliminate(g.gid, g.host, new_aid(), 2)
    assert (out.state["status"], out.state["winner"]) == ("finished", 1)

    c = await h.commits(g.gid, "undo", h.store.undo(g.gid, g.host, new_aid(), 1))

    assert (c.state["status"], c.state["winner"], player(c.state, 2)["isEliminated"]) == ("paused", None, False)
    assert await h.due(g.gid) is None


async def test_undo_while_paused_stays_paused_and_charges_only_the_running_time(h: Harness) -> None:
    g = await game(h, 2)
    started = await h.state(g.gid)
    h.clock.offset_ms = 2_000
    await h.store.switch(g.gid, "p1", new_aid(), "next")
    h.clock.offset_ms = 5_000
    paused = await h.store.pause(g.gid, g.host, new_aid())
    h.clock.offset_ms = 60_000

    c = await h.commits(g.gid, "undo", h.store.undo(g.gid, g.host, new_aid(), 1))

    ran = paused.state["serverTime"] - started["serverTime"]
    assert (c.state["status"], c.state["activePlayer"]) == ("paused", 1)
    assert [p["timeRemaining"] for p in c.state["players"]] == [600_000 - ran, 600_000]
    assert c.state["runTime"] == ran


async def test_the_restored_clock_times_out_if_the_running_time_since_exhausts_it(h: Harness) -> None:
    settings = GameSettings(2, 10_000, (5_000,))
    gid, token, _ = await h.store.create("host", settings, new_aid())
    g = Game(gid, token)
    await h.store.start(gid, g.host, new_aid())
    h.clock.offset_ms = 1_000
    await h.store.switch(gid, g.host, new_aid(), "next")
    h.clock.offset_ms = 12_000

    c = await h.commits(gid, "undo", h.store.undo(gid, g.host, new_aid(), 1))

    # v1's timeout: the restored clock ran out on the way, so the game pauses with a penalty
    # the current clock's run first (player 2's), then the restored one's (player 1's)
    assert [(e["type"], e["data"].get("playerId")) for e in c.events] == [
        ("warning", 2),
        ("timeout", 2),
        ("undone", None),
        ("warning", 1),
        ("timeout", 1),
    ]
    assert (c.state["status"], player(c.state, 1)["timeRemaining"], player(c.state, 1)["penalties"]) == (
        "paused",
        0,
        1,
    )


async def test_a_barrier_clears_the_stack(h: Harness) -> None:
    g = await game(h, 2)
    await h.store.update_player(g.gid, "p1", new_aid(), 1, {"life": 15})
    await h.store.interrupt(g.gid, "p2", new_aid())
    assert await stack(h, g.gid) == []
    await h.fails(g.gid, "NOTHING_TO_UNDO", h.store.undo(g.gid, g.host, new_aid(), 1))

    await h.store.pass_priority(g.gid, "p2", new_aid())
    await h.store.update_player(g.gid, "p1", new_aid(), 1, {"life": 14})
    await h.store.reset(g.gid, g.host, new_aid())
    await h.fails(g.gid, "NOTHING_TO_UNDO", h.store.undo(g.gid, g.host, new_aid(), 1))


async def test_a_neutral_action_keeps_the_stack_and_an_undo_is_not_itself_undone(h: Harness) -> None:
    g = await game(h, 2)
    first = await h.store.update_player(g.gid, "p1", new_aid(), 1, {"life": 15})
    second = await h.store.update_player(g.gid, "p1", new_aid(), 1, {"life": 10})
    await h.store.pause(g.gid, g.host, new_aid())
    await h.store.rename_game(g.gid, g.host, new_aid(), "Other")
    assert [e["v"] for e in await stack(h, g.gid)] == [second.version, first.version]

    await h.store.undo(g.gid, g.host, new_aid(), 1)
    c = await h.commits(g.gid, "undo", h.store.undo(g.gid, g.host, new_aid(), 1))

    assert (player(c.state, 1)["life"], c.state["status"]) == (20, "paused")
    assert await stack(h, g.gid) == []


async def test_the_stack_is_capped_expires_with_the_game_and_goes_with_end_game(h: Harness) -> None:
    g = await game(h, 2)
    for life in range(1, UNDO_CAP + 5):
        await h.store.update_player(g.gid, "p1", new_aid(), 1, {"life": life})

    assert await h.client.llen(keys.undo(g.gid)) == UNDO_CAP
    ttl = await h.client.pttl(keys.undo(g.gid))
    assert 3_600_000 - 5_000 < ttl <= 3_600_000
    c = await h.commits(g.gid, "undo", h.store.undo(g.gid, g.host, new_aid(), UNDO_CAP))
    assert player(c.state, 1)["life"] == 4

    await h.store.update_player(g.gid, "p1", new_aid(), 1, {"life": 1})
    await h.store.end_game(g.gid, g.host, new_aid())
    assert await h.client.exists(keys.undo(g.gid)) == 0


async def test_the_state_says_how_many_actions_the_stack_holds(h: Harness) -> None:
    g = await game(h, 2)

    async def stored() -> int:
        return int(json.loads(str(await h.raw_state(g.gid)))["undoDepth"])

    async def depth(out: Outcome) -> int:
        # the state's count is the stack's length, in the reply and in what is stored
        assert out.state["undoDepth"] == await stored() == await h.client.llen(keys.undo(g.gid))
        return await stored()

    # start is a barrier: nothing to undo yet
    assert await stored() == 0
    depths = [
        await depth(await h.store.update_player(g.gid, "p1", new_aid(), 1, {"life": life}))
        for life in range(1, UNDO_CAP + 3)
    ]
    # one more per undoable action, up to the cap the stack is trimmed to
    assert depths == [*range(1, UNDO_CAP + 1), UNDO_CAP, UNDO_CAP]
    # a neutral action keeps it; an undo of n takes n off, an undo of the rest empties it
    assert await depth(await h.store.pause(g.gid, g.host, new_aid())) == UNDO_CAP
    assert await depth(await h.store.undo(g.gid, g.host, new_aid(), 3)) == UNDO_CAP - 3
    assert await depth(await h.store.undo(g.gid, g.host, new_aid(), UNDO_CAP - 3)) == 0
    # and a barrier empties it too
    await h.store.add_penalty(g.gid, g.host, new_aid(), 1)
    assert await depth(await h.store.reset(g.gid, g.host, new_aid())) == 0


async def test_the_snapshot_is_the_stored_state_before_the_action_byte_for_byte(h: Harness) -> None:
    g = await game(h, 2)
    before = await h.raw_state(g.gid)
    await h.store.add_penalty(g.gid, g.host, new_aid(), 1)

    (entry,) = await h.client.lrange(keys.undo(g.gid), 0, -1)
    assert str(entry).split("\n", 1)[1] == before


async def test_a_retried_undo_answers_dup(h: Harness) -> None:
    g = await game(h, 2)
    await h.store.update_player(g.gid, "p1", new_aid(), 1, {"life": 15})
    await h.store.update_player(g.gid, "p1", new_aid(), 1, {"life": 10})
    aid = new_aid()
    await h.store.undo(g.gid, g.host, aid, 1)

    out = await h.quiet(g.gid, "dup", h.store.undo(g.gid, g.host, aid, 1))
    assert player(out.state, 1)["life"] == 15


async def test_undo_brings_back_the_targeting_a_host_switch_ended(h: Harness) -> None:
    g = await game(h, 3)
    await h.store.toggle_target(g.gid, "p1", new_aid(), 2)
    await h.store.confirm_targets(g.gid, "p1", new_aid())
    out = await h.store.switch(g.gid, g.host, new_aid(), 3)
    assert (out.state["targetingState"], out.state["activePlayer"]) == ("none", 3)

    c = await h.commits(g.gid, "undo", h.store.undo(g.gid, g.host, new_aid(), 1))

    assert (c.state["targetingState"], c.state["awaitingPriority"], c.state["activePlayer"]) == ("resolving", [2], 1)


async def test_a_state_stored_before_run_time_existed_is_undone_from_zero(h: Harness) -> None:
    g = await game(h, 2)
    st = await h.state(g.gid)
    del st["runTime"]
    await h.client.hset(keys.game(g.gid), "state", json.dumps(st))
    await h.store.switch(g.gid, "p1", new_aid(), "next")

    c = await h.commits(g.gid, "undo", h.store.undo(g.gid, g.host, new_aid(), 1))

    assert c.state["activePlayer"] == 1
    assert player(c.state, 1)["timeRemaining"] == 600_000 - c.state["runTime"]


@pytest.mark.parametrize("count", ["0", "17", "x", "1.5", ""])
async def test_the_script_refuses_a_count_out_of_range(h: Harness, count: str) -> None:
    g = await game(h, 2)
    await h.store.update_player(g.gid, "p1", new_aid(), 1, {"life": 15})

    await h.raw_fails(g.gid, "INVALID_ARGUMENT", h.run_script("undo", g.gid, count, client_id=g.host))


async def test_undo_of_a_missing_game_is_not_found(h: Harness) -> None:
    gid = keys.new_game_id(b"missing")
    await h.raw_fails(gid, "GAME_NOT_FOUND", h.run_script("undo", gid, 1, client_id="host"))


async def test_create_and_update_settings_refuse_an_undo_window_out_of_range(h: Harness) -> None:
    g = await game(h, 2)
    for bad in ('{"undoWindow":-1}', '{"undoWindow":300001}', '{"undoWindow":1.5}'):
        await h.raw_fails(g.gid, "INVALID_ARGUMENT", h.run_script("update_settings", g.gid, bad, client_id=g.host))


# -- concurrency (a real redis-server) -----------------------------------------------------

Step = Callable[[GameStore, str], Awaitable[Any]]


async def copy_game(client: Redis, gid: str, seed: bytes) -> str:
    """The game's keys copied under a new id: the same game, to replay actions on."""
    new = keys.new_game_id(seed)
    fields: dict[Any, Any] = await client.hgetall(keys.game(gid))
    st = json.loads(fields["state"])
    st["id"] = new
    fields["state"] = json.dumps(st)
    await client.hset(keys.game(new), mapping=fields)
    for make in (keys.log, keys.undo):
        entries = await client.lrange(make(gid), 0, -1)
        if entries:
            await client.rpush(make(new), *entries)
    return new


def comparable(state: dict[str, Any]) -> dict[str, Any]:
    """The state without what differs between two runs of the same actions: the game id and
    the times (each run reads its own Redis TIME)."""
    timed = ("id", "serverTime", "lastActivity", "runTime", "createdAt", "turnTime")
    out = {k: v for k, v in state.items() if k not in timed}
    out["players"] = [{k: v for k, v in p.items() if k not in ("timeRemaining", "timeUsed")} for p in state["players"]]
    return out


async def attempt(step: Step, store: GameStore, gid: str) -> None:
    with contextlib.suppress(GameError):  # a refusal is one possible outcome of the race
        await step(store, gid)


async def race(rdb: Redis, setup: Step, steps: tuple[Step, Step], seed: bytes) -> None:
    """Runs `steps` at once on a game, then each serial order on a copy of the game as it
    was; the result must equal one of the serial orders'."""
    store = GameStore(rdb, Scripts(rdb), GameClock(), retention_s=3600, token_ttl_s=7200, action_timeout_s=5)
    settings = GameSettings(3, 600_000, (300_000,))
    gid, _, _ = await store.create("host", settings, new_aid())
    for pid in (1, 2, 3):
        await store.claim(gid, f"p{pid}", pid, new_aid())
    await store.start(gid, "host", new_aid())
    await setup(store, gid)
    copies = [await copy_game(rdb, gid, seed + bytes([i])) for i in range(2)]

    await asyncio.gather(*(attempt(s, store, gid) for s in steps))

    results = []
    for copy, order in zip(copies, (steps, steps[::-1]), strict=True):
        for s in order:
            await attempt(s, store, copy)
        results.append(comparable(json.loads(await rdb.hget(keys.game(copy), "state") or "{}")))
    assert results[0] != results[1], "the two orders must be told apart"
    final = comparable(json.loads(await rdb.hget(keys.game(gid), "state") or "{}"))
    assert final in results


async def test_two_players_undoing_at_once_leave_a_state_of_some_serial_order(rdb: Redis) -> None:
    async def setup(store: GameStore, gid: str) -> None:
        await store.switch(gid, "p1", new_aid(), "next")
        await store.update_player(gid, "p2", new_aid(), 2, {"life": 7})

    def undo_by(client: str) -> Step:
        return lambda store, gid: store.undo(gid, client, new_aid(), 1)

    for i in range(10):
        await race(rdb, setup, (undo_by("p1"), undo_by("p2")), b"two-undos" + bytes([i]))


async def test_an_undo_racing_a_turn_pass_leaves_a_state_of_some_serial_order(rdb: Redis) -> None:
    async def setup(store: GameStore, gid: str) -> None:
        await store.update_player(gid, "host", new_aid(), 3, {"life": 9})

    async def undo(store: GameStore, gid: str) -> Any:
        return await store.undo(gid, "host", new_aid(), 1)

    async def pass_turn(store: GameStore, gid: str) -> Any:
        return await store.switch(gid, "p1", new_aid(), "next")

    for i in range(10):
        await race(rdb, setup, (undo, pass_turn), b"undo-pass" + bytes([i]))
