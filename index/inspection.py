"""Read-only views of what a local engine holds, for checks, tests and benchmarks: one
collection's code index (`IndexInspection`) and the store (`StoreInspection`). Nothing here
can change what the engine holds; they are not part of the engine seam (`Backend`), which a
Milvus-backed engine implements without either.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from .hamming import CodeIndex, CodeSearch
from .params import IndexParams
from .store import Store

__all__ = ["IndexInspection", "StoreInspection"]


class IndexInspection:
    """One collection's code index of its images' own hashes, read only: its counts, its
    live codes, code searches, and a wait until its background work and that of the
    collection's other indexes (`every`: grafting, table rebuilds) is done."""

    def __init__(self, index: CodeIndex, every: Sequence[CodeIndex] = ()) -> None:
        self._index = index
        self._every = list(every) or [index]

    @property
    def params(self) -> IndexParams:
        return self._index.params

    @property
    def kind(self) -> str:
        return self._index.kind

    @property
    def sequence(self) -> int:
        """The store sequence of the newest change the index has applied."""
        return self._index.sequence

    @property
    def image_count(self) -> int:
        return self._index.image_count

    @property
    def code_count(self) -> int:
        return self._index.code_count

    @property
    def slot_count(self) -> int:
        return self._index.slot_count

    @property
    def dead_slots(self) -> int:
        return self._index.dead_slots

    @property
    def fresh_count(self) -> int:
        return self._index.fresh_count

    @property
    def tables_covered(self) -> int:
        """Slots the substring tables cover (0: none built)."""
        return int(getattr(self._index, "tables_covered", 0))

    def memory_bytes(self) -> int:
        return self._index.memory_bytes()

    def live_codes(self) -> dict[int, int]:
        """Every code with a live image, and how many carry it."""
        return self._index.live_codes()

    def search(
        self,
        codes: Sequence[int],
        *,
        k: int | None = None,
        radius: int | None = None,
        exact: bool = False,
    ) -> CodeSearch:
        """The index's own answer for these codes (no store lookup): what the engine's
        search adds to it is what a benchmark compares."""
        return self._index.search(codes, k=k, radius=radius, exact=exact)

    def settle(self, timeout: float = 3600.0) -> None:
        """Waits until the indexes' background work is done (TimeoutError after `timeout`
        for each)."""
        for index in self._every:
            index.settle(timeout)

    def is_of(self, index: CodeIndex) -> bool:
        """Whether this views that index (a rebuilt index is another one)."""
        return self._index is index


class StoreInspection:
    """The store, read only: its group commits, its newest sequence, and a read-only SQLite
    connection of this thread's (for the engine's own queries, e.g. checking their plans)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    @property
    def groups_committed(self) -> int:
        return self._store.groups_committed

    @property
    def last_sequence(self) -> int:
        return self._store.last_sequence

    def reader(self) -> sqlite3.Connection:
        """This thread's read-only connection (PRAGMA query_only)."""
        return self._store.reader()
