"""CodeMap: every code is found at its slot, through merges, and absent codes are not."""

from __future__ import annotations

import numpy as np
import pytest
from neardup.index.hamming import codemap
from neardup.index.hamming.codemap import CodeMap


def test_codes_are_found_at_their_slots_before_and_after_the_recent_ones_are_merged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(codemap, "_RECENT_MAX", 300)
    rng = np.random.default_rng(4)
    codes = np.unique(rng.integers(0, 2**64, 5_000, dtype=np.uint64, endpoint=False))
    rng.shuffle(codes)
    codes[:3] = [0, 2**64 - 1, 1]  # the ends of the order
    code_map = CodeMap(codes[:1000])
    for start in range(1000, len(codes), 170):  # merges happen along the way
        end = min(start + 170, len(codes))
        code_map.add(codes, codes[start:end], start)
        known = codes[:end]
        assert code_map.lookup(codes, known).tolist() == list(range(end))
    absent = np.unique(rng.integers(0, 2**64, 500, dtype=np.uint64, endpoint=False))
    absent = absent[~np.isin(absent, codes)]
    assert (code_map.lookup(codes, absent) == -1).all()


def test_an_empty_map_finds_nothing() -> None:
    empty = np.zeros(0, dtype=np.uint64)
    assert CodeMap(empty).lookup(empty, np.array([5], dtype=np.uint64)).tolist() == [-1]
