"""`CompactIndex`: the compact kind ("tables") of a collection's code index: the shared slot
array (`slot_index.SlotIndex`) and its substring tables, no graph (about 8 B a code for the
codes and 48 B for the tables, against the graph's ~300 B: scripts/bench/index.py --kind).
Radius searches and exact top-k go through the tables or a scan; nothing is approximate.
"""

from __future__ import annotations

from ..params import TABLES_KIND, IndexParams
from .costs import CostModel
from .slot_index import SlotIndex
from .slots import SlotGraph
from .substrings import DEFAULT_WIDTHS

__all__ = ["CompactIndex"]


class CompactIndex(SlotIndex):
    """A collection's codes and their substring tables, without a graph."""

    def __init__(
        self,
        params: IndexParams,
        graph: SlotGraph | None = None,
        sequence: int = 0,
        costs: CostModel | None = None,
    ) -> None:
        if params.kind != TABLES_KIND:
            raise ValueError(f"a CompactIndex is of kind {TABLES_KIND!r}, not {params.kind!r}")
        super().__init__(params, graph, sequence, costs)

    @property
    def kind(self) -> str:
        """The structure, as Stats reports it."""
        widths = "+".join(str(width) for width in DEFAULT_WIDTHS)
        return f"SubstringTables({widths} bits, no graph)"
