from __future__ import annotations

import pytest

from tests.support.lua_harness import Harness, new_aid


async def test_rename_game_sets_the_name_and_keeps_everything_else(h: Harness) -> None:
    g = await h.new_game(name="Old")
    aid = new_aid()

    c = await h.commits(g.gid, "renameGame", h.store.rename_game(g.gid, g.host, aid, "Friday <b>night</b> & co"))

    assert c.before is not None
    # raw text: whoever shows it escapes it (HEAD stored it HTML-encoded: C28)
    assert c.state["name"] == "Friday <b>night</b> & co"
    assert {k: v for k, v in c.state.items() if k not in ("name", "version", "lastActivity", "serverTime")} == {
        k: v for k, v in c.before.items() if k not in ("name", "version", "lastActivity", "serverTime")
    }
    assert (c.entry["a"], c.entry["c"], c.entry["d"]) == (aid, g.host, {"name": "Friday <b>night</b> & co"})


async def test_rename_game_moves_the_game_to_the_top_of_its_lobby_partition(h: Harness) -> None:
    g = await h.new_game()
    h.clock.offset_ms = 5_000

    c = await h.commits(g.gid, "renameGame", h.store.rename_game(g.gid, g.host, new_aid(), "Later"))

    assert await h.listed_at(g.gid) == c.state["lastActivity"]


async def test_rename_game_to_the_same_name_is_a_noop(h: Harness) -> None:
    g = await h.new_game(name="Same")

    await h.quiet(g.gid, "noop", h.store.rename_game(g.gid, g.host, new_aid(), "Same"))


async def test_rename_game_retried_with_the_same_action_id_is_a_dup(h: Harness) -> None:
    g = await h.new_game()
    aid = new_aid()
    await h.store.rename_game(g.gid, g.host, aid, "Once")

    out = await h.quiet(g.gid, "dup", h.store.rename_game(g.gid, g.host, aid, "Once"))

    assert out.state["name"] == "Once"


@pytest.mark.parametrize("who", ["spectator", "p1"])
async def test_only_the_host_may_rename(h: Harness, who: str) -> None:
    g = await h.new_game()
    await h.claim(g, "p1", 1)

    await h.fails(g.gid, "NOT_OWNER_RENAME", h.store.rename_game(g.gid, who, new_aid(), "Mine"))


async def test_rename_game_of_a_missing_game_is_game_not_found(h: Harness) -> None:
    g = await h.new_game()
    await h.client.delete(*g.keys[:3])

    await h.fails(g.gid, "GAME_NOT_FOUND", h.store.rename_game(g.gid, g.host, new_aid(), "Gone"))


@pytest.mark.parametrize("name", ["", "x" * 51, "a\nb", "a\x00b", "a\x7fb", "x" * 201])
async def test_rename_game_refuses_a_name_the_service_would_never_send(h: Harness, name: str) -> None:
    g = await h.new_game()

    await h.raw_fails(
        g.gid, "INVALID_ARGUMENT", h.run_script("rename_game", g.gid, name, action_id=new_aid(), client_id=g.host)
    )


async def test_rename_game_accepts_fifty_characters_of_any_width(h: Harness) -> None:
    g = await h.new_game()

    c = await h.commits(g.gid, "renameGame", h.store.rename_game(g.gid, g.host, new_aid(), "Zoë🐉" * 10))

    assert c.state["name"] == "Zoë🐉" * 10
