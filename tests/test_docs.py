"""The README and docs/ stay navigable: every relative link leads to a file that exists and,
with a `#fragment`, to a heading that produces that anchor; and the README stays short.

Anchors follow GitHub's rule, since that is where the pages are read: the heading's text,
lowercased, with punctuation dropped and each space turned into a hyphen; a repeated heading
gets `-1`, `-2`, ... A Markdown library would parse links, but none of them makes GitHub's
anchors, and the pages here use only inline links, reference definitions and fenced code.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: the front door plus the players' guide (issue 13 asks for the guide in the README itself);
#: operator detail belongs in docs/
README_MAX_LINES = 400

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")
HTML_ANCHOR = re.compile(r"""<a\s+(?:id|name)=["']([^"']+)["']""")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
# [text](target) and ![alt](target), with an optional "title"
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks, where links and headings count."""
    out: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        m = FENCE.match(line)
        if m is not None:
            if fence is None:
                fence = m.group(1)
            elif m.group(1) == fence:
                fence = None
            continue
        if fence is None:
            out.append(line)
    return out


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text (links inside it count by their text)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    seen: Counter[str] = Counter()
    for line in prose_lines(path.read_text()):
        found.update(HTML_ANCHOR.findall(line))
        m = HEADING.match(line)
        if m is None:
            continue
        base = slug(m.group(1))
        found.add(base if seen[base] == 0 else f"{base}-{seen[base]}")
        seen[base] += 1
    return found


def link_targets(path: Path) -> list[str]:
    targets: list[str] = []
    for line in prose_lines(path.read_text()):
        m = REFERENCE_DEF.match(line)
        if m is not None:
            targets.append(m.group(1))
            continue
        targets.extend(INLINE_LINK.findall(CODE_SPAN.sub("", line)))
    return targets


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    """What is wrong with each relative link of one page, as `target: reason`."""
    problems: list[str] = []
    cache: dict[Path, set[str]] = {}
    for target in link_targets(path):
        if SCHEME.match(target):
            continue  # http(s), mailto: outside this check
        file_part, _, fragment = target.partition("#")
        if file_part.startswith("/"):
            problems.append(f"{target}: absolute path (write it relative to {path.name})")
            continue
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.is_relative_to(root.resolve()):
            problems.append(f"{target}: outside the repository")
        elif not dest.exists():
            problems.append(f"{target}: no such file")
        elif fragment:
            if dest.suffix != ".md":
                problems.append(f"{target}: an anchor into a file that is not Markdown")
            elif fragment not in cache.setdefault(dest, anchors(dest)):
                problems.append(f"{target}: no heading in {dest.relative_to(root.resolve())} makes #{fragment}")
    return problems


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    assert broken_links(page) == []


def test_the_readme_stays_short() -> None:
    lines = len((ROOT / "README.md").read_text().splitlines())
    assert lines < README_MAX_LINES, f"README.md has {lines} lines: move detail into docs/"


def test_the_readme_links_every_docs_page() -> None:
    readme = (ROOT / "README.md").resolve()
    linked = {(readme.parent / t.partition("#")[0]).resolve() for t in link_targets(readme) if not SCHEME.match(t)}
    assert [p.name for p in sorted((ROOT / "docs").glob("*.md")) if p.resolve() not in linked] == []


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Playing at a table", "playing-at-a-table"),
        ("Several processes on one host: `--workers`", "several-processes-on-one-host---workers"),
        ("Client → server", "client--server"),
        ("Where an instance's time goes", "where-an-instances-time-goes"),
        ("Deploying on Fly.io", "deploying-on-flyio"),
        ("See [the protocol](docs/protocol.md)", "see-the-protocol"),
        ("MAX_FRAME_BYTES and 1009", "max_frame_bytes-and-1009"),
    ],
)
def test_anchors_follow_githubs_rule(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def test_the_check_finds_what_is_broken(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A page\n\n## Twice\n\n## Twice\n")
    page = tmp_path / "README.md"
    page.write_text(
        "# Top\n\n"
        "[ok](docs/a.md#a-page) [ok](docs/a.md#twice-1) [ok](#top) [web](https://example.com/#x)\n"
        "[gone](docs/missing.md) [bad anchor](docs/a.md#nowhere) [bad local](#bottom)\n"
        "`[in code](nowhere.md)`\n"
        "```\n[in a fence](nowhere.md)\n```\n"
        "[ref]: docs/also-missing.md\n"
    )
    assert broken_links(page, tmp_path) == [
        "docs/missing.md: no such file",
        "docs/a.md#nowhere: no heading in docs/a.md makes #nowhere",
        "#bottom: no heading in README.md makes #bottom",
        "docs/also-missing.md: no such file",
    ]
