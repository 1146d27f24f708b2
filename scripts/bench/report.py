"""`neardup report` over a large collection: its time, beside the radius searches it makes.

Loads --n codes (70% random, 30% near copies, as scripts/bench/index.py) into a fresh data dir with
`add_batch`, closes it, then times `neardup report --data-dir D --json FILE` as a real
subprocess (start-up, listing every image, one exact radius search per distinct code,
grouping, writing). The report prints how much of its time went to the radius searches; as
the anchor, FAISS's flat range search of the same codes is timed on a sample of them in
this process, and scaled to every code.

    python -m scripts.bench.report [--n 1000000] [--radius 10]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np
from neardup.index import Engine, EngineSettings
from neardup.index.fingerprint import codes_from_u64

from scripts.bench.common import clustered_codes, load_codes, published

NEARDUP = shutil.which("neardup", path=str(Path(sys.executable).parent)) or "neardup"
SAMPLE = 2000


def flat_seconds_for_all(codes: np.ndarray, radius: int) -> float:
    """Seconds FAISS's flat range search would take for every distinct code (one thread),
    from a sample."""
    unique = np.unique(codes)
    flat = faiss.IndexBinaryFlat(64)
    flat.add(codes_from_u64(unique))
    faiss.omp_set_num_threads(1)
    sample = unique[np.random.default_rng(2).integers(0, len(unique), SAMPLE)]
    started = time.perf_counter()
    for code in sample:
        flat.range_search(codes_from_u64(np.array([code], dtype=np.uint64)), radius + 1)
    return (time.perf_counter() - started) / SAMPLE * len(unique)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--radius", type=int, default=10)
    args = parser.parse_args()
    codes = clustered_codes(args.n, np.random.default_rng(12))
    with tempfile.TemporaryDirectory(dir=".") as folder:
        data = Path(folder) / "data"
        with Engine(data, EngineSettings(maintenance_interval_seconds=3600)) as engine:
            print(f"loaded {args.n} codes in {load_codes(engine, codes):.1f} s")
        out = Path(folder) / "report.json"
        started = time.perf_counter()
        done = subprocess.run(
            [
                NEARDUP,
                "report",
                "--data-dir",
                str(data),
                "--radius",
                str(args.radius),
                "--json",
                str(out),
            ],
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(done.stderr[-2000:])
        groups = json.loads(out.read_text())["groups"]
    print(done.stderr.strip())
    print(f"report, wall clock: {seconds:.1f} s; {len(groups)} groups")
    print(
        f"anchor: flat range searches of every distinct code (r <= {args.radius}, one "
        f"thread, from {SAMPLE} timed): {flat_seconds_for_all(codes, args.radius):.1f} s"
    )


if __name__ == "__main__":
    raise SystemExit(
        published(
            __spec__.name,
            "`neardup report` over a large collection",
            "the radius searches the report makes, timed apart",
            main,
        )
    )
