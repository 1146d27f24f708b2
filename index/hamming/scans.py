"""Exact Hamming scans of a run of our own code array: FAISS's scan kernels, and a compiled
measure for short runs.

Why not an `IndexBinaryFlat`: one keeps its own copy of the codes (8 B an image beside the
slots' array) and scans all of them; these functions scan any run of the slots' array in
place (FAISS's `hamming_range_search` and `hammings_knn_hc`, the kernels its flat index
calls, on raw pointers), so the fresh codes and the codes after the substring tables' prefix
need no second copy and no ID selector to cut a range out of a whole index.

A short run (the few thousand codes after the substring tables' prefix) is cheaper measured
by a compiled loop (`measured`) than through a call into FAISS; the cost model times both
(`costs.measure_scans`) and each caller takes the cheaper.

Each kernel call runs on one OpenMP thread (`openmp.one_thread`): one query's scan gains
nothing from a team, and searches run in parallel across calls.

Byte order does not change a Hamming distance: codes and queries are both passed as native
uint64 (FAISS sees their little-endian bytes).
"""

from __future__ import annotations

from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from .compiled import compiled, grown, popcount
from .openmp import one_thread

__all__ = ["measured", "nearest", "within"]

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
_CODE_BYTES = 8
# The outputs a measure starts with: most runs hold few codes within the radius.
_FIRST_OUTPUT = 64
# Codes a measure counts at a time before it looks for the ones within the radius.
_BLOCK = 256


def _bytes(codes: U64) -> npt.NDArray[np.uint8]:
    return np.ascontiguousarray(codes, dtype=np.uint64).view(np.uint8)


def within(queries: U64, codes: U64, radius: int, selector: Any = None) -> tuple[I64, I64, I64]:
    """Positions in `codes` within `radius` bits (inclusive) of each query, their distances
    and query numbers, by query; `selector` (a FAISS ID selector over positions) keeps some."""
    q, stored = _bytes(queries), _bytes(codes)
    result = faiss.RangeSearchResult(len(queries))
    # FAISS's range search keeps distances strictly below its radius
    with one_thread():
        faiss.hamming_range_search(
            faiss.swig_ptr(q),
            faiss.swig_ptr(stored),
            len(queries),
            len(codes),
            radius + 1,
            _CODE_BYTES,
            result,
            selector,
        )
    lims = faiss.rev_swig_ptr(result.lims, len(queries) + 1).astype(np.int64)
    found = int(lims[-1])
    if found == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    positions = faiss.rev_swig_ptr(result.labels, found).astype(np.int64)
    distances = faiss.rev_swig_ptr(result.distances, found).astype(np.int64)
    query_numbers = np.repeat(np.arange(len(queries), dtype=np.int64), np.diff(lims))
    return positions, distances, query_numbers


def nearest(queries: U64, codes: U64, k: int, selector: Any = None) -> tuple[I64, I64]:
    """The k nearest positions in `codes` to each query and their distances, (nq, k) each,
    nearest first (ties as FAISS's flat index orders them); -1 where fewer than k are
    selected."""
    q, stored = _bytes(queries), _bytes(codes)
    distances = np.empty((len(queries), k), dtype=np.int32)
    positions = np.empty((len(queries), k), dtype=np.int64)
    heap = faiss.int_maxheap_array_t()
    heap.k, heap.nh = k, len(queries)
    heap.ids, heap.val = faiss.swig_ptr(positions), faiss.swig_ptr(distances)
    with one_thread():
        faiss.hammings_knn_hc(
            heap,
            faiss.swig_ptr(q),
            faiss.swig_ptr(stored),
            len(codes),
            _CODE_BYTES,
            1,
            faiss.EXACT_TOPK,
            selector,
        )
    return positions, distances.astype(np.int64)


@compiled()
def measured(queries: U64, codes: U64, radius: int) -> tuple[I64, I64, I64]:  # pragma: no cover
    """What `within` finds, by a compiled loop over the codes in place: positions within
    `radius` bits of each query, their distances and query numbers, by query."""
    most = queries.shape[0] * codes.shape[0]
    size = max(min(most, _FIRST_OUTPUT), 1)
    positions, distances = np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int64)
    numbers = np.empty(size, dtype=np.int64)
    found = 0
    for j in range(queries.shape[0]):
        at = 0
        while True:
            at, found = _measure_from(
                queries[j], j, codes, at, radius, positions, distances, numbers, found
            )
            if at == codes.shape[0]:
                break
            positions, distances = grown(positions, most), grown(distances, most)
            numbers = grown(numbers, most)
    return positions[:found], distances[:found], numbers[:found]


@compiled()
def _measure_from(
    query: np.uint64,
    number: int,
    codes: U64,
    begin: int,
    radius: int,
    positions: I64,
    distances: I64,
    numbers: I64,
    found: int,
) -> tuple[int, int]:  # pragma: no cover - compiled
    """Writes the codes within `radius` from `begin` on after the `found` first outputs;
    returns where it stopped (the end, or the code that found the outputs full) and how
    many outputs are written. Its own function, not inlined: with the outputs' growth in
    the same loop, the compiler could not keep the loop tight and it ran many times
    slower. Block by block, each
    counted first without a branch (vector instructions) and measured code by code only
    when it holds a code within the radius."""
    for block in range(begin, codes.shape[0], _BLOCK):
        end = min(block + _BLOCK, codes.shape[0])
        if _count_within(codes, block, end, query, radius) == 0:
            continue
        for i in range(block, end):
            d = np.int64(popcount(codes[i] ^ query))
            if d <= radius:
                if found == positions.shape[0]:
                    return i, found
                positions[found], distances[found], numbers[found] = i, d, number
                found += 1
    return codes.shape[0], found


@compiled(inline=True)
def _count_within(
    codes: U64, begin: int, end: int, query: np.uint64, radius: int
) -> int:  # pragma: no cover - compiled
    """How many of codes[begin:end] lie within `radius` bits of the query."""
    count = np.int64(0)
    for i in range(begin, end):
        count += np.int64(popcount(codes[i] ^ query)) <= radius
    return int(count)
