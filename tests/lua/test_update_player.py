from __future__ import annotations

from typing import Any

import pytest

from service import keys
from tests.support.lua_harness import LOG_CAP, Harness, new_aid, player


async def test_update_player_by_the_host_sets_every_field(h: Harness) -> None:
    g = await h.new_game()
    aid = new_aid()
    updates = {"name": "Ada", "time": 12_345, "life": -999, "drunkCounter": 999, "genericCounter": 7}

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, aid, 2, updates))

    p = player(c.state, 2)
    assert (p["name"], p["timeRemaining"], p["life"], p["drunkCounter"], p["genericCounter"]) == (
        "Ada",
        12_345,
        -999,
        999,
        7,
    )
    assert player(c.state, 1) == player(c.before or {}, 1)
    assert c.entry["d"] == {"playerId": 2}
    assert (c.entry["a"], c.entry["c"]) == (aid, g.host)


async def test_update_player_changes_only_the_fields_given(h: Harness) -> None:
    g = await h.new_game()

    # life 1, not 0: a life at or below 0 eliminates the player (HEAD's rule, tested below)
    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 1, {"life": 1}))

    assert c.before is not None
    assert player(c.state, 1) == {**player(c.before, 1), "life": 1}


async def test_update_player_to_zero_values_is_applied(h: Harness) -> None:
    g = await h.new_game()
    await h.store.update_player(g.gid, g.host, new_aid(), 1, {"drunkCounter": 5, "genericCounter": 5})

    c = await h.commits(
        g.gid,
        "updatePlayer",
        h.store.update_player(g.gid, g.host, new_aid(), 1, {"time": 0, "drunkCounter": 0, "genericCounter": 0}),
    )

    p = player(c.state, 1)
    assert (p["timeRemaining"], p["drunkCounter"], p["genericCounter"]) == (0, 0, 0)


async def test_update_player_stores_the_name_raw(h: Harness) -> None:
    g = await h.new_game()
    name = '<b>"Zoë" & co</b>'

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 1, {"name": name}))

    assert player(c.state, 1)["name"] == name


async def test_update_player_accepts_fifty_multibyte_characters_as_a_name(h: Harness) -> None:
    g = await h.new_game()

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 1, {"name": "é" * 50}))

    assert player(c.state, 1)["name"] == "é" * 50


async def test_update_player_accepts_a_name_of_fifty_four_byte_characters(h: Harness) -> None:
    g = await h.new_game()
    name = "\U0001f600" * 50

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 1, {"name": name}))

    assert player(c.state, 1)["name"] == name


async def test_update_player_by_the_seat_holder_of_that_player_is_allowed(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "alice", 1)

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, "alice", new_aid(), 1, {"name": "Alice"}))

    assert player(c.state, 1)["name"] == "Alice"


async def test_update_player_of_someone_elses_seat_fails(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "alice", 1)
    # a seat nobody holds may be changed by anyone while waiting (HEAD's canModifyPlayer)
    await h.claim(g, "bob", 2)

    await h.fails(g.gid, "NOT_AUTHORIZED_MODIFY", h.store.update_player(g.gid, "alice", new_aid(), 2, {"life": 1}))
    await h.fails(g.gid, "NOT_AUTHORIZED_MODIFY", h.store.update_player(g.gid, "", new_aid(), 2, {"life": 1}))


async def test_update_player_of_a_missing_player_by_a_non_host_is_not_authorized(h: Harness) -> None:
    g = await h.new_game()
    await h.claim(g, "alice", 1)

    await h.fails(g.gid, "NOT_AUTHORIZED_MODIFY", h.store.update_player(g.gid, "alice", new_aid(), 9, {"life": 1}))


async def test_update_player_of_a_missing_player_by_the_host_fails_with_player_not_found(h: Harness) -> None:
    g = await h.new_game()

    await h.fails(g.gid, "PLAYER_NOT_FOUND", h.store.update_player(g.gid, g.host, new_aid(), 9, {"life": 1}))


@pytest.mark.parametrize(
    "updates",
    [
        {"name": ""},
        {"name": "x" * 51},
        {"name": "é" * 51},
        {"name": "😀" * 51},
        {"name": 5},
        {"name": None},
        {"time": -1},
        {"time": 86_400_001},
        {"time": 1.5},
        {"time": "10"},
        {"life": -1000},
        {"life": 10_000},
        {"drunkCounter": -1},
        {"drunkCounter": 1000},
        {"genericCounter": -1},
        {"genericCounter": 1000},
        {"genericCounter": 0.5},
        {"life": 1, "time": -5},
    ],
)
async def test_update_player_rejects_values_out_of_range(h: Harness, updates: dict[str, Any]) -> None:
    g = await h.new_game()

    await h.fails(g.gid, "INVALID_ARGUMENT", h.store.update_player(g.gid, g.host, new_aid(), 1, updates))


async def test_update_player_rejects_an_update_that_is_not_an_object(h: Harness) -> None:
    g = await h.new_game()

    await h.raw_fails(
        g.gid,
        "INVALID_ARGUMENT",
        h.run_script("update_player", g.gid, 1, "5", action_id=new_aid(), client_id=g.host),
    )


async def test_update_player_with_no_known_field_is_a_noop(h: Harness) -> None:
    g = await h.new_game()

    await h.quiet(g.gid, "noop", h.store.update_player(g.gid, g.host, new_aid(), 1, {}))
    await h.quiet(g.gid, "noop", h.store.update_player(g.gid, g.host, new_aid(), 1, {"penalties": 3}))


async def test_update_player_time_of_the_running_player_counts_down_from_the_new_value(h: Harness) -> None:
    g = await h.running_game()
    h.clock.offset_ms = 2_000

    c = await h.commits(g.gid, "updatePlayer", h.store.update_player(g.gid, g.host, new_aid(), 1, {"time": 100_000}))

    assert player(c.state, 1)["timeRemaining"] == 100_000
    assert await h.due(g.gid) == c.state["serverTime"] + 100_000 - 60_000
    h.clock.offset_ms = 3_000
    paused = await h.store.pause(g.gid, g.host, new_aid())
    charged = paused.state["serverTime"] - c.state["serverTime"]
    assert charged >= 1_000
    assert player(paused.state, 1)["timeRemaining"] == 100_000 - charged


async def test_update_player_retried_with_the_same_action_id_applies_once(h: Harness) -> None:
    g = await h.new_game()
    aid = new_aid()
    first = await h.store.update_player(g.gid, g.host, aid, 1, {"life": 19})

    out = await h.quiet(g.gid, "dup", h.store.update_player(g.gid, g.host, aid, 1, {"life": 18}))

    assert out.state_json == first.state_json
    assert player(out.state, 1)["life"] == 19


async def test_update_player_in_a_missing_game_fails(h: Harness) -> None:
    gid = keys.new_game_id()

    await h.fails(gid, "GAME_NOT_FOUND", h.store.update_player(gid, "host", new_aid(), 1, {"life": 1}))


async def test_the_log_is_capped_and_the_action_ids_leave_with_their_entries(h: Harness) -> None:
    g = await h.new_game()
    create_aid = (await h.log(g.gid))[0]["a"]
    aids = [f"life-{i:03d}" for i in range(300)]

    for i, aid in enumerate(aids):
        out = await h.store.update_player(g.gid, g.host, aid, 1, {"life": i})
        assert out.status == "ok"

    log = await h.log(g.gid)
    acts = await h.acts(g.gid)
    assert len(log) == LOG_CAP
    assert await h.client.hlen(keys.actions(g.gid)) == LOG_CAP
    assert [e["a"] for e in log] == aids[::-1][:LOG_CAP]
    assert [e["v"] for e in log] == list(range(301, 301 - LOG_CAP, -1))
    assert acts == {aid: str(i + 2) for i, aid in enumerate(aids) if i >= 300 - LOG_CAP}
    assert create_aid not in acts
    # an action that fell out of the log is no longer recognised as a retry
    out = await h.store.update_player(g.gid, g.host, aids[0], 1, {"life": 1})
    assert (out.status, out.version) == ("ok", 302)
    assert len(await h.log(g.gid)) == LOG_CAP
    assert await h.client.hlen(keys.actions(g.gid)) == LOG_CAP
