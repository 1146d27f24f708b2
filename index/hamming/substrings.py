"""`SubstringTables`: exact small-radius range search by multi-index hashing.

A 64-bit code within r bits of a query is, in at least one of its four 16-bit substrings,
within r // 4 bits of the query's substring (pigeonhole; more exactly, with r = 4f + a, one
of the first a + 1 substrings is within f bits or one of the others within f - 1). Four
tables list the slots by substring value; a query probes every value that close to its own
substrings and measures only the codes listed there (Norouzi, Punjani and Fleet, "Fast exact
search in Hamming space with multi-index hashing", 2014).

Why: every Add asks for the stored codes within the duplicate radius (10 bits by default),
and a flat scan of 1M codes costs ~0.5 ms of a core, the largest share of an add's work after
hashing; the tables measure a few thousand candidates instead (scripts/bench_index.py prints
both). Wide radii, or codes crowding the probed values, make a scan cheaper:
`range_search` then says so.

The tables cover a fixed prefix of slots, [0, covered); the caller scans the codes after it.
Immutable once built, so searches read them without a lock of their own.
"""

from __future__ import annotations

from functools import cache
from itertools import combinations

import numpy as np
import numpy.typing as npt

__all__ = ["SubstringTables"]

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]

_TABLES = 4
_BITS = 16
_VALUES = 1 << _BITS
# Past covered / 16 candidates a scan is cheaper: FAISS's flat scan costs ~0.5 ns a code
# (0.51 ms at 1M, bench_index.py), a candidate here roughly 16x that (radius 12 at 1M probes
# ~17k candidates, a count from a scratch run, and took 0.226 ms in bench_index.py).
_SCAN_COST_RATIO = 16
_SHIFTS = np.arange(_TABLES, dtype=np.uint64) * np.uint64(_BITS)


@cache
def _flip_masks(flips: int) -> list[int]:
    """Every 16-bit mask with at most `flips` bits set."""
    return [
        sum(1 << bit for bit in bits)
        for weight in range(flips + 1)
        for bits in combinations(range(_BITS), weight)
    ]


@cache
def _probe_plan(radius: int) -> tuple[I64, I64] | None:
    """For a radius: per probe, which table it reads and the mask it flips the query's
    substring with (None when the probes alone would cost more than a scan)."""
    flips, spare = divmod(radius, _TABLES)
    tables: list[int] = []
    masks: list[int] = []
    for table in range(_TABLES):
        table_flips = flips if table <= spare else flips - 1
        if table_flips >= 0:
            table_masks = _flip_masks(table_flips)
            tables += [table] * len(table_masks)
            masks += table_masks
    # Codes spread over the 65,536 values of a substring: past 4,096 probes the expected
    # candidates alone pass the scan's cost.
    if len(masks) * _SCAN_COST_RATIO > _VALUES:
        return None
    return np.array(tables, dtype=np.int64), np.array(masks, dtype=np.int64)


def _substrings(codes: U64, shift: U64 | np.uint64) -> npt.NDArray[np.uint16]:
    return ((codes >> shift) & np.uint64(_VALUES - 1)).astype(np.uint16)


class SubstringTables:
    """Four 16-bit substring tables over the codes of slots [0, covered)."""

    def __init__(self, codes: U64) -> None:
        """Tables of these codes (slot i holds codes[i])."""
        n = len(codes)
        self.covered = n  # slots [0, covered) are in the tables
        perm = np.empty(_TABLES * n, dtype=np.int32)
        offsets = np.empty(_TABLES * _VALUES + 1, dtype=np.int64)
        offsets[0] = 0
        for table in range(_TABLES):
            keys = _substrings(codes, _SHIFTS[table])
            # stable sort of 16-bit keys: numpy's radix sort
            perm[table * n : (table + 1) * n] = np.argsort(keys, kind="stable")
            counts = np.bincount(keys, minlength=_VALUES)
            span = slice(table * _VALUES + 1, (table + 1) * _VALUES + 1)
            offsets[span] = np.cumsum(counts) + table * n
        self._perm = perm
        self._offsets = offsets
        # The codes again, in table order: a probe's candidates are then contiguous.
        self._codes = codes[perm]

    @property
    def nbytes(self) -> int:
        return int(self._perm.nbytes + self._offsets.nbytes + self._codes.nbytes)

    def range_search(self, queries: U64, radius: int) -> tuple[I64, I64, I64] | None:
        """Slots within `radius` bits of each query, their distances and query numbers
        (each slot once per query, by slot); None when a scan would be cheaper."""
        plan = _probe_plan(radius)
        if plan is None:
            return None
        per_query = [self._probe(q, *plan) for q in queries]
        total = sum(int(lengths.sum()) for _, lengths in per_query)
        if total * _SCAN_COST_RATIO > self.covered * len(per_query):
            return None
        parts = [
            self._measure(starts, lengths, q, radius, number)
            for number, ((starts, lengths), q) in enumerate(zip(per_query, queries, strict=True))
        ]
        return (
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
        )

    def _probe(self, query: np.uint64, tables: I64, masks: I64) -> tuple[I64, I64]:
        """Where the probed substring values' slots start in the tables, and how many."""
        substrings = _substrings(np.array([query] * _TABLES, dtype=np.uint64), _SHIFTS)
        values = (substrings[tables].astype(np.int64) ^ masks) + tables * _VALUES
        starts = self._offsets[values]
        return starts, self._offsets[values + 1] - starts

    def _measure(
        self, starts: I64, lengths: I64, query: np.uint64, radius: int, number: int
    ) -> tuple[I64, I64, I64]:
        """The probed slots within `radius` of the query: slots, distances, query numbers."""
        ends = np.cumsum(lengths)
        positions = np.arange(int(ends[-1]) if len(ends) else 0) + np.repeat(
            starts - (ends - lengths), lengths
        )
        distances = np.bitwise_count(self._codes[positions] ^ query)
        near = np.flatnonzero(distances <= radius)
        # a code near in several substrings is listed by several tables: keep it once
        slots, first = np.unique(self._perm[positions[near]], return_index=True)
        return (
            slots.astype(np.int64),
            distances[near[first]].astype(np.int64),
            np.full(len(slots), number, dtype=np.int64),
        )
