"""lua/feedback_{submit,list,update,delete}.lua on both engines, through FeedbackStore: each
operation and refusal with the Redis state it leaves, ownership, the caps and the retention."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, cast

import pytest
from redis.asyncio import Redis
from redis.crc import key_slot
from redis.exceptions import ResponseError

from service import keys
from service.clock import GameClock
from service.errors import Conflict, NotFound
from service.feedback import FeedbackStore, author_of, new_author_token, new_feedback_id
from service.scripts import Scripts

RETENTION_S = 3600
PER_AUTHOR = 3

Snapshot = tuple[dict[str, str], list[tuple[str, float]], list[str]]


def store_on(engine: Redis, max_total: int = 10_000) -> tuple[FeedbackStore, GameClock]:
    clock = GameClock()
    fb = FeedbackStore(
        engine,
        Scripts(engine),
        clock,
        retention_s=RETENTION_S,
        per_author=PER_AUTHOR,
        max_total=max_total,
        action_timeout_s=5,
    )
    return fb, clock


@pytest.fixture
def fb(engine: Redis) -> FeedbackStore:
    return store_on(engine)[0]


def authors() -> Iterator[str]:
    while True:
        yield author_of(new_author_token())


def author_in(bucket: int, other_than: str = "") -> str:
    return next(a for a in authors() if keys.feedback_bucket(a) == bucket and a != other_than)


async def snapshot(engine: Redis, author: str) -> Snapshot:
    """What the scripts write for an author: its hash, its bucket's index, and every key there is."""
    index = await engine.zrange(keys.feedback_index(keys.feedback_bucket(author)), 0, -1, withscores=True)
    return (
        cast(dict[str, str], await engine.hgetall(keys.feedback(author))),
        cast(list[tuple[str, float]], index),
        sorted([k async for k in engine.scan_iter()]),
    )


async def redis_ms(engine: Redis) -> int:
    sec, usec = await engine.time()
    return int(sec * 1000 + usec // 1000)


async def submit(fb: FeedbackStore, author: str, text: str = "hello", rid: str | None = None) -> str:
    fid = new_feedback_id(author, rid)
    done = await fb.submit(author, fid, text)
    assert (done.feedback_id, done.status) == (fid, "ok")
    return fid


# -- submit -----------------------------------------------------------------------------------


async def test_submit_stores_id_text_and_time_only_in_the_authors_key_and_its_bucket(
    fb: FeedbackStore, engine: Redis
) -> None:
    author = next(authors())
    before = await redis_ms(engine)
    # stored as given: never HTML-encoded (the page escapes on output)
    text = "<b>Tom & Jerry</b> \"quoted\" 'single' ünïcode ✓\nsecond line"
    fid = new_feedback_id(author, None)
    done = await fb.submit(author, fid, text)
    assert done.status == "ok" and before <= done.timestamp <= await redis_ms(engine)

    stored, index, all_keys = await snapshot(engine, author)
    assert list(stored) == [fid]
    assert json.loads(stored[fid]) == {"id": fid, "text": text, "timestamp": done.timestamp}
    assert index == [(fid, float(done.timestamp))]
    # nothing else at all: no address, no client id, no key per feedback
    bucket = keys.feedback_bucket(author)
    assert all_keys == sorted([keys.feedback(author), keys.feedback_index(bucket)])
    for key in all_keys:
        assert 0 < await engine.pttl(key) <= RETENTION_S * 1000


def test_one_authors_keys_share_one_slot_and_authors_spread_over_the_buckets() -> None:
    seen = set()
    for author, _ in zip(authors(), range(400), strict=False):
        feedback_key, index_key = keys.FeedbackKeys(author).as_list()
        assert key_slot(feedback_key.encode()) == key_slot(index_key.encode())
        seen.add(keys.feedback_bucket(author))
    assert seen == set(range(keys.FEEDBACK_BUCKETS))


async def test_a_retried_submit_of_the_same_id_is_stored_once(fb: FeedbackStore, engine: Redis) -> None:
    author = next(authors())
    fid = new_feedback_id(author, "r1")
    assert fid == new_feedback_id(author, "r1") != new_feedback_id(author, "r2")
    first = await fb.submit(author, fid, "once")
    before = await snapshot(engine, author)
    again = await fb.submit(author, fid, "once")
    assert (again.status, again.timestamp) == ("dup", first.timestamp)
    assert await snapshot(engine, author) == before


async def test_an_author_at_the_cap_is_refused_and_nothing_changes(fb: FeedbackStore, engine: Redis) -> None:
    author, other = next(authors()), next(authors())
    for i in range(PER_AUTHOR):
        await submit(fb, author, f"n{i}")
    before = await snapshot(engine, author)
    with pytest.raises(Conflict) as refused:
        await fb.submit(author, new_feedback_id(author, None), "one too many")
    assert refused.value.code == "FEEDBACK_LIMIT"
    assert await snapshot(engine, author) == before
    # the cap is the author's alone
    await submit(fb, other)
    # and a retry of one already stored is still answered as such, not refused
    fid = before[1][0][0]
    assert (await fb.submit(author, fid, "again")).status == "dup"


async def test_a_full_bucket_refuses_a_new_feedback_and_other_buckets_still_take_some(engine: Redis) -> None:
    # 2 per bucket
    fb, _ = store_on(engine, max_total=2 * keys.FEEDBACK_BUCKETS)
    first = author_in(3)
    second = author_in(3, other_than=first)
    await submit(fb, first)
    seconds = await submit(fb, second)
    before = await snapshot(engine, first)
    with pytest.raises(Conflict) as refused:
        await fb.submit(first, new_feedback_id(first, None), "full")
    assert refused.value.code == "FEEDBACK_FULL"
    assert await snapshot(engine, first) == before
    await submit(fb, author_in(4))
    # deleting one frees room in its bucket
    await fb.delete(second, seconds)
    await submit(fb, first, "room again")


# -- list -------------------------------------------------------------------------------------


async def test_list_is_the_authors_own_newest_first(fb: FeedbackStore, engine: Redis) -> None:
    author, other = next(authors()), next(authors())
    ids = []
    for i in range(3):
        # distinct milliseconds, so the order is the time's, not the tie-break's
        fb.clock.offset_ms = 10 * i
        ids.append(await submit(fb, author, f"text {i}"))
    await submit(fb, other, "someone else's")
    listed = await fb.list(author)
    assert [e["id"] for e in listed] == ids[::-1]
    assert [e["text"] for e in listed] == ["text 2", "text 1", "text 0"]
    # no client id, no address: exactly what the author wrote, and when
    assert all(set(e) == {"id", "text", "timestamp"} for e in listed)
    assert [e["text"] for e in await fb.list(other)] == ["someone else's"]
    assert await fb.list(next(authors())) == []


async def test_an_edit_moves_a_feedback_to_the_top(fb: FeedbackStore) -> None:
    author = next(authors())
    old = await submit(fb, author, "old")
    fb.clock.offset_ms = 5
    new = await submit(fb, author, "new")
    assert [e["id"] for e in await fb.list(author)] == [new, old]
    fb.clock.offset_ms = 10
    await fb.update(author, old, "old, edited")
    assert [e["id"] for e in await fb.list(author)] == [old, new]


# -- update -----------------------------------------------------------------------------------


async def test_update_replaces_the_text_and_the_time_of_the_authors_own(fb: FeedbackStore, engine: Redis) -> None:
    author = next(authors())
    fid = await submit(fb, author, "before")
    first = json.loads((await snapshot(engine, author))[0][fid])["timestamp"]
    fb.clock.offset_ms = 1000
    at = await fb.update(author, fid, "after <i>raw</i>")
    assert at >= first + 1000
    stored, index, _ = await snapshot(engine, author)
    assert json.loads(stored[fid]) == {"id": fid, "text": "after <i>raw</i>", "timestamp": at}
    assert index == [(fid, float(at))]


async def test_update_of_someone_elses_or_an_unknown_id_is_not_found_and_changes_nothing(
    fb: FeedbackStore, engine: Redis
) -> None:
    owner, intruder = next(authors()), next(authors())
    fid = await submit(fb, owner, "mine")
    await submit(fb, intruder, "theirs")
    before = (await snapshot(engine, owner), await snapshot(engine, intruder))
    for author, target in ((intruder, fid), (owner, "fb_no-such-id")):
        with pytest.raises(NotFound) as refused:
            await fb.update(author, target, "changed")
        assert refused.value.code == "FEEDBACK_NOT_FOUND"
    assert (await snapshot(engine, owner), await snapshot(engine, intruder)) == before


# -- delete -----------------------------------------------------------------------------------


async def test_delete_removes_the_authors_own_from_its_key_and_the_index(fb: FeedbackStore, engine: Redis) -> None:
    author = next(authors())
    keep, gone = await submit(fb, author, "keep"), await submit(fb, author, "gone")
    await fb.delete(author, gone)
    stored, index, _ = await snapshot(engine, author)
    assert list(stored) == [keep] and [m for m, _ in index] == [keep]
    await fb.delete(author, keep)
    # an author with no feedback left has no key
    assert not await engine.exists(keys.feedback(author))
    with pytest.raises(NotFound):
        await fb.delete(author, keep)


async def test_delete_of_someone_elses_or_an_unknown_id_is_not_found_and_changes_nothing(
    fb: FeedbackStore, engine: Redis
) -> None:
    owner, intruder = next(authors()), next(authors())
    fid = await submit(fb, owner, "mine")
    before = await snapshot(engine, owner)
    for author, target in ((intruder, fid), (owner, "fb_no-such-id")):
        with pytest.raises(NotFound) as refused:
            await fb.delete(author, target)
        assert refused.value.code == "FEEDBACK_NOT_FOUND"
    assert await snapshot(engine, owner) == before
    assert [e["id"] for e in await fb.list(owner)] == [fid]


# -- retention --------------------------------------------------------------------------------


async def test_past_the_retention_a_feedback_is_gone_for_every_operation_and_pruned_by_the_next_write(
    fb: FeedbackStore, engine: Redis
) -> None:
    author = next(authors())
    old = [await submit(fb, author, f"old {i}") for i in range(PER_AUTHOR)]
    fb.clock.offset_ms = RETENTION_S * 1000 + 1
    assert await fb.list(author) == []
    for op in (lambda: fb.update(author, old[0], "x"), lambda: fb.delete(author, old[0])):
        with pytest.raises(NotFound):
            await op()
    # no longer counted against the cap, and the write prunes them from the key and the index
    fresh = await submit(fb, author, "fresh")
    stored, index, _ = await snapshot(engine, author)
    assert list(stored) == [fresh] and [m for m, _ in index] == [fresh]
    assert [e["id"] for e in await fb.list(author)] == [fresh]


async def test_an_expired_authors_entries_leave_the_bucket_count(engine: Redis) -> None:
    fb, clock = store_on(engine, max_total=keys.FEEDBACK_BUCKETS)  # 1 per bucket
    first = author_in(5)
    await submit(fb, first)
    # the author's key expired with its TTL; its index entry is past retention by score
    await engine.delete(keys.feedback(first))
    clock.offset_ms = RETENTION_S * 1000 + 1
    second = author_in(5, other_than=first)
    fid = await submit(fb, second)
    assert await engine.zrange(keys.feedback_index(5), 0, -1) == [fid]


# -- malformed arguments ----------------------------------------------------------------------


def argv_cases() -> list[tuple[str, int, list[Any]]]:
    ok_submit = [0, 1000, 3, 10, "fb_x", "text"]
    ok_update = [0, 1000, "fb_x", "text"]
    return [
        ("feedback_submit", 1, ok_submit),
        ("feedback_submit", 2, ["x", *ok_submit[1:]]),
        ("feedback_submit", 2, [0, 0, *ok_submit[2:]]),
        ("feedback_submit", 2, [0, 1000, 0, *ok_submit[3:]]),
        ("feedback_submit", 2, [0, 1000, 3, 0, *ok_submit[4:]]),
        ("feedback_submit", 2, [*ok_submit[:4], "", "text"]),
        ("feedback_submit", 2, [*ok_submit[:4], "i" * 65, "text"]),
        ("feedback_submit", 2, [*ok_submit[:5], ""]),
        ("feedback_submit", 2, [*ok_submit[:5], "t" * 1021]),
        ("feedback_submit", 2, ok_submit[:5]),
        ("feedback_update", 1, ok_update),
        ("feedback_update", 2, [0, "x", "fb_x", "text"]),
        ("feedback_update", 2, [0, 1000, "", "text"]),
        ("feedback_update", 2, [0, 1000, "fb_x", ""]),
        ("feedback_update", 2, [0, 1000, "fb_x", "t" * 1021]),
        ("feedback_delete", 1, [0, 1000, "fb_x"]),
        ("feedback_delete", 2, [0, 1000, ""]),
        ("feedback_delete", 2, [0, -1, "fb_x"]),
        ("feedback_delete", 2, [0, 1000]),
        ("feedback_list", 2, [0, 1000]),
        ("feedback_list", 1, ["", 1000]),
        ("feedback_list", 1, [0, 0]),
    ]


@pytest.mark.parametrize("name, key_count, argv", argv_cases())
async def test_malformed_arguments_are_refused_and_nothing_is_written(
    engine: Redis, name: str, key_count: int, argv: list[Any]
) -> None:
    key_list = keys.FeedbackKeys(next(authors())).as_list()[:key_count]
    with pytest.raises(ResponseError, match="INVALID_ARGUMENT"):
        await Scripts(engine)[name](keys=key_list, args=argv)
    assert [k async for k in engine.scan_iter()] == []
