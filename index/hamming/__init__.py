"""A collection's Hamming structures, behind the code-index seam (`code_index`).

    code_index   the seam: `CodeIndex` and its values
    factory      the one factory: a structure made, rebuilt or restored from settings
    slot_index   `SlotIndex`: what both kinds do over the shared slot array
    hnsw         `HammingIndex`: the graph kind (an HNSW graph beside the slots)
    compact      `CompactIndex`: the compact kind (the slots and their tables, no graph)
    slots        the slot array: codes, liveness, code map, tables, in-place scans
    scans        exact scans of a run of the slots' code array (FAISS's kernels, in place)
    codemap      which slot holds a code
    costs        the cost model routes are priced with, and how its figures are measured
    planner      which route answers a search: pure functions of a shape and a cost model
    substrings   multi-index hashing tables for exact small-radius and top-k searches
    probes       the tables' compiled inner loop; compiled: how loops are compiled (numba)
    openmp       one OpenMP thread per search; rwlock: many searches, one mutation

FAISS and numba are imported only by the modules that run them, and only when a structure
is made (the factory imports the implementations then).
"""

from typing import Any

from .code_index import (
    CodeIndex,
    CodeMatch,
    CodeSearch,
    IndexImage,
)
from .factory import build_code_index, new_code_index, restore_code_index

__all__ = [
    "CodeIndex",
    "CodeMatch",
    "CodeSearch",
    "CompactIndex",
    "HammingIndex",
    "IndexImage",
    "build_code_index",
    "new_code_index",
    "restore_code_index",
]


def __getattr__(name: str) -> Any:
    if name == "HammingIndex":  # FAISS: only when asked for
        from .hnsw import HammingIndex

        return HammingIndex
    if name == "CompactIndex":
        from .compact import CompactIndex

        return CompactIndex
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
