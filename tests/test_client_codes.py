"""The web client decides on error codes the server defines, and never on a message's text.

static/js/errors.js names every code the client acts on; the other modules import them from
it. Read as text (the client has no build step), so these run without a browser.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from service.errors import ERROR_CODES

JS = Path(__file__).resolve().parent.parent / "service" / "static" / "js"
CODES_MODULE = JS / "errors.js"
EXPORT = re.compile(r"^export const (\w+) = '(\w+)';$", re.MULTILINE)
IMPORT = re.compile(r"import\s*\{([^}]*)\}\s*from\s*'\./errors\.js';")
#: a script read left to right as comments (skipped) and quoted strings: '...', "..." and
#: `...` (a template's text as written, substitutions included)
TOKEN = re.compile(r"//[^\n]*|/\*.*?\*/|'((?:[^'\\\n]|\\.)*)'|\"((?:[^\"\\\n]|\\.)*)\"|`((?:[^`\\]|\\.)*)`", re.DOTALL)


def client_codes() -> dict[str, str]:
    text = CODES_MODULE.read_text(encoding="utf-8")
    exports = dict(EXPORT.findall(text))
    assert len(exports) == text.count("export "), "errors.js exports only `export const NAME = 'CODE';` lines"
    return exports


def modules() -> list[Path]:
    return sorted(p for p in JS.glob("*.js") if p != CODES_MODULE)


def literals_in(text: str) -> set[str]:
    return {next(g for g in m.groups() if g is not None) for m in TOKEN.finditer(text) if m.group(0)[0] in "'\"`"}


def literals(path: Path) -> set[str]:
    return literals_in(path.read_text(encoding="utf-8"))


def test_every_code_the_client_handles_is_defined_by_the_server_table() -> None:
    codes = client_codes()
    assert codes, "errors.js exports no code"
    assert {name for name, code in codes.items() if name != code} == set()
    assert set(codes.values()) - set(ERROR_CODES) == set()


def test_the_client_modules_import_only_codes_errors_js_exports_and_use_each() -> None:
    codes = client_codes()
    imported: set[str] = set()
    for path in modules():
        for names in IMPORT.findall(path.read_text(encoding="utf-8")):
            imported |= {n.strip() for n in names.split(",") if n.strip()}
    assert imported - set(codes) == set()
    assert set(codes) - imported == set(), "a code errors.js names but no module decides on"


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.name)
def test_no_module_spells_a_code_itself(path: Path) -> None:
    # a code written out in another module would be one the table test above never sees
    assert literals(path) & set(ERROR_CODES) == set()


@pytest.mark.parametrize("path", [*modules(), CODES_MODULE], ids=lambda p: p.name)
def test_no_module_matches_a_server_message(path: Path) -> None:
    messages = {message for _, message in ERROR_CODES.values()}
    assert literals(path) & messages == set()


def test_the_scanner_finds_the_strings_the_client_once_matched_and_skips_comments() -> None:
    text = """// don't match 'Invalid token' here
    if (x === 'Invalid token' || y === "Token expired") show(`Game ${gid} gone`, `Game not found`);
    /* 'Player not found' */ const url = 'wss://host/ws'; // it's 'PLAYER_CLAIMED'
    """
    assert literals_in(text) == {
        "Invalid token",
        "Token expired",
        "Game ${gid} gone",
        "Game not found",
        "wss://host/ws",
    }
    assert "./errors.js" in literals(JS / "session.js")
