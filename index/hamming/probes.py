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

__all__ = ["candidate_count", "probe_and_measure"]


@compiled()
def candidate_count(
    values: npt.NDArray[np.int64], offsets: npt.NDArray[np.int64]
) -> int:  # pragma: no cover - compiled
    """How many codes the probed values list (a code listed by several tables counts once
    per table)."""
    total = 0
    for v in values:
        total += offsets[v + 1] - offsets[v]
    return total


@compiled()
def probe_and_measure(
    values: npt.NDArray[np.int64],
    probe_tables: npt.NDArray[np.int64],
    flipped: npt.NDArray[np.int64],
    radius: int,
    offsets: npt.NDArray[np.int64],
    rest_high: npt.NDArray[np.uint32],
    rest_low: npt.NDArray[np.uint16],
    perm: npt.NDArray[np.int32],
    query_rests: npt.NDArray[np.uint64],
    slots_out: npt.NDArray[np.int64],
    dist_out: npt.NDArray[np.int64],
) -> int:  # pragma: no cover - compiled
    """Writes the slot and distance of every code the probed values list within `radius`
    of the query to the outputs (a slot listed by several tables more than once) and
    returns how many; stops at the outputs' length (the caller gives longer ones when they
    filled up).

    A listed code's distance is its rest's (the code less the table's substring) from the
    query's rest in that table, plus the bits the probe flipped in the substring."""
    found = 0
    for i in range(values.shape[0]):
        v = values[i]
        rest = query_rests[probe_tables[i]]
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
