"""`SlotGraph`: the codes of one collection at their slots, and the scans over them: the
slot array both index kinds share (`hnsw.HammingIndex` with a FAISS graph beside it,
`compact.CompactIndex` without one).

Slots [0, in_graph) are in a FAISS `IndexBinaryHNSW` where the kind keeps one; slots
[in_graph, n) are *fresh*, only in the slots' code array until `absorb` moves them into the
graph (a collection whose graph does not serve, or that has none, keeps them all there).
Exact scans read that array in place (`scans.py`): the graph's own `storage` copy serves
only the graph. Per slot: the code, how many live images carry it, and a bit in the bitmap
that FAISS's ID selector reads (live or dead). A `CodeMap` says which slot holds a code.
Once the collection is large, `SubstringTables` over a prefix of the slots answer
small-radius range searches without a full scan; they are rebuilt (by the index's
background thread) when the slots after that prefix pile up.

The searches (`scanned_range`, `probed_range`, `top_k_scan`) search the graph part and the
fresh part and return slots, distances and query numbers as arrays; `merge` keeps each slot
once. They carry out what the index planned, with the bounds it computed: none of them asks
the planner anything. The cost model the slots are given chooses only between two kernels
of the same scan.

Not thread-safe: `HammingIndex` guards every use with its readers-writer lock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from ..fingerprint.value import BITS, codes_from_u64, u64_from_codes
from ..params import TABLES_KIND, IndexParams
from . import scans
from .codemap import CodeMap
from .costs import CostModel, GraphCosts, TablesCosts, measure_graph, measure_tables
from .openmp import one_thread
from .substrings import Probed, SubstringTables

__all__ = [
    "SlotGraph",
    "built_graph",
    "merge",
    "probed_range",
    "scanned_range",
    "top_k_scan",
]

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]

# Bulk builds insert into the graph in batches this large: FAISS parallelises within one,
# and a build aside can be abandoned between two (an engine closing mid-absorb).
_BUILD_CHUNK = 1 << 16
# Substring tables are rebuilt once the slots after them pass this share of the slots they
# cover (or a floor): a range search measures those codes one by one, and this keeps them
# few while a rebuild stays rare (scripts/bench/index.py times one). Not tuned by measurement.
_UNCOVERED_SHARE = 1 / 32
_UNCOVERED_FLOOR = 8_192


class SlotGraph:
    """The codes at their slots: live counts, selector bitmap, code -> slot, substring
    tables, and the FAISS graph over a prefix of them (`index`; None for the compact kind).

    Not thread-safe on its own: the index that holds it guards it.
    """

    def __init__(
        self,
        params: IndexParams,
        index: Any | None,
        live: npt.NDArray[np.int32],
        fresh: U64 | None = None,
        costs: CostModel | None = None,
    ) -> None:
        self.params = params
        self.costs = costs if costs is not None else CostModel.measured()
        self.index = index
        in_graph = int(index.ntotal) if index is not None else 0
        fresh = np.zeros(0, dtype=np.uint64) if fresh is None else fresh
        n = in_graph + len(fresh)
        if live.shape != (n,):
            raise ValueError(f"{live.shape[0]} live counts for {n} slots")
        capacity = max(1024, n)
        self.codes = np.zeros(capacity, dtype=np.uint64)
        if index is not None and in_graph:
            flat = faiss.downcast_IndexBinary(index.storage)
            xb = faiss.vector_to_array(flat.xb).reshape(in_graph, 8)
            self.codes[:in_graph] = u64_from_codes(xb)
        self.codes[in_graph:n] = fresh
        self.live = np.zeros(capacity, dtype=np.int32)
        self.live[:n] = live
        self.n = n
        self.dead = int(np.count_nonzero(live == 0))
        # kept as a count: a top-k query during a bulk load's absorb reads it, and counting
        # a million fresh slots each time would cost more than the search
        self._fresh_dead = int(np.count_nonzero(live[in_graph:] == 0))
        self.total = int(live.sum())
        self.bitmap = np.zeros(capacity // 8 + 1, dtype=np.uint8)
        self.bitmap[: (n + 7) // 8] = np.packbits(live > 0, bitorder="little")
        self.tables: SubstringTables | None = None
        self.tables_costs: TablesCosts | None = None
        # the graph's search costs, measured at `_graph_measured_at` codes in it
        self.graph_costs: GraphCosts | None = None
        self._graph_measured_at = 0
        self._map = CodeMap(self.codes[:n])

    def serialized(
        self,
    ) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int32], U64, npt.NDArray[np.uint8]]:
        """A copy for a snapshot: the structure's bytes (the FAISS graph's; for the tables
        kind its substring tables', empty before they are built), live counts, fresh codes,
        and beside a graph its substring tables' bytes (empty when none are built)."""
        none = np.zeros(0, np.uint8)
        tables = self.tables.to_bytes() if self.tables is not None else none
        if self.index is None:
            blob, tables = tables, none
        else:
            blob = faiss.serialize_index_binary(self.index)
        return blob, self.live[: self.n].copy(), self.codes[self.in_graph : self.n].copy(), tables

    @classmethod
    def deserialized(
        cls,
        params: IndexParams,
        serialized: npt.NDArray[np.uint8],
        live: npt.NDArray[np.int32],
        fresh: U64,
        tables: npt.NDArray[np.uint8],
        costs: CostModel | None = None,
    ) -> SlotGraph:
        """The graph `serialized` copied, with the substring tables `tables` holds (none when
        empty: they are rebuilt in the background); ValueError or RuntimeError on a bad
        blob."""
        if params.kind == TABLES_KIND:
            graph = cls(params, None, live, fresh, costs)
            graph._adopt_tables(serialized)
            return graph
        # read_index_binary already returns the concrete type; a downcast of the temporary
        # would leave a wrapper on memory freed with it.
        index = faiss.deserialize_index_binary(serialized)
        if not isinstance(index, faiss.IndexBinaryHNSW):
            raise ValueError("the serialised index is not an IndexBinaryHNSW")
        if int(index.ntotal) + len(fresh) != len(live):
            raise ValueError("the serialised index does not match its live counts")
        index.hnsw.efSearch = params.ef_search
        graph = cls(params, index, live, fresh, costs)
        graph._adopt_tables(tables)
        return graph

    def _adopt_tables(self, serialized: npt.NDArray[np.uint8]) -> None:
        """The substring tables a snapshot kept (none when `serialized` is empty), their
        costs measured here."""
        if not len(serialized):
            return
        tables = SubstringTables.from_bytes(serialized)
        if tables.covered > self.n:
            raise ValueError("the snapshot's substring tables cover more codes than it holds")
        self.set_tables(tables, measure_tables(tables, self.codes[: tables.covered]))

    @classmethod
    def empty(cls, params: IndexParams, costs: CostModel | None = None) -> SlotGraph:
        """No slots; a FAISS graph only for a kind that keeps one."""
        graph = None if params.kind == TABLES_KIND else _new_hnsw(params)
        return cls(params, graph, np.zeros(0, dtype=np.int32), costs=costs)

    def lookup(self, codes: U64) -> I64:
        """The slot of each code, -1 where absent."""
        return self._map.lookup(self.codes, codes)

    def reserve(self, needed: int) -> None:
        """Room for this many slots. Grown by a quarter at a time: per-slot arrays are most
        of a compact index's memory, and doubling them left up to 12 B a slot unused."""
        capacity = len(self.codes)
        if needed <= capacity:
            return
        capacity = max(needed, capacity + capacity // 4)
        self.codes = np.resize(self.codes, capacity)
        self.live = np.resize(self.live, capacity)
        self.live[self.n :] = 0
        bitmap = np.zeros(capacity // 8 + 1, dtype=np.uint8)
        bitmap[: len(self.bitmap)] = self.bitmap
        self.bitmap = bitmap

    @property
    def in_graph(self) -> int:
        """Slots [0, in_graph) are in the HNSW graph; the rest are fresh."""
        return int(self.index.ntotal) if self.index is not None else 0

    def append(self, codes: U64, counts: npt.NDArray[np.int32], into_graph: bool = False) -> None:
        """Adds new (absent) codes with their live counts at the next slots: fresh, or
        straight into the graph (bulk builds, when nothing is fresh)."""
        if len(codes) == 0:
            return
        start, end = self.n, self.n + len(codes)
        self.reserve(end)
        if into_graph and self.index is not None and self.in_graph == self.n:
            self.index.add(codes_from_u64(codes))
        else:
            self._fresh_dead += int(np.count_nonzero(counts == 0))
        self.codes[start:end] = codes
        self.live[start:end] = counts
        self.n = end
        self._set_bits(np.arange(start, end, dtype=np.int64))
        self.dead += int(np.count_nonzero(counts == 0))
        self.total += int(counts.sum())
        self._map.add(self.codes, codes, start)

    def absorb(self, limit: int) -> int:
        """Moves up to `limit` fresh codes into the graph; returns how many it moved."""
        start = self.in_graph
        moved = min(limit, self.n - start)
        if moved:
            assert self.index is not None, "the compact kind keeps no graph"
            self._fresh_dead -= int(np.count_nonzero(self.live[start : start + moved] == 0))
            self.index.add(codes_from_u64(self.codes[start : start + moved]))
        return moved

    def fresh_dead(self) -> int:
        """Dead slots among the fresh codes."""
        return self._fresh_dead

    def fresh_selector(self) -> tuple[Any, npt.NDArray[np.uint8] | None]:
        """An ID selector of the live fresh codes (ids from the first fresh slot), and the
        bitmap it reads (keep it alive while searching); (None, None) when none is dead. Asking
        the fresh index for k + dead codes instead would keep a heap of k + dead codes per
        query, several times slower with many dead."""
        if self._fresh_dead == 0:
            return None, None
        start = self.in_graph
        if start % 8 == 0:  # the fresh codes' bits start on a byte of the slots' bitmap
            bits = self.bitmap[start // 8 :]
        else:
            bits = np.packbits(self.live[start : self.n] > 0, bitorder="little")
        return faiss.IDSelectorBitmap(self.n - start, faiss.swig_ptr(bits)), bits

    def adjust(self, slots: I64, deltas: npt.NDArray[np.int32]) -> None:
        """Adds deltas to the live counts of existing slots."""
        was_dead = self.live[slots] == 0
        counts = self.live[slots] + deltas
        if (counts < 0).any():
            raise ValueError("a live count would go negative: index and store disagree")
        self.live[slots] = counts
        self.total += int(deltas.sum())
        now_dead = counts == 0
        self.dead += int(np.count_nonzero(now_dead)) - int(np.count_nonzero(was_dead))
        fresh = slots >= self.in_graph
        self._fresh_dead += int(np.count_nonzero(now_dead & fresh)) - int(
            np.count_nonzero(was_dead & fresh)
        )
        self._set_bits(slots)

    def _set_bits(self, slots: I64) -> None:
        byte, bit = slots >> 3, (slots & 7).astype(np.uint8)
        mask = np.left_shift(np.uint8(1), bit)
        np.bitwise_and.at(self.bitmap, byte, ~mask)
        alive = self.live[slots] > 0
        np.bitwise_or.at(self.bitmap, byte[alive], mask[alive])

    def set_tables(self, tables: SubstringTables, costs: TablesCosts) -> None:
        """Substring tables of a prefix of the slots, and their measured costs."""
        self.tables, self.tables_costs = tables, costs

    def graph_costs_due(self) -> bool:
        """Whether the graph's search costs should be (re)measured: it serves and has
        doubled since they were (searching a graph slows as it grows out of the caches)."""
        if not self.params.graph_serves(self.n) or self.in_graph == 0:
            return False
        return self.graph_costs is None or self.in_graph >= 2 * self._graph_measured_at

    def measure_graph(self) -> None:
        """Times the graph's searches for the planner (`costs.measure_graph`)."""
        self.graph_costs = measure_graph(self.index, self.params.ef_for(self.in_graph))
        self._graph_measured_at = self.in_graph

    def tables_due(self) -> bool:
        """Whether substring tables should be (re)built: the collection has reached
        `substring_tables_min_codes` and too many slots lie after the tables' prefix."""
        if self.n < max(1, self.params.substring_tables_min_codes):
            return False
        if self.tables is None:
            return True
        covered = self.tables.covered
        return self.n - covered > max(_UNCOVERED_FLOOR, covered * _UNCOVERED_SHARE)

    def selector(self) -> Any:
        """An ID selector of the live slots, or None when no slot is dead."""
        if self.dead == 0:
            return None
        return faiss.IDSelectorBitmap(self.n, faiss.swig_ptr(self.bitmap))

    def memory_bytes(self) -> int:
        graph = 0
        if self.index is not None:
            hnsw = self.index.hnsw
            graph = 4 * (hnsw.neighbors.size() + hnsw.levels.size()) + 8 * hnsw.offsets.size()
        ours = self.codes.nbytes + self.live.nbytes + self.bitmap.nbytes
        lookup = self._map.nbytes
        tables = self.tables.nbytes if self.tables is not None else 0
        return int(8 * self.in_graph + graph + ours + lookup + tables)


def _new_hnsw(params: IndexParams) -> Any:
    """An empty FAISS graph with the collection's settings."""
    index = faiss.IndexBinaryHNSW(BITS, params.hnsw_m)
    index.hnsw.efConstruction = params.ef_construction
    index.hnsw.efSearch = params.ef_search
    return index


def built_graph(
    params: IndexParams,
    codes: U64,
    counts: npt.NDArray[np.int32],
    between_batches: Callable[[], bool] = lambda: False,
    costs: CostModel | None = None,
) -> SlotGraph | None:
    """These codes at their slots: inserted into the HNSW graph in large batches (FAISS uses
    every core) where the graph serves their number, else all in the flat part.
    `between_batches` runs before each batch (a long build leaves room for other upkeep);
    None when it says to abandon the build."""
    graph = SlotGraph.empty(params, costs)
    graph.reserve(len(codes))
    into_graph = params.graph_serves(len(codes))
    for start in range(0, len(codes), _BUILD_CHUNK):
        if between_batches():
            return None
        chunk = slice(start, start + _BUILD_CHUNK)
        graph.append(codes[chunk], counts[chunk], into_graph=into_graph)
    return graph


def merge(slots: I64, distances: I64, queries: I64) -> tuple[I64, I64, I64]:
    """Keeps each slot once, at its smallest distance (lowest query on ties), nearest first."""
    order = np.lexsort((queries, distances))
    slots, distances, queries = slots[order], distances[order], queries[order]
    _, first = np.unique(slots, return_index=True)
    first.sort()  # positions in (distance, query) order
    return slots[first], distances[first], queries[first]


def scanned_range(graph: SlotGraph, queries: U64, radius: int) -> tuple[I64, I64, I64]:
    """Exact: a range search of every slot, dead ones dropped after (an ID selector takes
    FAISS's scan off its fast path, which costs more than dropping them after)."""
    slots, dist, qi = _scan(graph, queries, radius, 0)
    if graph.dead:
        alive = graph.live[slots] > 0
        slots, dist, qi = slots[alive], dist[alive], qi[alive]
    return slots, dist, qi


def probed_range(graph: SlotGraph, queries: U64, radius: int, max_listed: int) -> Probed:
    """Exact: the live slots within `radius` through the substring tables and the slots
    after them; `found` None, with only the probes' codes counted, where they list more
    than `max_listed` (`planner.tables_listed_bound` computes it)."""
    tables = graph.tables
    assert tables is not None
    probed = tables.range_search(queries, radius, max_listed)
    if probed.found is None:
        return probed
    found = probed.found
    if graph.n > tables.covered:
        found = _concat([found, _scan(graph, queries, radius, tables.covered)])
    if graph.dead:
        slots, dist, qi = found
        alive = graph.live[slots] > 0
        found = slots[alive], dist[alive], qi[alive]
    return Probed(found, probed.listed)


def top_k_scan(
    graph: SlotGraph, queries: U64, k: int, use_graph: bool, ef: int, by_range: int | None
) -> tuple[I64, I64, I64]:
    """Top-k of the graph (the HNSW graph, or its storage exactly) and of the fresh codes:
    exactly by one range search at radius `by_range` where one is given and it holds k codes
    for every query, else by FAISS's top-k search of each part (its kernel calls in one
    OpenMP block)."""
    with one_thread():
        return _top_k_scanned(graph, queries, k, use_graph, ef, by_range)


def _top_k_scanned(
    graph: SlotGraph, queries: U64, k: int, use_graph: bool, ef: int, by_range: int | None
) -> tuple[I64, I64, I64]:
    if not use_graph and by_range is not None:
        ranged = _top_k_by_range(graph, queries, k, by_range)
        if ranged is not None:
            return ranged
    if use_graph:
        assert graph.index is not None, "the graph route needs a graph"
        params = faiss.SearchParametersHNSW(efSearch=ef)
        sel = graph.selector()
        if sel is not None:
            params.sel = sel
        dist, slots = graph.index.search(codes_from_u64(queries), k, params=params)
        start = graph.in_graph
    else:
        slots, dist = scans.nearest(queries, graph.codes[: graph.n], k, graph.selector())
        start = graph.n
    per_query = np.repeat(np.arange(len(queries), dtype=np.int64), k)
    parts = [(slots.ravel().astype(np.int64), dist.ravel().astype(np.int64), per_query)]
    if graph.n > start:  # the fresh codes beside the graph
        k_fresh = min(graph.n - start, k)
        fresh_sel, _bits = graph.fresh_selector()
        local, dist = scans.nearest(queries, graph.codes[start : graph.n], k_fresh, fresh_sel)
        per_query = np.repeat(np.arange(len(queries), dtype=np.int64), k_fresh)
        parts.append(_fresh_part(graph, local.ravel(), dist.ravel(), per_query))
    slots, dist, qi = _concat(parts)
    found = slots >= 0
    return slots[found], dist[found], qi[found]


def _top_k_by_range(
    graph: SlotGraph, queries: U64, k: int, radius: int
) -> tuple[I64, I64, I64] | None:
    """Exact top-k per query from a range search at a radius expected to hold several
    times k codes (`planner.top_k_radius`: the k-th neighbour is then almost always inside,
    and no code outside can be nearer); nearest first, lowest slot on ties, as FAISS's
    top-k search. None when some query has fewer than k codes within it."""
    slots, dist, qi = scanned_range(graph, queries, radius)
    counts = np.bincount(qi, minlength=len(queries))
    if (counts < k).any():
        return None
    order = np.argsort(qi, kind="stable")
    slots, dist = slots[order], dist[order]
    ends = np.cumsum(counts)
    parts = [
        _nearest(slots[end - n : end], dist[end - n : end], k, j)
        for j, (end, n) in enumerate(zip(ends.tolist(), counts.tolist(), strict=True))
    ]
    return _concat(parts)


def _nearest(slots: I64, dist: I64, k: int, query: int) -> tuple[I64, I64, I64]:
    """The k nearest of one query's codes, lowest slot on ties (a partition first: a
    dense neighbourhood can put many thousands within the radius)."""
    if len(dist) > k:
        within = dist <= np.partition(dist, k - 1)[k - 1]
        slots, dist = slots[within], dist[within]
    order = np.lexsort((slots, dist))[:k]
    return slots[order], dist[order], np.full(len(order), query, dtype=np.int64)


def _scan(graph: SlotGraph, queries: U64, radius: int, start: int) -> tuple[I64, I64, I64]:
    """Exact: the slots from `start` on, dead ones included, by the compiled measure or
    FAISS's kernel, whichever this machine does faster for their number."""
    codes = graph.codes[start : graph.n]
    costs, units = graph.costs.scans, float(len(codes)) * len(queries)
    if costs.measure.ns(units, len(queries)) <= costs.within.ns(units, len(queries)):
        offset, distances, qi = scans.measured(queries, codes, radius)
    else:
        offset, distances, qi = scans.within(queries, codes, radius)
    return offset + start, distances, qi


def _fresh_part(graph: SlotGraph, local: Any, dist: Any, qi: I64) -> tuple[I64, I64, I64]:
    """Fresh results as slots, dead ones (and FAISS's -1 fillers) dropped."""
    local = local.astype(np.int64)
    slots = np.where(local >= 0, local + graph.in_graph, -1)
    keep = (slots >= 0) & (graph.live[np.maximum(slots, 0)] > 0)
    return slots[keep], dist.astype(np.int64)[keep], qi[keep]


def _concat(parts: list[tuple[I64, I64, I64]]) -> tuple[I64, I64, I64]:
    if len(parts) == 1:
        return parts[0]
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
    )
