"""`CompactIndex`: the compact kind ("tables") of a collection's code index: the shared slot
array (`slot_index.SlotIndex`) and its substring tables, no graph (about 8 B a code for the
codes and 48 B for the tables, against the graph's ~300 B: scripts/bench/index.py --kind).
Radius searches and exact top-k go through the tables or a scan; nothing is approximate.
"""

from __future__ import annotations

from ..params import TABLES_KIND
from .slot_index import SlotIndex

__all__ = ["CompactIndex"]


class CompactIndex(SlotIndex):
    """A collection's codes and their substring tables, without a graph."""

    KIND = TABLES_KIND
