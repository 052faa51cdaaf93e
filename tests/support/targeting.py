"""What the targeting tests (tests/lua/test_*target*.py) share: a seated table, picking and
confirming targets, and the targeting fields of a state."""

from __future__ import annotations

from typing import Any

from tests.support.lua_harness import Game, Harness, new_aid

#: the fields of a state with no targeting (HEAD's B3.1 defaults)
NONE: tuple[str, list[int], list[int], int | None] = ("none", [], [], None)


async def seated_game(h: Harness, players: int = 3, **kw: Any) -> Game:
    """A running game where client pN holds seat N; player 1 is active; the host holds no seat."""
    g = await h.new_game(players, **kw)
    for pid in range(1, players + 1):
        await h.claim(g, f"p{pid}", pid)
    assert (await h.store.start(g.gid, g.host, new_aid())).status == "ok"
    return g


def fields(state: dict[str, Any]) -> tuple[str, list[int], list[int], int | None]:
    """(targetingState, targetedPlayers, awaitingPriority, originalActivePlayer)."""
    return (
        state["targetingState"],
        state["targetedPlayers"],
        state["awaitingPriority"],
        state["originalActivePlayer"],
    )


def times(state: dict[str, Any]) -> list[int]:
    return [p["timeRemaining"] for p in state["players"]]


async def select(h: Harness, g: Game, *targets: int, by: str = "p1") -> dict[str, Any]:
    """The active player (client `by`) picks `targets`, one toggle each; the last state."""
    out = None
    for pid in targets:
        out = await h.store.toggle_target(g.gid, by, new_aid(), pid)
        assert out.status == "ok"
    assert out is not None
    return out.state


async def resolve(h: Harness, g: Game, *targets: int, by: str = "p1") -> dict[str, Any]:
    """Picks `targets` and confirms them: the state with every target awaiting."""
    await select(h, g, *targets, by=by)
    out = await h.store.confirm_targets(g.gid, by, new_aid())
    assert out.status == "ok"
    return out.state
