"""The substring tables' inner loop, compiled: probe a query's nearby substring values and
measure the codes they list.

Why compiled (numba): the loop is a few thousand short, scattered runs of codes a query. In
numpy each step (building the positions of every listed code, gathering them, measuring
them) is a pass over a temporary array: at 10M codes, radius 10 cost ~0.4 ms a query, most
of it in those passes (a scratch profile, not a kept script); a plain loop that measures
each listed code where it lies does the same work without them (scripts/bench_substrings.py
measures it against the flat scan).

Compiled once per machine and cached (`compiled.py`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .compiled import compiled, popcount

__all__ = ["candidate_count", "probe_and_measure", "rests_of"]

I64s = npt.NDArray[np.int64]
U64s = npt.NDArray[np.uint64]


@compiled(inline=True)
def _value(
    query: np.uint64, table: int, mask: int, shifts: U64s, widths: U64s, bases: I64s
) -> int:  # pragma: no cover - compiled
    """Where in the offsets a probe reads: the query's substring in `table`, flipped by
    `mask`, within that table's values."""
    substring = (query >> shifts[table]) & ((np.uint64(1) << widths[table]) - np.uint64(1))
    return int((np.int64(substring) ^ mask) + bases[table])


@compiled(inline=True)
def _rest(
    query: np.uint64, table: int, shifts: U64s, widths: U64s
) -> np.uint64:  # pragma: no cover
    """The query less its substring in `table`, the bits above it moved down onto it."""
    shift, end = shifts[table], shifts[table] + widths[table]
    below = query & ((np.uint64(1) << shift) - np.uint64(1))
    above = query >> end if end < np.uint64(64) else np.uint64(0)
    return np.uint64(below | (above << shift))


@compiled()
def rests_of(
    codes: U64s, table: int, shifts: U64s, widths: U64s, out: U64s
) -> None:  # pragma: no cover - compiled
    """Each code less its substring in `table` (what the table keeps of it), into `out`."""
    for i in range(codes.shape[0]):
        out[i] = _rest(codes[i], table, shifts, widths)


@compiled()
def candidate_count(
    query: np.uint64,
    tables: I64s,
    masks: I64s,
    shifts: U64s,
    widths: U64s,
    bases: I64s,
    offsets: I64s,
) -> int:  # pragma: no cover - compiled
    """How many codes a query's probes list (a code listed by several tables counts once
    per table)."""
    total = 0
    for i in range(tables.shape[0]):
        v = _value(query, tables[i], masks[i], shifts, widths, bases)
        total += offsets[v + 1] - offsets[v]
    return total


@compiled()
def probe_and_measure(
    query: np.uint64,
    radius: int,
    tables: I64s,
    masks: I64s,
    flipped: I64s,
    shifts: U64s,
    widths: U64s,
    bases: I64s,
    offsets: I64s,
    rest_high: npt.NDArray[np.uint32],
    rest_low: npt.NDArray[np.uint16],
    perm: npt.NDArray[np.int32],
    slots_out: I64s,
    dist_out: I64s,
) -> int:  # pragma: no cover - compiled
    """Writes the slot and distance of every code the query's probes list within `radius`
    to the outputs (a slot listed by several tables more than once) and returns how many;
    stops at the outputs' length (the caller gives longer ones when they filled up).

    A listed code's distance is its rest's (the code less the table's substring) from the
    query's rest in that table, plus the bits the probe flipped in the substring."""
    rests = np.empty(shifts.shape[0], dtype=np.uint64)
    for table in range(shifts.shape[0]):
        rests[table] = _rest(query, table, shifts, widths)
    found = 0
    for i in range(tables.shape[0]):
        v = _value(query, tables[i], masks[i], shifts, widths, bases)
        rest = rests[tables[i]]
        for p in range(offsets[v], offsets[v + 1]):
            listed = (np.uint64(rest_high[p]) << np.uint64(16)) | np.uint64(rest_low[p])
            d = np.int64(popcount(listed ^ rest)) + flipped[i]
            if d <= radius:
                if found == slots_out.shape[0]:
                    return found
                slots_out[found] = perm[p]
                dist_out[found] = d
                found += 1
    return found
