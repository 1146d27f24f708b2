"""The search planner: which structure answers a search, from costs measured on this machine.

Three routes to an answer: a scan of every slot (FAISS's kernels in place: exact), the
substring tables (exact: a radius search, or grown until k codes are proven nearest), and
the HNSW graph (top-k only, approximate). Each has a cost per unit of work, measured here
rather than assumed, because which route wins moves with the machine, the collection's size
and the query (a 10M collection's tables answer radius 10 twentyfold faster than a scan, a
100k one's top-10 four times slower):

- a scan costs per code and query (FAISS's range and top-k kernels, and a compiled measure
  for short runs): measured once per process, at start-up, on synthetic codes large
  enough to leave the caches (`scan_costs`);
- the tables cost per probe and per listed code, and the graph per efSearch step: measured
  on the structure itself when it is built or restored (`measure_tables`, `measure_graph`),
  since their scattered reads are what slows as a collection grows.

A plan names its route and its predicted seconds (the service runs the short ones on its
event loop). The graph is planned only where it is predicted cheaper than every exact
route: at a cost a scan can answer exactly, no approximate answer is given. A radius search
through the tables is planned at what uniform codes would cost and bounded by what it may
cost (`tables_listed_bound`): its probes count the codes they list before any is measured,
and past the bound the search scans instead (codes crowding the probed values list many
more than uniform ones), for no more than that count beyond the scan.
"""

from __future__ import annotations

import enum
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from typing import Any, NamedTuple, Protocol

import faiss
import numpy as np
import numpy.typing as npt

from ..fingerprint.value import BITS, codes_from_u64
from ..params import IndexParams
from ..records import SearchPath
from . import scans
from .openmp import one_thread
from .substrings import UNBOUNDED, SubstringTables, probe_cost

__all__ = [
    "GraphCosts",
    "Linear",
    "Plan",
    "Route",
    "ScanCosts",
    "Shape",
    "TablesCosts",
    "measure_graph",
    "measure_tables",
    "plans",
    "scan_costs",
    "tables_listed_bound",
]

U64 = npt.NDArray[np.uint64]

# Radius searches wider than this with a k bound take a top-k route filtered by distance,
# which does not materialise a large share of the collection.
RANGE_SEARCH_MAX_RADIUS = 16
# A graph search is not planned while more codes than this wait beside it (a bulk load
# being absorbed): its answer would rest on a graph missing much of the collection.
FRESH_HIGH_WATER = 65_536
# Exact top-k over a scan: FAISS's range search is faster than its top-k search of the
# same codes from this many codes on, asking for the codes within the radius that should
# hold `RANGE_TOP_K_SPARE` x k and keeping the k nearest (scripts/bench/scan_costs.py,
# top-10 through the code index: 10k codes 0.34 ms against 0.23 with the top-k search,
# 100k 0.48 against 0.49, 1M 1.40 against 2.68).
RANGE_TOP_K_MIN_CODES = 100_000
RANGE_TOP_K_SPARE = 3
# The share of uniform 64-bit codes within r bits of a point, r = 0..64.
UNIFORM_WITHIN = np.cumsum([float(math.comb(BITS, r)) for r in range(BITS + 1)]) / 2.0**BITS
# Synthetic codes the scans are timed on: 32 MB, past this machine's caches as a large
# collection's codes are (on 1M codes, 8 MB, a scan timed ~30% faster than in an index),
# measured in ~60 ms.
_CALIBRATION_CODES = 1 << 22
_CALIBRATION_REPEATS = 5
# Queries a structure is timed with when built or restored (random codes, as a new upload's
# is to a collection).
_PROBE_QUERIES = 24
_TIMED_RADII = (2, 10)


class Route(enum.Enum):
    """How a search is answered."""

    SCAN = "a scan of every slot"
    TABLES = "the substring tables"
    HNSW = "the HNSW graph"

    @property
    def path(self) -> SearchPath:
        """The contract's name for the route."""
        return _PATHS[self]


_PATHS = {
    Route.SCAN: SearchPath.EXACT,
    Route.TABLES: SearchPath.TABLES,
    Route.HNSW: SearchPath.HNSW,
}


@dataclass(frozen=True, slots=True)
class Linear:
    """A cost of `call` ns a call plus `unit` ns a unit of work."""

    call: float
    unit: float

    def ns(self, units: float, calls: int = 1) -> float:
        return calls * self.call + units * self.unit

    @classmethod
    def through(cls, small: tuple[float, float], large: tuple[float, float]) -> Linear:
        """The line through two (units, ns) timings, neither part below zero."""
        (u0, t0), (u1, t1) = small, large
        unit = max((t1 - t0) / max(u1 - u0, 1.0), 0.0)
        return cls(max(t0 - unit * u0, 0.0), unit)


@dataclass(frozen=True, slots=True)
class ScanCosts:
    """This machine's scans, per code and query: FAISS's range kernel, its top-k kernel, and
    the compiled measure (`scans.measured`: no call into FAISS, cheaper for short runs)."""

    within: Linear
    nearest: Linear
    measure: Linear

    def range_ns(self, codes: int, queries: int) -> float:
        """An exact radius scan of this many codes: the cheaper kernel."""
        units = float(codes) * queries
        return min(self.within.ns(units, queries), self.measure.ns(units, queries))

    def top_k_ns(self, codes: int, queries: int) -> float:
        """An exact top-k scan of this many codes (a range search from
        `RANGE_TOP_K_MIN_CODES` on, as `slots.top_k_scan` does)."""
        kernel = self.within if codes >= RANGE_TOP_K_MIN_CODES else self.nearest
        return kernel.ns(float(codes) * queries, queries)


@dataclass(frozen=True, slots=True)
class TablesCosts:
    """One set of substring tables' costs: ns a query, a probe and a listed code."""

    call: float
    probe: float
    listed: float

    def ns(self, probes: int, listed: float, queries: int) -> float:
        return queries * (self.call + probes * self.probe) + listed * self.listed


@dataclass(frozen=True, slots=True)
class GraphCosts:
    """One HNSW graph's search cost: ns a query plus ns an efSearch step."""

    per_ef: Linear

    def ns(self, ef: int, queries: int) -> float:
        return self.per_ef.ns(float(ef) * queries, queries)


class Plan(NamedTuple):
    """A route and its predicted seconds. A named tuple: every search makes two or three."""

    route: Route
    seconds: float

    @property
    def path(self) -> SearchPath:
        return self.route.path


class Shape(Protocol):
    """What the planner reads of a collection's slots (`slots.SlotGraph` has it)."""

    @property
    def params(self) -> IndexParams: ...
    @property
    def n(self) -> int: ...
    @property
    def in_graph(self) -> int: ...
    @property
    def tables(self) -> SubstringTables | None: ...
    @property
    def tables_costs(self) -> TablesCosts | None: ...
    @property
    def graph_costs(self) -> GraphCosts | None: ...


def _ns_of(call: Callable[[], Any], repeats: int = _CALIBRATION_REPEATS) -> float:
    """The median ns of a call (a noisy machine: one timing says little)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter_ns()
        call()
        times.append(time.perf_counter_ns() - started)
    return float(np.median(times))


def _random_codes(count: int, seed: int) -> U64:
    rng = np.random.default_rng(seed)
    return rng.integers(0, np.iinfo(np.uint64).max, size=count, dtype=np.uint64, endpoint=True)


@cache
def scan_costs() -> ScanCosts:
    """This machine's scan costs, measured once per process (~0.1 s, one thread)."""
    codes = _random_codes(_CALIBRATION_CODES, seed=1)
    query = _random_codes(1, seed=2)
    small, large = 4096, _CALIBRATION_CODES
    with one_thread():
        scans.within(query, codes[:small], 10)  # FAISS's first call pays for its set-up
        within = Linear.through(
            (small, _ns_of(lambda: scans.within(query, codes[:small], 10))),
            (large, _ns_of(lambda: scans.within(query, codes, 10))),
        )
        nearest = Linear.through(
            (small, _ns_of(lambda: scans.nearest(query, codes[:small], 10))),
            (large, _ns_of(lambda: scans.nearest(query, codes, 10))),
        )
    scans.measured(query, codes[:small], 10)  # loads the compiled loop
    measure = Linear.through(
        (256, _ns_of(lambda: scans.measured(query, codes[:256], 10))),
        (large, _ns_of(lambda: scans.measured(query, codes, 10))),
    )
    return ScanCosts(within, nearest, measure)


def measure_tables(tables: SubstringTables, codes: U64) -> TablesCosts:
    """These tables' costs (`codes`: the slots' codes they cover), timed at two radii with
    queries a few bits from stored codes, as an upload's duplicate check is: the probes
    alone (their counting reads the same offsets), then whole searches for the rest (a few
    ms at 10M). Queries from the codes, not random ones: where codes crowd some substring
    values, random queries would list too few of them to time what a listed code costs."""
    queries = _near_stored(codes[: tables.covered])
    wide = _TIMED_RADII[-1]
    probes_at = {r: probe_cost(tables.widths, r)[0] * len(queries) for r in _TIMED_RADII}
    probe = _ns_of(lambda: tables.listed(queries, wide), repeats=3) / probes_at[wide]
    points = []
    for radius in _TIMED_RADII:
        listed = tables.listed(queries, radius)
        searching = _ns_of(partial(tables.range_search, queries, radius), repeats=3)
        points.append((float(listed), searching - probes_at[radius] * probe))
    per_listed = Linear.through(points[0], points[1])
    return TablesCosts(per_listed.call / len(queries), probe, per_listed.unit)


def _near_stored(codes: U64) -> U64:
    """`_PROBE_QUERIES` codes spread over these, each with a few bits flipped (random codes
    where there are none)."""
    if len(codes) == 0:
        return _random_codes(_PROBE_QUERIES, seed=3)
    picked = codes[np.linspace(0, len(codes) - 1, _PROBE_QUERIES).astype(np.int64)]
    flips = _random_codes(_PROBE_QUERIES, seed=3) & _random_codes(_PROBE_QUERIES, seed=5)
    return picked ^ (
        flips & _random_codes(_PROBE_QUERIES, seed=6) & np.uint64(0x0101_0101_0101_0101)
    )


def measure_graph(index: Any, ef: int) -> GraphCosts:
    """A graph's search costs, timed with random queries at `ef` and twice it (~30 ms at
    10M codes)."""
    queries = codes_from_u64(_random_codes(_PROBE_QUERIES, seed=4))
    timed = []
    with one_thread():
        for steps in (ef, 2 * ef):
            params = faiss.SearchParametersHNSW(efSearch=steps)
            ns = _ns_of(partial(index.search, queries, 10, params=params), repeats=3)
            timed.append((float(steps), ns / len(queries)))
    return GraphCosts(Linear.through(*timed))


def plans(graph: Shape, queries: U64, k: int | None, radius: int | None, exact: bool) -> list[Plan]:
    """Every route that can answer this search over `graph`, predicted, cheapest first (the
    first is the planner's choice).

    A radius search (radius given, and at most `RANGE_SEARCH_MAX_RADIUS` when k is too) is
    a scan or the tables; a top-k search a scan, the tables grown, or where the collection's
    graph serves and `exact` is not asked, the graph: first only when strictly cheaper
    than both."""
    if radius is None and k is None:
        raise ValueError("a search needs k, a radius or both")
    costs, count = scan_costs(), len(queries)
    if radius is not None and (k is None or radius <= RANGE_SEARCH_MAX_RADIUS):
        found = [Plan(Route.SCAN, costs.range_ns(graph.n, count) / 1e9)]
        tables = _tables_range_plan(graph, queries, radius, found[0].seconds)
        found += [tables] if tables is not None else []
    else:
        assert k is not None
        found = [Plan(Route.SCAN, costs.top_k_ns(graph.n, count) / 1e9)]
        tables_ns = tables_top_k_ns(graph, count, k)
        if tables_ns is not None:
            found.append(Plan(Route.TABLES, tables_ns / 1e9))
        graph_ns = _graph_ns(graph, count, k, exact or radius is not None)
        if graph_ns is not None:
            found.append(Plan(Route.HNSW, graph_ns / 1e9))
    # stable: on a tie an exact route comes first
    return sorted(found, key=lambda plan: plan.seconds)


def _tables_range_plan(graph: Shape, queries: U64, radius: int, scan_seconds: float) -> Plan | None:
    """The tables' plan for a radius search, at what uniform codes would list (the search
    itself is bounded by `tables_listed_bound`); None without tables, or when even that
    would cost twice a scan (a wide radius)."""
    expected = tables_range_ns(graph, len(queries), radius, None)
    if expected is None or expected / 1e9 > 2 * scan_seconds:
        return None
    return Plan(Route.TABLES, expected / 1e9)


def tables_listed_bound(graph: Shape, queries: int, radius: int, seconds: float) -> int:
    """The most codes a radius search's probes may list for the tables and the slots after
    them to take at most `seconds` (-1: not even none)."""
    fixed, costs = tables_range_ns(graph, queries, radius, 0.0), graph.tables_costs
    if fixed is None or costs is None or fixed > seconds * 1e9:
        return -1
    most = (seconds * 1e9 - fixed) / costs.listed if costs.listed > 0.0 else math.inf
    return UNBOUNDED if most >= UNBOUNDED else int(most)


def tables_range_ns(graph: Shape, queries: int, radius: int, listed: float | None) -> float | None:
    """Predicted ns of a radius search through the tables and the slots after them, for
    `listed` codes listed in all (None: as many as uniform codes would list)."""
    tables, costs = graph.tables, graph.tables_costs
    if tables is None or costs is None:
        return None
    probes, share = probe_cost(tables.widths, radius)
    if listed is None:
        listed = share * tables.covered * queries
    after = graph.n - tables.covered
    uncovered = scan_costs().range_ns(after, queries) if after else 0.0
    return costs.ns(probes, listed, queries) + uncovered


def tables_top_k_ns(graph: Shape, queries: int, k: int) -> float | None:
    """Predicted ns of an exact top-k grown through the tables: every growth radius up to
    the one where uniform codes would put `RANGE_TOP_K_SPARE` x k codes within (with only
    k expected, half the queries find fewer and end in a scan after all; near copies stop
    it no sooner, as the k-th neighbour is rarely one). None past the last growth radius:
    the search itself gives up where it would cost more than a scan."""
    tables = graph.tables
    if tables is None or graph.tables_costs is None:
        return None
    total = 0.0
    for radius in tables.growth_radii:
        step = tables_range_ns(graph, queries, radius, None)
        if step is None:
            return None
        total += step
        if UNIFORM_WITHIN[radius] * graph.n >= RANGE_TOP_K_SPARE * k:
            return total
    return None


def _graph_ns(graph: Shape, queries: int, k: int, exact: bool) -> float | None:
    """Predicted ns of a graph search with its fresh codes beside it; None where the graph
    does not answer (exact asked, no graph serving, or a bulk load still being absorbed)."""
    costs = graph.graph_costs
    fresh = graph.n - graph.in_graph
    if exact or costs is None or not graph.params.graph_serves(graph.n):
        return None
    if fresh > FRESH_HIGH_WATER:
        return None
    ef = max(graph.params.ef_for(graph.in_graph), k)
    return costs.ns(ef, queries) + (scan_costs().top_k_ns(fresh, queries) if fresh else 0.0)
