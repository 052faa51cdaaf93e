"""The turn bonus (settings.bonusTime, B6.4) in switch.lua and update_settings.lua: once per
real turn pass while running, never to oneself, while waiting or paused (HEAD's C15)."""

from __future__ import annotations

from service.protocol import GameSettings, create_settings
from tests.support.lua_harness import Game, Harness, new_aid, player


async def bonus_game(h: Harness, bonus: int, initial: int = 600_000) -> Game:
    settings = GameSettings(3, initial, (300_000,), bonus_time=bonus)
    gid, token, out = await h.store.create("host", settings, new_aid())
    assert out.state["settings"]["bonusTime"] == bonus
    return Game(gid, token)


async def test_pass_turn_while_running_adds_the_bonus_to_the_new_active_player(h: Harness) -> None:
    g = await bonus_game(h, 30_000)
    await h.store.start(g.gid, g.host, new_aid())

    c = await h.commits(g.gid, "switch", h.store.switch(g.gid, g.host, new_aid(), "next"))

    assert player(c.state, 2)["timeRemaining"] == 630_000
    assert c.entry["d"] == {"playerId": 2, "bonus": 30_000}
    assert await h.due(g.gid) == c.state["serverTime"] + 630_000 - 300_000
    d = await h.commits(g.gid, "switch", h.store.switch(g.gid, g.host, new_aid(), 1))
    assert d.entry["d"]["bonus"] == 30_000


async def test_no_bonus_to_oneself_while_waiting_or_paused(h: Harness) -> None:
    g = await bonus_game(h, 30_000)
    w = await h.commits(g.gid, "switch", h.store.switch(g.gid, g.host, new_aid(), 2))
    assert [p["timeRemaining"] for p in w.state["players"]] == [600_000] * 3
    await h.store.start(g.gid, g.host, new_aid())
    await h.quiet(g.gid, "noop", h.store.switch(g.gid, g.host, new_aid(), 2))
    paused = await h.store.pause(g.gid, g.host, new_aid())

    p = await h.commits(g.gid, "switch", h.store.switch(g.gid, g.host, new_aid(), 3))

    assert [q["timeRemaining"] for q in p.state["players"]] == [q["timeRemaining"] for q in paused.state["players"]]
    assert p.entry["d"] == {"playerId": 3}


async def test_the_bonus_is_capped_at_24_hours(h: Harness) -> None:
    g = await bonus_game(h, 300_000, initial=86_300_000)
    await h.store.start(g.gid, g.host, new_aid())

    c = await h.commits(g.gid, "switch", h.store.switch(g.gid, g.host, new_aid(), 2))

    assert player(c.state, 2)["timeRemaining"] == 86_400_000
    assert c.entry["d"] == {"playerId": 2, "bonus": 100_000}


async def test_a_game_without_bonus_time_gives_none(h: Harness) -> None:
    g = await h.running_game(3)

    c = await h.commits(g.gid, "switch", h.store.switch(g.gid, g.host, new_aid(), "next"))

    assert "bonusTime" not in c.state["settings"]
    assert player(c.state, 2)["timeRemaining"] == 600_000


async def test_update_settings_sets_the_bonus_for_the_host_only(h: Harness) -> None:
    g = await h.running_game(3)
    await h.fails(g.gid, "NOT_OWNER_SETTINGS", h.store.update_settings(g.gid, "p1", new_aid(), {"bonusTime": 5_000}))

    c = await h.commits(
        g.gid, "updateSettings", h.store.update_settings(g.gid, g.host, new_aid(), {"bonusTime": 5_000})
    )

    assert c.state["settings"]["bonusTime"] == 5_000
    s = await h.commits(g.gid, "switch", h.store.switch(g.gid, g.host, new_aid(), 3))
    assert player(s.state, 3)["timeRemaining"] == 605_000


async def test_scripts_refuse_a_bonus_out_of_range(h: Harness) -> None:
    g = await h.running_game(3)
    for bad in ('{"bonusTime":300001}', '{"bonusTime":-1}', '{"bonusTime":1.5}', '{"bonusTime":"30"}'):
        await h.raw_fails(
            g.gid,
            "INVALID_ARGUMENT",
            h.run_script("update_settings", g.gid, bad, action_id=new_aid(), client_id=g.host),
        )


def test_create_settings_default_the_bonus_by_protocol() -> None:
    # a v1 create (no HEAD-only setting) keeps v1's clock: no bonus, no field
    assert create_settings({"settings": {"playerCount": 3}}).bonus_time is None
    assert create_settings({}).bonus_time is None
    # a HEAD client's create names the lobby: HEAD's default 30 s
    assert create_settings({"settings": {"name": "Table"}}).bonus_time == 30_000
    assert create_settings({"settings": {"bonusTime": 0}}).bonus_time == 0
    assert create_settings({"settings": {"name": "T", "bonusTime": 12_000}}).bonus_time == 12_000
