"""The shape of the package, read from its source with ast: commands stay thin (no CLI module
reaches Conan's adapter, no command leans on another, messages go through console.py) and no
two modules import each other.

Which imports count: every import statement that can run, at the top of a module or inside a
function. A lazy import is there to keep a fast path fast, not to hide a dependency: install ->
push inside a function and push -> install at the top is a circle all the same (main had it,
through `say`). Imports under ``if TYPE_CHECKING:`` never run and do not count. An edge goes to
the module an import names (``from uktoolchain.engine import state`` names engine.state), not to
the parent packages Python loads on the way.
"""
from __future__ import annotations

import ast
from pathlib import Path

import uktoolchain

SOURCE = Path(uktoolchain.__file__).resolve().parent

# What a command module may import of another: context (what every command loads), and
# `install --upload` prints push's report.
SHARED_COMMANDS = {"uktoolchain.cli.context"}
ALLOWED_BETWEEN_COMMANDS = {("uktoolchain.cli.install", "uktoolchain.cli.push")}


def _module_names(package: Path) -> dict[str, Path]:
    names = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST):
    """Every import statement that can run (those under ``if TYPE_CHECKING:`` left out)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for child in node.orelse for n in _imports_in(child))
            continue
        yield from _imports_in(node)


def _imports_in(node: ast.AST):
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    else:
        yield from _imports(node)


def import_graph(package: Path) -> dict[str, set[str]]:
    """Module -> the modules of ``package`` it imports."""
    modules = _module_names(package)
    root = package.name
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        edges = set()
        for node in _imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                named = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:  # relative: from its package (or the package itself, for __init__)
                    parent = name.split(".") if is_package else name.split(".")[:-1]
                    parent = parent[:len(parent) - (node.level - 1)]
                    base = ".".join(parent + ([base] if base else []))
                named = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            edges.update(n for n in named if n.split(".")[0] == root and n in modules and n != name)
        graph[name] = edges
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle_between_modules():
    assert circles(import_graph(SOURCE)) == []


def test_no_command_imports_the_conan_adapter():
    graph = import_graph(SOURCE)
    reaching = sorted(m for m, edges in graph.items()
                      if m.startswith("uktoolchain.cli") and "uktoolchain.engine.conan_adapter" in edges)
    assert reaching == []


def test_commands_do_not_lean_on_each_other():
    graph = import_graph(SOURCE)
    leaning = sorted((m, other) for m, edges in graph.items() if m.startswith("uktoolchain.cli.")
                     for other in edges
                     if other.startswith("uktoolchain.cli.") and other not in SHARED_COMMANDS
                     and (m, other) not in ALLOWED_BETWEEN_COMMANDS)
    assert leaning == []


def test_commands_print_through_the_console():
    """say (stderr) and out (stdout) of console.py: one place decides how a message is written."""
    printing = sorted(
        f"{path.relative_to(SOURCE)}:{node.lineno}" for path in sorted((SOURCE / "cli").glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print")
    assert printing == []


def test_a_circle_through_a_lazy_import_is_found_and_a_type_only_import_is_not(tmp_path):
    # main's circle, in small: `say` in install, push importing it, install importing push lazily.
    package = tmp_path / "pkg"
    (package / "cli").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "cli" / "__init__.py").write_text("")
    (package / "cli" / "install.py").write_text(
        "def say(m):\n    print(m)\n\n\ndef run():\n    from pkg.cli.push import push\n    push()\n")
    (package / "cli" / "push.py").write_text("from pkg.cli.install import say\n\n\ndef push():\n    say('x')\n")
    (package / "typed.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import other\n")
    (package / "other.py").write_text("from . import typed\n")
    graph = import_graph(package)
    assert graph["pkg.cli.install"] == {"pkg.cli.push"} and graph["pkg.other"] == {"pkg.typed"}
    assert circles(graph) == [["pkg.cli.install", "pkg.cli.push"]]
    (package / "cli" / "console.py").write_text("def say(m):\n    print(m)\n")
    (package / "cli" / "push.py").write_text("from .console import say\n\n\ndef push():\n    say('x')\n")
    assert circles(import_graph(package)) == []
