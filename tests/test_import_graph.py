"""The layers import one way: no module-level import cycle inside `neardup.index`, and the
seam's users (the store, the Milvus engine, the service) never reach into `hamming/`.

The graph is read from the source (every `import` statement, resolved to the modules it
loads, parent packages included), so a cycle fails here even where the order modules
happen to be imported in hides it at run time.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"neardup.index": ROOT / "index", "neardup.service": ROOT / "service"}
HAMMING = "neardup.index.hamming"
SEAM_USERS = ("neardup.index.store", "neardup.index.milvus", "neardup.service")


def _modules() -> dict[str, Path]:
    found = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join([package, *parts])] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _statements(body: list[ast.stmt], module_level: bool) -> Iterator[tuple[ast.stmt, bool]]:
    """Every import statement, and whether it runs when the module is imported (not in a
    function, not under `if TYPE_CHECKING:`)."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, module_level
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _statements(node.body, False)
        elif isinstance(node, ast.If) and _is_type_checking(node):
            yield from _statements(node.body, False)
            yield from _statements(node.orelse, module_level)
        else:
            for field in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(node, field, None)
                if isinstance(inner, list):
                    nested = [n for n in inner if isinstance(n, ast.stmt | ast.ExceptHandler)]
                    for child in nested:
                        body_of = child.body if isinstance(child, ast.ExceptHandler) else [child]
                        yield from _statements(body_of, module_level)


def _loaded(name: str) -> list[str]:
    """The modules of ours that importing `name` runs: it and its parent packages."""
    parts = name.split(".")
    return [m for m in (".".join(parts[:i]) for i in range(2, len(parts) + 1)) if m in MODULES]


def imports_of(module: str) -> list[tuple[str, bool]]:
    """(imported module of ours, at module level) for every import in `module`."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node, module_level in _statements(ast.parse(path.read_text()).body, True):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                origin = ".".join([*base, node.module] if node.module else base)
            else:
                origin = node.module or ""
            targets = [origin]
            targets += [f"{origin}.{a.name}" for a in node.names if f"{origin}.{a.name}" in MODULES]
        # the importer's own packages started before it ran: no edge to them
        started = set(_loaded(module))
        for target in targets:
            found += [(loaded, module_level) for loaded in _loaded(target) if loaded not in started]
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_the_import_graph_is_read_from_every_module() -> None:
    assert {"neardup.index.engine", "neardup.index.hamming.hnsw"} <= MODULES.keys()
    assert ("neardup.index.hamming.planner", True) in imports_of("neardup.index.hamming.hnsw")
    # parent packages run too: importing a module of `store` runs `store/__init__`
    assert ("neardup.index.store", True) in imports_of("neardup.index.persistence.recovery")


def test_the_engine_has_no_module_level_import_cycle() -> None:
    graph = {
        module: {target for target, module_level in imports_of(module) if module_level}
        for module in MODULES
        if module.startswith("neardup.index")
    }
    assert _cycles(graph) == []


def test_no_cycle_hides_behind_a_deferred_import_either() -> None:
    """Imports in functions and under TYPE_CHECKING count too: a factory that imports its
    implementation lazily must not live in a module the implementation imports."""
    graph = {module: {target for target, _ in imports_of(module)} for module in MODULES}
    assert _cycles(graph) == []


def test_a_module_level_cycle_would_be_found() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("user", SEAM_USERS)
def test_the_seam_s_users_import_nothing_from_hamming(user: str) -> None:
    reaching = sorted(
        f"{module} -> {target}"
        for module in MODULES
        if module == user or module.startswith(user + ".")
        for target, _ in imports_of(module)
        if target == HAMMING or target.startswith(HAMMING + ".")
    )
    assert reaching == []
