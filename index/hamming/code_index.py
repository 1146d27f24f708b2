"""The code-index seam: what the engine needs of one collection's Hamming structure, and
the values it answers with (`factory` makes a structure from a collection's settings).

The engine holds each collection's distinct 64-bit codes in a `CodeIndex` and speaks to it
only through this module: it applies committed changes (+1 / -1 per code), searches codes by
k and/or radius, reads counts and memory, exports an image of the structure for a snapshot
and restores one. Which structure answers (FAISS's HNSW graph with its flat storage and
substring tables, or the compact "tables" kind without the graph) follows the collection's
`IndexParams.kind`, so no FAISS type crosses this seam.

This module imports no implementation: a process that imports it loads no FAISS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from ..params import IndexParams
from ..records import CompactionReport, SearchPath

__all__ = [
    "CodeIndex",
    "CodeMatch",
    "CodeSearch",
    "IndexImage",
]


@dataclass(frozen=True, slots=True)
class CodeMatch:
    """A stored code near a query: its distance, which query (orientation) it matched, and
    how many live images carried it when searched."""

    code: int
    distance: int
    query: int
    images: int


@dataclass(frozen=True, slots=True)
class CodeSearch:
    """The matches of a search, nearest first (ties by query number), and how they were found.

    truncated: a radius query found more codes than the limit; the nearest are kept.
    """

    matches: list[CodeMatch]
    path: SearchPath
    truncated: bool


class IndexImage(NamedTuple):
    """What a snapshot keeps of a code index: the kind that wrote it, its serialised
    structure, the live count of every slot, the codes not yet in the structure, the store
    sequence it covers, and the substring tables beside a graph (the hnsw kind's, so that a
    restart need not rebuild them; empty where there are none, and for the tables kind,
    whose structure they are)."""

    kind: str
    blob: npt.NDArray[np.uint8]
    live: npt.NDArray[np.int32]
    fresh: npt.NDArray[np.uint64]
    sequence: int
    tables: npt.NDArray[np.uint8]


class CodeIndex(Protocol):
    """A collection's distinct codes, their live image counts, and searches over them.

    Implementations are thread-safe: searches run concurrently with each other, `apply`
    and `compact` with searches (see each implementation for its locking).
    """

    @property
    def params(self) -> IndexParams:
        """The collection's declared settings the structure was made from."""
        ...

    @property
    def sequence(self) -> int:
        """The store sequence of the newest change applied."""
        ...

    def apply(self, codes: Sequence[int], deltas: Sequence[int], sequence: int) -> None:
        """Changes live counts (+1 an image stored with a code, -1 one removed); raises
        ValueError when a count would go negative (the index and its store disagree)."""
        ...

    def search(
        self,
        queries: Sequence[int],
        *,
        k: int | None = None,
        radius: int | None = None,
        exact: bool = False,
        limit: int = 10_000,
        budget: float | None = None,
    ) -> CodeSearch:
        """The stored codes nearest to any of the query codes (k and/or radius, inclusive);
        radius queries are exact; `exact` demands an exact top-k. `budget`: OverBudget
        unless the search is predicted to take at most this many seconds without waiting
        for a writer."""
        ...

    def top_k_path(self, exact: bool = False) -> SearchPath:
        """The path a one-code top-10 query takes at the current size."""
        ...

    def radius_path(self) -> SearchPath:
        """The path a one-code radius-10 query (an add's duplicate check) takes now."""
        ...

    def paths_note(self) -> str:
        """Why top-k and radius searches take the paths they take at this size, in words."""
        ...

    @property
    def image_count(self) -> int:
        """Live images: the sum of the live counts."""
        ...

    @property
    def code_count(self) -> int:
        """Distinct codes with at least one live image."""
        ...

    @property
    def slot_count(self) -> int:
        """Slots, dead ones included."""
        ...

    @property
    def dead_slots(self) -> int:
        """Slots whose images are all removed (compaction reclaims them)."""
        ...

    @property
    def fresh_count(self) -> int:
        """Codes searched exactly while they wait to enter the main structure."""
        ...

    @property
    def kind(self) -> str:
        """The structures held now, as Stats reports them (e.g. "flat codes + substring
        tables + IndexBinaryHNSW(M=32)")."""
        ...

    def memory_bytes(self) -> int:
        """Approximate bytes held."""
        ...

    def live_codes(self) -> dict[int, int]:
        """Every code with a live image, and how many carry it (for checks)."""
        ...

    def export(self) -> IndexImage:
        """A consistent image for a snapshot."""
        ...

    def compact(self) -> CompactionReport:
        """Rebuilds the structure without dead slots, aside; searches go on."""
        ...

    def settle(self, timeout: float = 3600.0) -> None:
        """Waits until background work on the structure is done (benchmarks, tests);
        TimeoutError after `timeout` seconds."""
        ...

    def close(self) -> None:
        """Stops background work."""
        ...
