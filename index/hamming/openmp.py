"""How many OpenMP threads a FAISS call on this thread may use.

FAISS opens an OpenMP parallel region even for one query (its HNSW search allocates a visited
table of `ntotal` bytes per team thread), and a thread that is not OpenMP's own main thread gets
a cold team on each call. One query from a pool thread, 2 cores
(`scripts/bench_service_parts.py`): flat top-10 over 100k codes 263 us with 2 OpenMP threads,
117 us with one; HNSW 275 vs 110 us. A 2M-code flat scan gained nothing from the second thread
(2.25 ms either way; a scratch measurement, not kept). Searches are parallel across calls
instead (the service's thread pool); graph builds keep every core.

OpenMP's thread count is a per-thread setting for threads OpenMP did not start, so this
changes the calling thread only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import faiss

__all__ = ["one_thread"]


@contextmanager
def one_thread() -> Iterator[None]:
    """FAISS calls inside the block use one OpenMP thread (on the calling thread)."""
    before = faiss.omp_get_max_threads()
    if before == 1:
        yield
        return
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)
