"""Radius searches of the code index alone while a graph is built aside, beside the same
searches with no build: does the absorb's tail come from the index (its lock, its tables)?

scripts/bench/absorb.py measures what a user meets through the engine; this isolates the
`HammingIndex`: --n clustered codes (as scripts/bench/index.py makes them) applied at once, its
substring tables built, then radius-10 searches on one thread for --seconds while the
background thread builds the HNSW graph aside (the `build` phase), and the same with a
collection whose graph never serves (`hnsw_max_codes=1`: tables only, no build). Prints
p50/p99/p99.9 ms of each and their ratio.

    python -m scripts.bench.absorb_index [--n 1000000] [--seconds 60]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from neardup.index.hamming.hnsw import HammingIndex
from neardup.index.hamming.openmp import one_thread
from neardup.index.params import IndexParams

from scripts.bench.common import clustered_codes, p, published, queries_for


def radius_latencies(
    params: IndexParams, codes: np.ndarray, queries: list[int], seconds: float
) -> list[float]:
    """ms per radius-10 search for `seconds`, once the tables cover every code (and, where
    the graph serves, while it is built aside)."""
    index = HammingIndex(params)
    index.apply(codes.tolist(), [1] * len(codes), 1)
    while index.tables_covered < len(codes):
        time.sleep(0.05)
    time.sleep(1.0)  # the aside build starts once the writes have paused
    found: list[float] = []
    end = time.monotonic() + seconds
    with one_thread():
        while time.monotonic() < end:
            started = time.perf_counter()
            index.search([queries[len(found) % len(queries)]], radius=10)
            found.append((time.perf_counter() - started) * 1000)
    index.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    rng = np.random.default_rng(11)
    codes = np.unique(clustered_codes(args.n, rng))
    queries = queries_for(codes, 1000, rng)
    phases = {
        "tables, no build": IndexParams(hnsw_max_codes=1),
        "tables, graph built aside": IndexParams(),
    }
    results = {
        name: radius_latencies(params, codes, queries, args.seconds)
        for name, params in phases.items()
    }
    print(f"{'phase':28s} {'count':>7s} {'p50 ms':>8s} {'p99 ms':>8s} {'p99.9 ms':>9s}")
    for name, times in results.items():
        print(
            f"{name:28s} {len(times):7d} {p(times, 50):8.3f} {p(times, 99):8.3f}"
            f" {p(times, 99.9):9.3f}"
        )
    quiet, building = results.values()
    print(f"p99 during the build / without: {p(building, 99) / p(quiet, 99):.2f}")


if __name__ == "__main__":
    raise SystemExit(
        published(
            __spec__.name,
            "Radius searches of the code index during a graph build aside",
            "the same searches with no build running",
            main,
        )
    )
