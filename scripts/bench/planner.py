"""Benchmark of the path planner: does it take the fastest route, and how near are its
predictions? Every route timed on the same queries in one run, beside FAISS's flat index.

    python -m scripts.bench.planner [--sizes 300000,1000000] [--kind hnsw] [--queries 300]

Per size: N clustered codes (scripts/bench/index.py's: 70% random, 30% copies with 1-8 bits
flipped) in a code index of the kind given, its graph built where it serves and its
substring tables built, so the costs the planner uses are measured on it as a server's
would be. Per search (radius 4, 10 and 14 near stored codes, radius 10 random, top-10 near
and random, exact top-10 near): every route that can answer it timed query by query in
turn (`HammingIndex.search(route=...)`), the planner's own choice too, and an
`IndexBinaryFlat` of the same codes (the anchor). Prints per route the predicted and
measured p50 (us), how often it answered the planner's own search, and the planner's p50
against the best route's (1.00: it always took the fastest); recall@10 against the exact
answer where the graph answered.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from typing import Any

import faiss
import numpy as np
from neardup.index import HammingIndex, IndexParams
from neardup.index.fingerprint.value import codes_from_u64
from neardup.index.hamming import CodeSearch
from neardup.index.hamming.costs import CostModel
from neardup.index.hamming.planner import Route

from scripts.bench.common import build_index, clustered_codes, published, warm_up_compiled_loops

# (label, k, radius, exact, near queries?)
SEARCHES = (
    ("radius 4, near", None, 4, False, True),
    ("radius 10, near", None, 10, False, True),
    ("radius 10, random", None, 10, False, False),
    ("radius 14, near", None, 14, False, True),
    ("top-10, near", 10, None, False, True),
    ("top-10, random", 10, None, False, False),
    ("exact top-10, near", 10, None, True, True),
)


def queries(codes: np.ndarray, count: int, near: bool, rng: np.random.Generator) -> list[int]:
    """Stored codes with 0-10 bits flipped, or random codes."""
    if not near:
        return [int(v) for v in rng.integers(0, 2**64, size=count, dtype=np.uint64)]
    picked = codes[rng.integers(0, len(codes), size=count)].copy()
    for i in range(count):
        for bit in rng.choice(64, size=int(rng.integers(0, 11)), replace=False):
            picked[i] ^= np.uint64(1) << np.uint64(bit)
    return [int(v) for v in picked]


# The route that answered, from the path a search reports.
ROUTE_NAMES = {route.path: route.name for route in Route}


def timed_search(
    index: HammingIndex, query: int, search: dict[str, Any], route: Route | None = None
) -> tuple[float, CodeSearch]:
    """The us a search took, and its answer."""
    started = time.perf_counter()
    found = index.search([query], route=route, **search)
    return (time.perf_counter() - started) * 1e6, found


def timed_flat(flat: faiss.IndexBinaryFlat, query: int, k: int | None, radius: int | None) -> float:
    """The us FAISS's flat index took for the same search."""
    q = codes_from_u64(np.array([query], dtype=np.uint64))
    started = time.perf_counter()
    if k is None:
        flat.range_search(q, radius + 1)
    else:
        flat.search(q, k)
    return (time.perf_counter() - started) * 1e6


def bench_search(
    index: HammingIndex,
    flat: faiss.IndexBinaryFlat,
    codes: np.ndarray,
    search: tuple,
    count: int,
    rng: np.random.Generator,
) -> None:
    label, k, radius, exact, near = search
    asked = queries(codes, count, near, rng)
    measured: dict[str, list[float]] = {}
    predicted: dict[str, list[float]] = {}
    chosen: Counter[str] = Counter()
    recalls: list[float] = []
    options_of = {"k": k, "radius": radius, "exact": exact}
    for query in asked:
        options = index.plans([query], k, radius, exact)
        exact_distances = None
        for plan in sorted(options, key=lambda p: p.route is Route.HNSW):  # exact ones first
            name = plan.route.name
            predicted.setdefault(name, []).append(plan.seconds * 1e6)
            took, found = timed_search(index, query, options_of, plan.route)
            measured.setdefault(name, []).append(took)
            distances = [m.distance for m in found.matches]
            if plan.route is not Route.HNSW:
                exact_distances = distances
            elif exact_distances is not None:
                same = sum(a == b for a, b in zip(distances, exact_distances, strict=False))
                recalls.append(same / len(exact_distances))
        took, answer = timed_search(index, query, options_of)
        measured.setdefault("planner", []).append(took)
        chosen[ROUTE_NAMES[answer.path]] += 1  # a tables plan past its bound is a scan
        measured.setdefault("flat", []).append(timed_flat(flat, query, k, radius))
    best = min(statistics.median(measured[r]) for r in predicted)
    planner = statistics.median(measured["planner"])
    flat = statistics.median(measured["flat"])
    print(
        f"\n  {label} ({count} queries): planner {planner:.0f} us = {planner / best:.2f}x the "
        f"best route's p50; flat IndexBinaryFlat {flat:.0f} us ({flat / planner:.1f}x the "
        "planner)"
    )
    for name in predicted:
        pred, got = statistics.median(predicted[name]), statistics.median(measured[name])
        print(
            f"    {name:<7} predicted {pred:>8.0f} us  measured {got:>8.0f} us  "
            f"({got / pred:>5.2f}x)  chosen {chosen[name] / count:>4.0%}"
        )
    if recalls:
        print(f"    HNSW recall@10 (same distances as the exact answer): {np.mean(recalls):.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="300000,1000000")
    parser.add_argument("--kind", default="hnsw", choices=("hnsw", "tables"))
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    warm_up_compiled_loops()
    costs = CostModel.measured().scans
    print(f"scan costs measured at start-up: {costs}")
    for n in (int(size) for size in args.sizes.split(",")):
        rng = np.random.default_rng(20261202 + n)
        codes = np.unique(clustered_codes(n, rng))
        index, seconds = build_index(codes, IndexParams(kind=args.kind))
        index.settle()
        graph = index._graph
        print(f"\n{len(codes):,} codes, kind {args.kind}, built in {seconds:.0f} s")
        print(f"  tables costs: {graph.tables_costs}\n  graph costs: {graph.graph_costs}")
        flat = faiss.IndexBinaryFlat(64)
        flat.add(codes_from_u64(codes))
        faiss.omp_set_num_threads(1)
        for search in SEARCHES:
            bench_search(index, flat, codes, search, args.queries, rng)
        index.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(
        published(
            __spec__.name,
            "The path planner",
            "every route timed on the same queries, and FAISS `IndexBinaryFlat`",
            main,
        )
    )
