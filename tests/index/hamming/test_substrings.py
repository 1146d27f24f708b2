"""SubstringTables: multi-index hashing finds exactly what a scan finds, and counts what it
would measure."""

from __future__ import annotations

import numpy as np
import pytest
from neardup.index.hamming.substrings import SubstringTables

from .test_hnsw import clustered_codes


def scan(codes: np.ndarray, queries: np.ndarray, radius: int) -> set[tuple[int, int, int]]:
    """(query number, slot, distance) of every code within radius: the truth."""
    distances = np.bitwise_count(codes[None, :] ^ queries[:, None])
    qi, slots = np.nonzero(distances <= radius)
    return set(zip(qi.tolist(), slots.tolist(), distances[qi, slots].tolist(), strict=True))


def searched(
    tables: SubstringTables, queries: np.ndarray, radius: int
) -> tuple[list[int], list[int], list[int]]:
    probed = tables.range_search(queries, radius)
    assert probed.found is not None  # no bound asked
    slots, distances, qi = probed.found
    return slots.tolist(), distances.tolist(), qi.tolist()


def found(tables: SubstringTables, queries: np.ndarray, radius: int) -> set[tuple[int, int, int]]:
    slots, distances, qi = searched(tables, queries, radius)
    triples = list(zip(qi, slots, distances, strict=True))
    assert len(triples) == len(set(triples)), "a slot reported twice for one query"
    assert triples == sorted(triples), "a query's slots out of order"
    return set(triples)


@pytest.fixture(scope="module")
def codes() -> np.ndarray:
    return np.array(clustered_codes(20_000, seed=11), dtype=np.uint64)


@pytest.fixture(scope="module")
def tables(codes: np.ndarray) -> SubstringTables:
    return SubstringTables(codes)


def test_every_narrow_radius_finds_exactly_the_codes_a_scan_finds(
    tables: SubstringTables, codes: np.ndarray
) -> None:
    rng = np.random.default_rng(3)
    near = codes[rng.integers(0, len(codes), 40)] ^ rng.integers(0, 2**16, 40, dtype=np.uint64)
    far = rng.integers(0, 2**63, 40, dtype=np.uint64)
    queries = np.concatenate([near, far, codes[:20]])
    for radius in range(0, 12):
        assert found(tables, queries, radius) == scan(codes, queries, radius), radius


def test_codes_differing_in_one_substring_only_are_found(codes: np.ndarray) -> None:
    base = 0x0123_4567_89AB_CDEF
    # all ten flipped bits in one 16-bit substring: the pigeonhole's tightest case
    stored = np.array([base ^ (0x3FF << shift) for shift in (0, 16, 32, 48)], dtype=np.uint64)
    tables = SubstringTables(np.concatenate([stored, codes]))
    slots, distances, _ = searched(tables, np.array([base], dtype=np.uint64), 10)
    assert [(s, d) for s, d in zip(slots, distances, strict=True) if s < 4] == [
        (0, 10),
        (1, 10),
        (2, 10),
        (3, 10),
    ]


def test_more_codes_found_than_a_first_output_holds_are_all_found_once() -> None:
    # 4,096 codes alike but in their top 12 bits: a query among them finds thousands,
    # each listed by three tables
    alike = np.uint64(0x0000_A5A5_5A5A_F00F) ^ (np.arange(4096, dtype=np.uint64) << np.uint64(52))
    tables = SubstringTables(alike)
    queries = alike[:2]
    assert len(found(tables, queries, 11)) > 2 * 1024
    assert found(tables, queries, 11) == scan(alike, queries, 11)


def test_empty_tables_find_nothing() -> None:
    tables = SubstringTables(np.zeros(0, dtype=np.uint64))
    assert searched(tables, np.array([7], dtype=np.uint64), 6) == ([], [], [])


def test_a_query_s_listed_codes_count_each_code_once_per_table_that_lists_it() -> None:
    stored = np.array(
        [0x0001_0002_0003_0004, 0x0001_0002_0003_0005, 0xFFFF_0000_0000_0000], dtype=np.uint64
    )
    tables = SubstringTables(stored)
    # at radius 3 each table probes the query's own substring (one of four is within 0 bits)
    assert tables.listed(stored[:1], 3) == 1 + 2 + 2 + 2
    # at radius 0 the first table alone answers
    assert tables.listed(stored[:1], 0) == 1
    assert tables.listed(np.array([0x1234_1234_1234_1234], dtype=np.uint64), 3) == 0
    # several queries: their counts summed
    assert tables.listed(stored[:2], 0) == 2


def test_a_search_listing_more_codes_than_its_bound_measures_none_and_says_how_many() -> None:
    stored = np.array(
        [0x0001_0002_0003_0004, 0x0001_0002_0003_0005, 0xFFFF_0000_0000_0000], dtype=np.uint64
    )
    tables = SubstringTables(stored)
    assert tables.range_search(stored[:1], 3, max_listed=6) == (None, 7)
    bounded = tables.range_search(stored[:1], 3, max_listed=7)
    assert bounded.found is not None and bounded.listed == 7
    assert sorted(bounded.found[0].tolist()) == [0, 1]


def test_several_queries_are_answered_query_by_query_each_in_slot_order(
    codes: np.ndarray, tables: SubstringTables
) -> None:
    queries = codes[[5, 3, 900]]
    slots, _, qi = searched(tables, queries, 8)
    assert qi == sorted(qi) and set(qi) == {0, 1, 2}
    for number in range(3):
        of_query = [s for s, q in zip(slots, qi, strict=True) if q == number]
        assert of_query == sorted(of_query)
