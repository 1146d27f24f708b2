"""A collection's Hamming structures, behind the code-index seam (`code_index`).

    code_index   the seam: `CodeIndex`, its values, and the one factory
    params       `IndexParams`: a collection's declared tuning, with measured defaults
    hnsw         `HammingIndex`: FAISS HNSW + flat storage + fresh codes (the kind today)
    slots        the codes at their slots, and the scans over them
    substrings   multi-index hashing tables for exact small-radius searches
    openmp       one OpenMP thread per search; rwlock: many searches, one mutation

Only `hnsw`, `slots` and `openmp` import FAISS, and only when a structure is made.
"""

from typing import Any

from .code_index import (
    CodeIndex,
    CodeMatch,
    CodeSearch,
    CompactionReport,
    IndexImage,
    SearchPath,
    build_code_index,
    new_code_index,
    restore_code_index,
)
from .params import IndexParams

__all__ = [
    "CodeIndex",
    "CodeMatch",
    "CodeSearch",
    "CompactionReport",
    "HammingIndex",
    "IndexImage",
    "IndexParams",
    "SearchPath",
    "build_code_index",
    "new_code_index",
    "restore_code_index",
]


def __getattr__(name: str) -> Any:
    if name == "HammingIndex":  # FAISS: only when asked for
        from .hnsw import HammingIndex

        return HammingIndex
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
