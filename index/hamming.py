"""`HammingIndex`: the in-memory Hamming search structure of one collection.

A FAISS `IndexBinaryHNSW` holds each *distinct* 64-bit code once, at a slot; identical
hashes (the same picture uploaded twice) share a slot, because duplicates make HNSW
construction very slow (faiss issue 1097) and would crowd the graph. Per slot the index
keeps how many live images carry the code; a slot whose count falls to 0 is dead (HNSW
cannot delete) and is filtered from every search by an ID selector until `compact` rebuilds
the graph without it. Which images carry a code is the store's business, not this module's.

Two search paths, one answer:
- EXACT: a scan of the graph's `storage`, an `IndexBinaryFlat` of the same codes (no extra
  memory). Every radius query takes it, and top-k queries below `exact_threshold` distinct
  codes (a flat scan is as fast there) or at/above `hnsw_max_codes` (where the graph's
  recall@10 falls below 0.95 at the default efSearch: measured by scripts/bench_index.py).
- HNSW: the graph, for top-k queries between the two thresholds; its distances are exact
  Hamming distances, so its results are already ranked exactly, but it may miss neighbours.

New codes land first in a small *fresh* `IndexBinaryFlat` (slots after the graph's) and a
background thread moves them into the graph in chunks: an add or a start-up replay costs a
copy, not an HNSW insertion (~60 us a code at 1M), and every search scans the fresh codes
exactly beside the graph. Bulk builds and compaction insert into the graph directly.

FAISS binary `range_search(r)` returns distances strictly below r: we ask for r + 1.

Thread-safety: searches run concurrently under the read side of a readers-writer lock (FAISS
releases the GIL); `apply`, each chunk the background thread moves into the graph, and the
compaction swap take the write side. `compact` builds the new graph without holding the
lock, so searches go on meanwhile.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from .errors import InvalidArgument
from .fingerprint import BITS, codes_from_ints, codes_from_u64, u64_from_codes
from .rwlock import ReadersWriterLock

__all__ = [
    "CodeMatch",
    "CodeSearch",
    "CompactionReport",
    "HammingIndex",
    "IndexParams",
    "SearchPath",
]

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]

# Fresh codes enter the graph in chunks of this many, the write lock released in between
# (about 70 ms of insertion at 1M codes on 2 cores), so searches are never stalled long.
_ABSORB_CHUNK = 1024
# The background thread waits for this many fresh codes, or this long, before a chunk.
_ABSORB_BATCH = 64
_ABSORB_MAX_WAIT_SECONDS = 0.02
_ABSORBER_IDLE_SECONDS = 1.0
# Bulk builds insert into the graph in batches this large (FAISS parallelises within one).
_BUILD_CHUNK = 1 << 20
# Radius queries up to this many bits use a range search; wider ones with a k bound use a
# flat top-k scan filtered by distance, which does not materialise a large share of the
# collection.
_RANGE_SEARCH_MAX_RADIUS = 16


class SearchPath(IntEnum):
    """Which structure answered; numbered as the contract's `SearchPath`."""

    EXACT = 1
    HNSW = 2


@dataclass(frozen=True, slots=True)
class IndexParams:
    """Tuning of a collection's index; the defaults are measured (scripts/bench_index.py).

    hnsw_m, ef_construction: graph degree and build effort. On 1M clustered codes with
    random and near queries, efC=80 reached recall@10 0.935 at efSearch 128 (0.42 ms) and
    efC=200 0.962 (0.41 ms): the better graph costs half the build rate (4.5k vs 8.5k
    codes/s on 2 cores).
    ef_search: search effort (raised to k when smaller): 160 gave recall@10 0.975 at 1M
    and 2M, 0.44 / 0.47 ms a query.
    exact_threshold: below this many distinct codes top-k queries scan exactly: the flat
    scan costs ~1.1 ms per million codes, the graph ~0.2 ms at 100k (0.118 vs 0.181 ms
    there), so they cross near 250k.
    hnsw_max_codes: at and above this many codes the graph's recall@10 at ef_search falls
    below 0.95 while a flat scan is exact, so top-k queries scan exactly again.
    (All: scripts/bench_index.py, README "Performance".)
    """

    hnsw_m: int = 32
    ef_construction: int = 200
    ef_search: int = 160
    exact_threshold: int = 250_000
    hnsw_max_codes: int = 2_000_000

    def validated(self) -> IndexParams:
        """Itself, or InvalidArgument naming the field out of bounds."""
        bounds = {
            "hnsw_m": (4, 128),
            "ef_construction": (8, 2048),
            "ef_search": (8, 4096),
            "exact_threshold": (0, 1 << 40),
            "hnsw_max_codes": (0, 1 << 40),
        }
        for name, (low, high) in bounds.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise InvalidArgument(
                    f"index.{name} must be in {low}..{high}, got {value}", f"index.{name}"
                )
        return self

    def with_overrides(self, **overrides: int | None) -> IndexParams:
        """These parameters with the given non-None fields replaced, validated."""
        given = {name: value for name, value in overrides.items() if value is not None}
        return replace(self, **given).validated()


@dataclass(frozen=True, slots=True)
class CodeMatch:
    """A stored code near a query: its distance, and which query (orientation) it matched."""

    code: int
    distance: int
    query: int


@dataclass(frozen=True, slots=True)
class CodeSearch:
    """The matches of a search, nearest first (ties by query number), and how they were found.

    truncated: a radius query found more codes than the limit; the nearest are kept.
    """

    matches: list[CodeMatch]
    path: SearchPath
    truncated: bool


@dataclass(frozen=True, slots=True)
class CompactionReport:
    """Slots before and after a compaction, and the seconds it took."""

    slots_before: int
    slots_after: int
    seconds: float


class _Graph:
    """The codes at their slots: FAISS graph, live counts, selector bitmap, code -> slot.

    Not thread-safe on its own: `HammingIndex` guards it.
    """

    def __init__(
        self,
        params: IndexParams,
        index: Any,
        live: npt.NDArray[np.int32],
        fresh: U64 | None = None,
    ) -> None:
        self.params = params
        self.index = index
        self.flat = faiss.downcast_IndexBinary(index.storage)
        in_graph = int(index.ntotal)
        fresh = np.zeros(0, dtype=np.uint64) if fresh is None else fresh
        n = in_graph + len(fresh)
        assert live.shape == (n,), (live.shape, n)
        capacity = max(1024, n)
        self.codes = np.zeros(capacity, dtype=np.uint64)
        if in_graph:
            xb = faiss.vector_to_array(self.flat.xb).reshape(in_graph, 8)
            self.codes[:in_graph] = u64_from_codes(xb)
        self.codes[in_graph:n] = fresh
        self.fresh = faiss.IndexBinaryFlat(BITS)
        if len(fresh):
            self.fresh.add(codes_from_u64(fresh))
        self.live = np.zeros(capacity, dtype=np.int32)
        self.live[:n] = live
        self.n = n
        self.dead = int(np.count_nonzero(live == 0))
        self.total = int(live.sum())
        self.bitmap = np.zeros(capacity // 8 + 1, dtype=np.uint8)
        self.bitmap[: (n + 7) // 8] = np.packbits(live > 0, bitorder="little")
        self._reindex()

    @classmethod
    def empty(cls, params: IndexParams) -> _Graph:
        index = faiss.IndexBinaryHNSW(BITS, params.hnsw_m)
        index.hnsw.efConstruction = params.ef_construction
        index.hnsw.efSearch = params.ef_search
        return cls(params, index, np.zeros(0, dtype=np.int32))

    # -- code -> slot: a sorted array for the bulk, a dict for codes added since -------------
    def _reindex(self) -> None:
        order = np.argsort(self.codes[: self.n], kind="stable")
        self._sorted_codes = self.codes[: self.n][order]
        self._sorted_slots = order.astype(np.int64)
        self._recent: dict[int, int] = {}

    def lookup(self, codes: U64) -> I64:
        """The slot of each code, -1 where absent."""
        pos = np.searchsorted(self._sorted_codes, codes)
        pos_clipped = np.minimum(pos, max(len(self._sorted_codes) - 1, 0))
        slots = np.full(len(codes), -1, dtype=np.int64)
        if len(self._sorted_codes):
            found = self._sorted_codes[pos_clipped] == codes
            slots[found] = self._sorted_slots[pos_clipped[found]]
        if self._recent:
            for i in np.flatnonzero(slots < 0):
                slots[i] = self._recent.get(int(codes[i]), -1)
        return slots

    def _grow(self, needed: int) -> None:
        capacity = len(self.codes)
        if needed <= capacity:
            return
        capacity = max(needed, capacity * 2)
        self.codes = np.resize(self.codes, capacity)
        self.live = np.resize(self.live, capacity)
        self.live[self.n :] = 0
        bitmap = np.zeros(capacity // 8 + 1, dtype=np.uint8)
        bitmap[: len(self.bitmap)] = self.bitmap
        self.bitmap = bitmap

    @property
    def in_graph(self) -> int:
        """Slots [0, in_graph) are in the HNSW graph; the rest are fresh."""
        return int(self.index.ntotal)

    def append(self, codes: U64, counts: npt.NDArray[np.int32], into_graph: bool = False) -> None:
        """Adds new (absent) codes with their live counts at the next slots: to the fresh
        flat index, or straight into the graph (bulk builds, when nothing is fresh)."""
        if len(codes) == 0:
            return
        start, end = self.n, self.n + len(codes)
        self._grow(end)
        if into_graph and self.in_graph == self.n:
            self.index.add(codes_from_u64(codes))
        else:
            self.fresh.add(codes_from_u64(codes))
        self.codes[start:end] = codes
        self.live[start:end] = counts
        self.n = end
        self._set_bits(np.arange(start, end, dtype=np.int64))
        self.dead += int(np.count_nonzero(counts == 0))
        self.total += int(counts.sum())
        self._recent.update(zip(codes.tolist(), range(start, end), strict=True))
        if len(self._recent) > max(65_536, self.n // 8):
            self._reindex()

    def absorb(self, limit: int) -> int:
        """Moves up to `limit` fresh codes into the graph; returns how many it moved."""
        start = self.in_graph
        moved = min(limit, self.n - start)
        if moved:
            self.index.add(codes_from_u64(self.codes[start : start + moved]))
            self.fresh = faiss.IndexBinaryFlat(BITS)
            if self.n > start + moved:
                self.fresh.add(codes_from_u64(self.codes[start + moved : self.n]))
        return moved

    def fresh_dead(self) -> int:
        """Dead slots among the fresh codes (the fresh index has no selector)."""
        return int(np.count_nonzero(self.live[self.in_graph : self.n] == 0))

    def adjust(self, slots: I64, deltas: npt.NDArray[np.int32]) -> None:
        """Adds deltas to the live counts of existing slots."""
        was_dead = self.live[slots] == 0
        self.live[slots] += deltas
        self.total += int(deltas.sum())
        assert (self.live[slots] >= 0).all(), "a live count went negative: store and index disagree"
        self.dead += int(np.count_nonzero(self.live[slots] == 0)) - int(np.count_nonzero(was_dead))
        self._set_bits(slots)

    def _set_bits(self, slots: I64) -> None:
        byte, bit = slots >> 3, (slots & 7).astype(np.uint8)
        mask = np.left_shift(np.uint8(1), bit)
        np.bitwise_and.at(self.bitmap, byte, ~mask)
        alive = self.live[slots] > 0
        np.bitwise_or.at(self.bitmap, byte[alive], mask[alive])

    def selector(self) -> Any:
        """An ID selector of the live slots, or None when no slot is dead."""
        if self.dead == 0:
            return None
        return faiss.IDSelectorBitmap(self.n, faiss.swig_ptr(self.bitmap))

    def memory_bytes(self) -> int:
        hnsw = self.index.hnsw
        graph = 4 * (hnsw.neighbors.size() + hnsw.levels.size()) + 8 * hnsw.offsets.size()
        ours = self.codes.nbytes + self.live.nbytes + self.bitmap.nbytes
        lookup = self._sorted_codes.nbytes + self._sorted_slots.nbytes + 100 * len(self._recent)
        return int(8 * self.n + graph + ours + lookup)


def _merge(slots: I64, distances: I64, queries: I64) -> tuple[I64, I64, I64]:
    """Keeps each slot once, at its smallest distance (lowest query on ties), nearest first."""
    order = np.lexsort((queries, distances))
    slots, distances, queries = slots[order], distances[order], queries[order]
    _, first = np.unique(slots, return_index=True)
    first.sort()  # positions in (distance, query) order
    return slots[first], distances[first], queries[first]


class HammingIndex:
    """The search structure of one collection: distinct codes, live counts, two search paths."""

    def __init__(self, params: IndexParams, graph: _Graph | None = None, sequence: int = 0) -> None:
        self.params = params.validated()
        self._graph = graph if graph is not None else _Graph.empty(self.params)
        self._lock = ReadersWriterLock()
        self._compacting = threading.Lock()
        # Held for a whole `apply` and by `export`, so a snapshot never pairs a half-applied
        # batch with the older sequence number.
        self._applying = threading.Lock()
        self._absorber_guard = threading.Lock()
        self._absorber: threading.Thread | None = None
        self._closing = False
        self._fresh_since: float | None = None
        self.sequence = sequence  # store sequence of the newest change applied
        self._wake_absorber()

    # -- mutation -------------------------------------------------------------------------
    def apply(self, codes: Sequence[int], deltas: Sequence[int], sequence: int) -> None:
        """Changes live counts: +1 per image stored with a code, -1 per image removed.

        Codes seen for the first time become fresh slots (searched exactly until the
        background thread has moved them into the graph). `sequence` is the store sequence
        number these changes bring the index up to.
        """
        with self._applying:
            if len(codes):
                self._apply(np.asarray(codes, dtype=np.uint64), np.asarray(deltas, dtype=np.int32))
            self.sequence = max(self.sequence, sequence)
        self._wake_absorber()

    def _apply(self, codes: U64, deltas: npt.NDArray[np.int32]) -> None:
        unique, inverse = np.unique(codes, return_inverse=True)
        summed = np.zeros(len(unique), dtype=np.int32)
        np.add.at(summed, inverse, deltas)
        with self._lock.write():
            graph = self._graph
            slots = graph.lookup(unique)
            known = slots >= 0
            graph.adjust(slots[known], summed[known])
            new_codes, new_counts = unique[~known], summed[~known]
            assert (new_counts >= 0).all(), "removing a code the index never held"
            keep = new_counts > 0
            graph.append(new_codes[keep], new_counts[keep])

    def _wake_absorber(self) -> None:
        with self._absorber_guard:
            graph = self._graph
            if graph.in_graph == graph.n or self._closing:
                return
            self._fresh_since = self._fresh_since or time.monotonic()
            if self._absorber is None:
                self._absorber = threading.Thread(
                    target=self._absorb, name="hamming-absorber", daemon=True
                )
                self._absorber.start()

    def _absorb(self) -> None:
        """Background: moves fresh codes into the graph, a chunk per write-lock hold.

        Waits until a batch has gathered (or the oldest fresh code has waited a while):
        FAISS inserts a batch on all cores, and fewer lock hand-offs leave the writer and
        the searches more room. Exits after a second with nothing to do.
        """
        idle_since = time.monotonic()
        while True:
            with self._absorber_guard:
                graph = self._graph
                pending = graph.n - graph.in_graph
                waited = time.monotonic() - (self._fresh_since or time.monotonic())
                idle = time.monotonic() - idle_since
                if self._closing or (pending == 0 and idle > _ABSORBER_IDLE_SECONDS):
                    self._absorber = None
                    return
            if pending < _ABSORB_BATCH and waited < _ABSORB_MAX_WAIT_SECONDS:
                time.sleep(_ABSORB_MAX_WAIT_SECONDS / 4)
                continue
            with self._lock.write():
                self._graph.absorb(_ABSORB_CHUNK)
                with self._absorber_guard:
                    done = self._graph.in_graph == self._graph.n
                    self._fresh_since = None if done else time.monotonic()
            idle_since = time.monotonic()
            time.sleep(0.0005)  # hand the lock to a waiting writer or search

    def settle(self) -> None:
        """Waits until every fresh code is in the graph (benchmarks and tests); returns at
        once after `close`, which leaves fresh codes fresh."""
        while self.fresh_count:
            with self._absorber_guard:
                if self._absorber is None:
                    return
            time.sleep(0.002)

    def close(self) -> None:
        """Stops the background thread (fresh codes stay fresh; a snapshot keeps them)."""
        with self._absorber_guard:
            self._closing = True
            absorber = self._absorber
        if absorber is not None:
            absorber.join()

    # -- search ---------------------------------------------------------------------------
    def top_k_path(self, exact: bool = False) -> SearchPath:
        """The path a top-k query takes at the current size."""
        n, p = self._graph.n, self.params
        if exact or n < p.exact_threshold or n >= p.hnsw_max_codes:
            return SearchPath.EXACT
        return SearchPath.HNSW

    def search(
        self,
        queries: Sequence[int],
        *,
        k: int | None = None,
        radius: int | None = None,
        exact: bool = False,
        limit: int = 10_000,
    ) -> CodeSearch:
        """The stored codes nearest to any of the query codes (e.g. the 8 orientations).

        k: at most this many codes; radius: only codes within this many bits (inclusive).
        At least one must be given. Radius queries are exact; top-k queries take
        `top_k_path`. A code matched by several queries is reported once, for the query
        that is closest. `limit` bounds radius-only results (`truncated` says so).
        """
        assert queries, "at least one query code"
        assert k is not None or radius is not None, "k, radius or both"
        q = codes_from_ints(queries)
        with self._lock.read():
            graph = self._graph
            if radius is not None and (k is None or radius <= _RANGE_SEARCH_MAX_RADIUS):
                path = SearchPath.EXACT
                slots, dist, qi = _range(graph, q, radius)
            else:
                assert k is not None
                path = SearchPath.EXACT if radius is not None else self.top_k_path(exact)
                slots, dist, qi = _knn(graph, q, k, path, max(self.params.ef_search, k))
                if radius is not None:
                    within = dist <= radius
                    slots, dist, qi = slots[within], dist[within], qi[within]
            if len(q) > 1 or graph.in_graph < graph.n:
                slots, dist, qi = _merge(slots, dist, qi)
            elif path is SearchPath.EXACT and radius is not None:  # range results are unsorted
                order = np.argsort(dist, kind="stable")
                slots, dist, qi = slots[order], dist[order], qi[order]
            bound = k if k is not None else limit
            truncated = k is None and len(slots) > limit
            codes = graph.codes[slots[:bound]]
        found = zip(codes.tolist(), dist[:bound].tolist(), qi[:bound].tolist(), strict=True)
        return CodeSearch([CodeMatch(c, d, o) for c, d, o in found], path, truncated)

    # -- inspection -----------------------------------------------------------------------
    def live_count(self, code: int) -> int:
        """How many live images carry this code."""
        with self._lock.read():
            slot = int(self._graph.lookup(np.array([code], dtype=np.uint64))[0])
            return int(self._graph.live[slot]) if slot >= 0 else 0

    def live_codes(self) -> dict[int, int]:
        """Every code with a live image, and how many carry it (for checks and tests)."""
        with self._lock.read():
            g = self._graph
            alive = np.flatnonzero(g.live[: g.n] > 0)
            return dict(zip(g.codes[alive].tolist(), g.live[alive].tolist(), strict=True))

    @property
    def slot_count(self) -> int:
        """Slots, dead ones included."""
        return self._graph.n

    @property
    def fresh_count(self) -> int:
        """Slots not yet in the graph (searched exactly meanwhile)."""
        graph = self._graph
        return graph.n - graph.in_graph

    @property
    def dead_slots(self) -> int:
        """Slots whose images are all removed."""
        return self._graph.dead

    @property
    def image_count(self) -> int:
        """Live images: the sum of the live counts."""
        return self._graph.total

    @property
    def code_count(self) -> int:
        """Distinct codes with at least one live image."""
        g = self._graph
        return g.n - g.dead

    @property
    def kind(self) -> str:
        """The FAISS structure, as Stats reports it."""
        return f"IndexBinaryHNSW(M={self.params.hnsw_m})"

    def memory_bytes(self) -> int:
        """Approximate bytes held (graph, codes, counts, lookup)."""
        with self._lock.read():
            return self._graph.memory_bytes()

    # -- snapshot support -----------------------------------------------------------------
    def export(self) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int32], U64, int]:
        """A consistent copy for a snapshot: serialised graph, live counts, fresh codes,
        and the store sequence it covers."""
        with self._applying, self._lock.read():
            g = self._graph
            return (
                faiss.serialize_index_binary(g.index),
                g.live[: g.n].copy(),
                g.codes[g.in_graph : g.n].copy(),
                self.sequence,
            )

    @classmethod
    def restore(
        cls,
        params: IndexParams,
        serialized: npt.NDArray[np.uint8],
        live: npt.NDArray[np.int32],
        fresh: U64,
        sequence: int,
    ) -> HammingIndex:
        """The index `export` copied (raises ValueError or RuntimeError on a bad blob)."""
        # read_index_binary already returns the concrete type; a downcast of the temporary
        # would leave a wrapper on memory freed with it.
        index = faiss.deserialize_index_binary(serialized)
        if not isinstance(index, faiss.IndexBinaryHNSW) or int(index.ntotal) + len(fresh) != len(
            live
        ):
            raise ValueError("the serialised index does not match its live counts")
        index.hnsw.efSearch = params.ef_search
        return cls(params, _Graph(params, index, live, fresh), sequence)

    @classmethod
    def build(cls, params: IndexParams, counts: dict[int, int], sequence: int) -> HammingIndex:
        """A fresh index of these codes and live counts (a rebuild from the store)."""
        codes = np.fromiter(counts.keys(), dtype=np.uint64, count=len(counts))
        live = np.fromiter(counts.values(), dtype=np.int32, count=len(counts))
        return cls(params, _built(params.validated(), codes, live), sequence)

    # -- compaction -----------------------------------------------------------------------
    def compact(self) -> CompactionReport:
        """Rebuilds the graph without dead slots, aside, then swaps it in.

        Searches and `apply` go on while the new graph is built; the swap (under the write
        lock) brings it up to date with the changes made meanwhile.
        """
        started = time.perf_counter()
        with self._compacting:
            with self._lock.read():
                g = self._graph
                alive = np.flatnonzero(g.live[: g.n] > 0)
                codes, counts, before = g.codes[alive].copy(), g.live[alive].copy(), g.n
            fresh = _built(self.params, codes, counts)
            with self._lock.write():
                old = self._graph
                alive = np.flatnonzero(old.live[: old.n] > 0)
                codes, counts = old.codes[alive], old.live[alive]
                slots = fresh.lookup(codes)
                present = slots >= 0
                fresh.adjust(np.arange(fresh.n, dtype=np.int64), -fresh.live[: fresh.n])
                fresh.adjust(slots[present], counts[present])
                fresh.append(codes[~present], counts[~present])
                self._graph = fresh
                after = fresh.n
        self._wake_absorber()
        return CompactionReport(before, after, time.perf_counter() - started)


def _built(params: IndexParams, codes: U64, counts: npt.NDArray[np.int32]) -> _Graph:
    """A graph holding these codes, inserted in large batches (FAISS uses every core)."""
    graph = _Graph.empty(params)
    for start in range(0, len(codes), _BUILD_CHUNK):
        chunk = slice(start, start + _BUILD_CHUNK)
        graph.append(codes[chunk], counts[chunk], into_graph=True)
    return graph


def _range(graph: _Graph, q: Any, radius: int) -> tuple[I64, I64, I64]:
    """Exact: range search of the graph's storage and of the fresh codes."""
    sel = graph.selector()
    params = faiss.SearchParameters(sel=sel) if sel is not None else None
    lims, dist, slots = graph.flat.range_search(q, radius + 1, params=params)
    parts = [(slots.astype(np.int64), dist.astype(np.int64), _query_numbers(lims))]
    if graph.fresh.ntotal:
        lims, dist, local = graph.fresh.range_search(q, radius + 1)
        parts.append(_fresh_part(graph, local, dist, _query_numbers(lims)))
    return _concat(parts)


def _knn(graph: _Graph, q: Any, k: int, path: SearchPath, ef: int) -> tuple[I64, I64, I64]:
    """Top-k of the graph (HNSW or its storage, per `path`) and of the fresh codes."""
    sel = graph.selector()
    if path is SearchPath.HNSW:
        params = faiss.SearchParametersHNSW(efSearch=ef)
        if sel is not None:
            params.sel = sel
        dist, slots = graph.index.search(q, k, params=params)
    else:
        params = faiss.SearchParameters(sel=sel) if sel is not None else None
        dist, slots = graph.flat.search(q, k, params=params)
    per_query = np.repeat(np.arange(len(q), dtype=np.int64), k)
    parts = [(slots.ravel().astype(np.int64), dist.ravel().astype(np.int64), per_query)]
    if graph.fresh.ntotal:
        k_fresh = min(int(graph.fresh.ntotal), k + graph.fresh_dead())
        dist, local = graph.fresh.search(q, k_fresh)
        per_query = np.repeat(np.arange(len(q), dtype=np.int64), k_fresh)
        parts.append(_fresh_part(graph, local.ravel(), dist.ravel(), per_query))
    slots, dist, qi = _concat(parts)
    found = slots >= 0
    return slots[found], dist[found], qi[found]


def _query_numbers(lims: Any) -> I64:
    return np.repeat(np.arange(len(lims) - 1, dtype=np.int64), np.diff(lims.astype(np.int64)))


def _fresh_part(graph: _Graph, local: Any, dist: Any, qi: I64) -> tuple[I64, I64, I64]:
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
