"""What the benchmarks share: the synthetic code sets (as ANCHORS.md describes them), the
queries run against them, timing and percentiles, building an index of codes or a data dir,
the server process, and publishing a run.

neardup is imported inside the functions that use it: the code sets and queries need only
numpy, so `versions.py` can generate them beside any checkout of neardup."""

from __future__ import annotations

import contextlib
import datetime
import io
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import numpy as np

if TYPE_CHECKING:
    from neardup.index import Engine, IndexParams
    from neardup.index.hamming.slot_index import SlotIndex

# add_batch's batch when a benchmark loads codes into an engine
LOAD_BATCH = 100_000

__all__ = [
    "CODES",
    "build_index",
    "clustered_codes",
    "duplicated_codes",
    "free_port",
    "latencies",
    "load_codes",
    "make_data_dir",
    "p",
    "prepare_data_dir",
    "published",
    "queries_for",
    "rss_bytes",
    "start_server",
    "timed",
    "uniform_codes",
    "warm_up_compiled_loops",
]


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def clustered_codes(n: int, rng: np.random.Generator) -> np.ndarray:
    codes = rng.integers(0, 2**64, size=n, dtype=np.uint64, endpoint=False)
    copies = np.arange(int(n * 0.7), n)
    sources = rng.integers(0, int(n * 0.7), size=len(copies))
    flips = np.zeros(len(copies), dtype=np.uint64)
    for _ in range(8):  # 1..8 random bits (a bit drawn twice flips back: rare)
        bit = rng.integers(0, 64, size=len(copies)).astype(np.uint64)
        use = rng.random(len(copies)) < 0.5
        flips ^= np.where(use, np.left_shift(np.uint64(1), bit), np.uint64(0))
    flips ^= np.left_shift(np.uint64(1), rng.integers(0, 64, size=len(copies)).astype(np.uint64))
    codes[copies] = codes[sources] ^ flips
    return codes


def uniform_codes(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 2**64, size=n, dtype=np.uint64, endpoint=False)


def duplicated_codes(n: int, rng: np.random.Generator) -> np.ndarray:
    """Half the codes in 1,000 families of variants 1-4 bits from their base, half random:
    substring values crowded by the families' codes."""
    codes = uniform_codes(n, rng)
    members = n // 2
    bases = uniform_codes(1000, rng)[rng.integers(0, 1000, size=members)]
    flips = np.zeros(members, dtype=np.uint64)
    for _ in range(4):
        bit = rng.integers(0, 64, size=members).astype(np.uint64)
        flips |= np.left_shift(np.uint64(1), bit)
    codes[:members] = bases ^ flips
    return codes


CODES = {"clustered": clustered_codes, "uniform": uniform_codes, "duplicated": duplicated_codes}


def queries_for(codes: np.ndarray, count: int, rng: np.random.Generator) -> list[int]:
    near = codes[rng.integers(0, len(codes), size=count // 2)].copy()
    for i in range(len(near)):
        for bit in rng.choice(64, size=int(rng.integers(0, 11)), replace=False):
            near[i] ^= np.uint64(1) << np.uint64(bit)
    random_codes = rng.integers(0, 2**64, size=count - count // 2, dtype=np.uint64)
    return [int(v) for v in np.concatenate([near, random_codes])]


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def latencies(fn: Callable[[int], object], queries: list[int]) -> tuple[list[float], list[object]]:
    times, results = [], []
    for q in queries:
        start = time.perf_counter_ns()
        results.append(fn(q))
        times.append((time.perf_counter_ns() - start) / 1e6)
    return times, results


def p(times: list[float], pct: float) -> float:
    return float(np.percentile(times, pct))


def warm_up_compiled_loops() -> None:
    """Loads the compiled loops (numba) a search and a lookup use."""
    from neardup.index import HammingIndex, IndexParams
    from neardup.index.hamming.substrings import SubstringTables

    tables = SubstringTables(np.arange(1, 4097, dtype=np.uint64))
    tables.range_search(np.array([5], dtype=np.uint64), 10)
    HammingIndex.build(IndexParams(), {5: 1}, 1).close()


def build_index(codes: np.ndarray, params: IndexParams) -> tuple[SlotIndex, float]:
    from neardup.index.hamming.factory import index_class
    from neardup.index.hamming.slot_index import SlotIndex

    unique = np.unique(codes)
    counts = dict.fromkeys(unique.tolist(), 1)
    seconds, index = timed(lambda: index_class(params).build(params, counts, len(codes)))
    assert isinstance(index, SlotIndex)
    return index, seconds


def make_data_dir(folder: Path, codes: np.ndarray) -> None:
    """A data dir holding these codes, settled (its snapshot written on close)."""
    from neardup.index import Engine, EngineSettings, Fingerprint

    with Engine(folder, EngineSettings(maintenance_interval_seconds=3600)) as engine:
        for at in range(0, len(codes), 50_000):
            engine.add_batch(
                "",
                [
                    (f"seed/{at + i}", Fingerprint(int(v), "phash"), {})
                    for i, v in enumerate(codes[at : at + 50_000].tolist())
                ],
            )
        engine.inspect("").settle()


def prepare_data_dir(data: Path, codes: np.ndarray, cache: Path | None) -> None:
    """A data dir of these codes at `data`: made there, or copied from `cache` (where it is
    made once, per size)."""
    if cache is None:
        make_data_dir(data, codes)
        return
    cached = cache / f"n{len(codes)}"
    if not cached.is_dir():
        make_data_dir(cached, codes)
    shutil.copytree(cached, data, ignore=shutil.ignore_patterns("LOCK"))


def start_server(
    command: list[str], data: Path, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], str]:
    """`command serve` on the data dir at 127.0.0.1:<free port> (with these environment
    variables added); returns the process and its target once it is serving."""
    serve = subprocess.Popen(
        [*command, "serve", "--data-dir", str(data), "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert serve.stdout is not None
    target = serve.stdout.readline().rsplit(" ", 1)[1].strip()
    while serve.stdout.readline().strip() != "neardup: serving":
        pass
    return serve, target


def free_port() -> int:
    """A port free on 127.0.0.1 now (for the server's /metrics)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def load_codes(engine: Engine, codes: np.ndarray) -> float:
    """Seconds to store the codes with add_batch, a batch at a time."""
    from neardup.index import Fingerprint

    started = time.perf_counter()
    for start in range(0, len(codes), LOAD_BATCH):
        chunk = codes[start : start + LOAD_BATCH].tolist()
        engine.add_batch(
            "", [(f"i{start + i}", Fingerprint(c, "phash"), {}) for i, c in enumerate(chunk)]
        )
    return time.perf_counter() - started


# -- publishing: each run's output becomes its benchmark's page ------------------------------
PAGES = Path(__file__).resolve().parents[2] / "docs" / "benchmarks"


def machine() -> str:
    """This machine in one line: CPU model, cores, memory, and the libraries timed."""
    import platform
    from importlib.metadata import version

    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    memory = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory = int(line.split()[1]) // (1024 * 1024)
    libraries = ", ".join(
        f"{name} {version(name)}" for name in ("faiss-cpu", "numpy", "Pillow", "grpcio")
    )
    return (
        f"{model}, {os.cpu_count()} cores, {memory} GiB; Python {platform.python_version()}, "
        f"{libraries}"
    )


class _Tee(io.TextIOBase):
    """Writes to the terminal and keeps a copy."""

    def __init__(self, terminal: TextIO) -> None:
        self.terminal, self.kept = terminal, io.StringIO()

    def write(self, text: str) -> int:
        self.kept.write(text)
        return self.terminal.write(text)

    def flush(self) -> None:
        self.terminal.flush()


def published(
    module: str, title: str, anchor: str, main: Callable[[], int | None], page: str = ""
) -> int:
    """Runs a benchmark's `main`, printing as it goes, then writes what it printed to
    docs/benchmarks/PAGE.md (PAGE: the module's last name unless given; the folder is
    $NEARDUP_BENCH_PAGES where set, as tests do) under the command, the date,
    the machine and the anchor: the page holds the latest run only (history belongs in
    the CHANGELOG). A run that fails publishes nothing."""
    command = " ".join(["python -m", f"{module}", *sys.argv[1:]])
    tee = _Tee(sys.stdout)
    with contextlib.redirect_stdout(tee):
        status = main() or 0
    if status == 0:
        pages = Path(os.environ.get("NEARDUP_BENCH_PAGES", PAGES))
        pages.mkdir(parents=True, exist_ok=True)
        date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
        (pages / f"{page or module.rsplit('.', 1)[-1]}.md").write_text(
            f"# {title}\n\n"
            f"- command: `{command}`\n- date: {date}\n- machine: {machine()}\n"
            f"- anchor: {anchor}\n\n"
            "The latest run, as the script printed it (ratios come from one run; absolute\n"
            "times move with the machine).\n\n"
            f"```text\n{tee.kept.getvalue().rstrip()}\n```\n"
        )
    return status
