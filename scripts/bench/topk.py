"""Exact top-k through the substring tables against FAISS's flat scan, in one run.

    python -m scripts.bench.topk [--n 1000000,10000000] [--queries 1000] [--k 10]

Per size N: codes as ANCHORS.md (70% random, 30% near copies with 1..8 bits flipped),
indexed by a `HammingIndex` that keeps no graph (top-k takes the exact path: the tables,
growing a radius until k codes are proven, or the scan where that would cost more), beside
an `IndexBinaryFlat` of the same codes (the anchor). Queries: stored codes with 0..10 bits
flipped ("near") and random codes ("random"), reported apart; one at a time, one FAISS
thread. Prints p50/p99 of both, the ratio, and recall against the flat scan (tie-aware: a
result counts when its distance is at most the true k-th distance).
"""

from __future__ import annotations

import argparse

import faiss
import numpy as np
from neardup.index import IndexParams
from neardup.index.fingerprint import codes_from_u64
from neardup.index.hamming.openmp import one_thread

from scripts.bench.common import build_index, clustered_codes, latencies, p, published


def queries(codes: np.ndarray, count: int, rng: np.random.Generator) -> dict[str, list[int]]:
    near = codes[rng.integers(0, len(codes), size=count)].copy()
    for i in range(len(near)):
        for bit in rng.choice(64, size=int(rng.integers(0, 11)), replace=False):
            near[i] ^= np.uint64(1) << np.uint64(bit)
    far = rng.integers(0, 2**64, size=count, dtype=np.uint64)
    return {"near": near.tolist(), "random": far.tolist()}


def bench(n: int, count: int, k: int, rng: np.random.Generator) -> None:
    codes = clustered_codes(n, rng)
    params = IndexParams(exact_threshold=1 << 40)  # no graph: top-k takes the exact path
    index, build_s = build_index(codes, params)
    index.settle()
    flat = faiss.IndexBinaryFlat(64)
    flat.add(codes_from_u64(np.unique(codes)))
    print(f"\nN = {n:,}: index built in {build_s:.1f} s (tables cover {index.tables_covered:,})")
    print(
        f"{'queries':8s} {'tables p50':>11s} {'p99':>8s} {'flat p50':>9s} {'p99':>8s} "
        f"{'p50 ratio':>10s} {'recall':>7s}"
    )
    with one_thread():
        for kind, qs in queries(codes, count, rng).items():
            ours, found = latencies(lambda q: index.search([q], k=k, exact=True), qs)
            theirs, truth = latencies(
                lambda q: flat.search(codes_from_u64(np.array([q], dtype=np.uint64)), k)[0], qs
            )
            hits = sum(
                sum(m.distance <= int(t[0][-1]) for m in got.matches)  # type: ignore[attr-defined]
                for got, t in zip(found, truth, strict=True)
            )
            print(
                f"{kind:8s} {p(ours, 50):11.3f} {p(ours, 99):8.3f} {p(theirs, 50):9.3f} "
                f"{p(theirs, 99):8.3f} {p(theirs, 50) / p(ours, 50):9.1f}x "
                f"{hits / (k * len(qs)):7.3f}"
            )
    index.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", default="1000000,10000000")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    rng = np.random.default_rng(5)
    for n in (int(v) for v in args.n.split(",")):
        bench(n, args.queries, args.k, rng)
    return 0


if __name__ == "__main__":
    raise SystemExit(
        published(
            __spec__.name,
            "Exact top-k through the substring tables",
            "FAISS `IndexBinaryFlat` top-k search over the same codes",
            main,
        )
    )
