"""Exact Hamming scans of a run of our own code array, through FAISS's scan kernels.

Why not an `IndexBinaryFlat`: one keeps its own copy of the codes (8 B an image beside the
slots' array) and scans all of them; these functions scan any run of the slots' array in
place (FAISS's `hamming_range_search` and `hammings_knn_hc`, the kernels its flat index
calls, on raw pointers), so the fresh codes and the codes after the substring tables' prefix
need no second copy and no ID selector to cut a range out of a whole index.

Byte order does not change a Hamming distance: codes and queries are both passed as native
uint64 (FAISS sees their little-endian bytes).
"""

from __future__ import annotations

from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

__all__ = ["nearest", "within"]

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
_CODE_BYTES = 8


def _bytes(codes: U64) -> npt.NDArray[np.uint8]:
    return np.ascontiguousarray(codes, dtype=np.uint64).view(np.uint8)


def within(queries: U64, codes: U64, radius: int, selector: Any = None) -> tuple[I64, I64, I64]:
    """Positions in `codes` within `radius` bits (inclusive) of each query, their distances
    and query numbers, by query; `selector` (a FAISS ID selector over positions) keeps some."""
    q, stored = _bytes(queries), _bytes(codes)
    result = faiss.RangeSearchResult(len(queries))
    # FAISS's range search keeps distances strictly below its radius
    faiss.hamming_range_search(
        faiss.swig_ptr(q), faiss.swig_ptr(stored), len(queries), len(codes), radius + 1,
        _CODE_BYTES, result, selector,
    )  # fmt: skip
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
    faiss.hammings_knn_hc(
        heap, faiss.swig_ptr(q), faiss.swig_ptr(stored), len(codes), _CODE_BYTES, 1,
        faiss.EXACT_TOPK, selector,
    )  # fmt: skip
    return positions, distances.astype(np.int64)
