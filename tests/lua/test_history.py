"""history.lua through GameStore.history, and the log entries lib/commit.lua writes for it:
who (seat, host), what, when and the before/after summary."""

from __future__ import annotations

import json

import pytest

from service import keys
from service.protocol import GameSettings
from tests.support.lua_harness import Game, Harness, new_aid


async def seated_game(h: Harness, players: int = 2) -> Game:
    gid, token, _ = await h.store.create("host", GameSettings(players, 600_000, (300_000,)), new_aid())
    g = Game(gid, token)
    for pid in range(1, players + 1):
        await h.claim(g, f"p{pid}", pid)
    await h.store.start(gid, g.host, new_aid())
    return g


async def test_a_log_entry_names_the_actor_and_what_changed(h: Harness) -> None:
    g = await seated_game(h)
    h.clock.offset_ms = 3_000

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, "p2", new_aid(), 2, {"life": 14}))

    assert (c.entry["p"], c.entry["h"], c.entry["c"]) == (2, False, "p2")
    # player 1's clock only ran: not a change
    assert c.entry["s"] == {
        "before": {"players": [{"id": 2, "life": 20}]},
        "after": {"players": [{"id": 2, "life": 14}]},
    }


async def test_a_turn_pass_summarises_the_turn_and_a_set_time_but_not_the_running_clock(h: Harness) -> None:
    g = await seated_game(h)
    h.clock.offset_ms = 2_000

    c = await h.commits(g.gid, "switch", h.store.switch(g.gid, "p1", new_aid(), "next"))
    # the pass begins turn 2 (lib/clocks.lua begin_turn)
    assert c.entry["s"] == {"before": {"activePlayer": 1, "turn": 1}, "after": {"activePlayer": 2, "turn": 2}}

    d = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 1, {"time": 5_000}))
    left = c.state["players"][0]["timeRemaining"]
    assert (d.entry["p"], d.entry["h"]) == (None, True)
    assert d.entry["s"] == {
        "before": {"players": [{"id": 1, "timeRemaining": left}]},
        "after": {"players": [{"id": 1, "timeRemaining": 5_000}]},
    }


async def test_an_elimination_that_ends_the_game_summarises_status_winner_and_player(h: Harness) -> None:
    g = await seated_game(h)

    c = await h.commits(g.gid, "eliminate", h.store.eliminate(g.gid, g.host, new_aid(), 2))

    assert c.entry["s"] == {
        "before": {
            "status": "running",
            "activePlayer": 1,
            "winner": None,
            "players": [{"id": 2, "isEliminated": False, "eliminatedReason": None}],
        },
        "after": {
            "status": "finished",
            "activePlayer": None,
            "winner": 1,
            "players": [{"id": 2, "isEliminated": True, "eliminatedReason": "host"}],
        },
    }


async def test_an_action_that_changes_nothing_summarised_has_no_summary(h: Harness) -> None:
    g = await seated_game(h)

    c = await h.commits(g.gid, "renameGame", h.store.rename_game(g.gid, g.host, new_aid(), "Other"))

    assert "s" not in c.entry


async def test_history_pages_newest_first_without_client_ids(h: Harness) -> None:
    g = await seated_game(h, 3)
    life = await h.store.update_player(g.gid, "p3", new_aid(), 3, {"life": 11})
    kick = await h.store.admin_kick(g.gid, g.host, new_aid(), 2)

    page = await h.store.history(g.gid, 2, None)

    assert page.next == life.version
    assert [e["version"] for e in page.entries] == [kick.version, life.version]
    assert page.entries[0] == {
        "version": kick.version,
        "type": "adminKick",
        "at": kick.state["serverTime"],
        "playerId": None,
        "host": True,
        "detail": {"playerId": 2},
        "before": {"players": [{"id": 2, "isEliminated": False, "eliminatedReason": None}]},
        "after": {"players": [{"id": 2, "isEliminated": True, "eliminatedReason": "kicked"}]},
        "undoable": True,
    }
    assert (page.entries[1]["playerId"], page.entries[1]["host"], page.entries[1]["undoable"]) == (3, False, True)
    assert "p2" not in json.dumps(page.to_data())


async def test_history_pages_back_to_the_first_entry(h: Harness) -> None:
    g = await seated_game(h, 2)
    newest = await h.store.update_player(g.gid, "p1", new_aid(), 1, {"life": 12})
    # create, two claims, start, the update
    assert newest.version == 5

    seen: list[int] = []
    before = None
    while True:
        page = await h.store.history(g.gid, 2, before)
        seen += [e["version"] for e in page.entries]
        if page.next is None:
            break
        before = page.next

    assert seen == [5, 4, 3, 2, 1]
    assert [e["type"] for e in (await h.store.history(g.gid, 50, None)).entries] == [
        "updatePlayer",
        "start",
        "claim",
        "claim",
        "create",
    ]
    assert (await h.store.history(g.gid, 20, 1)).entries == []
    assert (await h.store.history(g.gid, 20, 1)).next is None


async def test_history_marks_undoable_only_what_the_stack_holds(h: Harness) -> None:
    g = await seated_game(h, 2)
    await h.store.update_player(g.gid, "p1", new_aid(), 1, {"life": 12})
    await h.store.reset(g.gid, g.host, new_aid())
    again = await h.store.update_player(g.gid, "p1", new_aid(), 1, {"life": 13})

    page = await h.store.history(g.gid, 20, None)

    assert [e["version"] for e in page.entries if e["undoable"]] == [again.version]


async def test_history_of_an_older_entry_without_the_new_fields_has_nulls(h: Harness) -> None:
    g = await seated_game(h, 2)
    await h.client.lpush(keys.log(g.gid), json.dumps({"v": 6, "t": "pause", "a": "", "c": "p1", "at": 5}))

    page = await h.store.history(g.gid, 1, None)

    assert page.entries == [
        {
            "version": 6,
            "type": "pause",
            "at": 5,
            "playerId": None,
            "host": False,
            "detail": None,
            "before": None,
            "after": None,
            "undoable": False,
        }
    ]


async def test_history_is_a_read(h: Harness) -> None:
    g = await seated_game(h, 2)
    await h.published.drain()
    before = await h.snapshot(g.gid)

    await h.store.history(g.gid, 50, None)

    assert await h.snapshot(g.gid) == before
    assert await h.published.drain() == []


@pytest.mark.parametrize(("limit", "before"), [("0", ""), ("51", ""), ("x", ""), ("5", "0"), ("5", "y")])
async def test_the_script_refuses_a_page_out_of_range(h: Harness, limit: str, before: str) -> None:
    g = await seated_game(h, 2)

    await h.raw_fails(g.gid, "INVALID_ARGUMENT", h.run_script("history", g.gid, limit, before))


async def test_history_of_a_missing_game_is_not_found(h: Harness) -> None:
    gid = keys.new_game_id(b"gone")

    await h.raw_fails(gid, "GAME_NOT_FOUND", h.run_script("history", gid, 5, ""))
