"""The planner: every search takes the route predicted cheapest from costs measured on this
machine and on the structure searched; the graph only where it beats every exact route; a
budgeted search is refused, unsearched, rather than run long or wait for a writer."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest
from neardup.index import HammingIndex, OverBudget, SearchPath
from neardup.index.hamming import planner
from neardup.index.hamming.costs import CostModel, TablesCosts
from neardup.index.hamming.planner import Route, plans

from ..conftest import SCANS_DEAR, SCANS_FREE
from .test_hnsw import SMALL_GRAPH, brute_force, clustered_codes, index_of

TABLED = replace(SMALL_GRAPH, substring_tables_min_codes=1000)


@pytest.fixture(scope="module")
def tabled() -> HammingIndex:
    index = index_of(clustered_codes(20_000, seed=5), replace(TABLED, exact_threshold=10**6))
    index.settle()
    return index


def _plans(index: HammingIndex, query: int, **search: int | bool) -> list[planner.Plan]:
    queries = np.array([query], dtype=np.uint64)
    k, radius = search.get("k"), search.get("radius")
    graph, exact = index._graph, bool(search.get("exact", False))
    return plans(graph, graph.costs, queries, k, radius, exact)  # type: ignore[arg-type]


def test_the_scan_costs_are_measured_once_a_process_and_grow_with_the_codes() -> None:
    costs = CostModel.measured().scans
    assert costs is CostModel.measured().scans
    for kernel in (costs.within, costs.nearest, costs.measure):
        assert kernel.ns(1_000_000) > kernel.ns(1_000) > 0


def test_plans_come_cheapest_first_and_name_the_contract_s_paths(tabled: HammingIndex) -> None:
    options = _plans(tabled, 12345, radius=10)
    assert [p.seconds for p in options] == sorted(p.seconds for p in options)
    assert {p.route for p in options} == {Route.SCAN, Route.TABLES}
    assert {p.path for p in options} == {SearchPath.EXACT, SearchPath.TABLES}


def test_a_narrow_radius_over_tables_is_planned_through_them(tabled: HammingIndex) -> None:
    code = tabled._graph.codes[7]
    assert _plans(tabled, int(code), radius=6)[0].route is Route.TABLES
    assert tabled.search([int(code)], radius=6).path is SearchPath.TABLES


def test_the_tables_bound_is_the_codes_they_can_list_in_the_time_given(
    tabled: HammingIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph = tabled._graph
    assert graph.tables is not None and graph.tables.covered == graph.n  # nothing after them
    # priced here, not timed: a noisy machine can time a listed code at nothing
    monkeypatch.setattr(graph, "tables_costs", TablesCosts(1000.0, 10.0, 2.0))
    costs = graph.costs
    fixed = planner.tables_range_ns(graph, costs, 1, 10, 0.0)
    assert fixed is not None
    assert planner.tables_listed_bound(graph, costs, 1, 10, fixed / 2e9) == -1
    more_time = [planner.tables_listed_bound(graph, costs, 1, 10, fixed * f / 1e9) for f in (2, 4)]
    assert 0 <= more_time[0] < more_time[1]
    assert more_time == [int(fixed / 2.0), int(3 * fixed / 2.0)]


def test_a_wide_radius_is_left_to_a_scan(tabled: HammingIndex) -> None:
    assert _plans(tabled, 12345, radius=20)[0].route is Route.SCAN  # 6,885 probes a table
    got = tabled.search([12345], radius=20)
    assert got.path is SearchPath.EXACT


def crowded_index(costs: CostModel | None = None) -> tuple[HammingIndex, np.ndarray]:
    """20k codes alike in their low 48 bits: every table but one lists them all."""
    alike = np.uint64(0x0000_A5A5_5A5A_F00F) ^ (np.arange(20_000, dtype=np.uint64) << np.uint64(48))
    index = index_of([int(c) for c in alike], replace(TABLED, exact_threshold=10**6), costs)
    index.settle()
    return index, alike


@pytest.fixture(scope="module")
def crowded() -> Iterator[tuple[HammingIndex, np.ndarray]]:
    index, alike = crowded_index()
    yield index, alike
    index.close()


def test_codes_crowding_the_probed_substrings_are_left_to_a_scan(
    crowded: tuple[HammingIndex, np.ndarray],
) -> None:
    index, alike = crowded
    got = index.search([int(alike[0])], radius=4, limit=10**6)
    assert got.path is SearchPath.EXACT  # the probes' count passed the tables' bound
    assert sorted((m.distance, m.code) for m in got.matches) == [
        (d, c) for d, c in brute_force(alike.tolist(), int(alike[0])) if d <= 4
    ]
    assert index.search([0x1234_5678_9ABC_DEF0], radius=4).path is SearchPath.TABLES


def test_a_budgeted_search_whose_tables_list_too_many_is_refused_when_a_scan_is_over_too() -> None:
    index, alike = crowded_index(SCANS_DEAR)
    hundred_listed = planner.tables_range_ns(index._graph, SCANS_DEAR, 1, 4, 100.0)
    assert hundred_listed is not None
    with pytest.raises(OverBudget, match="tables list more codes"):
        index.search([int(alike[0])], radius=4, budget=hundred_listed / 1e9)
    sparse = index.search([0x1234_5678_9ABC_DEF0], radius=4, budget=hundred_listed / 1e9)
    assert sparse.path is SearchPath.TABLES


def test_the_graph_is_not_planned_where_a_scan_is_predicted_cheaper() -> None:
    codes = clustered_codes(2000)
    index = index_of(codes, costs=SCANS_FREE)
    index.settle()
    assert index._graph.graph_costs is not None  # measured as codes entered the graph
    options = _plans(index, codes[0], k=10)
    assert options[0].route is Route.SCAN
    assert index.search([codes[0]], k=10).path is SearchPath.EXACT
    assert index.search([codes[0]], k=10, route=Route.HNSW).path is SearchPath.HNSW
    index.close()


def test_the_graph_is_planned_where_it_is_cheapest_unless_exact_is_asked() -> None:
    codes = clustered_codes(2000)
    index = index_of(codes, costs=SCANS_DEAR)
    index.settle()
    assert _plans(index, codes[0], k=10)[0].route is Route.HNSW
    assert Route.HNSW not in {p.route for p in _plans(index, codes[0], k=10, exact=True)}
    assert Route.HNSW not in {p.route for p in _plans(index, codes[0], k=10, radius=20)}
    index.close()


def test_a_route_that_cannot_answer_is_refused_when_asked_for(tabled: HammingIndex) -> None:
    with pytest.raises(ValueError, match="graph cannot answer"):
        tabled.search([5], radius=4, route=Route.HNSW)


def test_a_search_whose_plan_exceeds_its_budget_is_refused_unsearched(
    tabled: HammingIndex,
) -> None:
    query = int(tabled._graph.codes[3])
    with pytest.raises(OverBudget, match="predicted"):
        tabled.search([query], k=10, budget=1e-9)
    within = tabled.search([query], radius=4, budget=1.0)
    assert [(m.distance, m.code) for m in within.matches] == [
        (d, c) for d, c in brute_force(tabled.live_codes().keys(), query) if d <= 4
    ]


def test_a_budgeted_search_does_not_wait_for_a_writer(tabled: HammingIndex) -> None:
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        with tabled._lock.write():
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    holding.wait(10)
    try:
        with pytest.raises(OverBudget, match="writer"):
            tabled.search([5], radius=4, budget=1.0)
    finally:
        release.set()
        thread.join()
    assert tabled.search([5], radius=4, budget=1.0).path is SearchPath.TABLES


def test_the_tables_costs_are_measured_when_they_are_built(tabled: HammingIndex) -> None:
    costs = tabled._graph.tables_costs
    assert costs is not None
    assert costs.ns(probes=100, listed=1000, queries=1) > costs.ns(probes=10, listed=100, queries=1)
