"""A four-player Commander game at a real table, frame by frame, over two instances.

Four phones, two on each instance of a real redis-server, play the table rules of issue 13
from create to winner: every life at 40, commander damage to 21, a mis-tapped pass and its
undo, a mistaken elimination and its undo, poison to 10, a concession, and the winner with
the end-of-game summary. After each frame one of them sends, every phone's new frames are
read once the game has settled (tests/support/table.py) and held to the exact sequence the
protocol gives (docs/protocol.md): a `state` to everyone after every change, `claimed` to the
claimer, `undone` before the state an undo commits, `gameComplete` before the last one.
"""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from tests.support.instances import Clients
from tests.support.table import Table, kinds, last_state
from tests.support.wire import client_opener

INITIAL = 1_200_000
SEATS = {"ann": 1, "bob": 2, "cat": 3, "dan": 4}


def seat(state: dict[str, Any], pid: int) -> dict[str, Any]:
    found: dict[str, Any] = next(p for p in state["players"] if p["id"] == pid)
    return found


async def test_a_four_player_commander_game_from_create_to_winner_frame_by_frame(
    servers: list[TestServer], pool: Clients, rdb: Redis
) -> None:
    opener = client_opener(pool)
    ann, cat = await opener(servers[0]), await opener(servers[0])
    bob, dan = await opener(servers[1]), await opener(servers[1])
    t = Table(rdb, {"ann": ann, "bob": bob, "cat": cat, "dan": dan})
    nobody: dict[str, list[str]] = {name: [] for name in SEATS}
    everyone = {name: ["state"] for name in SEATS}

    f = await t.say(
        "ann",
        "create",
        {"settings": {"name": "Commander night", "playerCount": 4, "initialTime": INITIAL, "format": "commander"}},
    )
    assert kinds(f) == {**nobody, "ann": ["created", "state"]}
    st = last_state(f["ann"])
    t.gid = st["id"]
    assert (st["settings"]["format"], st["settings"]["startingLife"]) == ("commander", 40)
    assert st["settings"]["lossRules"] == {"life": True, "poison": True, "commanderDamage": True}
    assert [(p["life"], p["poison"], p["commanderDamage"]) for p in st["players"]] == [(40, 0, [[0, 0]] * 4)] * 4

    for name in ("bob", "cat", "dan"):
        f = await t.say(name, "join", {"gameId": t.gid})
        assert kinds(f) == {**nobody, name: ["state"]}
    for name, pid in SEATS.items():
        f = await t.say(name, "claim", {"playerId": pid})
        assert kinds(f) == {**everyone, name: ["state", "claimed"]}

    f = await t.say("ann", "start")
    assert kinds(f) == everyone
    st = last_state(f["dan"])
    assert (st["status"], st["activePlayer"], st["turn"], st["round"]) == ("running", 1, 1, 1)

    # ann's commander hits bob three times; bob records it on his own phone: 21 from one
    # commander is a loss, recorded in the same step, and it is life lost too
    for hit, life in ((7, 33), (7, 26)):
        f = await t.say("bob", "commanderDamage", {"playerId": 2, "sourceId": 1, "amount": hit})
        assert kinds(f) == everyone
        assert seat(last_state(f["ann"]), 2)["life"] == life
    f = await t.say("bob", "commanderDamage", {"playerId": 2, "sourceId": 1, "amount": 7})
    assert kinds(f) == everyone
    st = last_state(f["cat"])
    bob_seat = seat(st, 2)
    assert (bob_seat["life"], bob_seat["commanderDamage"][0], bob_seat["isEliminated"]) == (19, [21, 0], True)
    assert bob_seat["eliminatedReason"] == "commanderDamage"
    assert (st["status"], st["activePlayer"]) == ("running", 1)

    # a mis-tapped pass: the turn goes to cat (bob is out) ...
    f = await t.say("ann", "passTurn")
    assert kinds(f) == everyone
    passed = last_state(f["ann"])
    assert (passed["activePlayer"], passed["turn"]) == (3, 2)
    # a HEAD-style create (it names the lobby) has HEAD's 30 s bonus for the player whose turn it becomes
    assert seat(passed, 3)["timeRemaining"] == INITIAL + 30_000
    # ... and ann takes it back at once: `undone` names the reverted version, then the state
    # gives the turn back, as a new version, with cat's clock as it was before the pass (the
    # bonus taken back) and ann charged for the time since
    f = await t.say("ann", "undo")
    assert kinds(f) == {name: ["undone", "state"] for name in SEATS}
    assert f["dan"][0]["data"] == {"versions": [passed["version"]], "by": 1, "host": True}
    st = last_state(f["bob"])
    assert st["version"] == passed["version"] + 1
    assert (st["activePlayer"], st["turn"]) == (1, 1)
    assert seat(st, 3)["timeRemaining"] == INITIAL
    assert seat(st, 1)["timeRemaining"] <= seat(passed, 1)["timeRemaining"]

    f = await t.say("ann", "passTurn")
    assert kinds(f) == everyone
    assert (last_state(f["cat"])["activePlayer"], last_state(f["cat"])["turn"]) == (3, 2)

    # the host eliminates dan by mistake, and undoes it
    f = await t.say("ann", "eliminate", {"playerId": 4})
    assert kinds(f) == everyone
    wrong = last_state(f["dan"])
    assert (seat(wrong, 4)["isEliminated"], seat(wrong, 4)["eliminatedReason"]) == (True, "host")
    f = await t.say("ann", "undo")
    assert kinds(f) == {name: ["undone", "state"] for name in SEATS}
    assert f["cat"][0]["data"]["versions"] == [wrong["version"]]
    st = last_state(f["dan"])
    assert (seat(st, 4)["isEliminated"], seat(st, 4)["eliminatedReason"]) == (False, None)
    assert (st["activePlayer"], st["status"]) == (3, "running")

    # cat, on her own turn, takes her tenth poison counter: out by poison, and the turn moves
    # on to dan in the same step
    f = await t.say("cat", "updatePlayer", {"playerId": 3, "poison": 10})
    assert kinds(f) == everyone
    st = last_state(f["ann"])
    assert (seat(st, 3)["isEliminated"], seat(st, 3)["eliminatedReason"]) == (True, "poison")
    assert (st["activePlayer"], st["turn"], st["status"]) == (4, 3, "running")

    # dan concedes: ann is the last player standing
    f = await t.say("dan", "concede")
    assert kinds(f) == {name: ["gameComplete", "state"] for name in SEATS}
    done = f["bob"][0]["data"]
    st = last_state(f["bob"])
    assert (done["winnerId"], done["winnerName"]) == (1, "Player 1")
    assert (st["status"], st["winner"], seat(st, 4)["eliminatedReason"]) == ("finished", 1, "concede")
    assert [s["playerId"] for s in done["summary"]] == [1, 2, 3, 4]
    assert [s["turns"] for s in done["summary"]] == [p["turns"] for p in st["players"]] == [1, 0, 1, 1]
    assert [s["timeUsed"] for s in done["summary"]] == [p["timeUsed"] for p in st["players"]]
    assert done["summary"][0]["timeUsed"] > 0 and done["summary"][1]["timeUsed"] == 0
    assert f["ann"][0] == f["dan"][0]
