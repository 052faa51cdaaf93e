from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from redis.crc import key_slot

from service import keys
from service.scripts import lua_dir

SAMPLE = 500


def slot(key: str) -> int:
    return int(key_slot(key.encode()))


def game_key_names(gid: str) -> list[str]:
    return [*keys.GameKeys(gid).as_list(), keys.channel(gid)]


def test_every_key_of_a_game_maps_to_one_cluster_slot() -> None:
    for _ in range(SAMPLE):
        gid = keys.new_game_id()
        slots = {slot(k) for k in game_key_names(gid)}
        assert slots == {slot(gid)}, (gid, game_key_names(gid))


def test_the_game_keys_are_the_six_the_scripts_expect_in_order() -> None:
    gid = keys.new_game_id(b"order")
    part = keys.partition_of(gid)
    assert part is not None

    assert keys.GameKeys(gid).as_list() == [
        f"tot:{{{gid}}}",
        f"tot:{{{gid}}}:log",
        f"tot:{{{gid}}}:acts",
        f"tot:deadlines:{{{keys.PARTITION_TAGS[part]}}}",
        f"tot:lobby:{{{keys.PARTITION_TAGS[part]}}}",
        f"tot:{{{gid}}}:undo",
    ]
    assert keys.channel(gid) == f"tot:{{{gid}}}:ch"


def test_the_partitions_sit_on_distinct_slots() -> None:
    slots = [slot(keys.deadline_partition(p)) for p in range(keys.PARTITIONS)]

    assert len(set(slots)) == keys.PARTITIONS
    assert all(keys.SLOT_TO_PARTITION[s] == p for p, s in enumerate(slots))


def test_each_lobby_partition_shares_the_slot_of_its_deadline_partition() -> None:
    for p in range(keys.PARTITIONS):
        assert slot(keys.lobby_partition(p)) == slot(keys.deadline_partition(p))


def test_issued_ids_spread_over_every_partition() -> None:
    seen = {keys.partition_of(keys.new_game_id(i.to_bytes(4, "big"))) for i in range(1_000)}

    assert seen == set(range(keys.PARTITIONS))


def test_new_game_id_with_the_same_seed_is_deterministic() -> None:
    for i in range(50):
        seed = f"client-{i}:request".encode()
        assert keys.new_game_id(seed) == keys.new_game_id(seed)


def test_new_game_id_with_different_seeds_gives_different_ids() -> None:
    ids = {keys.new_game_id(f"seed-{i}".encode()) for i in range(200)}

    assert len(ids) == 200


def test_new_game_id_issues_only_valid_ids() -> None:
    for i in range(SAMPLE):
        gid = keys.new_game_id() if i % 2 else keys.new_game_id(i.to_bytes(4, "big"))
        assert keys.is_valid_game_id(gid), gid
        assert len(gid) == keys.ID_LENGTH
        assert set(gid) <= set(keys.ALPHABET)


def test_the_alphabet_has_32_characters_without_look_alikes() -> None:
    assert len(keys.ALPHABET) == len(set(keys.ALPHABET)) == 32
    assert not set("IO01") & set(keys.ALPHABET)


def _unissuable_id() -> str:
    rng = random.Random(1)
    while True:
        gid = "".join(rng.choice(keys.ALPHABET) for _ in range(keys.ID_LENGTH))
        if keys.partition_of(gid) is None:
            return gid


@pytest.mark.parametrize("transform", ["short", "long", "lower", "I", "O", "0", "1", "blank", "empty"])
def test_is_valid_game_id_rejects_wrong_length_or_alphabet(transform: str) -> None:
    gid = keys.new_game_id(b"valid")
    assert keys.is_valid_game_id(gid)
    bad = {
        "short": gid[:-1],
        "long": gid + "A",
        "lower": gid.lower(),
        "I": "I" + gid[1:],
        "O": gid[:-1] + "O",
        "0": "0" + gid[1:],
        "1": gid[:3] + "1" + gid[4:],
        "blank": " " + gid[1:],
        "empty": "",
    }[transform]

    assert not keys.is_valid_game_id(bad)


def test_is_valid_game_id_rejects_an_id_outside_every_partition() -> None:
    gid = _unissuable_id()

    assert set(gid) <= set(keys.ALPHABET) and len(gid) == keys.ID_LENGTH
    assert not keys.is_valid_game_id(gid)
    with pytest.raises(ValueError):
        keys.GameKeys(gid).as_list()


def test_normalize_game_id_accepts_lower_case_and_blanks() -> None:
    assert keys.normalize_game_id("  abc23x \n") == "ABC23X"


# -- no key name is built inside Lua -------------------------------------------------------

_LONG_OPEN = re.compile(r"\[(=*)\[")


def lua_string_literals(src: str) -> list[str]:
    """The string literals of a Lua source, comments skipped (a small tokenizer, enough for
    '...', "..." with escapes, [[...]]/[==[...]==] strings and --/--[[ ]] comments)."""
    out: list[str] = []
    i, n = 0, len(src)
    while i < n:
        if src.startswith("--", i):
            m = _LONG_OPEN.match(src, i + 2)
            if m:
                end = src.find("]" + m.group(1) + "]", m.end())
                i = n if end < 0 else end + len(m.group(1)) + 2
            else:
                nl = src.find("\n", i)
                i = n if nl < 0 else nl + 1
            continue
        ch = src[i]
        if ch in "'\"":
            j = i + 1
            buf = []
            while j < n and src[j] != ch:
                if src[j] == "\\":
                    buf.append(src[j : j + 2])
                    j += 2
                    continue
                buf.append(src[j])
                j += 1
            out.append("".join(buf))
            i = j + 1
            continue
        m = _LONG_OPEN.match(src, i)
        if m:
            close = "]" + m.group(1) + "]"
            end = src.find(close, m.end())
            out.append(src[m.end() : end if end >= 0 else n])
            i = n if end < 0 else end + len(close)
            continue
        i += 1
    return out


KEYISH = re.compile(rf"{keys.PREFIX}:|^{keys.PREFIX}$|[{{}}]|:log\b|:acts\b|deadlines")


def test_the_literal_scanner_sees_strings_but_not_comments() -> None:
    src = (
        "--[[ tot:{ID} in a long comment ]]\n"
        "-- tot:{ID}:log in a line comment\n"
        "local a = 'tot:' .. id\n"
        'local b = "say \\"hi\\"" -- tot:x\n'
        "local c = [==[tot:{x}]==]\n"
        "local d = 'tok:' .. n\n"
    )

    literals = lua_string_literals(src)

    assert literals == ["tot:", 'say \\"hi\\"', "tot:{x}", "tok:"]
    assert [s for s in literals if KEYISH.search(s)] == ["tot:", "tot:{x}"]


def lua_files() -> list[Path]:
    root = lua_dir()
    return sorted([*root.glob("*.lua"), *root.glob("lib/*.lua")])


def test_there_are_lua_files_to_scan() -> None:
    names = {p.name for p in lua_files()}
    assert {"context.lua", "create.lua", "fire_deadline.lua", "claim_deadlines.lua"} <= names


@pytest.mark.parametrize("path", lua_files(), ids=lambda p: p.name)
def test_no_lua_script_builds_a_key_name(path: Path) -> None:
    literals = lua_string_literals(path.read_text(encoding="utf-8"))

    assert [s for s in literals if KEYISH.search(s)] == []
