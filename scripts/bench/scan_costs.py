"""What a scan costs: numpy's radius-10 measure against FAISS's, and FAISS's top-10 search
against the range search that answers exact top-k scans.

    python -m scripts.bench.scan_costs [--sizes 1000,3000,10000,30000,100000,1000000]

The slots after the substring tables' prefix are measured by numpy one by one, or found by
a FAISS range search of the whole index part they lie in, whichever costs less
(`index/hamming/slots.py`, `_NUMPY_COST_NS` and `_FAISS_COST_NS`); and an exact top-k scan
is one range search at the radius within which uniform codes would hold 3k of them, the k
nearest kept (`_top_k_by_range`). This measures each over N random codes, one query, one
FAISS thread (as the engine's searches run), and prints the medians, the nanoseconds per
code and the ratios; FAISS's `IndexBinaryFlat` (its range and top-k searches) is the anchor.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import faiss
import numpy as np
from neardup.index import HammingIndex, IndexParams
from neardup.index.fingerprint import codes_from_u64
from neardup.index.hamming.openmp import one_thread

from scripts.bench.common import published

RADIUS = 10


def median_ms(call: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return float(np.median(times)) * 1000


def measure(n: int, rng: np.random.Generator, repeats: int) -> tuple[float, float]:
    """Median ms of numpy's measure and of FAISS's range search over n random codes."""
    codes = rng.integers(0, 2**63, n, dtype=np.uint64)
    query = codes[:1].copy()
    flat = faiss.IndexBinaryFlat(64)
    flat.add(codes_from_u64(codes))
    q = codes_from_u64(query)
    numpy_ms = median_ms(
        lambda: np.nonzero(np.bitwise_count(codes[None, :] ^ query[:, None]) <= RADIUS), repeats
    )
    return numpy_ms, median_ms(lambda: flat.range_search(q, RADIUS + 1), repeats)


def measure_top_k(
    n: int, rng: np.random.Generator, repeats: int, k: int = 10
) -> tuple[float, float]:
    """Median ms of FAISS's top-k search and of the engine's range top-k over n codes."""
    codes = rng.integers(0, 2**63, n, dtype=np.uint64)
    index = HammingIndex(IndexParams(exact_threshold=n + 1))  # no graph: top-k scans
    index.apply(codes.tolist(), [1] * n, sequence=n)
    index.close()
    flat = faiss.IndexBinaryFlat(64)
    flat.add(codes_from_u64(codes))
    query = int(codes[0]) ^ 0b1011
    q = codes_from_u64(np.array([query], dtype=np.uint64))
    faiss_ms = median_ms(lambda: flat.search(q, k), repeats)
    return faiss_ms, median_ms(lambda: index.search([query], k=k), repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,3000,10000,30000,100000,1000000")
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    sizes = [int(s) for s in args.sizes.split(",")]
    print("radius 10: numpy's measure against FAISS's range search")
    print("codes      numpy ms  ns/code   FAISS ms  ns/code   numpy/FAISS")
    with one_thread():
        for n in sizes:
            numpy_ms, faiss_ms = measure(n, rng, args.repeats)
            print(
                f"{n:>9,}  {numpy_ms:8.3f}  {numpy_ms / n * 1e6:7.2f}   {faiss_ms:8.3f}"
                f"  {faiss_ms / n * 1e6:7.2f}   {numpy_ms / faiss_ms:5.1f}x"
            )
        print("\nexact top-10: FAISS's top-k search against the code index's range top-k")
        print("codes     FAISS ms  code index ms  FAISS/code index")
        for n in sizes:
            faiss_ms, index_ms = measure_top_k(n, rng, args.repeats)
            print(f"{n:>9,}  {faiss_ms:8.3f}  {index_ms:13.3f}  {faiss_ms / index_ms:8.2f}x")


if __name__ == "__main__":
    raise SystemExit(
        published(
            __spec__.name,
            "What a scan costs",
            "FAISS's range and top-k kernels on the same codes",
            main,
        )
    )
