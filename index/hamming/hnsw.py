"""`HammingIndex`: the graph kind ("hnsw") of a collection's code index: the shared slot
array (`slot_index.SlotIndex`) with a FAISS `IndexBinaryHNSW` over a prefix of the slots.

A graph is only worth its cost where it serves top-k queries (`IndexParams.graph_serves`:
between `exact_threshold` and `hnsw_max_codes` codes); outside that range codes stay in the
flat part and no core is spent on a graph nobody searches. New codes land first as *fresh*
slots, searched exactly beside the graph: an add or a start-up replay costs a copy, not an
HNSW insertion. Where the graph serves, the background thread moves a few fresh codes into
it in small chunks once the writes pause, and when many arrived at once (a bulk load, a
replay: more than the high water mark and an eighth of the graph) it builds a whole new
graph aside once the load pauses, as compaction does, and swaps it in: searches never wait
behind a long insertion, and a top-k query takes an exact route while the fresh codes are
too many for the graph's answer to be worth it. The graph's search costs are measured as it
grows, for the planner.
"""

from __future__ import annotations

import time

from ..params import HNSW_KIND
from .openmp import all_but_one_core
from .planner import FRESH_HIGH_WATER
from .slot_index import SlotIndex
from .slots import SlotGraph

__all__ = ["HammingIndex", "graft_due"]

# Fresh codes enter the graph in chunks of this many, the write lock released in between,
# so a search waits for at most one chunk's insertion (a few milliseconds at 1M codes; an
# estimate scaled from larger chunks, not measured on its own).
_ABSORB_CHUNK = 32
# Grafting waits for a pause in the writes (no `apply` for this long), so a stream of adds
# does not wait on the write lock behind each chunk nor share the cores with HNSW insertion;
# fresh codes are searched exactly meanwhile. Past the high water mark it grafts anyway: that
# many fresh codes add a small scan to each query (scripts/bench/absorb.py times searches
# during an absorb), and the planner plans no graph search past it.
_ABSORB_QUIET_SECONDS = 0.2
# A graph built aside waits for the writes to pause too, so a bulk load arriving in batches
# is built once, not once per batch that crosses the threshold (a 1M load in 100k batches
# built 1.3M codes); but no longer than this, so a steady stream of adds is absorbed anyway.
_ASIDE_WAIT_SECONDS = 60.0


def graft_due(fresh: int, quiet_seconds: float) -> bool:
    """Whether the background thread grafts a chunk now: there are fresh codes and the
    writes have paused, or the fresh codes have passed the high water mark."""
    return fresh > 0 and (quiet_seconds >= _ABSORB_QUIET_SECONDS or fresh >= FRESH_HIGH_WATER)


class HammingIndex(SlotIndex):
    """A collection's codes with an HNSW graph beside them where it serves top-k queries."""

    KIND = HNSW_KIND
    KEEPS_GRAPH = True
    # when a graph built aside was first due, while the bulk load it waits for goes on
    _aside_due_since = 0.0

    def _graph_work_due(self, graph: SlotGraph) -> bool:
        """Fresh codes to bring into a serving graph, or its search costs to measure."""
        return self._pending(graph) > 0 or self._graph_costs_due(graph)

    def _pending(self, graph: SlotGraph) -> int:
        return graph.n - graph.in_graph if self.params.graph_serves(graph.n) else 0

    def _graph_costs_due(self, graph: SlotGraph) -> bool:
        """Whether a serving graph's search costs are still to be measured (the planner
        does not plan the graph without them)."""
        return graph.in_graph > 0 and self.params.graph_serves(graph.n) and graph.graph_costs_due()

    def _graph_step(self, graph: SlotGraph) -> bool:
        """Measures a graph whose costs are due (after a graft that doubled it, or none
        measured yet); else builds a new graph aside when many codes came at once and the
        load has paused; else grafts a chunk once the writes pause (or the fresh codes
        pass the high water mark)."""
        if self._graph_costs_due(graph):
            with self._lock.read():
                graph.measure_graph()
            return False
        pending = self._pending(graph)
        now = time.monotonic()
        quiet = now - self._last_apply
        if pending > max(FRESH_HIGH_WATER, graph.in_graph // 8):
            self._aside_due_since = self._aside_due_since or now
            waited = now - self._aside_due_since
            if quiet < _ABSORB_QUIET_SECONDS and waited < _ASIDE_WAIT_SECONDS:
                time.sleep(_ABSORB_QUIET_SECONDS / 4)  # a bulk load still arriving
                return False
            self._aside_due_since = 0.0
            with all_but_one_core():  # searches meanwhile keep a core
                self.compact()  # a new graph of every live code, built aside, swapped in
            return True
        if not graft_due(pending, quiet):
            time.sleep(_ABSORB_QUIET_SECONDS / 4)
            return False
        with self._lock.write():
            self._graph.absorb(_ABSORB_CHUNK)
        time.sleep(0.0005)  # hand the lock to a waiting writer or search
        return True
