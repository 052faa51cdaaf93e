"""updateSettings and create's time control over the wire (service/messages/settings.py), two
instances in one process on a real redis-server: the control a create names reaches every
socket in the state, the host changes it while waiting, and each refusal (the service's own
check, TIME_CONTROL_LOCKED, INVALID_TIME_CONTROL) leaves the game as it was. The rules are the
scripts' (tests/lua/test_update_settings.py, test_time_controls.py)."""

from __future__ import annotations

from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from tests.support.instances import claim, create_game, ok
from tests.support.wire import Connect, refused


async def test_the_time_control_is_set_at_create_and_changed_while_waiting_only(
    servers: list[TestServer], connect: Connect, rdb: Redis
) -> None:
    host, other = await connect(servers[0]), await connect(servers[1])
    gid, _, first = await create_game(host, playerCount=2, timeControl="turnCap", timeControlMs=30_000)
    assert (first["settings"]["timeControl"], first["settings"]["turnCapWarningMs"]) == ("turnCap", 10_000)
    await claim(other, gid, 2)

    changed = (await ok(host, "updateSettings", {"timeControlMs": 60_000}))["data"]
    assert (changed["settings"]["timeControlMs"], changed["settings"]["turnCapWarningMs"]) == (60_000, 10_000)
    seen = await other.wait_for(lambda m: m["type"] == "state" and m["data"]["version"] == changed["version"], 5)
    assert seen["data"]["settings"] == changed["settings"]
    assert await refused(host, rdb, gid, "updateSettings", {"timeControl": "fischer"}) == (
        "INVALID_INPUT",
        "Invalid time control: fischer, bronstein and turnCap need timeControlMs",
    )
    assert await refused(host, rdb, gid, "updateSettings", {"turnCapWarningMs": 60_000}) == (
        "INVALID_TIME_CONTROL",
        "Invalid time control: the amounts do not fit the game's control",
    )
    await ok(host, "start")
    assert await refused(host, rdb, gid, "updateSettings", {"timeControl": "suddenDeath"}) == (
        "TIME_CONTROL_LOCKED",
        "The time control can only be changed before the game starts",
    )


async def test_a_create_with_a_time_control_out_of_range_is_refused(
    servers: list[TestServer], connect: Connect
) -> None:
    c = await connect(servers[0])

    reply = await c.request("create", {"settings": {"timeControl": "bronstein", "timeControlMs": 500}})

    assert reply["type"] == "error"
    assert reply["data"] == {
        "code": "INVALID_INPUT",
        "message": "Invalid time control amount: timeControlMs must be an integer from 1000 to 3600000 (ms)",
    }
