"""No import loop between the folders of cronium_app.

A folder is a subpackage (`jobs`, `state`, ...); a top-level module counts
as itself (`settings`, `routes`, the app module `cronium_app`). Folder A
depends on folder B when any module of A imports any module of B. Every
import counts, also one inside a function: a lazy import cannot hide a loop
from this test, it only delays the import."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path


PACKAGE = "cronium_app"
ROOT = Path(__file__).resolve().parents[2] / PACKAGE
# What the web UI is made of: none of these may sit on a loop.
UI_FOLDERS = ("components", "pages", "state", "display", "routes", PACKAGE)

Edges = dict[str, dict[str, str]]  # folder -> folder it imports -> one import that makes it so


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _folder(module: str) -> str | None:
    """The folder a cronium_app module belongs to (None: not ours)."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def _is_module(name: str) -> bool:
    path = ROOT.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The modules an import statement names (`from a import b` names
    module a.b when there is one, else a name inside a)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".")[: None if is_package else -1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, base] if base else package)
    return [f"{base}.{alias.name}" if _is_module(f"{base}.{alias.name}") else base for alias in node.names]


def folder_edges() -> Edges:
    edges: Edges = defaultdict(dict)
    for path in sorted(ROOT.rglob("*.py")):
        module = _module_name(path)
        source = _folder(module)
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for name in _imported(node, module, path.name == "__init__.py"):
                target = _folder(name)
                if target is not None and target != source and target not in edges[source]:
                    where = f"{path.relative_to(ROOT.parent)}:{node.lineno}"
                    edges[source][target] = f"{where} imports {name}"
    return edges


def loops(edges: Edges) -> list[list[str]]:
    """The groups of folders that import each other, directly or round a
    loop (strongly connected components of more than one folder)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(folder: str) -> None:
        index[folder] = low[folder] = len(index)
        stack.append(folder)
        for target in edges.get(folder, {}):
            if target not in index:
                visit(target)
                low[folder] = min(low[folder], low[target])
            elif target in stack:
                low[folder] = min(low[folder], index[target])
        if low[folder] == index[folder]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == folder:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for folder in sorted(edges):
        if folder not in index:
            visit(folder)
    return sorted(found)


def describe(group: list[str], edges: Edges) -> str:
    lines = [f"loop between {', '.join(group)}:"]
    for source in group:
        for target, evidence in sorted(edges.get(source, {}).items()):
            if target in group:
                lines.append(f"  {source} -> {target}: {evidence}")
    return "\n".join(lines)


def test_the_loop_finder_finds_a_loop_and_no_more():
    edges = {"a": {"b": ""}, "b": {"c": ""}, "c": {"a": ""}, "d": {"a": ""}}
    assert loops(edges) == [["a", "b", "c"]]


def test_ui_folders_sit_on_no_import_loop():
    edges = folder_edges()
    on_loops = [group for group in loops(edges) if set(group) & set(UI_FOLDERS)]
    assert not on_loops, "\n".join(describe(group, edges) for group in on_loops)


def test_no_import_loop_between_any_folders():
    edges = folder_edges()
    found = loops(edges)
    assert not found, "\n".join(describe(group, edges) for group in found)
