"""`CodeMap`: which slot holds a code, in 4 bytes a slot.

The slots' code array is in arrival order; a map from code to slot keeps the slots sorted
by code (an int32 order, searched by bisection through the code array) plus a dict of the
slots added since the order was last merged. Why not the sorted codes themselves beside
the slots (16 B a slot): at 10M images that alone was a quarter of the compact index kind's
64 B budget, and a lookup is only asked for the few codes of an add or a delete (a bulk
load's batch, a compaction's swap: a few seconds at 10M, off the search path).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .compiled import compiled

__all__ = ["CodeMap"]

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]

# Codes added since the order was merged stay in a dict (~100 B each) up to this many; a
# merge inserts them into the order (a copy of it, which grows with the slots).
_RECENT_MAX = 65_536
# Lookups of more codes than this bisect them in code order.
_SORTED_QUERIES_MIN = 4_096


@compiled()
def _bisect(order: I32, codes: U64, queries: U64, points: I64) -> None:  # pragma: no cover
    """Per query, the first position in `order` whose code is not below it."""
    for i in range(queries.shape[0]):
        q = queries[i]
        low, high = 0, order.shape[0]
        while low < high:
            middle = (low + high) >> 1
            if codes[order[middle]] < q:
                low = middle + 1
            else:
                high = middle
        points[i] = low


class CodeMap:
    """Code -> slot over a slots' code array whose slots hold distinct codes."""

    def __init__(self, codes: U64) -> None:
        """The map of these slots (slot i holds codes[i])."""
        self._order: I32 = np.argsort(codes, kind="stable").astype(np.int32)
        self._recent: dict[int, int] = {}

    def lookup(self, codes: U64, queries: U64) -> I64:
        """The slot of each query code, -1 where absent; `codes` is the slots' array now."""
        points = self._points(codes, queries)
        slots = np.full(len(queries), -1, dtype=np.int64)
        inside = points < len(self._order)
        candidates = self._order[points[inside]].astype(np.int64)
        hit = codes[candidates] == queries[inside]
        slots[np.flatnonzero(inside)[hit]] = candidates[hit]
        if self._recent:
            for i in np.flatnonzero(slots < 0):
                slots[i] = self._recent.get(int(queries[i]), -1)
        return slots

    def _points(self, codes: U64, queries: U64) -> I64:
        """Each query's first position in the order whose code is not below it."""
        points = np.empty(len(queries), dtype=np.int64)
        if len(queries) <= _SORTED_QUERIES_MIN:
            _bisect(self._order, codes, queries, points)
            return points
        # many queries (a bulk batch, a compaction's swap): in code order, successive
        # bisections walk the same paths while they are still in the cache
        by_code = np.argsort(queries)
        found = np.empty(len(queries), dtype=np.int64)
        _bisect(self._order, codes, queries[by_code], found)
        points[by_code] = found
        return points

    def add(self, codes: U64, new: U64, first_slot: int) -> None:
        """Records new codes at slots first_slot, first_slot + 1, ... (`codes`: the slots'
        array, already holding them)."""
        self._recent.update(
            zip(new.tolist(), range(first_slot, first_slot + len(new)), strict=True)
        )
        if len(self._recent) > _RECENT_MAX:
            self._merge(codes)

    def _merge(self, codes: U64) -> None:
        slots = np.fromiter(self._recent.values(), dtype=np.int64, count=len(self._recent))
        slots = slots[np.argsort(codes[slots], kind="stable")]
        points = self._points(codes, codes[slots])
        self._order = np.insert(self._order, points, slots.astype(np.int32))
        self._recent = {}

    @property
    def nbytes(self) -> int:
        return int(self._order.nbytes + 100 * len(self._recent))
