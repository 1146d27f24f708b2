"""The reliability harness stays green: short runs of the load and crash-loop scripts
against real server processes (the long runs the README quotes are the same scripts)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent.parent

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the scripts publish their run's page: not docs/, for a test's short run."""
    monkeypatch.setenv("NEARDUP_BENCH_PAGES", str(tmp_path))
    return tmp_path


def _run(module: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def test_a_short_mixed_load_meets_no_unexpected_error_and_reports_memory(pages: Path) -> None:
    done = _run(
        "scripts.reliability.load",
        "--seconds",
        "8",
        "--concurrency",
        "8",
        "--preload",
        "1000",
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "unexpected errors: 0" in done.stdout
    assert "server RSS MB" in done.stdout and "anchor, bare gRPC echo" in done.stdout
    page = (pages / "reliability-load.md").read_text()
    assert "- command: `python -m scripts.reliability.load --seconds 8" in page
    assert "unexpected errors: 0" in page


@pytest.mark.parametrize(
    ("kind", "rounds", "tables_from"), [("hnsw", 3, None), ("tables", 2, None), ("hnsw", 2, 200)]
)
def test_a_few_sigkill_rounds_lose_no_acknowledged_write(
    kind: str, rounds: int, tables_from: int | None
) -> None:
    tables = [] if tables_from is None else ["--tables-from", str(tables_from)]
    done = _run(
        "scripts.reliability.crash_loop",
        "--rounds",
        str(rounds),
        "--max-seconds",
        "1.5",
        "--index-kind",
        kind,
        *tables,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    named = "" if tables_from is None else f", substring tables from {tables_from:,} codes"
    assert f"{rounds} rounds of SIGKILL ({kind} index{named})" in done.stdout
    assert ", 0 violations;" in done.stdout
