"""The substring tables' inner loop, compiled: probe a query's nearby substring values and
measure the codes they list.

Why compiled (numba): the loop is a few thousand short, scattered runs of codes a query. In
numpy each step (building the positions of every listed code, gathering them, measuring
them) is a pass over a temporary array, and those passes were most of a query's time at
10M codes; a plain loop that measures each listed code where it lies does the same work
without them (scripts/bench/substrings.py measures it against the flat scan).

Compiled once per machine and cached (`compiled.py`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .compiled import compiled, grown, popcount, prefetch

__all__ = ["probe_and_measure", "rests_of"]

I64s = npt.NDArray[np.int64]
U64s = npt.NDArray[np.uint64]

# Bytes in a cache line, and how many probes' runs are prefetched ahead of the one measured
# (2, 4 and 8 are within noise of each other at 10M codes: scripts/bench/substrings.py).
_LINE = 64
_RUNS_AHEAD = 4
# The outputs a search starts with (slots found within the radius).
_FIRST_OUTPUT = 1024


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
    queries: U64s,
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
    max_listed: int,
) -> tuple[I64s, I64s, I64s, int]:  # pragma: no cover - compiled
    """The slot, distance and query number of every code the queries' probes list within
    `radius` (each slot once a query, query by query, slots ascending), and how many codes
    the probes listed; when they list more than `max_listed`, that count and nothing
    measured (the planner's bound: past it a scan costs less; -1 only counts).

    A listed code's distance is its rest's (the code less the table's substring) from the
    query's rest in that table, plus the bits the probe flipped in the substring. A code
    near in several substrings is listed by several tables: it is kept from the first
    (`_listed_before`), cheaper than sorting out the repeats afterwards. The runs are
    located first (independent reads of the offsets, which the CPU overlaps, and the count
    the bound is checked against, which a separate counting pass read again), then
    measured in turn with the runs `_RUNS_AHEAD` on prefetched: each run is a few cache
    lines in a table of hundreds of MB, and waiting for them one run at a time made the
    loop two to three times slower (scripts/bench/substrings.py: the tables against the
    flat scan). A run is first counted without a branch (`_any_within`: vector
    instructions) and measured code by code only when it holds a code within the radius,
    which is faster than a branch per code."""
    count, probes = queries.shape[0], tables.shape[0]
    starts = np.empty(count * probes, dtype=np.int64)
    ends = np.empty(count * probes, dtype=np.int64)
    listed = 0
    for j in range(count):
        for i in range(probes):
            v = _value(queries[j], tables[i], masks[i], shifts, widths, bases)
            starts[j * probes + i], ends[j * probes + i] = offsets[v], offsets[v + 1]
            listed += offsets[v + 1] - offsets[v]
    if listed > max_listed:
        nothing = np.empty(0, dtype=np.int64)
        return nothing, nothing, nothing, listed
    # Most queries find a few codes: outputs as long as the listed codes (a megabyte at
    # 10M, fresh pages each time) cost more than growing short ones when they fill.
    size = max(min(listed, _FIRST_OUTPUT), 1)
    slots, dist = np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int64)
    numbers = np.empty(size, dtype=np.int64)
    rests = np.empty(shifts.shape[0], dtype=np.uint64)
    found = 0
    for j in range(count):
        for table in range(shifts.shape[0]):
            rests[table] = _rest(queries[j], table, shifts, widths)
        run, first = j * probes, found
        for i in range(min(_RUNS_AHEAD, probes)):
            _prefetch_run(starts[run + i], ends[run + i], rest_high, rest_low)
        for i in range(probes):
            if i + _RUNS_AHEAD < probes:
                ahead = run + i + _RUNS_AHEAD
                _prefetch_run(starts[ahead], ends[ahead], rest_high, rest_low)
            rest, start, end = rests[tables[i]], starts[run + i], ends[run + i]
            if not _any_within(rest_high, rest_low, start, end, rest, radius - flipped[i]):
                continue
            for p in range(start, end):
                apart = _stored_rest(rest_high, rest_low, p) ^ rest
                d = np.int64(popcount(apart)) + flipped[i]
                if d > radius or _listed_before(apart, tables[i], allowed, shifts, widths):
                    continue
                if found == slots.shape[0]:  # never past `listed`: each listed code once
                    slots, dist, numbers = (
                        grown(slots, listed),
                        grown(dist, listed),
                        grown(numbers, listed),
                    )
                slots[found], dist[found], numbers[found] = perm[p], d, j
                found += 1
        if found - first > 1:
            order = np.argsort(slots[first:found]) + first
            slots[first:found], dist[first:found] = slots[order], dist[order]
    return slots[:found], dist[:found], numbers[:found], listed


@compiled(inline=True)
def _stored_rest(
    rest_high: npt.NDArray[np.uint32], rest_low: npt.NDArray[np.uint16], p: int
) -> np.uint64:  # pragma: no cover - compiled
    """The rest a table keeps at position p, put back together from its two parts."""
    return (np.uint64(rest_high[p]) << np.uint64(16)) | np.uint64(rest_low[p])


@compiled(inline=True)
def _any_within(
    rest_high: npt.NDArray[np.uint32],
    rest_low: npt.NDArray[np.uint16],
    start: int,
    end: int,
    rest: np.uint64,
    within: int,
) -> bool:  # pragma: no cover - compiled
    """Whether any rest of a run lies within `within` bits of the query's. A count with no
    branch in it, which the compiler turns into vector instructions (4 codes at a time
    here); most runs hold no code within the radius, so most are read only by this."""
    hits = np.int64(0)
    for p in range(start, end):
        hits += np.int64(popcount(_stored_rest(rest_high, rest_low, p) ^ rest)) <= within
    return bool(hits > 0)


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
