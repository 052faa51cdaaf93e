from __future__ import annotations

import re
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest
from redis.asyncio import Redis

from service.clock import GameClock
from service.errors import ERROR_CODES, SCRIPT_CODES, GameError, StorageUnavailable, from_lua
from service.game import GameStore, new_action_id
from service.protocol import GameSettings
from service.scripts import (
    HEADER_SECTIONS,
    INCLUDE,
    SHEBANG,
    ScriptLoadError,
    Scripts,
    lua_dir,
    read_source,
    script_names,
)

NAMES = script_names()
HEADER = """--[[
  {name}: a test script.

  KEYS: none
  ARGV: none
  Returns: 1
  Errors: INVALID_ARGUMENT
  Publishes: nothing.
]]
"""


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def lua_root(tmp_path: Path) -> Path:
    root = tmp_path / "lua"
    (root / "lib").mkdir(parents=True)
    return root


def raised_codes(body: str) -> set[str]:
    """Codes raised by fail()/error_reply(), or handed to lib/state.lua's host_on_player or
    seated_caller, which raise the code they are given for a caller who is not the host or
    holds no seat."""
    found = re.findall(
        r"(?:fail|error_reply)\('([A-Z_]+)'\)|(?:host_on_player|seated_caller)\([^)]*'([A-Z_]+)'\)", body
    )
    return {a or b for a, b in found}


def own_body(name: str) -> str:
    return (lua_dir() / f"{name}.lua").read_text(encoding="utf-8")


#: comments and string literals, which name no variable
LUA_NOISE = re.compile(r"--\[(=*)\[.*?\]\1\]|--[^\n]*|'(?:\\.|[^'\\\n])*'|\"(?:\\.|[^\"\\\n])*\"", re.DOTALL)
#: a local of the chunk itself: only those start in column 0 (bodies are indented)
TOP_LOCAL = re.compile(r"^local (?:function (\w+)|([\w, ]+?)\s*=)", re.MULTILINE)
#: Lua 5.1's LUAI_MAXVARS: a function (the chunk too) with more locals does not compile
MAX_LOCALS = 200
LIBS = sorted(p.relative_to(lua_dir()).as_posix() for p in (lua_dir() / "lib").glob("*.lua"))


def lua_code(text: str) -> str:
    return LUA_NOISE.sub(" ", text)


def top_level_names(text: str) -> list[str]:
    names: list[str] = []
    for function, variables in TOP_LOCAL.findall(lua_code(text)):
        names += [function] if function else [v.strip() for v in variables.split(",")]
    return names


def names_used(text: str) -> set[str]:
    """Every name the code reads or calls, leaving out fields (`c.now`, `st:x`)."""
    return set(re.findall(r"(?<![\w.:])[A-Za-z_]\w*", lua_code(text)))


def lua_text(rel: str) -> str:
    return (lua_dir() / rel).read_text(encoding="utf-8")


def provider() -> dict[str, str]:
    """Which lib file defines each name the lib files provide."""
    return {name: lib for lib in LIBS for name in top_level_names(lua_text(lib))}


def reachable(rel: str) -> set[str]:
    found: set[str] = set()
    todo = INCLUDE.findall(lua_text(rel))
    while todo:
        lib = todo.pop()
        if lib not in found:
            found.add(lib)
            todo += INCLUDE.findall(lua_text(lib))
    return found


# -- headers and error codes --------------------------------------------------------------


def test_there_is_a_script_for_every_game_action() -> None:
    assert {
        "create",
        "join",
        "claim",
        "unclaim",
        "leave",
        "reconnect",
        "start",
        "pause",
        "reset",
        "switch",
        "update_player",
        "add_penalty",
        "eliminate",
        "update_settings",
        "claim_deadlines",
        "fire_deadline",
    } <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_script_has_a_complete_header(name: str) -> None:
    src = read_source(name)

    assert all(section in src.header for section in HEADER_SECTIONS)
    assert src.header.lstrip().startswith(f"{name}:")
    assert src.error_codes, f"{name} lists no error code"


@pytest.mark.parametrize("name", NAMES)
def test_every_include_is_expanded(name: str) -> None:
    src = read_source(name)

    assert INCLUDE.search(src.text) is None
    if INCLUDE.search(own_body(name)):
        assert "local function run(main)" in src.text
    for lib in src.includes:
        # each included file is pasted once: its header comment appears exactly once
        header = re.match(r"--\[\[.*?\]\]", lua_text(lib), re.DOTALL)
        assert header is not None
        assert src.text.count(header.group(0)) == 1, lib


@pytest.mark.parametrize("name", NAMES)
def test_every_script_defines_each_local_once_and_within_lua_limits(name: str) -> None:
    text = read_source(name).text
    names = top_level_names(text)
    functions = re.findall(r"^\s*local function (\w+)", text, re.MULTILINE)

    assert [n for n, k in Counter(functions).items() if k > 1] == []
    assert [n for n, k in Counter(names).items() if k > 1] == []
    assert len(names) <= MAX_LOCALS


# -- the lib files ------------------------------------------------------------------------


def test_there_are_lib_files() -> None:
    assert {"lib/context.lua", "lib/state.lua", "lib/rules.lua", "lib/commit.lua"} <= set(LIBS)


@pytest.mark.parametrize("lib", LIBS)
def test_every_lib_header_names_the_file_and_what_it_provides(lib: str) -> None:
    header = re.match(r"--\[\[(.*?)\]\]", lua_text(lib), re.DOTALL)
    assert header is not None, f"{lib} has no --[[ ... ]] header"
    provides = re.search(r"^\s*Provides: (.*)$", header.group(1), re.MULTILINE)

    assert header.group(1).lstrip().startswith(f"{lib}:")
    assert provides is not None, f"{lib}'s header has no Provides: line"
    assert sorted(provides.group(1).split(", ")) == sorted(top_level_names(lua_text(lib)))


def test_no_name_is_provided_by_two_lib_files() -> None:
    defined = [name for lib in LIBS for name in top_level_names(lua_text(lib))]

    assert [n for n, k in Counter(defined).items() if k > 1] == []


@pytest.mark.parametrize("rel", [*LIBS, *(f"{n}.lua" for n in NAMES)])
def test_every_file_includes_exactly_the_lib_files_it_uses(rel: str) -> None:
    text = lua_text(rel)
    own = set(top_level_names(text))
    needed = {lib for name, lib in provider().items() if name in names_used(text) and name not in own}

    # a name from a file not included would be a (forbidden) global when the script runs
    assert needed <= reachable(rel)
    # and naming each file it calls into keeps a script's dependencies readable at its top
    assert set(INCLUDE.findall(text)) == needed


@pytest.mark.parametrize("name", NAMES)
def test_every_error_code_in_a_header_is_mapped_to_an_exception(name: str) -> None:
    assert set(read_source(name).error_codes) <= set(ERROR_CODES)


def test_every_mapped_error_code_appears_in_some_header() -> None:
    listed = {code for name in NAMES for code in read_source(name).error_codes}

    assert set(SCRIPT_CODES) - listed == set()


@pytest.mark.parametrize("name", NAMES)
def test_every_code_a_script_raises_itself_is_in_its_header(name: str) -> None:
    body = own_body(name)
    raised = raised_codes(body)
    if re.search(r"\bload\(c\)", body):
        raised.add("GAME_NOT_FOUND")

    assert raised - set(read_source(name).error_codes) == set()


@pytest.mark.parametrize("name", NAMES)
def test_every_code_in_a_header_can_be_raised_by_the_script(name: str) -> None:
    src = read_source(name)

    assert set(src.error_codes) <= raised_codes(src.text)


def test_the_header_parser_reads_codes_across_lines() -> None:
    assert read_source("reconnect").error_codes == [
        "GAME_NOT_FOUND",
        "PLAYER_NOT_FOUND",
        "NO_TOKEN",
        "INVALID_TOKEN",
        "TOKEN_EXPIRED",
        "INVALID_HOST_TOKEN",
        "INVALID_ARGUMENT",
    ]


@pytest.mark.parametrize("code", sorted(SCRIPT_CODES))
def test_every_error_reply_maps_to_its_exception_and_message(code: str) -> None:
    err = from_lua(code)

    cls, message = SCRIPT_CODES[code]
    assert isinstance(err, GameError)
    assert (type(err), err.code, err.message) == (cls, code, message)


def test_an_error_reply_that_is_not_a_code_maps_to_nothing() -> None:
    assert from_lua("ERR user_script:1: attempt to index a nil value") is None
    assert from_lua("") is None


# -- the loader -----------------------------------------------------------------------------


def test_a_nested_include_is_pasted_in_place(tmp_path: Path) -> None:
    root = lua_root(tmp_path)
    write(root, "a.lua", HEADER.format(name="a") + '--- @include "lib/x.lua"\nreturn X + Y\n')
    write(root, "lib/x.lua", '--- @include "lib/y.lua"\nlocal X = 1\n')
    write(root, "lib/y.lua", "local Y = 2\n")

    src = read_source("a", root)

    # each include line is replaced by the file, and keeps its own line break
    assert src.text.endswith("]]\nlocal Y = 2\n\nlocal X = 1\n\nreturn X + Y\n")


def test_a_diamond_include_is_pasted_once_where_it_is_first_reached(tmp_path: Path) -> None:
    root = lua_root(tmp_path)
    write(root, "a.lua", HEADER.format(name="a") + '--- @include "lib/x.lua"\n--- @include "lib/y.lua"\nreturn X + Y\n')
    write(root, "lib/x.lua", '--- @include "lib/base.lua"\nlocal X = B\n')
    write(root, "lib/y.lua", '--- @include "lib/./base.lua"\nlocal Y = B\n')
    write(root, "lib/base.lua", "local B = 1\n")

    src = read_source("a", root)

    assert src.text.count("local B = 1") == 1
    assert src.text.index("local B = 1") < src.text.index("local X = B") < src.text.index("local Y = B")
    assert src.includes == ("lib/x.lua", "lib/base.lua", "lib/y.lua")


def test_a_file_included_twice_by_one_file_is_pasted_once(tmp_path: Path) -> None:
    root = lua_root(tmp_path)
    write(root, "a.lua", HEADER.format(name="a") + '--- @include "lib/y.lua"\n--- @include "lib/y.lua"\n')
    write(root, "lib/y.lua", "local Y = 2\n")

    assert read_source("a", root).text.count("local Y = 2") == 1


def test_an_include_cycle_is_refused(tmp_path: Path) -> None:
    root = lua_root(tmp_path)
    write(root, "a.lua", HEADER.format(name="a") + '--- @include "lib/x.lua"\n')
    write(root, "lib/x.lua", '--- @include "lib/y.lua"\n')
    write(root, "lib/y.lua", '--- @include "lib/x.lua"\n')

    with pytest.raises(ScriptLoadError, match=r"include cycle: a\.lua -> x\.lua -> y\.lua -> x\.lua"):
        read_source("a", root)


def test_a_file_including_itself_is_refused(tmp_path: Path) -> None:
    root = lua_root(tmp_path)
    write(root, "a.lua", HEADER.format(name="a") + '--- @include "lib/x.lua"\n')
    write(root, "lib/x.lua", '--- @include "lib/x.lua"\n')

    with pytest.raises(ScriptLoadError, match="include cycle"):
        read_source("a", root)


@pytest.mark.parametrize(
    ("chain", "message"),
    [
        (["lib/nowhere.lua"], r"missing Lua file .*nowhere\.lua, included by a\.lua"),
        (["lib/x.lua", "lib/nowhere.lua"], r"missing Lua file .*nowhere\.lua, included by lib/x\.lua"),
        (["../secret.lua"], r"a\.lua includes \.\./secret\.lua, outside"),
    ],
    ids=["missing", "missing-nested", "outside-lua"],
)
def test_a_bad_include_is_refused_naming_the_file_that_asked_for_it(
    tmp_path: Path, chain: list[str], message: str
) -> None:
    root = lua_root(tmp_path)
    # a.lua includes chain[0], which includes chain[1], ...; the last one is not there
    write(root, "a.lua", HEADER.format(name="a") + f'--- @include "{chain[0]}"\n')
    for rel, target in pairwise(chain):
        write(root, rel, f'--- @include "{target}"\n')
    write(tmp_path, "secret.lua", "local S = 1\n")

    with pytest.raises(ScriptLoadError, match=message):
        read_source("a", root)


def test_a_script_without_a_header_is_refused(tmp_path: Path) -> None:
    root = lua_root(tmp_path)
    write(root, "a.lua", "return 1\n")

    with pytest.raises(ScriptLoadError, match="missing the --\\[\\[ ... \\]\\] header"):
        read_source("a", root)


@pytest.mark.parametrize("section", HEADER_SECTIONS)
def test_a_header_lacking_a_section_is_refused(tmp_path: Path, section: str) -> None:
    root = lua_root(tmp_path)
    write(root, "a.lua", HEADER.format(name="a").replace(section, "Notes:") + "return 1\n")

    with pytest.raises(ScriptLoadError, match=f"header lacks {section}"):
        read_source("a", root)


def test_a_missing_script_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScriptLoadError):
        read_source("nothing", lua_root(tmp_path))


async def test_scripts_refuse_to_load_a_folder_with_a_broken_file(tmp_path: Path, engine: Redis) -> None:
    root = lua_root(tmp_path)
    write(root, "good.lua", HEADER.format(name="good") + "return 1\n")
    write(root, "bad.lua", HEADER.format(name="bad") + '--- @include "lib/gone.lua"\n')

    with pytest.raises(ScriptLoadError, match="gone.lua"):
        Scripts(engine, root)


# -- on a server ----------------------------------------------------------------------------


async def test_every_script_compiles_on_the_server(engine: Redis) -> None:
    scripts = Scripts(engine)

    await scripts.load_all(engine)

    assert await engine.script_exists(*[scripts[n].sha for n in NAMES]) == [True] * len(NAMES)


async def test_a_script_flush_is_recovered_transparently(store: tuple[GameStore, GameClock]) -> None:
    game_store, _ = store
    client = game_store.client
    gid, _, _ = await game_store.create("host", GameSettings(), new_action_id())
    await client.script_flush()
    sha = game_store.scripts["start"].sha
    assert await client.script_exists(sha) == [False]

    out = await game_store.start(gid, "host", new_action_id())

    assert (out.status, out.state["status"], out.version) == ("ok", "running", 2)
    assert await client.script_exists(sha) == [True]


async def test_only_a_real_redis_is_sent_the_shebang(engine: Redis) -> None:
    scripts = Scripts(engine)
    embedded = type(engine).__module__.startswith("fakeredis")

    assert scripts.prefix == ("" if embedded else SHEBANG)
    # the registered body is what the server hashes: the prefix must be part of it
    assert {s.script for s in (scripts[n] for n in NAMES)} == {scripts.prefix + scripts.sources[n].text for n in NAMES}


async def test_a_primary_without_its_replicas_refuses_a_refusal_too(rdb: Redis) -> None:
    # a primary that lost its replicas (min-replicas-to-write unmet: hung and failed over, or
    # cut off) holds a copy of the game that may be stale; a rule refusal read from it
    # ("not your turn") would be wrong, so the whole script is refused with the storage error
    game_store = GameStore(rdb, Scripts(rdb), GameClock(), retention_s=60, token_ttl_s=60, action_timeout_s=2.0)
    gid, _, _ = await game_store.create("host", GameSettings(), new_action_id())
    with pytest.raises(GameError, match="Not authorized"):
        await game_store.start(gid, "someone else", new_action_id())

    await rdb.config_set("min-replicas-to-write", 1)
    try:
        with pytest.raises(StorageUnavailable):
            await game_store.start(gid, "someone else", new_action_id())
    finally:
        await rdb.config_set("min-replicas-to-write", 0)

    out = await game_store.start(gid, "host", new_action_id())
    assert (out.status, out.version) == ("ok", 2)
