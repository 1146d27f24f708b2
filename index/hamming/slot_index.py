"""`SlotIndex`: what both index kinds do over their shared slot array (`slots.SlotGraph`):
apply committed changes, plan and run searches, keep the substring tables current in a
background thread, export and restore, compact aside. The kinds differ only in the graph:
`hnsw.HammingIndex` keeps a FAISS HNSW graph beside the slots and grafts codes into it
(`_graph_work_due`, `_graph_step`); `compact.CompactIndex` keeps none.

Each *distinct* 64-bit code is held once, at a slot; identical hashes (the same picture
uploaded twice) share a slot, because duplicates make HNSW construction very slow (faiss
issue 1097) and would crowd a graph. Per slot the index keeps how many live images carry
the code; a slot whose count falls to 0 is dead (HNSW cannot delete) and is filtered from
every search until `compact` rebuilds the structure without it. Which images carry a code
is the store's business, not this module's.

Routes (the planner, `planner.py`, picks the cheapest from the cost model the index was
given and the costs measured on its structures): a scan of the slots' codes (exact); the
substring tables (`substrings.py`, from `substring_tables_min_codes` codes on: exact radius
queries, and exact top-k grown until k codes are proven nearest); the HNSW graph where the
kind keeps one and it serves (top-k only, exact distances, may miss neighbours).

FAISS binary `range_search(r)` returns distances strictly below r: we ask for r + 1.

Thread-safety: searches run concurrently under the read side of a readers-writer lock (FAISS
releases the GIL); `apply`, each step of the background thread that changes the structure,
and the compaction swap take the write side. `compact` builds the new structure without
holding the lock, so searches go on meanwhile.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from abc import ABC
from collections.abc import Mapping, Sequence
from typing import ClassVar, Self

import numpy as np
import numpy.typing as npt

from ..errors import OverBudget
from ..params import IndexParams
from ..records import CompactionReport, SearchPath
from .code_index import CodeMatch, CodeSearch, IndexImage
from .costs import CostModel, measure_tables
from .planner import (
    RANGE_SEARCH_MAX_RADIUS,
    Plan,
    Route,
    plans,
    tables_listed_bound,
    tables_range_ns,
    top_k_radius,
)
from .rwlock import ReadersWriterLock, WouldWait
from .slots import (
    SlotGraph,
    built_graph,
    merge,
    probed_range,
    scanned_range,
    top_k_scan,
)
from .substrings import SubstringTables

__all__ = ["SlotIndex"]

log = logging.getLogger(__name__)

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
_ANY_QUERY = np.zeros(1, dtype=np.uint64)

# After the background thread died, a write starts another one no sooner than this: a
# failure that recurs (memory short for the tables) is then retried, and logged, a few
# times a minute rather than on every add, each retry a whole build.
_ABSORBER_RETRY_SECONDS = 10.0


# The background thread polls this often while it waits, and exits after this long with
# nothing to do.
_ABSORBER_POLL_SECONDS = 0.05
_ABSORBER_IDLE_SECONDS = 1.0


class SlotIndex(ABC):
    """One collection's distinct codes, their live counts, and the searches over them; a
    kind (a subclass, `KIND`) says what structure, if any, it keeps beside the slots."""

    KIND: ClassVar[str]
    KEEPS_GRAPH: ClassVar[bool] = False  # whether this kind builds a graph where one serves

    def __init__(
        self,
        params: IndexParams,
        graph: SlotGraph | None = None,
        sequence: int = 0,
        costs: CostModel | None = None,
    ) -> None:
        """`params` of this class's kind (ValueError otherwise); `costs`: what the planner
        prices routes with (default: this machine's, measured once a process); a given
        `graph` keeps the model it was made with."""
        if params.kind != self.KIND:
            name = type(self).__name__
            raise ValueError(f"a {name} is of kind {self.KIND!r}, not {params.kind!r}")
        self.params = params.validated()
        self._costs = costs if costs is not None else CostModel.measured()
        if graph is None:
            graph = SlotGraph.empty(self.params, self._costs)
        self._graph = graph
        self._costs = graph.costs
        self._lock = ReadersWriterLock()
        self._compacting = threading.Lock()
        # Held for a whole `apply` and by `export`, so a snapshot never pairs a half-applied
        # batch with the older sequence number.
        self._applying = threading.Lock()
        self._absorber_guard = threading.Lock()
        self._absorber: threading.Thread | None = None
        # Why the last background thread died, and when, until a write starts another one.
        self._absorber_failure: BaseException | None = None
        self._absorber_failed_at = 0.0
        self._closing = False
        self._last_apply = 0.0
        self.sequence = sequence  # store sequence of the newest change applied
        if self._graph.graph_costs_due():
            self._graph.measure_graph()
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
            self._last_apply = time.monotonic()
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
            if (new_counts < 0).any():
                raise ValueError("removing a code the index never held: index and store disagree")
            keep = new_counts > 0
            graph.append(new_codes[keep], new_counts[keep])

    def _wake_absorber(self) -> None:
        with self._absorber_guard:
            if not self._work_due(self._graph) or self._closing:
                return
            if self._absorber is None:
                failed = self._absorber_failure is not None
                if failed and time.monotonic() - self._absorber_failed_at < _ABSORBER_RETRY_SECONDS:
                    return
                self._absorber_failure = None
                self._absorber = threading.Thread(
                    target=self._absorb, name="hamming-absorber", daemon=True
                )
                self._absorber.start()

    def _work_due(self, graph: SlotGraph) -> bool:
        """Whether the background thread has something to do for this graph."""
        return graph.tables_due() or self._graph_work_due(graph)

    def _graph_work_due(self, graph: SlotGraph) -> bool:
        """Whether the kind's structure beside the slots has work for the background thread
        (none for a kind that keeps none)."""
        return False

    def _graph_step(self, graph: SlotGraph) -> bool:
        """One step of that work; True when it changed something (the thread's idle clock
        restarts), False when it only measured or waited."""
        return False

    def _absorb(self) -> None:
        """The background thread: its work until idle; a failure is logged and kept for
        `settle`, and the first write `_ABSORBER_RETRY_SECONDS` later starts a new thread
        (searches stay exact meanwhile: the fresh codes and the codes after the tables are
        scanned)."""
        try:
            self._absorb_until_idle()
        except BaseException as failure:
            log.exception("the index's background work failed; the next write retries it")
            with self._absorber_guard:
                self._absorber = None
                self._absorber_failure = failure
                self._absorber_failed_at = time.monotonic()

    def _absorb_until_idle(self) -> None:
        """Background: (re)builds the substring tables when due, else does a step of the
        kind's graph work when due (`_graph_step`). Exits after `_ABSORBER_IDLE_SECONDS`
        with nothing to do."""
        idle_since = time.monotonic()
        while True:
            with self._absorber_guard:
                graph = self._graph
                tables_due = graph.tables_due()
                graph_due = self._graph_work_due(graph)
                idle = time.monotonic() - idle_since
                if self._closing or (
                    not (tables_due or graph_due) and idle > _ABSORBER_IDLE_SECONDS
                ):
                    self._absorber = None
                    return
            if tables_due:
                self._build_tables(graph)
                idle_since = time.monotonic()
            elif graph_due:
                if self._graph_step(graph):
                    idle_since = time.monotonic()
            else:
                time.sleep(_ABSORBER_POLL_SECONDS)

    def _build_tables(self, graph: SlotGraph) -> None:
        """Substring tables of the graph's slots so far, built without holding the lock."""
        with self._lock.read():
            # Slots are append-only and a grown array is a new one: codes[:n] stays as is.
            codes, n = graph.codes, graph.n
        tables = SubstringTables(codes[:n])
        costs = measure_tables(tables, codes[:n])
        with self._lock.write():
            current = graph.tables.covered if graph.tables is not None else 0
            if self._graph is graph and n > current:  # not compacted nor rebuilt meanwhile
                graph.set_tables(tables, costs)

    def _between_build_batches(self) -> bool:
        """Upkeep while a graph is built aside (a 1M bulk load's takes minutes): the serving
        graph's substring tables follow the codes still arriving, so radius searches do not
        scan them all meanwhile. True to abandon the build (`close`)."""
        if self._closing:
            return True
        graph = self._graph
        if graph.tables_due():
            self._build_tables(graph)
        return False

    def settle(self, timeout: float = 3600.0) -> None:
        """Waits until every fresh code is in the graph (where the graph serves) and the
        substring tables are current (benchmarks and tests); returns at once after `close`,
        which leaves fresh codes fresh. TimeoutError after `timeout` seconds; RuntimeError
        (from the cause) when the background thread died of it."""
        deadline = time.monotonic() + timeout
        while self._work_due(self._graph):
            with self._absorber_guard:
                if self._absorber_failure is not None:
                    raise RuntimeError(
                        "the index's background work failed"
                    ) from self._absorber_failure
                if self._absorber is None:
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"the index did not settle in {timeout} s")
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
        """The path the planner gives a one-code top-10 query at the current size."""
        with self._lock.read():
            return plans(self._graph, self._costs, _ANY_QUERY, 10, None, exact)[0].path

    def radius_path(self) -> SearchPath:
        """The path the planner gives a one-code radius-10 query at the current size."""
        with self._lock.read():
            return plans(self._graph, self._costs, _ANY_QUERY, None, 10, False)[0].path

    def paths_note(self) -> str:
        """Why top-k and radius searches take their paths now (the thresholds that decide)."""
        params, n = self.params, self.code_count
        top_k, radius = self.top_k_path(), self.radius_path()
        if top_k is SearchPath.HNSW:
            why_top_k = "top-k searches use the HNSW graph (approximate, recall@10 >= 0.95)"
        else:
            exact = (
                "top-k searches are exact, through the substring tables"
                if top_k is SearchPath.TABLES
                else "top-k searches scan every code (exact)"
            )
            if not self.KEEPS_GRAPH:
                why_top_k = f"{exact}: the {self.KIND} kind keeps no graph"
            elif n < params.exact_threshold:
                why_top_k = (
                    f"{exact}: below exact_threshold {params.exact_threshold:,} codes that is "
                    "as fast as a graph"
                )
            elif n >= params.hnsw_max_codes:
                why_top_k = (
                    f"{exact}: from hnsw_max_codes {params.hnsw_max_codes:,} codes the graph's "
                    "recall is not known good"
                )
            else:
                why_top_k = f"{exact} until the graph is built"
        if radius is SearchPath.TABLES:
            why_radius = "radius searches use the substring tables (exact)"
        else:
            why_radius = (
                f"radius searches scan every code (exact) below substring_tables_min_codes "
                f"{params.substring_tables_min_codes:,}"
            )
        return f"{n:,} distinct code{'' if n == 1 else 's'}: {why_top_k}; {why_radius}"

    @property
    def kind(self) -> str:
        """The structures held now, as Stats reports them."""
        with self._lock.read():
            held = ["flat codes"]
            if self._graph.tables is not None:
                widths = "+".join(str(w) for w in self._graph.tables.widths)
                held.append(f"substring tables ({widths} bits)")
            if self._graph.index is not None and self._graph.in_graph > 0:
                held.append(f"IndexBinaryHNSW(M={self.params.hnsw_m}) of {self._graph.in_graph:,}")
            return " + ".join(held)

    def plans(
        self, queries: Sequence[int], k: int | None, radius: int | None, exact: bool = False
    ) -> list[Plan]:
        """The routes that could answer this search now, predicted, the planner's first."""
        with self._lock.read():
            queried = np.array(queries, dtype=np.uint64)
            return plans(self._graph, self._costs, queried, k, radius, exact)

    def search(
        self,
        queries: Sequence[int],
        *,
        k: int | None = None,
        radius: int | None = None,
        exact: bool = False,
        limit: int = 10_000,
        budget: float | None = None,
        route: Route | None = None,
    ) -> CodeSearch:
        """The stored codes nearest to any of the query codes (e.g. the 8 orientations).

        k: at most this many codes; radius: only codes within this many bits (inclusive).
        At least one must be given. Radius queries are exact; top-k queries take the
        planner's route (`planner.plans`). A code matched by several queries is reported
        once, for the query that is closest. `limit` bounds radius-only results
        (`truncated` says so). `budget`: OverBudget, with nothing searched, when the plan's
        route is predicted to take longer than this many seconds (the search's fixed part,
        Python and locking, comes on top), when the tables' probes list more codes than
        that allows and a scan would take longer too (only counted), or when a writer holds
        the index. `route`: this route instead of the
        planner's choice (benchmarks compare them); ValueError where it cannot answer.
        """
        if not queries:
            raise ValueError("a search needs at least one query code")
        q = np.fromiter(queries, dtype=np.uint64, count=len(queries))
        try:
            with self._lock.read(wait=budget is None):
                graph = self._graph
                options = plans(graph, self._costs, q, k, radius, exact)
                plan = options[0] if route is None else _taking(options, route)
                if budget is not None and plan.seconds > budget:
                    raise OverBudget(f"predicted {plan.seconds * 1e6:.0f} us by {plan.route.value}")
                slots, dist, qi, path = _searched(
                    graph, q, k, radius, plan, options, budget, planned=route is None
                )
                bound = k if k is not None else limit
                truncated = k is None and len(slots) > limit
                codes, images = graph.codes[slots[:bound]], graph.live[slots[:bound]]
        except WouldWait:
            raise OverBudget("a writer holds the index") from None
        found = zip(
            codes.tolist(), dist[:bound].tolist(), qi[:bound].tolist(), images.tolist(), strict=True
        )
        return CodeSearch([CodeMatch(*match) for match in found], path, truncated)

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
    def tables_covered(self) -> int:
        """Slots covered by the substring tables (0: none built)."""
        tables = self._graph.tables
        return tables.covered if tables is not None else 0

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

    def memory_bytes(self) -> int:
        """Approximate bytes held (graph, codes, counts, lookup)."""
        with self._lock.read():
            return self._graph.memory_bytes()

    # -- snapshot support -----------------------------------------------------------------
    def export(self) -> IndexImage:
        """A consistent copy for a snapshot: serialised graph, live counts, fresh codes,
        the store sequence it covers, and the substring tables."""
        with self._applying, self._lock.read():
            blob, live, fresh, tables = self._graph.serialized()
            return IndexImage(self.params.kind, blob, live, fresh, self.sequence, tables)

    @classmethod
    def restore(
        cls, params: IndexParams, image: IndexImage, costs: CostModel | None = None
    ) -> Self:
        """The index `export` copied (raises ValueError or RuntimeError on a bad blob)."""
        graph = SlotGraph.deserialized(
            params, image.blob, image.live, image.fresh, image.tables, costs
        )
        return cls(params, graph, image.sequence)

    @classmethod
    def build(
        cls,
        params: IndexParams,
        counts: Mapping[int, int],
        sequence: int,
        costs: CostModel | None = None,
    ) -> Self:
        """A fresh index of these codes and live counts (a rebuild from the store)."""
        codes = np.fromiter(counts.keys(), dtype=np.uint64, count=len(counts))
        live = np.fromiter(counts.values(), dtype=np.int32, count=len(counts))
        graph = built_graph(params.validated(), codes, live, costs=costs)
        if graph is None:  # never abandoned without an `abandon`
            raise RuntimeError("a rebuild was abandoned")
        return cls(params, graph, sequence)

    # -- compaction -----------------------------------------------------------------------
    def compact(self) -> CompactionReport:
        """Rebuilds the graph without dead slots, aside, then swaps it in.

        Searches and `apply` go on while the new graph is built; the swap (under the write
        lock) brings it up to date with the changes made meanwhile. `close` abandons a build
        in progress (the report then says no slot changed).
        """
        started = time.perf_counter()
        with self._compacting:
            with self._lock.read():
                g = self._graph
                alive = np.flatnonzero(g.live[: g.n] > 0)
                codes, counts, before = g.codes[alive].copy(), g.live[alive].copy(), g.n
            fresh = built_graph(
                self.params, codes, counts, self._between_build_batches, self._costs
            )
            if fresh is None:
                return CompactionReport(before, before, time.perf_counter() - started)
            if fresh.tables_due():  # radius searches keep their tables across the swap
                tables = SubstringTables(fresh.codes[: fresh.n])
                fresh.set_tables(tables, measure_tables(tables, fresh.codes[: fresh.n]))
            if fresh.graph_costs_due():
                fresh.measure_graph()
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


def _taking(options: list[Plan], route: Route) -> Plan:
    for plan in options:
        if plan.route is route:
            return plan
    raise ValueError(f"{route.value} cannot answer this search here")


def _range_searched(
    graph: SlotGraph,
    q: U64,
    radius: int,
    plan: Plan,
    options: list[Plan],
    budget: float | None,
    planned: bool,
) -> tuple[I64, I64, I64, SearchPath]:
    """A radius search by the plan. Through the tables, a planned one is bounded by what the
    scan is predicted to cost, or the budget allows when less: past it (codes crowding the
    probed values), the scan answers, or OverBudget where the scan is over the budget too."""
    if plan.route is not Route.TABLES or graph.tables is None:
        return *scanned_range(graph, q, radius), SearchPath.EXACT
    scan = _taking(options, Route.SCAN).seconds
    limit = (scan if budget is None else min(scan, budget)) if planned else math.inf
    bound = tables_listed_bound(graph, graph.costs, len(q), radius, limit)
    found = probed_range(graph, q, radius, bound).found
    if found is not None:
        return *found, SearchPath.TABLES
    if budget is not None and scan > budget:
        raise OverBudget(
            f"the tables list more codes than {budget * 1e6:.0f} us allow and a scan is "
            f"predicted {scan * 1e6:.0f} us"
        )
    return *scanned_range(graph, q, radius), SearchPath.EXACT


def _searched(
    graph: SlotGraph,
    q: U64,
    k: int | None,
    radius: int | None,
    plan: Plan,
    options: list[Plan],
    budget: float | None,
    planned: bool,
) -> tuple[I64, I64, I64, SearchPath]:
    """The plan (one of `options`) carried out: matching slots, distances and query
    numbers, nearest first (ties by query number), and the path that answered (a scan when
    the tables listed more than the plan allows or their growth gave up). `planned`: the
    planner chose the plan (not a caller's `route`), so it is bounded as `_range_searched`
    says."""
    path = plan.path
    if radius is not None and (k is None or radius <= RANGE_SEARCH_MAX_RADIUS):
        slots, dist, qi, path = _range_searched(graph, q, radius, plan, options, budget, planned)
    else:
        assert k is not None
        found = None
        if plan.route is Route.TABLES:
            scan = _taking(options, Route.SCAN)
            found = _tables_top_k(graph, q, k, scan.seconds * 1e9)
        if found is None:
            path = path if plan.route is Route.HNSW else SearchPath.EXACT
            ef = max(graph.params.ef_for(graph.in_graph), k)
            costs = graph.costs
            by_range = (
                top_k_radius(costs, graph.n, k) if graph.n >= costs.range_top_k_from else None
            )
            found = top_k_scan(graph, q, k, plan.route is Route.HNSW, ef, by_range)
        slots, dist, qi = found
        if radius is not None:
            within = dist <= radius
            slots, dist, qi = slots[within], dist[within], qi[within]
    if len(q) > 1:  # a code near several queries: once, for the closest
        slots, dist, qi = merge(slots, dist, qi)
    elif len(slots) > 1:  # one query's parts hold distinct slots: only their order is left
        order = np.argsort(dist, kind="stable")
        slots, dist, qi = slots[order], dist[order], qi[order]
    return slots, dist, qi, path


def _tables_top_k(graph: SlotGraph, q: U64, k: int, scan_ns: float) -> tuple[I64, I64, I64] | None:
    """Exact top-k by multi-index hashing: a radius search through the substring tables,
    grown until at least k live codes lie within the radius, when no code outside it can
    be nearer than the k-th (Norouzi, Punjani and Fleet's k-NN search). Each step is
    bounded by what is left of the `scan_ns` a scan is predicted to cost; None where
    growing on would cost more: the caller scans."""
    if graph.tables is None:
        return None
    spent = 0.0
    for radius in graph.tables.growth_radii:
        bound = tables_listed_bound(graph, graph.costs, len(q), radius, (scan_ns - spent) / 1e9)
        probed = probed_range(graph, q, radius, bound)
        if probed.found is None:
            return None
        listed = float(probed.listed)
        spent += tables_range_ns(graph, graph.costs, len(q), radius, listed) or 0.0
        if len(np.unique(probed.found[0])) >= k:
            return probed.found
    return None
