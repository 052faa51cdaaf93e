"""Behaviour every game script shares through the lua/lib/ includes."""

from __future__ import annotations

import asyncio
from typing import Any

import fakeredis
import pytest

from service import keys
from service.game import GameStore, new_token, token_digest
from service.scripts import script_names
from tests.support.lua_harness import IDLE_RETENTION_MS, RETENTION_MS, TOKEN_MS, Harness, new_aid, player

#: rate_limit and the feedback scripts touch no game; claim_deadlines and due_partitions only
#: the deadline index
GAME_SCRIPTS = [
    n
    for n in script_names()
    if n not in ("claim_deadlines", "due_partitions", "rate_limit") and not n.startswith("feedback_")
]

#: ARGV past the seven common ones that get each script past its own argument checks.
EXTRA: dict[str, list[str | int]] = {
    "create": [
        '{"playerCount":2,"initialTime":1000,"warningThresholds":[500],"penaltyType":"warning",'
        '"penaltyTimeDeduction":0,"name":"Game","mode":"casual","listed":true}',
        token_digest(new_token()),
        TOKEN_MS,
    ],
    "claim": [1, token_digest(new_token()), TOKEN_MS],
    "leave": ["leave"],
    "reconnect": ["", "", token_digest(new_token()), TOKEN_MS],
    "switch": [2],
    "update_player": [1, '{"life":1}'],
    "add_penalty": [1],
    "eliminate": [1],
    "update_settings": ['{"penaltyType":"game_loss"}'],
    "release_clients": ["client_0123456789_"],
    "roll_dice": [6, 3],
    "random_start_player": [0],
    "roll_play_order": ["A" * 800],
    "admin_add_time": [1, 60_000],
    "admin_kick": [1],
    "admin_revive": [1],
    "undo": [1],
    "history": [20, ""],
    "missed_events": [0],
    "rename_game": ["Renamed"],
    "set_listed": ["0"],
    "timeout_choice": ["die"],
    "toggle_target": [2],
    "commander_damage": [1, 2, "0", 3],
    "transfer_host": [1],
    "move_seat": [1, 2],
    "free_seat": [1],
}
NO_EXTRA = {
    "join",
    "unclaim",
    "start",
    "pause",
    "reset",
    "fire_deadline",
    "end_game",
    "interrupt",
    "pass_priority",
    "confirm_targets",
    "pass_target_priority",
    "cancel_targeting",
    "concede",
    "claim_host",
}


def test_every_game_script_is_covered_by_the_publish_check() -> None:
    assert set(GAME_SCRIPTS) == set(EXTRA) | NO_EXTRA


@pytest.mark.parametrize("name", GAME_SCRIPTS)
async def test_every_game_script_refuses_an_unknown_publish_command(h: Harness, name: str) -> None:
    g = await h.running_game()
    h.clock.offset_ms = 400_000

    await h.raw_fails(
        g.gid,
        "INVALID_ARGUMENT",
        h.run_script(name, g.gid, *EXTRA.get(name, []), action_id=new_aid(), client_id=g.host, pub="publish"),
    )


MALFORMED_RETENTIONS = ["", "0", "3600:", ":600", "3600:0", "1h", "3600:600:60"]


@pytest.mark.parametrize("name", GAME_SCRIPTS)
async def test_every_game_script_refuses_a_malformed_retention(h: Harness, name: str) -> None:
    """Every script reads the retention through lib/context.lua: one malformed form each shows
    that it does; the forms themselves are checked once, below."""
    g = await h.running_game()
    h.clock.offset_ms = 400_000

    await h.raw_fails(
        g.gid,
        "INVALID_ARGUMENT",
        h.run_script(name, g.gid, *EXTRA.get(name, []), action_id=new_aid(), client_id=g.host, retention="1h"),
    )


@pytest.mark.parametrize("retention", MALFORMED_RETENTIONS)
async def test_each_malformed_retention_is_refused(h: Harness, retention: str) -> None:
    g = await h.running_game()

    await h.raw_fails(
        g.gid,
        "INVALID_ARGUMENT",
        h.run_script("switch", g.gid, 2, action_id=new_aid(), client_id=g.host, retention=retention),
    )


async def test_a_seated_game_keeps_the_live_retention_and_an_emptied_one_the_idle_one(h: Harness) -> None:
    g = await h.new_game(2)
    token = await h.claim(g, "p1", 1)
    await h.claim(g, "p2", 2)
    await h.store.start(g.gid, g.host, new_aid())
    await h.assert_ttl(g.gid, RETENTION_MS)

    await h.store.leave(g.gid, "p1", new_aid(), "disconnect")
    await h.assert_ttl(g.gid, RETENTION_MS)
    await h.store.leave(g.gid, "p2", new_aid(), "disconnect")
    await h.assert_ttl(g.gid, IDLE_RETENTION_MS)

    # a player who comes back within the idle retention finds the game, and it is live again
    out = await h.store.reconnect(g.gid, "p1-again", new_aid(), 1, token, None)
    assert player(out.state, 1)["claimedBy"] == "p1-again"
    await h.assert_ttl(g.gid, RETENTION_MS)


async def test_a_finished_game_gets_the_idle_retention_even_with_its_seats_held(h: Harness) -> None:
    g = await h.new_game(2)
    await h.claim(g, "p1", 1)
    await h.claim(g, "p2", 2)
    await h.store.start(g.gid, g.host, new_aid())

    out = await h.store.eliminate(g.gid, g.host, new_aid(), 2)

    assert out.state["status"] == "finished"
    await h.assert_ttl(g.gid, IDLE_RETENTION_MS)


async def test_one_retention_number_still_serves_as_both(h: Harness) -> None:
    g = await h.new_game()

    reply = await h.run_script("join", g.gid, retention=1234)

    assert reply[0] == "noop"
    await h.assert_ttl(g.gid, 1_234_000)


async def test_the_idle_retention_never_outlasts_the_live_one(h: Harness) -> None:
    g = await h.new_game()

    await h.run_script("join", g.gid, retention="100:900")

    await h.assert_ttl(g.gid, 100_000)


async def test_a_store_with_sharded_pubsub_commits_through_spublish(h: Harness) -> None:
    sharded = GameStore(
        h.client, h.store.scripts, h.clock, retention_s=3600, token_ttl_s=7200, action_timeout_s=5, sharded_pubsub=True
    )
    g = await h.new_game()
    await h.published.drain()
    pubsub = h.client.pubsub()
    try:
        await pubsub.ssubscribe(keys.channel(g.gid))
        out = await sharded.start(g.gid, g.host, new_aid())
        messages: list[dict[str, Any]] = []
        async with asyncio.timeout(5):
            while not messages:
                msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if msg is not None:
                    messages.append(msg)
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call, unused-ignore]

    assert out.status == "ok"
    assert messages[0]["data"] == f"{out.version}\n[]\n{out.state_json}"
    if not isinstance(h.client, fakeredis.FakeAsyncRedis):
        # fakeredis also hands SPUBLISH messages to pattern subscribers; Redis never does
        assert await h.published.drain() == []


async def test_time_that_steps_back_is_not_charged_twice(h: Harness) -> None:
    g = await h.new_game()
    started = await h.store.start(g.gid, g.host, new_aid())
    h.clock.offset_ms = 10_000
    await h.store.update_player(g.gid, g.host, new_aid(), 2, {"life": 19})
    # Redis TIME may step back (NTP, failover to another host), as may a test clock
    h.clock.offset_ms = 0
    await h.store.update_player(g.gid, g.host, new_aid(), 2, {"life": 18})
    h.clock.offset_ms = 12_000

    last = await h.store.update_player(g.gid, g.host, new_aid(), 2, {"life": 17})

    # the stored state is settled: player 1 has run from the start up to serverTime, once
    ran = last.state["serverTime"] - started.state["serverTime"]
    assert 12_000 <= ran < 13_000
    assert player(last.state, 1)["timeRemaining"] == 600_000 - ran
