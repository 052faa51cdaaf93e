from __future__ import annotations

import json

from service import keys
from service.game import token_digest
from tests.support.formats import format_game
from tests.support.lua_harness import Harness, new_aid


async def test_reset_returns_a_played_game_to_waiting_with_fresh_clocks(h: Harness) -> None:
    g = await h.new_game(3, penalty_type="game_loss")
    alice = await h.claim(g, "alice", 1)
    await h.store.update_player(
        g.gid, g.host, new_aid(), 2, {"name": "Bob", "life": 3, "drunkCounter": 4, "genericCounter": 5}
    )
    await h.store.start(g.gid, g.host, new_aid())
    h.clock.offset_ms = 5_000
    await h.store.add_penalty(g.gid, g.host, new_aid(), 3)
    fields_before = await h.fields(g.gid)

    c = await h.commits(g.gid, "reset", h.store.reset(g.gid, g.host, new_aid()))

    st = c.state
    assert (st["status"], st["activePlayer"], st["winner"]) == ("waiting", None, None)
    assert [
        (
            p["name"],
            p["timeRemaining"],
            p["penalties"],
            p["isEliminated"],
            p["life"],
            p["drunkCounter"],
            p["genericCounter"],
            p["claimedBy"],
        )
        for p in st["players"]
    ] == [
        ("Player 1", 600_000, 0, False, 20, 0, 0, "alice"),
        ("Bob", 600_000, 0, False, 20, 0, 0, None),
        ("Player 3", 600_000, 0, False, 20, 0, 0, None),
    ]
    assert c.before is not None and st["settings"] == c.before["settings"]
    assert await h.due(g.gid) is None
    fields = await h.fields(g.gid)
    assert {k: v for k, v in fields.items() if k != "state"} == {k: v for k, v in fields_before.items() if k != "state"}
    assert fields["tok:1"] == token_digest(alice)


async def test_reset_of_a_finished_game_clears_the_winner(h: Harness) -> None:
    g = await h.running_game()
    finished = await h.store.eliminate(g.gid, g.host, new_aid(), 1)
    assert (finished.state["status"], finished.state["winner"]) == ("finished", 2)

    c = await h.commits(g.gid, "reset", h.store.reset(g.gid, g.host, new_aid()))

    assert (c.state["status"], c.state["winner"]) == ("waiting", None)
    assert [p["isEliminated"] for p in c.state["players"]] == [False, False]


async def test_reset_by_the_former_host_after_host_rights_moved_fails(h: Harness) -> None:
    g = await h.running_game()
    await h.store.reconnect(g.gid, "alice", new_aid(), None, None, g.host_token)

    await h.fails(g.gid, "NOT_OWNER_RESET", h.store.reset(g.gid, g.host, new_aid()))


async def test_reset_by_a_player_fails(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "alice", 1)

    await h.fails(g.gid, "NOT_OWNER_RESET", h.store.reset(g.gid, "alice", new_aid()))


async def test_reset_retried_with_the_same_action_id_applies_once(h: Harness) -> None:
    g = await h.running_game()
    aid = new_aid()
    first = await h.store.reset(g.gid, g.host, aid)
    await h.store.start(g.gid, g.host, new_aid())

    out = await h.quiet(g.gid, "dup", h.store.reset(g.gid, g.host, aid))

    assert out.state["status"] == "running"
    assert out.version == first.version + 1


async def test_reset_of_a_missing_game_fails(h: Harness) -> None:
    gid = keys.new_game_id()

    await h.fails(gid, "GAME_NOT_FOUND", h.store.reset(gid, "host", new_aid()))


async def test_reset_publishes_the_warning_and_timeout_already_due(h: Harness) -> None:
    # the clock ran past a threshold and out before the deadline loop fired: after the reset
    # the loop finds a waiting game, so these events are published by the reset or never
    g = await h.running_game(2, initial_time=15_000, thresholds=(10_000,))
    h.clock.offset_ms = 20_000

    c = await h.commits(g.gid, "reset", h.store.reset(g.gid, g.host, new_aid()))

    assert c.events == [
        {"type": "warning", "data": {"playerId": 1, "threshold": 10_000}},
        {"type": "timeout", "data": {"playerId": 1}},
    ]
    assert (c.state["status"], c.state["activePlayer"]) == ("waiting", None)
    assert [(p["timeRemaining"], p["penalties"]) for p in c.state["players"]] == [(15_000, 0), (15_000, 0)]


async def test_reset_restores_the_starting_life_and_clears_every_counter_and_reason(h: Harness) -> None:
    g = await format_game(h, "commander", 3, started=True)
    await h.store.update_player(g.gid, g.host, new_aid(), 1, {"poison": 4, "energy": 2, "experience": 3, "life": 9})
    await h.store.commander_damage(g.gid, g.host, new_aid(), 2, 1, True, 21)

    c = await h.commits(g.gid, "reset", h.store.reset(g.gid, g.host, new_aid()))

    assert [
        (
            p["life"],
            p["poison"],
            p["energy"],
            p["experience"],
            p["commanderDamage"],
            p["isEliminated"],
            p["eliminatedReason"],
        )
        for p in c.state["players"]
    ] == [(40, 0, 0, 0, [[0, 0]] * 3, False, None)] * 3
    assert c.state["settings"]["format"] == "commander"


async def test_reset_of_a_game_stored_before_formats_gives_twenty_life(h: Harness) -> None:
    g = await h.running_game(2)
    raw = json.loads(await h.raw_state(g.gid) or "{}")
    for k in ("format", "startingLife", "lossRules"):
        del raw["settings"][k]
    await h.client.hset(keys.game(g.gid), "state", json.dumps(raw))
    await h.store.update_player(g.gid, g.host, new_aid(), 1, {"life": 3})

    c = await h.commits(g.gid, "reset", h.store.reset(g.gid, g.host, new_aid()))

    assert [(p["life"], p["poison"]) for p in c.state["players"]] == [(20, 0), (20, 0)]
