"""The one factory of code indexes: a structure made, rebuilt or restored from a
collection's settings. The implementations are imported only here, and only when a
structure is made: a process that imports the seam loads no FAISS until it opens a data dir.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..params import KINDS, TABLES_KIND, IndexParams
from .code_index import CodeIndex, IndexImage

if TYPE_CHECKING:
    from .costs import CostModel
    from .slot_index import SlotIndex

__all__ = ["build_code_index", "index_class", "new_code_index", "restore_code_index"]


def index_class(params: IndexParams) -> type[SlotIndex]:
    """The implementation of the collection's kind: the graph kind or the compact one."""
    if params.kind == TABLES_KIND:
        from .compact import CompactIndex

        return CompactIndex
    from .hnsw import HammingIndex

    return HammingIndex


def new_code_index(
    params: IndexParams, sequence: int = 0, costs: CostModel | None = None
) -> CodeIndex:
    """An empty structure for a collection with these settings, at a store sequence, its
    searches planned with `costs` (default: this machine's)."""
    return index_class(params)(params, sequence=sequence, costs=costs)


def build_code_index(
    params: IndexParams,
    counts: Mapping[int, int],
    sequence: int,
    costs: CostModel | None = None,
) -> CodeIndex:
    """A structure holding these codes with their live counts (a rebuild from the store)."""
    return index_class(params).build(params, counts, sequence, costs)


def restore_code_index(
    params: IndexParams, image: IndexImage, costs: CostModel | None = None
) -> CodeIndex:
    """The structure `export` gave; ValueError when the image is not of the collection's
    kind (FAISS raises RuntimeError on a malformed blob)."""
    if image.kind != params.kind:
        known = "a kind this engine reads" if image.kind in KINDS else "an unknown kind"
        raise ValueError(
            f"a snapshot of index kind {image.kind!r} ({known}) for a collection of kind "
            f"{params.kind!r}"
        )
    return index_class(params).restore(params, image, costs)
