"""The service package imports without cycles.

Every import statement counts, wherever it sits: at module level, inside a function, or
under `if TYPE_CHECKING:`. A type-only cycle does not fail at run time, but it is the same
tangle for a reader, and the next plain import along it would.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

SERVICE = Path(__file__).resolve().parent.parent / "service"


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def service_imports(tree: ast.AST, known: set[str]) -> set[str]:
    """The service modules a module's code names in its imports (`from service import x`
    names module x when x is one)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found & known


def import_graph(root: Path) -> dict[str, set[str]]:
    files = {module_name(p, root): p for p in root.rglob("*.py")}
    known = set(files)
    return {
        name: service_imports(ast.parse(path.read_text(), str(path)), known) - {name} for name, path in files.items()
    }


def cycle_in(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return None


def test_the_service_package_has_no_import_cycle() -> None:
    graph = import_graph(SERVICE)
    assert len(graph) > 20 and "service.game" in graph["service.hub"]
    cycle = cycle_in(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_check_finds_a_cycle_through_a_type_checking_import(tmp_path: Path) -> None:
    pkg = tmp_path / "service"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from service.b import B\n")
    (pkg / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from service import c\n")
    (pkg / "c.py").write_text("def f() -> None:\n    import service.a\n")
    graph = import_graph(pkg)
    assert graph == {
        "service": set(),
        "service.a": {"service.b"},
        "service.b": {"service", "service.c"},
        "service.c": {"service.a"},
    }
    cycle = cycle_in(graph)
    assert cycle is not None and set(cycle) == {"service.a", "service.b", "service.c"}


@pytest.mark.parametrize("name", ["service.metrics", "service.protocol"])
def test_metrics_and_protocol_import_no_game_code(name: str) -> None:
    """The old cycle: game -> metrics -> protocol -> game."""
    graph = import_graph(SERVICE)
    assert "service.game" not in graph[name] and "service.protocol" not in graph["service.metrics"]
