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

from .compiled import compiled, popcount, prefetch

__all__ = ["candidate_count", "probe_and_measure", "rests_of"]

I64s = npt.NDArray[np.int64]
U64s = npt.NDArray[np.uint64]

# Bytes in a cache line, and how many probes' runs are prefetched ahead of the one measured
# (2, 4 and 8 timed within noise of each other at 10M codes, scratch runs).
_LINE = 64
_RUNS_AHEAD = 4


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


@compiled(inline=True)
def _prefetch_run(
    start: int, end: int, rest_high: npt.NDArray[np.uint32], rest_low: npt.NDArray[np.uint16]
) -> None:  # pragma: no cover - compiled
    """Every cache line of one probe's listed rests, asked for ahead of their reading."""
    for p in range(start, end, _LINE // 4):
        prefetch(rest_high, p)
    for p in range(start, end, _LINE // 2):
        prefetch(rest_low, p)


@compiled()
def probe_and_measure(
    query: np.uint64,
    radius: int,
    tables: I64s,
    masks: I64s,
    flipped: I64s,
    allowed: I64s,
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
    to the outputs, each slot once and in ascending order, and returns how many; stops at
    the outputs' length, unordered (the caller gives longer ones when they filled up).

    A listed code's distance is its rest's (the code less the table's substring) from the
    query's rest in that table, plus the bits the probe flipped in the substring. A code
    near in several substrings is listed by several tables: it is kept from the first
    (`_listed_before`), where sorting out the repeats afterwards cost ~10 us a query. The
    runs are located first (independent reads of the offsets, which the CPU overlaps), then
    measured in turn with the runs `_RUNS_AHEAD` on prefetched: each run is a few cache
    lines in a table of hundreds of MB, and waiting for them one run at a time cost ~3x at
    1M codes and ~1.8x at 10M (radius 10, the loop alone, scratch timings; the tables'
    ratio to the flat scan in scripts/bench_substrings.py went from 23x to 53x at 10M)."""
    rests = np.empty(shifts.shape[0], dtype=np.uint64)
    for table in range(shifts.shape[0]):
        rests[table] = _rest(query, table, shifts, widths)
    probes = tables.shape[0]
    starts, ends = np.empty(probes, dtype=np.int64), np.empty(probes, dtype=np.int64)
    for i in range(probes):
        v = _value(query, tables[i], masks[i], shifts, widths, bases)
        starts[i], ends[i] = offsets[v], offsets[v + 1]
    for i in range(min(_RUNS_AHEAD, probes)):
        _prefetch_run(starts[i], ends[i], rest_high, rest_low)
    found = 0
    for i in range(probes):
        if i + _RUNS_AHEAD < probes:
            _prefetch_run(starts[i + _RUNS_AHEAD], ends[i + _RUNS_AHEAD], rest_high, rest_low)
        rest = rests[tables[i]]
        for p in range(starts[i], ends[i]):
            apart = ((np.uint64(rest_high[p]) << np.uint64(16)) | np.uint64(rest_low[p])) ^ rest
            d = np.int64(popcount(apart)) + flipped[i]
            if d > radius or _listed_before(apart, tables[i], allowed, shifts, widths):
                continue
            if found == slots_out.shape[0]:
                return found
            slots_out[found] = perm[p]
            dist_out[found] = d
            found += 1
    if found > 1:
        order = np.argsort(slots_out[:found])
        slots_out[:found], dist_out[:found] = slots_out[order], dist_out[order]
    return found


@compiled(inline=True)
def _listed_before(
    apart: np.uint64, table: int, allowed: I64s, shifts: U64s, widths: U64s
) -> bool:  # pragma: no cover - compiled
    """Whether a code found in `table` was listed by an earlier one too: within that
    table's `allowed` flips of the query there (`apart`: the code's bits that differ from
    the query's outside `table`; the earlier tables' substrings lie below it, where a rest
    keeps its bits in place)."""
    for earlier in range(table):
        mask = (np.uint64(1) << widths[earlier]) - np.uint64(1)
        if np.int64(popcount((apart >> shifts[earlier]) & mask)) <= allowed[earlier]:
            return True
    return False
