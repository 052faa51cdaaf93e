"""Campaign mode end to end (HEAD B6.10) on a real redis-server, two instances in one process:
a HEAD client's three-round Wastelands campaign frame by frame (create with mode and
campaignPreset, claims, start, life changes, eliminations), the events and the one state each
round's end sends to every socket on either instance, a round-1 seat token reconnecting in
round 2 (C10), and campaignComplete with its winner at the end (C9).

The rules themselves are tested on both engines in tests/lua/test_campaign.py."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from service import keys
from service.campaign import PRESETS
from stack.client import Client
from tests.support.instances import claim, create_game, game_log, game_state, ok
from tests.support.wire import Connect

WAIT = 5.0
ROUND_END = ("gameComplete", "campaignComplete", "state")


def frames_after(c: Client, mark: int) -> list[dict[str, Any]]:
    """What a round's end sent this socket since `mark` (ticks are not ordered with commits)."""
    return [m for m in c.messages[mark:] if m["type"] in ROUND_END]


async def test_a_head_client_plays_a_three_round_wastelands_campaign_over_two_instances(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    a = await connect(servers[0])
    # frame by frame as HEAD's client sends it: the lobby name, the mode and the preset
    gid, _, first = await create_game(a, name="Campaign", mode="campaign", campaignPreset="wastelands", playerCount=2)
    assert (first["mode"], first["campaign"]["preset"], first["campaign"]["config"]) == (
        "campaign",
        "wastelands",
        PRESETS["wastelands"].to_config(),
    )
    assert (first["settings"]["initialTime"], first["settings"]["bonusTime"], first["players"][0]["life"]) == (
        360_000,
        30_000,
        10,
    )
    await claim(a, gid, 1, join=False)
    b = await connect(servers[1])
    token = await claim(b, gid, 2)
    seats = {1: a, 2: b}
    watchers = [a, b]

    for rnd, points in ((1, 3), (2, 7), (3, 13)):
        st = (await ok(a, "start"))["data"]
        assert (st["status"], st["campaign"]["currentRound"], st["campaign"]["handSize"]) == ("running", rnd, 4 + rnd)
        # player 2 marks the 3 damage player 1 (the active player) dealt: HEAD's clients set
        # their own life
        st = (await ok(seats[2], "updatePlayer", {"playerId": 2, "life": 7}))["data"]
        assert (st["campaign"]["damageTracker"], st["campaign"]["playerPoints"]["1"]) == ({"1": {"2": 3}}, points)
        # the mark counts from the damage's state on both sockets: player 1's broadcast of it may
        # still be on its way when player 2's reply is in (a fresh-clone CI run saw it after)
        await asyncio.gather(*(c.state_at_least(st["version"], WAIT) for c in watchers))
        marks = {c: len(c.messages) for c in watchers}

        rid = await a.send("eliminate", {"playerId": 2})
        reply = await a.reply(rid)

        assert reply["type"] == "state"
        version = reply["data"]["version"]
        await asyncio.gather(*(c.state_at_least(version, WAIT) for c in watchers))
        await asyncio.sleep(0.2)
        expected = ["gameComplete", "state"] if rnd < 3 else ["campaignComplete", "gameComplete", "state"]
        for c in watchers:
            frames = frames_after(c, marks[c])
            # one state per round's end (HEAD sent the next round's state, gameComplete, then
            # the same state again)
            assert [m["type"] for m in frames] == expected, (rnd, frames)
            complete = dict(frames[-2]["data"])
            # the round's summary: the next round's state counts from no turn again
            assert [s["playerId"] for s in complete.pop("summary")] == [p["id"] for p in frames[-1]["data"]["players"]]
            assert complete == {"winnerId": 1, "winnerName": "Player 1"}
            assert frames[-1]["data"]["version"] == version
        nxt = reply["data"]
        if rnd < 3:
            assert (nxt["status"], nxt["activePlayer"], nxt["winner"], nxt["campaign"]["currentRound"]) == (
                "waiting",
                None,
                None,
                rnd + 1,
            )
            assert [(p["claimedBy"], p["life"], p["isEliminated"]) for p in nxt["players"]] == [
                (a.client_id, 10, False),
                (seats[2].client_id, 10, False),
            ]
        if rnd == 1:
            # C10: player 2 comes back on a new connection, to the other instance, with the
            # token of round 1
            b2 = await connect(servers[0])
            back = await b2.request("reconnect", {"gameId": gid, "playerId": 2, "token": token})
            assert (back["type"], back["data"]["playerId"]) == ("reconnected", 2)
            await b2.next("state", WAIT)
            seats[2] = b2
            watchers.append(b2)

    done = frames_after(a, marks[a])[0]["data"]
    assert done["winner"] == 1
    assert [row["players"]["1"]["points"] for row in done["history"]] == [3, 7, 13]
    assert [done["stats"][k]["wins"] for k in "12"] == [3, 0]
    st = await game_state(rdb, gid)
    assert (st["status"], st["winner"], st["campaign"]["status"], st["campaign"]["winner"]) == (
        "finished",
        1,
        "completed",
        1,
    )
    for c in (a, b2):
        assert len(c.of_type("campaignComplete")) == 1
    assert [e["t"] for e in await game_log(rdb, gid)].count("eliminate") == 3


async def test_an_unknown_preset_is_refused_and_nothing_is_written(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    a = await connect(servers[1])

    reply = await a.request("create", {"settings": {"mode": "campaign", "campaignPreset": "bogus", "name": "C"}})

    assert reply["type"] == "error"
    assert reply["data"] == {
        "code": "INVALID_INPUT",
        "message": "Unknown campaign preset: bogus (one of standard, blitz, endurance, wastelands)",
    }
    assert [k async for k in rdb.scan_iter("tot:*") if k != keys.instances()] == []
