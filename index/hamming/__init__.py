"""A collection's Hamming structures, behind the code-index seam (`code_index`).

    code_index   the seam: `CodeIndex` and its values
    factory      the one factory: a structure made, rebuilt or restored from settings
    hnsw         `HammingIndex`: FAISS HNSW where it serves + fresh codes + tables
    slots        the codes at their slots, and the searches over them
    scans        exact scans of a run of the slots' code array (FAISS's kernels, in place)
    codemap      which slot holds a code
    planner      which route answers a search, from measured costs
    substrings   multi-index hashing tables for exact small-radius and top-k searches
    probes       the tables' compiled inner loop; compiled: how loops are compiled (numba)
    openmp       one OpenMP thread per search; rwlock: many searches, one mutation

Only `hnsw`, `slots`, `planner`, `scans` and `openmp` import FAISS, and numba only the compiled
loops' modules: both only when a structure is made.
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
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
