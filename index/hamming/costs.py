"""The cost model the planner prices routes with, and how its figures are measured.

Each route's cost is a line per unit of work, measured rather than assumed, because which
route wins moves with the machine, the collection's size and the query:

- a scan costs per code and query (FAISS's range and top-k kernels, and a compiled measure
  for short runs): measured once per process, on synthetic codes large enough to leave the
  caches (`measure_scans`);
- the tables cost per probe and per listed code, and the graph per efSearch step: measured
  on the structure itself when it is built or restored (`measure_tables`, `measure_graph`),
  since their scattered reads are what slows as a collection grows.

A `CostModel` is a value an index is given: `CostModel.measured()` for this machine (the
scans timed once a process), or one a test builds with the prices it needs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from ..fingerprint.value import BITS, codes_from_u64
from . import scans
from .openmp import one_thread
from .substrings import SubstringTables, probe_cost

__all__ = [
    "RANGE_TOP_K_MIN_CODES",
    "UNIFORM_WITHIN",
    "CostModel",
    "GraphCosts",
    "Linear",
    "ScanCosts",
    "TablesCosts",
    "measure_graph",
    "measure_scans",
    "measure_tables",
]

U64 = npt.NDArray[np.uint64]

# Exact top-k over a scan: FAISS's range search is faster than its top-k search of the
# same codes from this many codes on (scripts/bench/scan_costs.py).
RANGE_TOP_K_MIN_CODES = 100_000
# The share of uniform 64-bit codes within r bits of a point, r = 0..64.
UNIFORM_WITHIN = np.cumsum([float(math.comb(BITS, r)) for r in range(BITS + 1)]) / 2.0**BITS
# Synthetic codes the scans are timed on: 32 MB, past the caches as a large collection's
# codes are (timed on 8 MB, a scan is faster than in an index of that many codes).
_CALIBRATION_CODES = 1 << 22
_CALIBRATION_REPEATS = 5
# Queries a structure is timed with when built or restored (random codes, as a new upload's
# is to a collection).
_PROBE_QUERIES = 24
_TIMED_RADII = (2, 10)


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

    def top_k_ns(self, codes: int, queries: int, by_range_from: int) -> float:
        """An exact top-k scan of this many codes (a range search from `by_range_from`
        codes on, as `slots.top_k_scan` does)."""
        kernel = self.within if codes >= by_range_from else self.nearest
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


@dataclass(frozen=True, slots=True)
class CostModel:
    """What the planner prices a route with, beside the costs measured on each structure:

    scans: this machine's scan costs;
    within: the share of a collection expected within r bits of a query, r = 0..64 (uniform
    codes' by default; a top-k grown through the tables expects its k codes where this
    puts them);
    range_top_k_from: from this many codes on, an exact top-k scan is one range search.
    """

    scans: ScanCosts
    within: npt.NDArray[np.float64] = field(default_factory=lambda: UNIFORM_WITHIN)
    range_top_k_from: int = RANGE_TOP_K_MIN_CODES

    @classmethod
    def measured(cls) -> CostModel:
        """This machine's model: its scans timed once a process (~0.1 s, one thread)."""
        return _measured()

    def top_k_scan_ns(self, codes: int, queries: int) -> float:
        """An exact top-k scan of this many codes."""
        return self.scans.top_k_ns(codes, queries, self.range_top_k_from)


@cache
def _measured() -> CostModel:
    return CostModel(measure_scans())


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


def measure_scans() -> ScanCosts:
    """This machine's scan costs (~0.1 s, one thread)."""
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
