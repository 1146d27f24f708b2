"""What a radius-10 scan costs per call and per code: numpy's measure against FAISS's.

    python scripts/bench_scan_costs.py [--sizes 1000,3000,10000,30000,100000,1000000]

The slots after the substring tables' prefix are measured by numpy one by one, or found by
a FAISS range search of the whole index part they lie in, whichever costs less
(`index/hamming/slots.py`, `_NUMPY_COST_NS` and `_FAISS_COST_NS`). This measures both over
N random codes, one query, one FAISS thread (as the engine's searches run), and prints the
medians, the nanoseconds per code and the ratio; FAISS's `IndexBinaryFlat` is the anchor.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import faiss
import numpy as np
from neardup.index.fingerprint import codes_from_u64
from neardup.index.hamming.openmp import one_thread

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,3000,10000,30000,100000,1000000")
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    print("codes      numpy ms  ns/code   FAISS ms  ns/code   numpy/FAISS")
    with one_thread():
        for n in (int(s) for s in args.sizes.split(",")):
            numpy_ms, faiss_ms = measure(n, rng, args.repeats)
            print(
                f"{n:>9,}  {numpy_ms:8.3f}  {numpy_ms / n * 1e6:7.2f}   {faiss_ms:8.3f}"
                f"  {faiss_ms / n * 1e6:7.2f}   {numpy_ms / faiss_ms:5.1f}x"
            )


if __name__ == "__main__":
    main()
