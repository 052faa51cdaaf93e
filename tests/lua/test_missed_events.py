"""missed_events.lua through GameStore.missed_events: the state and, oldest first, the events of
the versions after the caller's newest, read back from the log that lib/commit.lua writes."""

from __future__ import annotations

import json

from service import keys
from tests.support.lua_harness import Harness, new_aid


async def test_the_events_after_a_version_come_back_oldest_first_with_the_state(h: Harness) -> None:
    g = await h.new_game(2)
    await h.claim(g, "alice", 1)
    rolls = [await h.commits(g.gid, "rollDice", h.store.roll_dice(g.gid, "alice", new_aid(), 20)) for _ in range(3)]
    # a commit without events between them: it has no entry in the reply
    rename = await h.commits(g.gid, "renameGame", h.store.rename_game(g.gid, g.host, new_aid(), "Friday"))
    since = rolls[0].state["version"]

    state_json, entries = await h.store.missed_events(g.gid, since)

    assert state_json == rename.out.state_json
    assert entries == [(c.state["version"], c.out.events_json) for c in rolls[1:]]
    assert [json.loads(e)[0]["type"] for _, e in entries] == ["diceRolled", "diceRolled"]


async def test_from_the_newest_version_there_is_nothing_and_from_zero_everything_the_log_holds(h: Harness) -> None:
    g = await h.new_game(2)
    await h.claim(g, "alice", 1)
    roll = await h.commits(g.gid, "rollDice", h.store.roll_dice(g.gid, "alice", new_aid(), 6))

    assert await h.store.missed_events(g.gid, roll.state["version"]) == (roll.out.state_json, [])
    # a caller ahead of the log (another timeline) gets the state alone
    assert await h.store.missed_events(g.gid, roll.state["version"] + 5) == (roll.out.state_json, [])
    _, everything = await h.store.missed_events(g.gid, 0)
    assert everything == [(roll.state["version"], roll.out.events_json)]


async def test_a_deadline_commits_warning_and_timeout_events_that_can_be_read_back(h: Harness) -> None:
    g = await h.running_game(2)
    h.clock.offset_ms = 600_000
    fired = await h.commits(g.gid, "deadline", h.store.fire_deadline(g.gid))
    events = json.loads(fired.out.events_json)
    assert [e["type"] for e in events] == ["warning", "warning", "warning", "timeout"]

    _, entries = await h.store.missed_events(g.gid, fired.state["version"] - 1)

    assert entries == [(fired.state["version"], fired.out.events_json)]


async def test_a_deleted_game_reads_as_gone(h: Harness) -> None:
    g = await h.new_game(2)
    await h.client.delete(keys.game(g.gid))

    assert await h.store.missed_events(g.gid, 0) == (None, [])


async def test_a_negative_or_fractional_since_is_refused(h: Harness) -> None:
    g = await h.new_game(2)
    for since in ("-1", "1.5", "x"):
        await h.raw_fails(g.gid, "INVALID_ARGUMENT", h.run_script("missed_events", g.gid, since))
