"""Loads lua/*.lua once, expands includes, checks headers and registers one script object each.

Calls go through redis-py's AsyncScript: EVALSHA, and on NOSCRIPT a SCRIPT LOAD and one
more try, so a SCRIPT FLUSH or a fresh Redis after failover is recovered transparently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis.commands.core import AsyncScript

INCLUDE = re.compile(r'^--- @include "([\w./-]+)"\s*$', re.MULTILINE)
HEADER_SECTIONS = ("KEYS:", "ARGV:", "Returns:", "Errors:", "Publishes:")
ERROR_LINE = re.compile(r"Errors:(.*?)Publishes:", re.DOTALL)


class ScriptLoadError(RuntimeError):
    """A Lua file is missing, has a bad include or an incomplete header."""


def lua_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "lua", here.parent / "lua"):
        if (candidate / "lib").is_dir():
            return candidate
    raise ScriptLoadError(f"no lua/ folder next to {here}")


@dataclass(frozen=True)
class LuaSource:
    name: str
    #: the script with every include pasted in, each included file once
    text: str
    header: str
    #: the files pasted in, relative to lua/, in the order they were first reached
    includes: tuple[str, ...] = ()

    @property
    def error_codes(self) -> list[str]:
        m = ERROR_LINE.search(self.header)
        return re.findall(r"[A-Z][A-Z_]+", m.group(1)) if m else []


class _Expander:
    """Pastes includes in place, depth first, so a file's own includes come before its code.

    A file reached again (a diamond: two libs that both include lib/context.lua) is pasted
    only where it first appears; every later include line of it becomes empty. Redefining
    a local there would shadow the first one, and the chunk's locals are capped at 200.
    """

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.pasted: list[Path] = []

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def resolve(self, include: str, by: Path) -> Path:
        # resolved, so that two spellings of one file are one file to include-once
        path = (self.root / include).resolve()
        if not path.is_relative_to(self.root):
            raise ScriptLoadError(f"{self.rel(by)} includes {include}, outside {self.root}")
        return path

    def expand(self, path: Path, stack: tuple[Path, ...] = ()) -> str:
        if path in stack:
            chain = " -> ".join(p.name for p in (*stack, path))
            raise ScriptLoadError(f"include cycle: {chain}")
        if path in self.pasted:
            return ""
        if not path.is_file():
            by = f", included by {self.rel(stack[-1])}" if stack else ""
            raise ScriptLoadError(f"missing Lua file {path}{by}")
        if stack:
            self.pasted.append(path)
        text = path.read_text(encoding="utf-8")

        def replace(m: re.Match[str]) -> str:
            return self.expand(self.resolve(m.group(1), path), (*stack, path))

        return INCLUDE.sub(replace, text)


def read_source(name: str, root: Path | None = None) -> LuaSource:
    root = root or lua_dir()
    path = root / f"{name}.lua"
    raw = path.read_text(encoding="utf-8") if path.is_file() else ""
    m = re.match(r"\s*--\[\[(.*?)\]\]", raw, re.DOTALL)
    if not m:
        raise ScriptLoadError(f"{path}: missing the --[[ ... ]] header")
    header = m.group(1)
    missing = [s for s in HEADER_SECTIONS if s not in header]
    if missing:
        raise ScriptLoadError(f"{path}: header lacks {', '.join(missing)}")
    expander = _Expander(root)
    text = expander.expand(path.resolve())
    return LuaSource(name=name, text=text, header=header, includes=tuple(expander.rel(p) for p in expander.pasted))


def script_names(root: Path | None = None) -> list[str]:
    root = root or lua_dir()
    return sorted(p.stem for p in root.glob("*.lua"))


#: Sent first to a real Redis. A script with a shebang and without `no-writes` is refused as a
#: whole (NOREPLICAS, READONLY) where a write would be; without one, only its first write is.
#: That matters for refusals: a primary that hung, was failed over and woke up still a
#: primary would otherwise answer "not your turn" from its stale copy of the game, instead of
#: the storage error every other action gets there until Sentinel demotes it.
SHEBANG = "#!lua\n"


def speaks_shebang(client: Any) -> bool:
    """Redis 7 reads the shebang; the embedded engine (fakeredis) takes it for a syntax error."""
    import fakeredis

    return not isinstance(client, (fakeredis.FakeAsyncRedis, fakeredis.FakeRedis))


class Scripts:
    """One registered script per lua/*.lua file, looked up by file stem."""

    def __init__(self, client: Any, root: Path | None = None) -> None:
        self.sources = {n: read_source(n, root) for n in script_names(root)}
        self.prefix = SHEBANG if speaks_shebang(client) else ""
        self._scripts: dict[str, AsyncScript] = {
            n: client.register_script(self.prefix + src.text) for n, src in self.sources.items()
        }

    def __getitem__(self, name: str) -> AsyncScript:
        return self._scripts[name]

    async def load_all(self, client: Any) -> None:
        """SCRIPT LOAD every script now, so a broken script fails start-up, not a game."""
        for src in self.sources.values():
            await client.script_load(self.prefix + src.text)
