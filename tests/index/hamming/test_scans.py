"""The exact scans: FAISS's range kernel and the compiled measure find the same codes, by
query, with the same distances, however many there are."""

from __future__ import annotations

import numpy as np
import pytest
from neardup.index.hamming import scans


def _codes(count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, np.iinfo(np.uint64).max, size=count, dtype=np.uint64, endpoint=True)


@pytest.mark.parametrize("radius", [0, 10, 30, 64])
def test_the_compiled_measure_finds_what_faiss_s_range_kernel_finds(radius: int) -> None:
    codes = _codes(3000, seed=1)
    queries = np.concatenate([codes[[5, 17]], _codes(2, seed=2)])
    measured = scans.measured(queries, codes, radius)
    within = scans.within(queries, codes, radius)
    for ours, theirs in zip(measured, within, strict=True):
        assert ours.tolist() == theirs.tolist()
    if radius == 64:  # every code, for every query: outputs grown many times over
        assert len(measured[0]) == len(queries) * len(codes)


def test_the_compiled_measure_of_no_codes_finds_nothing() -> None:
    empty = scans.measured(_codes(2, seed=3), np.zeros(0, dtype=np.uint64), 10)
    assert [part.tolist() for part in empty] == [[], [], []]
