"""The feedback messages (service/messages/feedback.py): their validators, and the four types
end to end against a real redis-server, frame by frame as a client of the original sends them,
with the Redis state after each step: ownership, no addresses or client ids, the caps, the
rate limit and retries."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from service import keys, protocol
from service.app import create_app
from service.errors import NotFound
from service.feedback import author_of
from service.settings import Settings
from stack.client import Client
from stack.presets import UNLIMITED
from tests.support.refusals import invalid

Connect = Callable[[], Awaitable[Client]]
ServerFactory = Callable[..., Awaitable[TestServer]]

TOKEN = "ab" * 32


# -- validators ---------------------------------------------------------------------------


def test_a_feedback_text_is_trimmed_and_kept_raw() -> None:
    got = protocol.new_feedback({"text": "  <b>5 > 3</b> & more\n  "})
    assert got == protocol.NewFeedback("<b>5 > 3</b> & more", None)
    assert protocol.new_feedback({"text": "x" * 255, "authorToken": TOKEN}) == protocol.NewFeedback("x" * 255, TOKEN)
    # characters, not bytes or UTF-16 units: 255 emoji are 255 characters
    assert protocol.new_feedback({"text": "🎲" * 255}).text == "🎲" * 255
    assert protocol.new_feedback({"text": "line one\n\tline two"}).text == "line one\n\tline two"


@pytest.mark.parametrize(
    "data, code, message",
    [
        ({}, "INVALID_FEEDBACK_TEXT", "Invalid feedback text"),
        ({"text": None}, "INVALID_FEEDBACK_TEXT", "Invalid feedback text"),
        ({"text": ""}, "INVALID_FEEDBACK_TEXT", "Invalid feedback text"),
        ({"text": 5}, "INVALID_FEEDBACK_TEXT", "Invalid feedback text"),
        ({"text": ["hi"]}, "INVALID_FEEDBACK_TEXT", "Invalid feedback text"),
        ({"text": "bell\x07"}, "INVALID_FEEDBACK_TEXT", "Invalid feedback text"),
        ({"text": "nul\x00byte"}, "INVALID_FEEDBACK_TEXT", "Invalid feedback text"),
        ({"text": "lone \ud800"}, "INVALID_FEEDBACK_TEXT", "Invalid feedback text"),
        ({"text": "   \n\t "}, "FEEDBACK_EMPTY", "Feedback cannot be empty"),
        ({"text": "x" * 256}, "FEEDBACK_TOO_LONG", "Feedback exceeds maximum length"),
        ({"text": " " + "x" * 256 + " "}, "FEEDBACK_TOO_LONG", "Feedback exceeds maximum length"),
    ],
)
def test_feedback_refusals_use_the_original_strings(data: dict[str, Any], code: str, message: str) -> None:
    assert invalid(protocol.new_feedback, data, code=code) == message


@pytest.mark.parametrize("token", ["", "AB" * 32, "ab" * 31, "ab" * 33, "zz" * 32, 5, ["x"]])
def test_an_author_token_is_the_64_hex_characters_the_server_issues(token: Any) -> None:
    for fn, data in (
        (protocol.new_feedback, {"text": "hi"}),
        (protocol.feedback_author, {}),
        (protocol.feedback_edit, {"id": "fb_1", "text": "hi"}),
        (protocol.feedback_ref, {"id": "fb_1"}),
    ):
        assert invalid(fn, {**data, "authorToken": token}) == "Invalid feedback token"
    assert protocol.feedback_author({}) is None
    assert protocol.feedback_author({"authorToken": None}) is None


@pytest.mark.parametrize(
    "data, code, message",
    [
        # the original's `!id || !text` first
        ({}, "INVALID_UPDATE_REQUEST", "Invalid update request"),
        ({"id": "fb_1"}, "INVALID_UPDATE_REQUEST", "Invalid update request"),
        ({"id": "fb_1", "text": ""}, "INVALID_UPDATE_REQUEST", "Invalid update request"),
        ({"id": "", "text": "hi"}, "INVALID_UPDATE_REQUEST", "Invalid update request"),
        ({"id": 0, "text": "hi"}, "INVALID_UPDATE_REQUEST", "Invalid update request"),
        ({"text": "hi", "id": None}, "INVALID_UPDATE_REQUEST", "Invalid update request"),
        # then the text
        ({"id": "fb_1", "text": 7}, "FEEDBACK_EMPTY", "Feedback cannot be empty"),
        ({"id": "fb_1", "text": "  "}, "FEEDBACK_EMPTY", "Feedback cannot be empty"),
        ({"id": "fb_1", "text": "x" * 256}, "FEEDBACK_TOO_LONG", "Feedback exceeds maximum length"),
    ],
)
def test_update_refusals_use_the_original_strings_in_the_original_order(
    data: dict[str, Any], code: str, message: str
) -> None:
    assert invalid(protocol.feedback_edit, data, code=code) == message


@pytest.mark.parametrize("data", [{}, {"id": ""}, {"id": None}, {"id": 0}, {"id": False}])
def test_delete_without_an_id_is_an_invalid_delete_request(data: dict[str, Any]) -> None:
    assert invalid(protocol.feedback_ref, data, code="INVALID_DELETE_REQUEST") == "Invalid delete request"


@pytest.mark.parametrize("fid", [5, ["fb_1"], "x" * 65])
def test_an_id_the_server_never_issues_is_not_found_without_asking_redis(fid: Any) -> None:
    for fn, data in ((protocol.feedback_edit, {"id": fid, "text": "hi"}), (protocol.feedback_ref, {"id": fid})):
        with pytest.raises(NotFound) as refused:
            fn(data)
        assert (refused.value.code, refused.value.message) == ("FEEDBACK_NOT_FOUND", "Feedback not found")


# -- fixtures -----------------------------------------------------------------------------


@pytest_asyncio.fixture
async def make_server(aiohttp_server: Any, redis_url: str) -> AsyncIterator[ServerFactory]:
    async def make(**overrides: Any) -> TestServer:
        fields: dict[str, Any] = {"redis_url": redis_url, "test_clock": True, **UNLIMITED, **overrides}
        server: TestServer = await aiohttp_server(create_app(Settings(**fields)))
        return server

    yield make


@pytest_asyncio.fixture
async def server(make_server: ServerFactory) -> TestServer:
    return await make_server()


@pytest_asyncio.fixture
async def make_connect() -> AsyncIterator[Callable[[TestServer], Awaitable[Client]]]:
    clients: list[Client] = []

    async def open_client(srv: TestServer) -> Client:
        c = await Client.connect(str(srv.make_url("/")))
        clients.append(c)
        return c

    yield open_client
    for c in clients:
        await c.close()


@pytest.fixture
def connect(server: TestServer, make_connect: Callable[[TestServer], Awaitable[Client]]) -> Connect:
    return lambda: make_connect(server)


# -- helpers ------------------------------------------------------------------------------


async def head_frame(c: Client, mtype: str, data: dict[str, Any], reply: str) -> dict[str, Any]:
    """As the original's client sends it: no requestId; the answer is the next frame of its type."""
    start = len(c.messages)
    await c.send_raw(json.dumps({"type": mtype, "data": data}))
    return await c.wait_for(lambda m: m["type"] in (reply, "error"), start=start)


async def refused(c: Client, mtype: str, data: dict[str, Any]) -> dict[str, Any]:
    reply = await c.request(mtype, data)
    assert reply["type"] == "error", reply
    return dict(reply["data"])


async def everything(rdb: Redis) -> dict[str, Any]:
    """Every feedback key there is, with its content (the instance registry and the rate
    limiter's own keys live beside them)."""
    out: dict[str, Any] = {}
    async for key in rdb.scan_iter(match="tot:fb:*"):
        kind = await rdb.type(key)
        out[key] = await rdb.hgetall(key) if kind == "hash" else await rdb.zrange(key, 0, -1, withscores=True)
    return out


async def stored(rdb: Redis, token: str) -> dict[str, dict[str, Any]]:
    raw = cast(dict[str, str], await rdb.hgetall(keys.feedback(author_of(token))))
    return {fid: json.loads(entry) for fid, entry in raw.items()}


# -- end to end ---------------------------------------------------------------------------


async def test_a_head_conversation_submit_list_update_delete(connect: Connect, rdb: Redis) -> None:
    c = await connect()
    # not in a game: feedback needs none
    got = await head_frame(c, "feedback", {"text": "  Great clock, <i>tiny</i> request  "}, "feedbackSubmitted")
    assert got["type"] == "feedbackSubmitted", got
    assert got["data"]["message"] == "Thank you for your feedback!"
    fid, token = got["data"]["id"], got["data"]["authorToken"]
    assert fid.startswith("fb_") and protocol.FEEDBACK_TOKEN.fullmatch(token)
    entries = await stored(rdb, token)
    assert list(entries) == [fid] and entries[fid]["text"] == "Great clock, <i>tiny</i> request"

    listed = await head_frame(c, "loadFeedbacks", {}, "feedbackList")
    assert listed["data"] == {"feedbacks": [entries[fid]]}
    assert set(listed["data"]["feedbacks"][0]) == {"id", "text", "timestamp"}

    updated = await head_frame(c, "updateFeedback", {"id": fid, "text": "Edited & better"}, "feedbackUpdated")
    assert updated["data"] == {"message": "Feedback updated!"}
    after = (await stored(rdb, token))[fid]
    assert after["text"] == "Edited & better" and after["timestamp"] >= entries[fid]["timestamp"]
    listed = await head_frame(c, "loadFeedbacks", {}, "feedbackList")
    assert [e["text"] for e in listed["data"]["feedbacks"]] == ["Edited & better"]

    deleted = await head_frame(c, "deleteFeedback", {"id": fid}, "feedbackDeleted")
    assert deleted["data"] == {"message": "Feedback deleted!"}
    assert await stored(rdb, token) == {}
    assert (await head_frame(c, "loadFeedbacks", {}, "feedbackList"))["data"] == {"feedbacks": []}
    # the connection's token, not a new one per feedback: both are this author's
    second = await head_frame(c, "feedback", {"text": "again"}, "feedbackSubmitted")
    assert second["data"]["authorToken"] == token


async def test_nothing_stored_names_an_address_or_a_client_id(connect: Connect, rdb: Redis) -> None:
    c = await connect()
    got = await c.request("feedback", {"text": "private"})
    text = json.dumps(await everything(rdb))
    assert got["data"]["authorToken"] not in text
    for leak in (c.client_id, "127.0.0.1", "::1"):
        assert leak not in text


async def test_another_client_can_neither_see_nor_change_nor_delete_your_feedback(connect: Connect, rdb: Redis) -> None:
    a, b = await connect(), await connect()
    mine = (await c_submit(a, "mine"))["id"]
    await c_submit(b, "theirs")
    before = await everything(rdb)

    listed = await b.request("loadFeedbacks")
    assert [e["text"] for e in listed["data"]["feedbacks"]] == ["theirs"]
    for mtype, data in (("updateFeedback", {"id": mine, "text": "defaced"}), ("deleteFeedback", {"id": mine})):
        # the same answer as for an id that never existed: nobody learns that it does
        assert await refused(b, mtype, data) == {"code": "FEEDBACK_NOT_FOUND", "message": "Feedback not found"}
        assert await refused(b, mtype, {**data, "id": "fb_none"}) == await refused(b, mtype, data)
    # a client that never wrote any is nobody's author
    stranger = await connect()
    assert (await stranger.request("loadFeedbacks"))["data"] == {"feedbacks": []}
    assert (await refused(stranger, "deleteFeedback", {"id": mine}))["code"] == "FEEDBACK_NOT_FOUND"
    assert await everything(rdb) == before
    assert [e["text"] for e in (await a.request("loadFeedbacks"))["data"]["feedbacks"]] == ["mine"]


async def c_submit(c: Client, text: str, **extra: Any) -> dict[str, Any]:
    reply = await c.request("feedback", {"text": text, **extra})
    assert reply["type"] == "feedbackSubmitted", reply
    return dict(reply["data"])


async def test_the_author_token_makes_the_author_the_same_on_a_new_connection(connect: Connect) -> None:
    first = await connect()
    sent = await c_submit(first, "from my phone")
    await first.close()

    # an original client on a new connection sends no token: its old feedback is not its own now
    head = await connect()
    assert (await head.request("loadFeedbacks"))["data"] == {"feedbacks": []}

    again = await connect()
    token = sent["authorToken"]
    listed = await again.request("loadFeedbacks", {"authorToken": token})
    assert [e["id"] for e in listed["data"]["feedbacks"]] == [sent["id"]]
    # once sent, the token is the connection's: later frames may leave it out
    assert (await again.request("updateFeedback", {"id": sent["id"], "text": "edited"}))["type"] == "feedbackUpdated"
    more = await c_submit(again, "second")
    assert more["authorToken"] == token
    listed = await again.request("loadFeedbacks")
    entries = listed["data"]["feedbacks"]
    assert sorted(e["text"] for e in entries) == ["edited", "second"]
    # newest first; the edit and the new one may share a ms, then by id, the greater first
    assert entries == sorted(entries, key=lambda e: (e["timestamp"], e["id"]), reverse=True)


async def test_a_retried_feedback_with_the_same_request_id_is_stored_once(connect: Connect, rdb: Redis) -> None:
    c = await connect()
    await c.send("feedback", {"text": "once"}, request_id="fb-1")
    first = await c.reply("fb-1")
    token = first["data"]["authorToken"]
    # the retry from a new connection, with the token now known
    c2 = await connect()
    await c2.send("feedback", {"text": "once", "authorToken": token}, request_id="fb-1")
    second = await c2.reply("fb-1")
    assert second["type"] == "feedbackSubmitted" and second["data"]["id"] == first["data"]["id"]
    assert list(await stored(rdb, token)) == [first["data"]["id"]]


@pytest.mark.parametrize(
    "mtype, data, code, message",
    [
        ("feedback", {}, "INVALID_FEEDBACK_TEXT", "Invalid feedback text"),
        ("feedback", {"text": "   "}, "FEEDBACK_EMPTY", "Feedback cannot be empty"),
        ("feedback", {"text": "x" * 256}, "FEEDBACK_TOO_LONG", "Feedback exceeds maximum length"),
        ("feedback", {"text": "hi", "authorToken": "short"}, "INVALID_INPUT", "Invalid feedback token"),
        ("updateFeedback", {"id": "fb_1"}, "INVALID_UPDATE_REQUEST", "Invalid update request"),
        ("updateFeedback", {"id": "fb_1", "text": " "}, "FEEDBACK_EMPTY", "Feedback cannot be empty"),
        ("deleteFeedback", {}, "INVALID_DELETE_REQUEST", "Invalid delete request"),
    ],
)
async def test_each_refusal_reaches_the_client_with_its_code_and_stores_nothing(
    connect: Connect, rdb: Redis, mtype: str, data: dict[str, Any], code: str, message: str
) -> None:
    c = await connect()
    assert await refused(c, mtype, data) == {"code": code, "message": message}
    assert await everything(rdb) == {}


async def test_an_author_at_the_cap_is_refused_until_one_is_deleted(
    make_server: ServerFactory, make_connect: Callable[[TestServer], Awaitable[Client]], rdb: Redis
) -> None:
    c = await make_connect(await make_server(feedback_per_author=2))
    first = await c_submit(c, "one")
    await c_submit(c, "two")
    before = await everything(rdb)
    assert await refused(c, "feedback", {"text": "three"}) == {
        "code": "FEEDBACK_LIMIT",
        "message": "Feedback limit reached: delete one first",
    }
    assert await everything(rdb) == before
    await c.request("deleteFeedback", {"id": first["id"]})
    await c_submit(c, "three")


async def test_feedback_writes_are_rate_limited_per_address_and_listing_is_not(
    make_server: ServerFactory, make_connect: Callable[[TestServer], Awaitable[Client]], rdb: Redis
) -> None:
    srv = await make_server(rate_feedback_per_hour=2)
    a, b = await make_connect(srv), await make_connect(srv)
    fid = (await c_submit(a, "one"))["id"]
    await a.request("updateFeedback", {"id": fid, "text": "edited"})
    before = await everything(rdb)
    # the budget is the address's, whichever socket spends it
    for c, mtype, data in (
        (b, "feedback", {"text": "two"}),
        (a, "updateFeedback", {"id": fid, "text": "again"}),
        (a, "deleteFeedback", {"id": fid}),
    ):
        assert await refused(c, mtype, data) == {"code": "RATE_LIMITED", "message": "Rate limit exceeded"}
    assert await everything(rdb) == before
    for _ in range(3):
        assert (await a.request("loadFeedbacks"))["type"] == "feedbackList"


async def test_a_full_bucket_refuses_a_new_author_and_stores_nothing(
    make_server: ServerFactory, make_connect: Callable[[TestServer], Awaitable[Client]], rdb: Redis
) -> None:
    # one feedback per bucket of authors; two tokens whose authors share a bucket
    srv = await make_server(feedback_max_total=keys.FEEDBACK_BUCKETS)
    tokens = iter(secrets.token_hex(32) for _ in range(10_000))
    first = next(tokens)
    second = next(t for t in tokens if keys.feedback_bucket(author_of(t)) == keys.feedback_bucket(author_of(first)))
    a, b = await make_connect(srv), await make_connect(srv)
    await c_submit(a, "fits", authorToken=first)
    before = await everything(rdb)
    assert await refused(b, "feedback", {"text": "no room", "authorToken": second}) == {
        "code": "FEEDBACK_FULL",
        "message": "Feedback is not being accepted right now",
    }
    assert await everything(rdb) == before
