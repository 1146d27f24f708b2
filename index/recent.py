"""`RecentAdds`: the codes lately added to a collection's index, by store sequence (what a
duplicate check made before its turn on the writer adds to its search: `duplicates`)."""

from __future__ import annotations

import bisect

__all__ = ["RecentAdds"]


class RecentAdds:
    """The codes lately added to a collection's index, by store sequence.

    An add searches for its near-duplicates before its turn on the writer thread (searches
    run in parallel there; the writer is serial), then, in the writer, checks only the codes
    added since that search. Keeps at least the last `capacity` adds, and none before
    `floor` (the sequence its index was rebuilt at, when it was).
    """

    def __init__(self, capacity: int = 65_536, floor: int = 0) -> None:
        self._capacity = capacity
        self._floor = floor
        self._sequences: list[int] = []
        self._codes: list[int] = []

    def record(self, sequences: list[int], codes: list[int]) -> None:
        """Adds (called on the writer thread only, in sequence order)."""
        self._sequences.extend(sequences)
        self._codes.extend(codes)
        if len(self._sequences) > 2 * self._capacity:
            del self._sequences[: self._capacity], self._codes[: self._capacity]

    def since(self, sequence: int) -> list[int] | None:
        """Codes added after `sequence`, or None when that is beyond the history kept."""
        sequences = self._sequences
        if sequence < self._floor or (sequences and sequence < sequences[0] - 1):
            return None
        return self._codes[bisect.bisect_right(sequences, sequence) :]
