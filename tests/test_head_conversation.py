"""A whole casual game as HEAD's browser client plays it, frame by frame, over two instances.

HEAD's client (original-behaviour.md B9) sends bare `{type, data}` frames: no `requestId`,
and it knows nothing of our additions except to ignore them. Three such clients sit at one
table, spread over two instances on a real redis-server. After each frame one of them
sends, every client's new frames are read once the game has settled, and held to the exact
sequence HEAD's protocol gives (B5.2, B5.3 "Notable orderings"), our additions named where
they appear (`created`, which a HEAD client ignores). `tick` frames are left out: they come
on the hub's timer, not in answer to anything. The game covers the lobby, seats, colours,
play order, dice, rename, turns with the bonus, the interrupt stack, targeting, the timeout
choice, elimination, a kick, the winner and Delete Lobby; tests/test_messages_campaign.py
plays a three-round campaign the same way.
"""

from __future__ import annotations

from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from service import keys
from tests.support.instances import Clients
from tests.support.lua_harness import summary_of
from tests.support.table import Table, kinds, last_state
from tests.support.wire import client_opener


async def test_a_casual_game_frame_by_frame_as_heads_client_plays_it(
    servers: list[TestServer], pool: Clients, rdb: Redis
) -> None:
    opener = client_opener(pool)
    ann, bob, cat = await opener(servers[0]), await opener(servers[1]), await opener(servers[1])
    t = Table(rdb, {"ann": ann, "bob": bob, "cat": cat})

    # HEAD's create: the lobby name and the two settings its menu has
    f = await t.say(
        "ann", "create", {"settings": {"name": "Friday", "mode": "casual", "playerCount": 3, "initialTime": 600_000}}
    )
    assert kinds(f) == {"ann": ["created", "state"], "bob": [], "cat": []}
    st = last_state(f["ann"])
    t.gid = st["id"]
    assert (st["name"], st["mode"], st["status"], st["settings"]["bonusTime"]) == (
        "Friday",
        "casual",
        "waiting",
        30_000,
    )

    # a joiner gets one state (HEAD sent it twice, C51)
    f = await t.say("bob", "join", {"gameId": t.gid})
    assert kinds(f) == {"ann": [], "bob": ["state"], "cat": []}
    f = await t.say("cat", "join", {"gameId": t.gid})
    assert kinds(f) == {"ann": [], "bob": [], "cat": ["state"]}

    everyone = {"ann": ["state"], "bob": ["state"], "cat": ["state"]}

    # claim: the broadcast state, then the claimer's `claimed` (B5.2)
    f = await t.say("ann", "claim", {"playerId": 1})
    assert kinds(f) == {**everyone, "ann": ["state", "claimed"]}
    assert f["ann"][1]["data"]["playerId"] == 1 and f["ann"][1]["data"]["token"]
    # HEAD's client sends the menu's colour right after the claim
    f = await t.say("ann", "updatePlayer", {"playerId": 1, "color": "blue"})
    assert kinds(f) == everyone and last_state(f["bob"])["players"][0]["color"] == "blue"
    f = await t.say("bob", "claim", {"playerId": 2})
    assert kinds(f) == {**everyone, "bob": ["state", "claimed"]}
    f = await t.say("cat", "claim", {"playerId": 3})
    assert kinds(f) == {**everyone, "cat": ["state", "claimed"]}

    # the play order: the event to everyone on both instances (HEAD: its own instance only, C37)
    f = await t.say("ann", "rollPlayOrder")
    both = ["playOrderRolled", "state"]
    assert kinds(f) == {"ann": both, "bob": both, "cat": both}
    rolled = f["cat"][0]["data"]
    order = last_state(f["cat"])
    assert [p["id"] for p in order["players"]] == rolled["newOrder"] and order["activePlayer"] == rolled["newOrder"][0]
    assert [r["position"] for r in rolled["rolls"]] == [1, 2, 3]
    seat_of = {1: "ann", 2: "bob", 3: "cat"}
    first = seat_of[rolled["newOrder"][0]]

    f = await t.say("ann", "start")
    assert kinds(f) == everyone and last_state(f["ann"])["status"] == "running"

    f = await t.say("bob", "rollDice", {"sides": 20})
    dice = ["diceRolled", "state"]
    assert kinds(f) == {"ann": dice, "bob": dice, "cat": dice}
    roll = f["ann"][0]["data"]
    assert (roll["playerName"], roll["sides"]) == ("Player 2", 20) and 1 <= roll["result"] <= 20
    assert f["cat"][0] == f["ann"][0]

    # rename: the broadcast state, then the requester's gameRenamed
    f = await t.say("ann", "renameGame", {"name": "Saturday"})
    assert kinds(f) == {**everyone, "ann": ["state", "gameRenamed"]}
    assert f["ann"][1]["data"] == {"name": "Saturday"} and last_state(f["cat"])["name"] == "Saturday"

    # the turn, with HEAD's bonus for the player whose turn it becomes
    f = await t.say(first, "passTurn")
    assert kinds(f) == everyone
    st = last_state(f["ann"])
    second = st["activePlayer"]
    assert second == rolled["newOrder"][1]
    assert next(p for p in st["players"] if p["id"] == second)["timeRemaining"] == 600_000 + 30_000

    # an interrupt: the stack in the state, then passed back
    other = seat_of[rolled["newOrder"][2]]
    f = await t.say(other, "interrupt")
    assert kinds(f) == everyone and last_state(f["bob"])["interruptingPlayers"] == [rolled["newOrder"][2]]
    f = await t.say(other, "passPriority")
    assert kinds(f) == everyone and last_state(f["bob"])["interruptingPlayers"] == []

    # targeting (B6.2): the active player picks a target and confirms; the target responds.
    # Every event reaches both instances (HEAD: its own only, C37), just before its state
    active = seat_of[second]
    target = rolled["newOrder"][2]
    f = await t.say(active, "toggleTarget", {"playerId": target})
    ev = ["targetingUpdated", "state"]
    assert kinds(f) == {"ann": ev, "bob": ev, "cat": ev}
    assert f["cat"][0]["data"] == {
        "targetingState": "selecting",
        "targetedPlayers": [target],
        "awaitingPriority": [],
        "originalActivePlayer": None,
        "activePlayer": second,
    }
    f = await t.say(active, "confirmTargets")
    ev = ["targetingStarted", "state"]
    assert kinds(f) == {"ann": ev, "bob": ev, "cat": ev}
    assert f["ann"][0]["data"] == {
        "originalPlayer": second,
        "targets": [target],
        "awaitingPriority": [target],
        "activePlayer": second,
    }
    f = await t.say(other, "passTargetPriority")
    ev = ["targetingComplete", "state"]
    assert kinds(f) == {"ann": ev, "bob": ev, "cat": ev}
    assert f["bob"][0]["data"] == {"activePlayer": second}
    assert last_state(f["bob"])["targetingState"] == "none"

    # the timeout choice (B4): the host sets the running clock nearly out; the deadline loop
    # offers the choice to everyone, the game runs on, and the player picks
    f = await t.say("ann", "updatePlayer", {"playerId": second, "time": 300})
    assert kinds(f) == everyone
    f = await t.heard("timeoutChoice")
    ev = ["timeoutChoice", "state"]
    assert kinds(f) == {"ann": ev, "bob": ev, "cat": ev}
    offer = f["cat"][0]["data"]
    assert (offer["playerId"], offer["options"]) == (second, {"livesLoss": 2, "drunkGain": 2})
    st = last_state(f["cat"])
    chooser = next(p for p in st["players"] if p["id"] == second)
    assert (st["status"], chooser["timeoutPending"], chooser["timeoutChoiceDeadline"]) == (
        "running",
        True,
        offer["deadline"],
    )
    f = await t.say(active, "timeoutChoice", {"choice": "gainDrunk"})
    assert kinds(f) == everyone
    chooser = next(p for p in last_state(f["ann"])["players"] if p["id"] == second)
    assert (chooser["timeoutPending"], chooser["drunkCounter"], chooser["timeRemaining"] > 59_000) == (
        False,
        2,
        True,
    )

    # life at 0 takes a player out (B4 updatePlayer); the last one standing wins
    f = await t.say("ann", "updatePlayer", {"playerId": 2, "life": 0})
    assert kinds(f) == everyone
    assert next(p for p in last_state(f["ann"])["players"] if p["id"] == 2)["isEliminated"] is True
    # a kick: `kicked` to the kicked client only, then gameComplete, then state (B5.3)
    f = await t.say("ann", "adminKick", {"playerId": 3})
    done = ["gameComplete", "state"]
    assert kinds(f) == {"ann": done, "bob": done, "cat": ["kicked", *done]}
    final = last_state(f["ann"])
    assert f["bob"][0]["data"] == {"winnerId": 1, "winnerName": "Player 1", "summary": summary_of(final)}
    assert (final["status"], final["winner"]) == ("finished", 1)

    # Delete Lobby: every socket on both instances is told (HEAD: its own instance, C37)
    f = await t.say("ann", "endGame")
    assert kinds(f) == {"ann": ["gameEnded"], "bob": ["gameEnded"], "cat": ["gameEnded"]}
    assert await rdb.exists(keys.game(t.gid)) == 0
