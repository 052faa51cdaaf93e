from __future__ import annotations

import pytest

from service.formats import LossRules
from tests.support.formats import format_game
from tests.support.lua_harness import Harness, new_aid, player, summary_of


async def test_a_seated_player_concedes_and_the_turn_passes_on(h: Harness) -> None:
    g = await h.running_game(3)
    await h.claim(g, "alice", 1)
    aid = new_aid()

    c = await h.commits(g.gid, "concede", h.store.concede(g.gid, "alice", aid))

    p = player(c.state, 1)
    assert (p["isEliminated"], p["eliminatedReason"]) == (True, "concede")
    assert (c.state["status"], c.state["activePlayer"]) == ("running", 2)
    assert c.entry["d"] == {"playerId": 1}
    assert (c.entry["a"], c.entry["c"]) == (aid, "alice")
    assert c.events == []


async def test_the_second_last_player_conceding_decides_the_game(h: Harness) -> None:
    g = await h.running_game(2)
    await h.claim(g, "bob", 2)

    c = await h.commits(g.gid, "concede", h.store.concede(g.gid, "bob", new_aid()))

    assert (c.state["status"], c.state["winner"]) == ("finished", 1)
    assert c.events == [
        {"type": "gameComplete", "data": {"winnerId": 1, "winnerName": "Player 1", "summary": summary_of(c.state)}}
    ]


async def test_a_paused_game_may_be_conceded(h: Harness) -> None:
    g = await h.running_game(3)
    await h.claim(g, "alice", 2)
    await h.store.pause(g.gid, g.host, new_aid())

    c = await h.commits(g.gid, "concede", h.store.concede(g.gid, "alice", new_aid()))

    assert (c.state["status"], player(c.state, 2)["eliminatedReason"]) == ("paused", "concede")


async def test_in_two_headed_giant_the_team_concedes(h: Harness) -> None:
    g = await format_game(h, "twoHeadedGiant", 4, started=True)
    await h.claim(g, "carol", 3)

    c = await h.commits(g.gid, "concede", h.store.concede(g.gid, "carol", new_aid()))

    assert [(p["isEliminated"], p["eliminatedReason"]) for p in c.state["players"]] == [
        (False, None),
        (False, None),
        (True, "concede"),
        (True, "concede"),
    ]
    assert (c.state["status"], c.state["winner"]) == ("finished", 1)
    assert c.events == [
        {
            "type": "gameComplete",
            "data": {"winnerId": 1, "winnerName": "Player 1", "winnerTeam": [1, 2], "summary": summary_of(c.state)},
        }
    ]


async def test_a_socket_without_a_seat_may_not_concede(h: Harness) -> None:
    g = await h.running_game(2)

    await h.fails(g.gid, "NOT_AUTHORIZED_CONCEDE", h.store.concede(g.gid, g.host, new_aid()))
    await h.fails(g.gid, "NOT_AUTHORIZED_CONCEDE", h.store.concede(g.gid, "", new_aid()))


async def test_a_waiting_game_has_nothing_to_concede(h: Harness) -> None:
    g = await h.new_game(2)
    await h.claim(g, "alice", 1)

    await h.fails(g.gid, "CONCEDE_NOT_STARTED", h.store.concede(g.gid, "alice", new_aid()))


async def test_a_finished_game_is_decided(h: Harness) -> None:
    g = await h.running_game(2)
    await h.claim(g, "alice", 1)
    await h.store.eliminate(g.gid, g.host, new_aid(), 2)

    await h.fails(g.gid, "GAME_FINISHED", h.store.concede(g.gid, "alice", new_aid()))


async def test_an_eliminated_player_cannot_concede_again(h: Harness) -> None:
    g = await h.running_game(3)
    await h.claim(g, "alice", 1)
    await h.store.concede(g.gid, "alice", new_aid())

    await h.fails(g.gid, "PLAYER_ELIMINATED", h.store.concede(g.gid, "alice", new_aid()))


async def test_a_retry_with_the_same_action_id_applies_once(h: Harness) -> None:
    g = await h.running_game(3)
    await h.claim(g, "alice", 1)
    aid = new_aid()
    first = await h.store.concede(g.gid, "alice", aid)

    again = await h.quiet(g.gid, "dup", h.store.concede(g.gid, "alice", aid))

    assert again.state_json == first.state_json


@pytest.mark.parametrize("rules", [LossRules(), LossRules(False, False, False)])
async def test_concede_is_not_a_loss_rule(h: Harness, rules: LossRules) -> None:
    g = await format_game(h, "custom", 3, rules=rules, started=True)
    await h.claim(g, "alice", 3)

    c = await h.commits(g.gid, "concede", h.store.concede(g.gid, "alice", new_aid()))

    assert player(c.state, 3)["eliminatedReason"] == "concede"
