"""The benchmark's modules import one way: no module imports, even inside a function, one that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
BENCH = ROOT / "eval" / "bench"


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def imported(path: Path) -> set[str]:
    """Every module ``path`` names in an import, wherever the import stands."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return names


def test_no_benchmark_module_is_part_of_an_import_circle() -> None:
    modules = {module_name(path): path for path in BENCH.rglob("*.py")}
    graph = {name: imported(path) & set(modules) - {name} for name, path in modules.items()}

    def reaches(start: str, goal: str) -> bool:
        seen, pending = set(), list(graph[start])
        while pending:
            name = pending.pop()
            if name == goal:
                return True
            if name not in seen:
                seen.add(name)
                pending += graph[name]
        return False

    assert [name for name in graph if reaches(name, name)] == []
