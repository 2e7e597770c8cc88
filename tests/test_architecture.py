"""The house rules a reader cannot see from one file: the import graph and function length.

Read from the source with `ast` (nothing is imported): every import counts, at module level or
inside a function, so a function-level import cannot hide a cycle; imports under
`if TYPE_CHECKING:` are for annotations only and do not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ACYCLIC = ("bot", "knowledge", "ingest")
SLACK_FREE = ("knowledge", "ingest")  # plus bot/, except its front ends (below)
FRONT_ENDS = ("bot.slack", "bot.cli")  # the terminal shell (bot.shell) uses no Slack either
SLACK_PACKAGES = ("slack_bolt", "slack_sdk", "bot.slack")
MAX_FUNCTION_LINES = 80
LONG_FUNCTIONS_CHECKED = ("bot", "knowledge", "ingest", "bench")
LONG_FUNCTIONS_PENDING: frozenset[str] = frozenset()  # files exempt while being rewritten


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(*packages: str) -> dict[str, Path]:
    return {module_name(p): p for pkg in packages for p in sorted((ROOT / pkg).rglob("*.py"))}


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_names(name: str, path: Path) -> set[str]:
    """Every dotted name `name`'s module imports at run time (`from a import b` gives a and
    a.b), anywhere in the file but under `if TYPE_CHECKING:`."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                for orelse in child.orelse:
                    visit(orelse)
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    up = package[: len(package) - child.level + 1]
                    base = ".".join([*up, base] if base else up)
                found.add(base)
                found.update(f"{base}.{alias.name}" for alias in child.names)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def import_graph(*packages: str) -> dict[str, set[str]]:
    """Module -> the modules of `packages` it imports."""
    mods = modules(*packages)
    return {
        name: {m for m in imported_names(name, path) if m in mods and m != name}
        for name, path in mods.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


def _within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_a_function_level_import_counts_and_type_checking_does_not(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from bot import hidden\n"
        "def f():\n    from bot.slack import listeners\n",
        encoding="utf-8",
    )
    names = imported_names("bot.m", path)
    assert "bot.slack.listeners" in names and "bot.hidden" not in names


@pytest.mark.parametrize("package", ACYCLIC)
def test_no_import_cycles(package):
    graph = import_graph(*ACYCLIC)
    assert [c for c in cycles(graph) if c[0].split(".")[0] == package] == []


@pytest.mark.parametrize("package", ["bot", *SLACK_FREE])
def test_the_core_imports_no_slack(package):
    core = {name: path for name, path in modules(package).items() if not _within(name, FRONT_ENDS)}
    assert core  # the package was found
    offenders = {
        name: sorted(n for n in imported_names(name, path) if _within(n, SLACK_PACKAGES))
        for name, path in core.items()
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_knowledge_and_ingest_import_nothing_from_bot():
    offenders = {
        name: sorted(n for n in imported_names(name, path) if _within(n, ("bot",)))
        for name, path in modules(*SLACK_FREE).items()
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_function_over_80_lines():
    long = []
    for package in LONG_FUNCTIONS_CHECKED:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel in LONG_FUNCTIONS_PENDING:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                    lines = node.end_lineno - start + 1
                    if lines > MAX_FUNCTION_LINES:
                        long.append(f"{rel}:{node.lineno} {node.name} ({lines} lines)")
    assert long == []
