"""`SubstringTables`: exact small-radius range search by multi-index hashing.

A 64-bit code cut into m substrings that is within r bits of a query is, in at least one
substring, within r // m bits of the query's substring (pigeonhole; more exactly, with
r = m f + a, one of the first a + 1 substrings is within f bits or one of the others within
f - 1). One table per substring lists the slots by substring value; a query probes every
value that close to its own substrings and measures only the codes listed there (Norouzi,
Punjani and Fleet, "Fast exact search in Hamming space with multi-index hashing", 2014).

Why: every Add asks for the stored codes within the duplicate radius (10 bits by default),
and a flat scan of a large collection is the largest share of an add's work after hashing;
the tables measure a few thousand candidates instead (scripts/bench/index.py prints both).
Wide radii, or codes crowding the probed values, make a scan cheaper: `listed` counts what
a search would measure, and the planner (`planner.py`) chooses.

How many substrings: the paper's rule is substrings of about log2(N) bits, so that a
substring value lists about one code; shorter ones list many codes a probe, longer ones need
many more probes a query. Measured here (`DEFAULT_WIDTHS`), four of 16 bits are faster at
the duplicate radius than three longer ones up to 30M codes: a probe is a cache miss, and
listed codes are read in contiguous runs.

The tables cover a fixed prefix of slots, [0, covered); the caller scans the codes after it.
Immutable once built, so searches read them without a lock of their own.
"""

from __future__ import annotations

import json
import struct
from functools import cache
from itertools import combinations
from math import comb
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from .probes import probe_and_measure, rests_of

__all__ = ["DEFAULT_WIDTHS", "UNBOUNDED", "Probed", "SubstringTables", "probe_cost"]

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]

# Four substrings of 16 bits. Three of 21-22 bits (the paper's log2(N) at 2M-4M codes)
# halve the codes listed but need 8x the probes, each a cache miss in a 64 MB offsets
# table: at radius 10 they were slower at 1M, 10M and 30M alike and only won at radius 8
# and below; their growth radii (2, 5, 8, 11, 14) leave a top-10 to the scan
# (scripts/bench/substrings.py --n 1000000,10000000,30000000 compares the layouts).
DEFAULT_WIDTHS = (16, 16, 16, 16)
_SERIAL_MAGIC = b"NEARDUP-SUBSTRING-TABLES-1\n"
# No bound on the codes a search may list.
UNBOUNDED = np.iinfo(np.int64).max


@cache
def _flip_masks(width: int, flips: int) -> list[int]:
    """Every `width`-bit mask with at most `flips` bits set."""
    return [
        sum(1 << bit for bit in bits)
        for weight in range(flips + 1)
        for bits in combinations(range(width), weight)
    ]


def _table_flips(widths: tuple[int, ...], radius: int) -> list[int]:
    """Per table, how many bits of its substring a probe flips at this radius (-1: none
    probed): the pigeonhole's split of the radius over the tables."""
    flips, spare = divmod(radius, len(widths))
    return [min(flips if t <= spare else flips - 1, w) for t, w in enumerate(widths)]


@cache
def _probe_plan(widths: tuple[int, ...], radius: int) -> tuple[I64, I64, I64, I64]:
    """For a layout and a radius: per probe, which table it reads, the mask it flips the
    query's substring with, and how many bits that mask flips; and per table, the flips
    its probes go up to (`_table_flips`)."""
    allowed = _table_flips(widths, radius)
    tables: list[int] = []
    masks: list[int] = []
    for table, width in enumerate(widths):
        if allowed[table] >= 0:
            table_masks = _flip_masks(width, allowed[table])
            tables += [table] * len(table_masks)
            masks += table_masks
    flipped = [mask.bit_count() for mask in masks]
    columns = (tables, masks, flipped, allowed)
    return tuple(np.array(column, dtype=np.int64) for column in columns)  # type: ignore[return-value]


@cache
def probe_cost(widths: tuple[int, ...], radius: int) -> tuple[int, float]:
    """How many values a query probes at this radius, and the share of uniform codes they
    list (without making the masks)."""
    probes, share = 0, 0.0
    for width, table_flips in zip(widths, _table_flips(widths, radius), strict=True):
        count = sum(comb(width, j) for j in range(table_flips + 1))
        probes, share = probes + count, share + count / (1 << width)
    return probes, share


class SubstringTables:
    """One table per substring over the codes of slots [0, covered)."""

    def __init__(self, codes: U64, widths: tuple[int, ...] | None = None) -> None:
        """Tables of these codes (slot i holds codes[i]), with substrings of these widths
        (low bits first; `DEFAULT_WIDTHS` unless given)."""
        n = len(codes)
        self.widths = widths if widths is not None else DEFAULT_WIDTHS
        if sum(self.widths) != 64 or min(self.widths) < 16:
            raise ValueError(f"substring widths {self.widths}: at least 16 bits, 64 in all")
        self.covered = n  # slots [0, covered) are in the tables
        m = len(self.widths)
        self._shifts = np.cumsum((0, *self.widths[:-1])).astype(np.uint64)
        self._masks = np.array([(1 << w) - 1 for w in self.widths], dtype=np.uint64)
        self._bases = np.cumsum((0, *(1 << w for w in self.widths[:-1]))).astype(np.int64)
        self._widths = np.array(self.widths, dtype=np.uint64)
        perm = np.empty(m * n, dtype=np.int32)
        offsets = np.empty(sum(1 << w for w in self.widths) + 1, dtype=np.int64)
        offsets[0] = 0
        for table in range(m):
            keys = self._substrings(codes, table)
            # stable sort: within a value, slots ascend
            perm[table * n : (table + 1) * n] = np.argsort(keys, kind="stable")
            counts = np.bincount(keys, minlength=1 << self.widths[table])
            base = int(self._bases[table])
            span = slice(base + 1, base + (1 << self.widths[table]) + 1)
            offsets[span] = np.cumsum(counts) + table * n
        self._perm = perm
        self._offsets = offsets
        # The codes again, in table order, so that a probe's candidates are contiguous; less
        # the table's own substring (the probe's value gives it), so 48 bits for 64: the
        # high 32 and the low 16 of each.
        rests = np.empty(m * n, dtype=np.uint64)
        for t in range(m):
            part = slice(t * n, (t + 1) * n)
            rests_of(codes[perm[part]], t, self._shifts, self._widths, rests[part])
        self._rest_high = (rests >> np.uint64(16)).astype(np.uint32)
        self._rest_low = (rests & np.uint64(0xFFFF)).astype(np.uint16)

    def to_bytes(self) -> npt.NDArray[np.uint8]:
        """The tables as one byte array a snapshot keeps (`from_bytes` loads it back without
        rebuilding: 7-8 s of sorting at 10M codes)."""
        header = json.dumps({"widths": list(self.widths), "covered": self.covered}).encode()
        head = np.frombuffer(_SERIAL_MAGIC + struct.pack("<I", len(header)) + header, np.uint8)
        return np.concatenate([head, *(part.view(np.uint8) for part in self._parts())])

    @classmethod
    def from_bytes(cls, data: npt.NDArray[np.uint8]) -> SubstringTables:
        """The tables `to_bytes` wrote (copied out of `data`); ValueError when malformed."""
        at = len(_SERIAL_MAGIC) + 4
        if len(data) < at or data[: len(_SERIAL_MAGIC)].tobytes() != _SERIAL_MAGIC:
            raise ValueError("not serialised substring tables")
        (length,) = struct.unpack("<I", data[at - 4 : at].tobytes())
        try:
            header = json.loads(data[at : at + length].tobytes())
            widths, covered = tuple(int(w) for w in header["widths"]), int(header["covered"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"substring tables' header: {exc}") from None
        if covered < 0:
            raise ValueError(f"substring tables cover {covered} codes")
        tables = cls(np.zeros(0, dtype=np.uint64), widths)  # the layout's small arrays
        m = len(widths)
        sizes = [
            (np.int32, m * covered),
            (np.int64, len(tables._offsets)),
            (np.uint32, m * covered),
            (np.uint16, m * covered),
        ]
        at += length
        arrays = []
        for dtype, count in sizes:
            end = at + np.dtype(dtype).itemsize * count
            if end > len(data):
                raise ValueError("serialised substring tables are truncated")
            arrays.append(data[at:end].view(dtype).copy())
            at = end
        if at != len(data):
            raise ValueError("serialised substring tables have trailing bytes")
        tables._perm, tables._offsets, tables._rest_high, tables._rest_low = arrays
        tables.covered = covered
        return tables

    def _parts(self) -> tuple[npt.NDArray[Any], ...]:
        return (self._perm, self._offsets, self._rest_high, self._rest_low)

    def _substrings(self, codes: U64, table: int) -> npt.NDArray[np.int64]:
        """Each code's value in one table."""
        values: npt.NDArray[np.int64] = (codes >> self._shifts[table]) & self._masks[table]
        return values.astype(np.int64)

    @property
    def nbytes(self) -> int:
        return int(sum(part.nbytes for part in self._parts()))

    @property
    def growth_radii(self) -> tuple[int, ...]:
        """The radii at which every table probes one more flipped bit (r = m f + m - 1): a
        top-k search grows its radius through these, as the probes' cost grows in those
        steps."""
        m = len(self.widths)
        return tuple(m * flips + m - 1 for flips in range(4))

    def listed(self, queries: U64, radius: int) -> int:
        """How many codes the queries' probes list at this radius (a code listed by several
        tables once per table): what a search of them costs (`planner`)."""
        return self.range_search(queries, radius, max_listed=-1).listed

    def range_search(self, queries: U64, radius: int, max_listed: int = UNBOUNDED) -> Probed:
        """The slots within `radius` bits of each query, unless the queries' probes list more
        than `max_listed` codes in all (`Probed.found` is None then: nothing measured). At
        any radius, whatever it costs: whether a scan is cheaper is the planner's call, and
        `max_listed` the point past which it is."""
        slots, distances, numbers, listed = probe_and_measure(
            queries,
            radius,
            *_probe_plan(self.widths, radius),
            self._shifts,
            self._widths,
            self._bases,
            self._offsets,
            self._rest_high,
            self._rest_low,
            self._perm,
            max_listed,
        )
        return Probed((slots, distances, numbers) if listed <= max_listed else None, listed)


class Probed(NamedTuple):
    """A search of the tables: the slots found, their distances and query numbers (each
    slot once a query; query by query, slots ascending), or None when the probes listed more
    codes than the search's bound; and how many they listed."""

    found: tuple[I64, I64, I64] | None
    listed: int
