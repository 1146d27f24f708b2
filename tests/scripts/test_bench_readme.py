"""scripts/bench/README.md lists every benchmark with the anchor it runs, as the benchmark
itself publishes it; and the scripts are modules of a package, imported, never loaded by
file path."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "scripts" / "bench" / "README.md").read_text()


def _published(path: Path) -> tuple[str, str] | None:
    """The (title, anchor) a script publishes its runs under, None when it publishes none."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "published":
            title, anchor = (arg.value for arg in node.args[1:3])  # type: ignore[attr-defined]
            return str(title), str(anchor)
    return None


PUBLISHING = sorted(
    path
    for folder in ("bench", "reliability")
    for path in (ROOT / "scripts" / folder).glob("*.py")
    if _published(path) is not None
)


def test_every_benchmark_publishes_its_runs() -> None:
    bench = {p.stem for p in PUBLISHING if p.parent.name == "bench"}
    helpers = {"__init__", "common", "corpus", "echo_server"}
    assert bench == {p.stem for p in (ROOT / "scripts" / "bench").glob("*.py")} - helpers


@pytest.mark.parametrize("path", PUBLISHING, ids=lambda p: f"{p.parent.name}.{p.stem}")
def test_the_readme_lists_the_benchmark_with_its_anchor(path: Path) -> None:
    _, anchor = _published(path) or ("", "")
    module = f"scripts.{path.parent.name}.{path.stem}"
    rows = [line for line in README.splitlines() if f"`python -m {module}`" in line]
    assert len(rows) == 1, f"{module} is not listed once in scripts/bench/README.md"
    assert anchor in rows[0]


def test_no_test_loads_a_script_by_file_path() -> None:
    loading = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "tests").rglob("*.py")
        if "spec_from_file_location" in path.read_text() and path != Path(__file__)
    ]
    assert loading == []
