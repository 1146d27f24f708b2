"""HammingIndex: distinct codes with live counts, exact and HNSW paths, one answer.

Every result is checked against a brute-force scan of the same codes.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from neardup.index import HammingIndex, IndexParams, SearchPath
from neardup.index.hamming import restore_code_index, slot_index, slots
from neardup.index.hamming.costs import CostModel
from neardup.index.hamming.factory import index_class
from neardup.index.hamming.slot_index import SlotIndex
from neardup.index.hamming.substrings import SubstringTables

from ..conftest import (
    NUMPY_DEARER_THAN_FAISS,
    SCANS_DEAR,
    SCANS_FREE,
    STRUCTURES_PREFERRED,
    range_top_k_at_any_size,
)

SMALL_GRAPH = IndexParams(hnsw_m=8, ef_construction=32, ef_search=64, exact_threshold=0)


def clustered_codes(n: int, seed: int = 7) -> list[int]:
    """70% random codes, 30% copies of them with 1..8 bits flipped (as in ANCHORS.md)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 2**63, size=n, dtype=np.uint64) * np.uint64(2) + rng.integers(
        0, 2, size=n, dtype=np.uint64
    )
    codes = [int(c) for c in base]
    for i in range(int(n * 0.7), n):
        flipped = codes[int(rng.integers(0, int(n * 0.7)))]
        for bit in rng.choice(64, size=int(rng.integers(1, 9)), replace=False):
            flipped ^= 1 << int(bit)
        codes[i] = flipped
    return codes


def brute_force(codes: list[int], query: int) -> list[tuple[int, int]]:
    """(distance, code) of every distinct code, nearest first."""
    return sorted({((c ^ query).bit_count(), c) for c in codes})


def index_of(
    codes: list[int], params: IndexParams = SMALL_GRAPH, costs: CostModel | None = None
) -> SlotIndex:
    """An index of the collection's kind (the graph kind or the compact one) holding these
    codes."""
    index = index_class(params)(params, costs=costs)
    index.apply(codes, [1] * len(codes), sequence=len(codes))
    return index


@pytest.fixture(scope="module")
def codes() -> list[int]:
    return clustered_codes(3000)


@pytest.fixture(scope="module")
def index(codes: list[int]) -> HammingIndex:
    return index_of(codes)


def test_radius_queries_are_exact_and_inclusive(index: HammingIndex, codes: list[int]) -> None:
    for query in codes[2000:2050]:
        got = index.search([query], radius=10)
        assert got.path is SearchPath.EXACT
        assert [(m.distance, m.code) for m in got.matches] == [
            (d, c) for d, c in brute_force(codes, query) if d <= 10
        ]


def test_exact_top_k_returns_the_true_nearest_distances(
    index: HammingIndex, codes: list[int]
) -> None:
    for query in codes[:30]:
        got = index.search([query ^ 0b1011], k=10, exact=True)
        assert got.path is SearchPath.EXACT
        want = [d for d, _ in brute_force(codes, query ^ 0b1011)[:10]]
        assert [m.distance for m in got.matches] == want


def test_the_graph_answers_top_k_where_it_is_predicted_cheapest_with_exact_distances(
    codes: list[int],
) -> None:
    index = index_of(codes, costs=SCANS_DEAR)
    index.settle()  # the graph's costs are measured as codes enter it
    hits = 0
    for query in codes[:100]:
        got = index.search([query], k=5)
        assert got.path is SearchPath.HNSW
        assert all(m.distance == (m.code ^ query).bit_count() for m in got.matches)
        assert [m.distance for m in got.matches] == sorted(m.distance for m in got.matches)
        hits += got.matches[0].code == query
    assert hits >= 95  # a stored code is found at distance 0 nearly always


def test_a_scan_answers_top_k_where_it_is_predicted_cheaper_than_the_graph(
    codes: list[int],
) -> None:
    index = index_of(codes, costs=SCANS_FREE)
    assert index.top_k_path() is SearchPath.EXACT
    assert index.search([codes[0]], k=5).path is SearchPath.EXACT


def test_the_graph_answers_only_between_its_size_bounds_and_never_when_exact_is_asked() -> None:
    codes = clustered_codes(500)
    below = index_of(codes, IndexParams(exact_threshold=501), costs=SCANS_DEAR)
    between = index_of(
        codes, IndexParams(exact_threshold=500, hnsw_max_codes=501), costs=SCANS_DEAR
    )
    above = index_of(codes, IndexParams(exact_threshold=10, hnsw_max_codes=500), costs=SCANS_DEAR)
    for index in (below, between, above):
        index.settle()
    assert below.top_k_path() is SearchPath.EXACT
    assert between.top_k_path() is SearchPath.HNSW
    assert between.top_k_path(exact=True) is SearchPath.EXACT
    assert above.top_k_path() is SearchPath.EXACT


def test_stats_name_the_structures_held_and_why_each_search_takes_its_path() -> None:
    codes = clustered_codes(500)
    small = index_of(codes, IndexParams(exact_threshold=501), costs=SCANS_DEAR)
    graphed = index_of(
        codes, IndexParams(exact_threshold=500, hnsw_max_codes=501), costs=SCANS_DEAR
    )
    for index in (small, graphed):
        index.settle()
    assert small.kind == "flat codes"
    assert "scan every code (exact): below exact_threshold 501 codes" in small.paths_note()
    assert graphed.kind == f"flat codes + IndexBinaryHNSW(M=32) of {graphed.code_count:,}"
    assert "top-k searches use the HNSW graph" in graphed.paths_note()
    assert "radius searches scan every code (exact) below substring_tables_min_codes" in (
        graphed.paths_note()
    )


def test_identical_hashes_share_one_slot_and_count_images() -> None:
    index = HammingIndex(SMALL_GRAPH)
    index.apply([5, 5, 5, 9], [1, 1, 1, 1], sequence=4)
    assert (index.slot_count, index.code_count, index.image_count) == (2, 2, 4)
    assert index.live_count(5) == 3
    found = index.search([4], radius=2).matches
    assert [(m.code, m.images) for m in found] == [(5, 3)]  # each match says how many carry it


def test_a_code_whose_images_are_all_removed_is_never_returned() -> None:
    index = HammingIndex(SMALL_GRAPH)
    index.apply([0b0, 0b1, 0b11], [1, 1, 1], sequence=3)
    index.apply([0b1], [-1], sequence=4)
    assert index.dead_slots == 1
    for exact in (False, True):
        got = index.search([0b0], k=3, exact=exact)
        assert [m.code for m in got.matches] == [0b0, 0b11]
    assert [m.code for m in index.search([0b0], radius=64).matches] == [0b0, 0b11]


def test_a_dead_code_added_again_is_revived_in_its_slot() -> None:
    index = HammingIndex(SMALL_GRAPH)
    index.apply([42], [1], sequence=1)
    index.apply([42], [-1], sequence=2)
    index.apply([42], [1], sequence=3)
    assert (index.slot_count, index.dead_slots) == (1, 0)
    assert index.search([42], radius=0).matches[0].code == 42


def test_orientation_queries_report_the_closest_query_per_code() -> None:
    index = HammingIndex(SMALL_GRAPH)
    index.apply([0xFF00, 0x00FF], [1, 1], sequence=2)
    got = index.search([0xFF01, 0x00FF], radius=4)
    assert [(m.code, m.distance, m.query) for m in got.matches] == [(0x00FF, 0, 1), (0xFF00, 1, 0)]


def test_a_radius_query_beyond_the_limit_keeps_the_nearest_and_says_so(codes: list[int]) -> None:
    index = index_of(codes[:500])
    got = index.search([codes[0]], radius=64, limit=20)
    assert got.truncated and len(got.matches) == 20
    assert [m.distance for m in got.matches] == [
        d for d, _ in brute_force(codes[:500], codes[0])[:20]
    ]


def test_compaction_drops_dead_slots_and_keeps_every_answer(codes: list[int]) -> None:
    index = index_of(codes[:1000])
    index.apply(codes[:400], [-1] * 400, sequence=2000)
    survivors = codes[400:1000]
    report = index.compact()
    assert (report.slots_before, report.slots_after) == (
        len(set(codes[:1000])),
        len(set(survivors)),
    )
    assert index.dead_slots == 0
    for query in codes[:20]:
        got = index.search([query], radius=12)
        assert [(m.distance, m.code) for m in got.matches] == [
            (d, c) for d, c in brute_force(survivors, query) if d <= 12
        ]


def test_searches_and_adds_go_on_during_compaction(codes: list[int]) -> None:
    index = index_of(codes[:2000])
    index.apply(codes[:1000], [-1] * 1000, sequence=3000)
    errors: list[BaseException] = []
    done = threading.Event()

    def search_until_done() -> None:
        try:
            while not done.is_set():
                index.search([codes[1500]], radius=0)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    searcher = threading.Thread(target=search_until_done)
    searcher.start()
    compaction = threading.Thread(target=index.compact)
    compaction.start()
    index.apply(codes[2000:2500], [1] * 500, sequence=3500)  # during or after the rebuild
    index.apply(codes[:10], [1] * 10, sequence=3510)  # revive codes the rebuild dropped
    compaction.join()
    done.set()
    searcher.join()
    assert not errors
    alive = codes[:10] + codes[1000:2500]
    assert index.live_codes() == {c: alive.count(c) for c in set(alive)}
    for query in codes[:10] + codes[2400:2410]:
        assert index.search([query], radius=0).matches[0].code == query


def test_export_and_restore_give_the_same_index(codes: list[int]) -> None:
    index = index_of(codes[:800])
    index.apply(codes[:100], [-1] * 100, sequence=900)
    restored = restore_code_index(SMALL_GRAPH, index.export())
    assert restored.sequence == 900
    assert restored.live_codes() == index.live_codes()
    assert restored.dead_slots == index.dead_slots
    query = codes[300]
    assert restored.search([query], k=10, exact=True) == index.search([query], k=10, exact=True)


def test_parameters_out_of_bounds_are_refused_naming_the_field() -> None:
    from neardup.index.errors import InvalidArgument

    with pytest.raises(InvalidArgument) as caught:
        IndexParams().with_overrides(hnsw_m=2)
    assert caught.value.field == "index.hnsw_m"
    assert "4..128" in str(caught.value)


def test_new_codes_are_searched_exactly_until_the_background_thread_grafts_them(
    codes: list[int],
) -> None:
    index = index_of(codes[:1000], costs=SCANS_DEAR)
    index.settle()
    index.close()  # the background thread stops: what is added now stays fresh
    index.apply(codes[1000:1500], [1] * 500, sequence=1500)
    index.apply(codes[1000:1010], [-1] * 10, sequence=1510)
    assert index.fresh_count == len(set(codes[1000:1500]) - set(codes[:1000]))
    alive = codes[:1000] + codes[1010:1500]
    for query in codes[1000:1020] + codes[1490:1500]:
        want = brute_force(alive, query)
        got = index.search([query], radius=6)
        assert [(m.distance, m.code) for m in got.matches] == [(d, c) for d, c in want if d <= 6]
        got = index.search([query], k=8, exact=True)
        assert [m.distance for m in got.matches] == [d for d, _ in want[:8]]
        approximate = index.search([query], k=8)
        assert approximate.path is SearchPath.HNSW
        assert all(m.code in alive for m in approximate.matches)
        assert approximate.matches[0].distance == want[0][0]  # fresh codes are found exactly


def test_a_snapshot_keeps_fresh_codes_and_the_restored_index_grafts_them(
    codes: list[int],
) -> None:
    index = HammingIndex(SMALL_GRAPH)
    index.close()
    index.apply(codes[:700], [1] * 700, sequence=700)
    image = index.export()
    assert len(image.fresh) == len(set(codes[:700]))
    restored = restore_code_index(SMALL_GRAPH, image)
    restored.settle()
    assert restored.fresh_count == 0
    assert restored.live_codes() == index.live_codes()
    for query in codes[:10]:
        assert restored.search([query], k=1).matches[0].code == query


def test_grafting_waits_for_a_pause_in_the_writes_unless_fresh_codes_pile_up() -> None:
    from neardup.index.hamming.hnsw import graft_due

    assert not graft_due(0, quiet_seconds=10.0)  # nothing to graft
    assert not graft_due(500, quiet_seconds=0.01)  # adds are streaming in: they go first
    assert graft_due(500, quiet_seconds=0.5)  # the writes paused
    assert graft_due(65_536, quiet_seconds=0.0)  # too many fresh codes to scan exactly


TABLED = replace(SMALL_GRAPH, substring_tables_min_codes=1000)


def test_radius_queries_take_the_substring_tables_and_find_what_a_scan_finds(
    codes: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    index = index_of(codes[:2000], TABLED, costs=SCANS_DEAR)
    index.settle()
    assert index.tables_covered == index.slot_count
    index.apply(codes[2000:2600], [1] * 600, sequence=2600)  # after the tables' prefix
    index.apply(codes[:50], [-1] * 50, sequence=2650)  # dead slots inside the tables
    alive = codes[50:2600]
    taken = []
    original = SubstringTables.range_search
    monkeypatch.setattr(
        SubstringTables,
        "range_search",
        lambda tables, *args: taken.append(1) or original(tables, *args),
    )
    _assert_radius_searches_exact(index, alive, codes[:5] + codes[1990:2010] + codes[2590:2600])
    assert len(taken) == 35 * 3


def test_a_snapshot_keeps_the_graph_s_substring_tables_so_a_restart_searches_them_at_once(
    codes: list[int], tables_made: list[int]
) -> None:
    index = index_of(codes[:2000], TABLED, costs=SCANS_DEAR)
    index.settle()
    index.close()
    index.apply(codes[2000:2100], [1] * 100, sequence=2100)  # after the tables' prefix
    index.apply(codes[:50], [-1] * 50, sequence=2150)  # dead slots inside the tables
    image = index.export()
    assert len(image.tables) > 0
    tables_made.clear()
    restored = restore_code_index(TABLED, image, costs=SCANS_DEAR)
    restored.close()  # no background rebuild: what answers below came with the snapshot
    assert tables_made == [1]  # loaded: only the layout's empty arrays, nothing sorted
    assert restored.tables_covered == index.tables_covered
    _assert_radius_searches_exact(restored, codes[50:2100], codes[40:60] + codes[2090:2100])
    for query in codes[40:60]:
        assert restored.search([query], k=10, radius=10).path is SearchPath.TABLES


def test_a_snapshot_without_the_graph_s_tables_restores_and_rebuilds_them(
    codes: list[int],
) -> None:
    index = index_of(codes[:2000], TABLED)
    index.settle()
    image = index.export()._replace(tables=np.zeros(0, np.uint8))  # as snapshots were
    restored = restore_code_index(TABLED, image)
    restored.settle()
    assert restored.tables_covered == restored.slot_count
    assert restored.live_codes() == index.live_codes()


def test_exact_top_k_grows_a_radius_through_the_substring_tables_to_a_proven_answer(
    codes: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    index = index_of(codes[:2000], TABLED, costs=STRUCTURES_PREFERRED)
    index.settle()
    index.apply(codes[2000:2600], [1] * 600, sequence=2600)  # after the tables' prefix
    index.apply(codes[:50], [-1] * 50, sequence=2650)  # dead slots inside the tables
    alive = codes[50:2600]
    radii: list[int] = []
    original = SubstringTables.range_search
    monkeypatch.setattr(
        SubstringTables,
        "range_search",
        lambda tables, queries, radius, *rest: (
            radii.append(radius) or original(tables, queries, radius, *rest)
        ),
    )
    near = [c ^ 1 for c in codes[:3] + codes[1995:2000] + codes[2595:2600]]
    far = [int(c) for c in np.random.default_rng(3).integers(0, 2**63, 5, dtype=np.uint64)]
    for query in near + far:
        for k in (1, 10, 50):
            got = index.search([query], k=k, exact=True)
            want = brute_force(alive, query)[:k]
            assert [m.distance for m in got.matches] == [d for d, _ in want]
            assert all((m.code ^ query).bit_count() == m.distance for m in got.matches)
            assert len({m.code for m in got.matches}) == k
            # the tables prove an answer whose k-th code lies within their widest growth
            proven = want[-1][0] <= max(index._graph.tables.growth_radii)
            assert got.path is (SearchPath.TABLES if proven else SearchPath.EXACT)
    assert 3 in radii and 7 in radii  # near queries stop early, others grow


def test_exact_top_k_of_several_queries_through_the_tables_ranks_each_code_once(
    codes: list[int],
) -> None:
    index = index_of(codes, TABLED, costs=STRUCTURES_PREFERRED)
    index.settle()
    queries = [codes[i * 7] ^ (1 << i) for i in range(8)]
    got = index.search(queries, k=20, exact=True)
    want = sorted(min((c ^ q).bit_count() for q in queries) for c in set(codes))[:20]
    assert [m.distance for m in got.matches] == want
    assert len({m.code for m in got.matches}) == 20


def test_orientation_queries_through_substring_tables_keep_each_code_once(
    codes: list[int],
) -> None:
    index = index_of(codes, TABLED)
    index.settle()
    queries = [codes[i] ^ (1 << i) for i in range(8)]
    got = index.search(queries, radius=8)
    nearest = {c: min((c ^ q).bit_count() for q in queries) for c in set(codes)}
    assert sorted((m.distance, m.code) for m in got.matches) == sorted(
        (d, c) for c, d in nearest.items() if d <= 8
    )


def test_substring_tables_are_rebuilt_once_codes_after_them_pile_up() -> None:
    index = index_of(clustered_codes(1000, seed=1), TABLED)
    index.settle()
    assert index.tables_covered == index.slot_count
    index.apply(clustered_codes(9000, seed=2), [1] * 9000, sequence=10_000)
    assert index.tables_covered < index.slot_count
    index.settle()
    assert index.tables_covered == index.slot_count


def test_a_failed_background_rebuild_is_raised_by_settle_and_retried_by_a_later_write(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    index = index_of(clustered_codes(1000, seed=1), TABLED)
    index.settle()
    real_build = SubstringTables.__init__

    def failing_build(self: SubstringTables, *args: Any, **kwargs: Any) -> None:
        raise MemoryError("no room for the tables")

    monkeypatch.setattr(SubstringTables, "__init__", failing_build)
    index.apply(clustered_codes(9000, seed=2), [1] * 9000, sequence=10_000)
    with pytest.raises(RuntimeError, match="background work failed") as raised:
        index.settle(timeout=60)
    assert isinstance(raised.value.__cause__, MemoryError)
    query = clustered_codes(9000, seed=2)[5]
    assert [m.distance for m in index.search([query], radius=0).matches] == [0]

    monkeypatch.setattr(SubstringTables, "__init__", real_build)
    index.apply(clustered_codes(10, seed=3), [1] * 10, sequence=10_010)
    with pytest.raises(RuntimeError, match="background work failed"):  # not yet retried
        index.settle(timeout=60)
    monkeypatch.setattr(slot_index, "_ABSORBER_RETRY_SECONDS", 0.0)
    index.apply(clustered_codes(10, seed=4), [1] * 10, sequence=10_020)
    index.settle(timeout=60)
    assert index.tables_covered == index.slot_count


def test_top_k_over_fewer_codes_than_the_tables_pay_for_scans_and_keeps_dead_codes_out(
    codes: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    index = index_of(codes, TABLED)
    index.settle()
    index.apply(codes[:1000], [-1] * 1000, sequence=4000)  # many dead, fresh and in tables
    monkeypatch.setattr(SubstringTables, "range_search", lambda *args: pytest.fail("probed"))
    for query in codes[:5] + codes[1000:1005]:
        got = index.search([query], k=10, exact=True)
        want = brute_force(codes[1000:], query)[:10]
        assert [m.distance for m in got.matches] == [d for d, _ in want]
        assert not {m.code for m in got.matches} & set(codes[:1000]) - set(codes[1000:])


def test_small_collections_keep_no_substring_tables(codes: list[int]) -> None:
    index = index_of(codes[:999], TABLED)
    index.settle()
    assert index.tables_covered == 0


def test_compaction_rebuilds_the_substring_tables(codes: list[int]) -> None:
    index = index_of(codes, TABLED)
    index.apply(codes[:500], [-1] * 500, sequence=3500)
    index.compact()
    index.settle()
    assert index.tables_covered == index.slot_count == len(set(codes[500:]))
    for query in codes[:5] + codes[500:505]:
        got = index.search([query], radius=8)
        want = [(d, c) for d, c in brute_force(codes[500:], query) if d <= 8]
        assert [(m.distance, m.code) for m in got.matches] == want


def test_a_batch_that_would_make_a_count_negative_is_refused_even_under_python_O() -> None:
    index = HammingIndex(SMALL_GRAPH)
    with pytest.raises(ValueError, match="never held"):
        index.apply([5], [-1], sequence=1)
    index.apply([5], [1], sequence=2)
    with pytest.raises(ValueError, match="negative"):
        index.apply([5], [-2], sequence=3)
    assert index.live_codes() == {5: 1}
    index.close()


def test_below_the_graph_s_range_codes_stay_flat_and_no_graph_is_built() -> None:
    index = HammingIndex(IndexParams(exact_threshold=1000))
    rng = np.random.default_rng(3)
    codes = [int(c) for c in rng.integers(0, 2**63, 900, dtype=np.uint64)]
    index.apply(codes, [1] * len(codes), sequence=900)
    index.settle()
    assert index.fresh_count == len(set(codes))  # nothing spent on a graph nobody searches
    assert index.top_k_path() is SearchPath.EXACT
    found = index.search([codes[5]], k=3)
    assert found.matches[0].code == codes[5]
    index.close()


def test_a_bulk_load_is_absorbed_by_a_graph_built_aside_while_searches_go_on() -> None:
    rng = np.random.default_rng(4)
    index = HammingIndex(SMALL_GRAPH, costs=SCANS_DEAR)  # the graph wins where it serves
    first = [int(c) for c in rng.integers(0, 2**63, 2_000, dtype=np.uint64)]
    index.apply(first, [1] * len(first), sequence=1)
    index.settle()
    bulk = [int(c) for c in rng.integers(0, 2**63, 70_000, dtype=np.uint64)]
    writes_before = index._lock.writes
    index.apply(bulk, [1] * len(bulk), sequence=2)
    during = index.search([bulk[7]], k=5)  # before the new graph is in: exact, whole
    assert during.path is SearchPath.EXACT and during.matches[0].code == bulk[7]
    index.settle()
    # The apply, the swap of the graph built aside, the substring tables: a handful of
    # write-lock holds, not one per chunk of grafted codes (70,000 / 32).
    assert index._lock.writes - writes_before <= 6
    assert index.fresh_count == 0
    assert index.top_k_path() is SearchPath.HNSW
    assert index.search([bulk[7]], k=1).matches[0].code == bulk[7]
    index.close()


def test_a_graph_built_aside_is_abandoned_when_the_index_closes() -> None:
    from neardup.index.hamming.slots import built_graph

    codes = np.arange(1, 70_001, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    counts = np.ones(len(codes), dtype=np.int32)
    assert built_graph(SMALL_GRAPH, codes, counts, between_batches=lambda: True) is None
    index = HammingIndex(SMALL_GRAPH)
    index.close()  # what an engine closing mid-absorb does first
    index.apply(codes.tolist(), [1] * len(codes), sequence=1)
    report = index.compact()
    assert report.slots_after == report.slots_before  # nothing swapped in
    assert index.fresh_count == len(codes)  # still searched exactly, snapshotted as fresh
    assert index.search([int(codes[3])], radius=0).matches[0].code == int(codes[3])


def _assert_radius_searches_exact(
    index: HammingIndex, alive: list[int], queries: list[int]
) -> None:
    for query in queries:
        for radius in (0, 4, 10):
            got = index.search([query], radius=radius)
            want = [(d, c) for d, c in brute_force(alive, query) if d <= radius]
            assert [(m.distance, m.code) for m in got.matches] == want


def test_many_codes_after_the_tables_prefix_in_the_graph_are_scanned_in_place_beside_them(
    codes: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a bulk load leaves while a graph is built aside: the tables cover a prefix, the
    # codes after it lie in the graph and among the fresh codes.
    index = index_of(codes[:1500], TABLED, costs=NUMPY_DEARER_THAN_FAISS)
    index.settle()
    index.apply(codes[1500:2200], [1] * 700, sequence=2200)
    index.settle()  # grafted into the graph, after the tables' prefix
    index.close()  # the background thread stops: what comes now stays fresh
    index.apply(codes[2200:3000], [1] * 800, sequence=3000)
    index.apply(codes[2190:2210], [-1] * 20, sequence=3020)  # dead on both sides of the graft
    assert index.tables_covered < index.slot_count - 1000
    probes: list[int] = []
    probe = SubstringTables.range_search
    monkeypatch.setattr(
        SubstringTables, "range_search", lambda *args: probes.append(1) or probe(*args)
    )
    queries = codes[:5] + codes[1495:1505] + codes[2195:2215] + codes[2990:3000]
    _assert_radius_searches_exact(index, codes[:2190] + codes[2210:3000], queries)
    assert probes  # the tables answered for their prefix, the rest was scanned


def test_many_fresh_codes_after_the_tables_prefix_are_scanned_by_faiss_beside_the_tables(
    codes: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    index = index_of(codes[:2000], TABLED, costs=NUMPY_DEARER_THAN_FAISS)
    index.settle()  # the tables cover the graph
    index.close()
    index.apply(codes[2000:3000], [1] * 1000, sequence=3000)
    index.apply(codes[1990:2010], [-1] * 20, sequence=3020)  # dead in the graph and fresh
    assert index.tables_covered == index.slot_count - 1000
    probes: list[int] = []
    probe = SubstringTables.range_search
    monkeypatch.setattr(
        SubstringTables, "range_search", lambda *args: probes.append(1) or probe(*args)
    )
    queries = codes[:5] + codes[1985:2015] + codes[2990:3000]
    _assert_radius_searches_exact(index, codes[:1990] + codes[2010:3000], queries)
    assert len(probes) == len(queries) * 3  # the tables answered for their prefix


def test_the_tables_follow_codes_arriving_while_a_graph_is_built_aside(
    codes: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A 1M bulk load's graph takes minutes to build aside; the codes still arriving
    # meanwhile get tables between its batches, not only at the swap.
    monkeypatch.setattr(slots, "_BUILD_CHUNK", 250)
    monkeypatch.setattr(slots, "_UNCOVERED_FLOOR", 100)
    monkeypatch.setattr(HammingIndex, "_wake_absorber", lambda self: None)  # no other upkeep
    index = index_of(codes[:1000], TABLED)
    index._build_tables(index._graph)
    serving_covered: list[int] = []
    append = slots.SlotGraph.append

    def arriving_during_the_build(graph: slots.SlotGraph, *args: Any, **kwargs: Any) -> None:
        if graph is not index._graph:  # a batch of the graph built aside
            if not serving_covered:
                index.apply(codes[1000:3000], [1] * 2000, sequence=3000)
            serving_covered.append(index.tables_covered)
        append(graph, *args, **kwargs)

    monkeypatch.setattr(slots.SlotGraph, "append", arriving_during_the_build)
    index.compact()
    assert serving_covered[0] == 1000
    assert len(serving_covered) > 2 and set(serving_covered[1:]) == {len(set(codes[:3000]))}


def test_an_exact_top_k_by_one_range_search_finds_the_k_nearest_distances(
    codes: list[int],
) -> None:
    index = index_of(
        codes, IndexParams(exact_threshold=10**6), costs=range_top_k_at_any_size()
    )  # no graph: scans
    for query in [*codes[:5], codes[7] ^ 0xFF, 0x0123456789ABCDEF]:
        for k in (1, 10, 40):
            got = index.search([query], k=k)
            assert [m.distance for m in got.matches] == [d for d, _ in brute_force(codes, query)][
                :k
            ]


def test_a_top_k_whose_radius_holds_fewer_than_k_codes_falls_back_to_a_top_k_search() -> None:
    # Codes far from a uniform spread: the radius that should hold 3k of them holds none.
    codes = [(1 << 63) - 1 - (1 << i) for i in range(40)] + [0]
    radius_two = np.array([0.0, 0.0] + [1.0] * 63)  # the radius asked for is 2
    costs = range_top_k_at_any_size(within=radius_two)
    index = index_of(codes, IndexParams(exact_threshold=10**6), costs=costs)
    got = index.search([0], k=5)
    assert [m.code for m in got.matches][:1] == [0]
    assert [m.distance for m in got.matches] == [0, 62, 62, 62, 62]


def test_large_graphs_are_searched_with_more_effort(monkeypatch: pytest.MonkeyPatch) -> None:
    from neardup.index import params

    assert IndexParams().ef_for(1_999_999) == 160
    assert IndexParams().ef_for(2_000_000) == 256  # 0.952 recall@10 at 10M
    assert IndexParams(ef_search=64).ef_for(5_000_000) == 102
    monkeypatch.setattr(params, "_LARGE_GRAPH_CODES", 1000)
    asked: list[int] = []
    scan = slot_index.top_k_scan
    monkeypatch.setattr(
        slot_index,
        "top_k_scan",
        lambda graph, q, k, use_graph, ef, by_range: (
            asked.append(ef) or scan(graph, q, k, use_graph, ef, by_range)
        ),
    )
    codes = clustered_codes(1500)
    index = index_of(codes, SMALL_GRAPH, costs=SCANS_DEAR)
    index.settle()
    assert index.search([codes[3]], k=5).path is SearchPath.HNSW
    assert asked == [round(64 * 1.6)]
    index.close()
