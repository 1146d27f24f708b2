"""The search planner: which route answers a search, as pure functions of a collection's
shape (`Shape`: its sizes, its tables and graph with their measured costs) and the cost
model the index was given (`costs.CostModel`).

Three routes to an answer: a scan of every slot (FAISS's kernels in place: exact), the
substring tables (exact: a radius search, or grown until k codes are proven nearest), and
the HNSW graph (top-k only, approximate). Which wins moves with the machine, the
collection's size and the query (scripts/bench/planner.py times every route beside the
planner's choice).

A plan names its route and its predicted seconds (the service runs the short ones on its
event loop). The graph is planned only where it is predicted cheaper than every exact
route: at a cost a scan can answer exactly, no approximate answer is given. A radius search
through the tables is planned at what uniform codes would cost and bounded by what it may
cost (`tables_listed_bound`): its probes count the codes they list before any is measured,
and past the bound the search scans instead (codes crowding the probed values list many
more than uniform ones), for no more than that count beyond the scan. The index computes
every bound before it runs the search: execution never calls back into planning.
"""

from __future__ import annotations

import enum
import math
from typing import NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from ..params import IndexParams
from ..records import SearchPath
from .costs import CostModel, GraphCosts, TablesCosts
from .substrings import UNBOUNDED, SubstringTables, probe_cost

__all__ = [
    "FRESH_HIGH_WATER",
    "RANGE_SEARCH_MAX_RADIUS",
    "RANGE_TOP_K_SPARE",
    "Plan",
    "Route",
    "Shape",
    "plans",
    "tables_listed_bound",
    "tables_range_ns",
    "tables_top_k_ns",
    "top_k_radius",
]

U64 = npt.NDArray[np.uint64]

# Radius searches wider than this with a k bound take a top-k route filtered by distance,
# which does not materialise a large share of the collection.
RANGE_SEARCH_MAX_RADIUS = 16
# A graph search is not planned while more codes than this wait beside it (a bulk load
# being absorbed): its answer would rest on a graph missing much of the collection.
FRESH_HIGH_WATER = 65_536
# An exact top-k by one range search asks for the radius that should hold this many times
# k codes, and keeps the k nearest (scripts/bench/scan_costs.py).
RANGE_TOP_K_SPARE = 3


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


def plans(
    graph: Shape, costs: CostModel, queries: U64, k: int | None, radius: int | None, exact: bool
) -> list[Plan]:
    """Every route that can answer this search over `graph`, predicted, cheapest first (the
    first is the planner's choice).

    A radius search (radius given, and at most `RANGE_SEARCH_MAX_RADIUS` when k is too) is
    a scan or the tables; a top-k search a scan, the tables grown, or where the collection's
    graph serves and `exact` is not asked, the graph: first only when strictly cheaper
    than both."""
    if radius is None and k is None:
        raise ValueError("a search needs k, a radius or both")
    count = len(queries)
    if radius is not None and (k is None or radius <= RANGE_SEARCH_MAX_RADIUS):
        found = [Plan(Route.SCAN, costs.scans.range_ns(graph.n, count) / 1e9)]
        tables = _tables_range_plan(graph, costs, queries, radius, found[0].seconds)
        found += [tables] if tables is not None else []
    else:
        assert k is not None
        found = [Plan(Route.SCAN, costs.top_k_scan_ns(graph.n, count) / 1e9)]
        tables_ns = tables_top_k_ns(graph, costs, count, k)
        if tables_ns is not None:
            found.append(Plan(Route.TABLES, tables_ns / 1e9))
        graph_ns = _graph_ns(graph, costs, count, k, exact or radius is not None)
        if graph_ns is not None:
            found.append(Plan(Route.HNSW, graph_ns / 1e9))
    # stable: on a tie an exact route comes first
    return sorted(found, key=lambda plan: plan.seconds)


def _tables_range_plan(
    graph: Shape, costs: CostModel, queries: U64, radius: int, scan_seconds: float
) -> Plan | None:
    """The tables' plan for a radius search, at what uniform codes would list (the search
    itself is bounded by `tables_listed_bound`); None without tables, or when even that
    would cost twice a scan (a wide radius)."""
    expected = tables_range_ns(graph, costs, len(queries), radius, None)
    if expected is None or expected / 1e9 > 2 * scan_seconds:
        return None
    return Plan(Route.TABLES, expected / 1e9)


def tables_listed_bound(
    graph: Shape, costs: CostModel, queries: int, radius: int, seconds: float
) -> int:
    """The most codes a radius search's probes may list for the tables and the slots after
    them to take at most `seconds` (-1: not even none)."""
    fixed, tables = tables_range_ns(graph, costs, queries, radius, 0.0), graph.tables_costs
    if fixed is None or tables is None or fixed > seconds * 1e9:
        return -1
    most = (seconds * 1e9 - fixed) / tables.listed if tables.listed > 0.0 else math.inf
    return UNBOUNDED if most >= UNBOUNDED else int(most)


def tables_range_ns(
    graph: Shape, costs: CostModel, queries: int, radius: int, listed: float | None
) -> float | None:
    """Predicted ns of a radius search through the tables and the slots after them, for
    `listed` codes listed in all (None: as many as uniform codes would list)."""
    tables, measured = graph.tables, graph.tables_costs
    if tables is None or measured is None:
        return None
    probes, share = probe_cost(tables.widths, radius)
    if listed is None:
        listed = share * tables.covered * queries
    after = graph.n - tables.covered
    uncovered = costs.scans.range_ns(after, queries) if after else 0.0
    return measured.ns(probes, listed, queries) + uncovered


def tables_top_k_ns(graph: Shape, costs: CostModel, queries: int, k: int) -> float | None:
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
        step = tables_range_ns(graph, costs, queries, radius, None)
        if step is None:
            return None
        total += step
        if costs.within[radius] * graph.n >= RANGE_TOP_K_SPARE * k:
            return total
    return None


def _graph_ns(graph: Shape, costs: CostModel, queries: int, k: int, exact: bool) -> float | None:
    """Predicted ns of a graph search with its fresh codes beside it; None where the graph
    does not answer (exact asked, no graph serving, or a bulk load still being absorbed)."""
    measured = graph.graph_costs
    fresh = graph.n - graph.in_graph
    if exact or measured is None or not graph.params.graph_serves(graph.n):
        return None
    if fresh > FRESH_HIGH_WATER:
        return None
    ef = max(graph.params.ef_for(graph.in_graph), k)
    return measured.ns(ef, queries) + (costs.top_k_scan_ns(fresh, queries) if fresh else 0.0)


def top_k_radius(costs: CostModel, n: int, k: int) -> int:
    """The least radius within which n codes are expected to hold `RANGE_TOP_K_SPARE` x k
    (an exact top-k by one range search asks for it)."""
    wanted = RANGE_TOP_K_SPARE * k / max(n, 1)
    return min(len(costs.within) - 1, int(np.searchsorted(costs.within, wanted)))
