"""`SlotGraph` keeps its count of dead fresh slots right through appends, count changes and
absorbs (top-k queries read it instead of counting every fresh slot)."""

from __future__ import annotations

import numpy as np
from neardup.index.hamming.slots import SlotGraph
from neardup.index.params import IndexParams


def recount(graph: SlotGraph) -> int:
    return int(np.count_nonzero(graph.live[graph.in_graph : graph.n] == 0))


def test_the_dead_fresh_count_follows_every_change() -> None:
    rng = np.random.default_rng(7)
    graph = SlotGraph.empty(IndexParams())
    codes = rng.choice(1 << 40, size=3000, replace=False).astype(np.uint64)
    for step in range(30):
        new = codes[step * 100 : (step + 1) * 100]
        graph.append(new, rng.integers(0, 3, size=len(new)).astype(np.int32))
        slots = np.unique(rng.integers(0, graph.n, size=40)).astype(np.int64)
        deltas = np.where(graph.live[slots] > 0, -1, 1).astype(np.int32)
        graph.adjust(slots, deltas)
        if step % 7 == 6:
            graph.absorb(150)
        assert graph.fresh_dead() == recount(graph)
