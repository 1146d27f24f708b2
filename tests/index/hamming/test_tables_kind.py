"""The compact "tables" index kind: codes and substring tables, no graph at any size, every
answer exact; snapshots of it restore only as that kind."""

from __future__ import annotations

import numpy as np
import pytest
from neardup.index import IndexParams, SearchPath
from neardup.index.errors import InvalidArgument
from neardup.index.hamming import CompactIndex, restore_code_index
from neardup.index.hamming.substrings import SubstringTables

from ..conftest import STRUCTURES_PREFERRED
from .test_hnsw import brute_force, clustered_codes, index_of

COMPACT = IndexParams(kind="tables", exact_threshold=0, substring_tables_min_codes=1000)


@pytest.fixture(scope="module")
def codes() -> list[int]:
    return clustered_codes(4000, seed=21)


def test_a_tables_collection_builds_no_graph_even_where_an_hnsw_one_would(
    codes: list[int],
) -> None:
    index = index_of(codes, COMPACT)
    index.settle()
    assert index.fresh_count == index.slot_count  # nothing went into a graph
    assert index.tables_covered == index.slot_count
    assert index.top_k_path() is SearchPath.EXACT
    assert index.kind == "flat codes + substring tables (16+16+16+16 bits)"
    assert "the tables kind keeps no graph" in index.paths_note()
    index.close()


def test_top_k_and_radius_answers_equal_a_brute_force_scan_after_adds_and_deletes(
    codes: list[int],
) -> None:
    index = index_of(codes[:3000], COMPACT, costs=STRUCTURES_PREFERRED)
    index.settle()
    index.apply(codes[3000:], [1] * 1000, sequence=4000)  # after the tables' prefix
    index.apply(codes[:100], [-1] * 100, sequence=4100)  # dead inside the tables
    alive = codes[100:]
    rng = np.random.default_rng(8)
    near = [c ^ int(rng.integers(0, 1 << 12)) for c in codes[:20] + codes[3500:3520]]
    queries = near + [int(v) for v in rng.integers(0, 2**63, 20, dtype=np.uint64)]
    for query in queries:
        truth = brute_force(alive, query)
        for k in (1, 10, 40):
            got = index.search([query], k=k)
            assert got.path in (SearchPath.TABLES, SearchPath.EXACT)  # exact either way
            assert [m.distance for m in got.matches] == [d for d, _ in truth[:k]]
        within = index.search([query], radius=10)
        assert [(m.distance, m.code) for m in within.matches] == [t for t in truth if t[0] <= 10]
    index.close()


def test_a_snapshot_of_the_tables_kind_restores_as_that_kind_only(codes: list[int]) -> None:
    index = index_of(codes, COMPACT)
    index.settle()
    image = index.export()
    assert image.kind == "tables"
    restored = restore_code_index(COMPACT, image)
    assert isinstance(restored, CompactIndex)  # the kind the snapshot names
    assert restored.live_codes() == index.live_codes()
    assert restored.search([codes[7]], k=1).matches[0].code == codes[7]
    with pytest.raises(ValueError, match=r"kind 'tables'.*kind 'hnsw'"):
        restore_code_index(IndexParams(), image)
    for opened in (index, restored):
        opened.close()


def test_a_snapshot_of_the_tables_kind_keeps_its_tables_so_a_restart_need_not_rebuild_them(
    codes: list[int], tables_made: list[int]
) -> None:
    index = index_of(codes, COMPACT)
    index.settle()
    index.close()
    index.apply(codes[:30], [-1] * 30, sequence=5000)  # dead slots inside the tables
    index.apply([1, 2, 3], [1, 1, 1], sequence=5001)  # codes after the tables' prefix
    image = index.export()
    tables_made.clear()
    restored = restore_code_index(COMPACT, image)
    assert isinstance(restored, CompactIndex)  # the kind the snapshot names
    restored.close()  # no background rebuild either
    assert tables_made == [1]  # only the layout's empty arrays: nothing sorted
    assert restored.tables_covered == index.tables_covered
    for query in [*codes[:40:4], 2]:
        restored_found = restored.search([query], radius=10).matches
        assert restored_found == index.search([query], radius=10).matches
    with pytest.raises(ValueError, match="truncated"):
        SubstringTables.from_bytes(image.blob[:-10])
    with pytest.raises(ValueError, match="not serialised"):
        SubstringTables.from_bytes(image.blob[5:])
    with pytest.raises(ValueError, match="not serialised"):
        SubstringTables.from_bytes(image.blob[:29])  # the magic and half its header length


def test_an_unknown_kind_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidArgument, match=r"index\.kind must be one of hnsw, tables"):
        IndexParams().with_overrides(kind="graph")
