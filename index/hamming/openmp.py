"""How many OpenMP threads a FAISS call on this thread may use.

FAISS opens an OpenMP parallel region even for one query (its HNSW search allocates a visited
table of `ntotal` bytes per team thread), and a thread that is not OpenMP's own main thread gets
a cold team on each call: one query from a pool thread takes about twice as long with two
OpenMP threads as with one, flat scan and graph alike (scripts/bench/service_parts.py times
both), and a large flat scan gains nothing from the second thread. Searches are parallel
across calls instead (the service's thread pool). A graph built in the background (a bulk load's
absorb) leaves one core to the searches that go on meanwhile; an asked-for compaction and a
rebuild at start-up keep every core.

OpenMP's thread count is a per-thread setting for threads OpenMP did not start, so this
changes the calling thread only. Only the kernel calls enter a block (`scans`, the graph's
search), so a search through the substring tables asks FAISS nothing; a search that makes
several kernel calls enters one block around them all.
"""

from __future__ import annotations

import contextlib
import os
import threading

import faiss

__all__ = ["all_but_one_core", "one_thread", "threads"]


# The count the innermost `threads` block on each thread set (absent outside any): a block
# inside another of the same count asks FAISS nothing, since each such call releases the GIL.
_inside = threading.local()


class threads:
    """FAISS calls inside the `with` block use `count` OpenMP threads (on the calling
    thread). A plain class, not a generator: every search enters one."""

    __slots__ = ("_before", "_count", "_outer")

    def __init__(self, count: int) -> None:
        self._count, self._before, self._outer = count, count, None

    def __enter__(self) -> None:
        self._outer = getattr(_inside, "count", None)
        self._before = self._outer if self._outer is not None else faiss.omp_get_max_threads()
        if self._before != self._count:
            faiss.omp_set_num_threads(self._count)
        _inside.count = self._count

    def __exit__(self, *exc: object) -> None:
        if self._before != self._count:
            faiss.omp_set_num_threads(self._before)
        _inside.count = self._outer


def one_thread() -> contextlib.AbstractContextManager[None]:
    """FAISS calls inside the block use one OpenMP thread (on the calling thread)."""
    return threads(1)


def all_but_one_core() -> contextlib.AbstractContextManager[None]:
    """FAISS calls inside the block leave a core to the searches: background graph builds."""
    return threads(max(1, (os.cpu_count() or 1) - 1))
