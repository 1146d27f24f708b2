"""`IndexParams`: the tuning of a collection's Hamming index, with measured defaults."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .errors import InvalidArgument

__all__ = ["HNSW_KIND", "KINDS", "TABLES_KIND", "IndexParams"]

HNSW_KIND = "hnsw"
TABLES_KIND = "tables"
KINDS = (HNSW_KIND, TABLES_KIND)

# From this many codes a graph search asks `_LARGE_GRAPH_EF_FACTOR` x ef_search (recall@10
# at the default 160: 0.975 at 2M, 0.908 at 10M; at 256: 0.952 at 10M; scripts/bench/index.py).
# Measured at 1M, 2M and 10M only: a step at the last size where 160 was known good.
_LARGE_GRAPH_CODES = 2_000_000
_LARGE_GRAPH_EF_FACTOR = 1.6


@dataclass(frozen=True, slots=True)
class IndexParams:
    """Tuning of a collection's index; the defaults are measured (scripts/bench/index.py).

    hnsw_m, ef_construction: graph degree and build effort. On 1M clustered codes with
    random and near queries, efC=80 reached recall@10 0.935 at efSearch 128 (0.42 ms) and
    efC=200 0.962 (0.41 ms): the better graph costs half the build rate (4.5k vs 8.5k
    codes/s on 2 cores).
    ef_search: search effort (raised to k when smaller) up to `_LARGE_GRAPH_CODES` codes:
    160 gave recall@10 0.975 at 1M and 2M, 0.44 / 0.47 ms a query. Recall falls as the
    graph grows (0.908 at 10M at 160), so from 2M codes on a search asks 1.6x that (256 by
    default: 0.952 at 10M, 1.02 ms, 11x faster than the flat scan); `ef_for` says which.
    exact_threshold: below this many distinct codes top-k queries scan exactly: the flat
    scan costs ~1.1 ms per million codes, the graph ~0.2 ms at 100k (0.118 vs 0.181 ms
    there), so they cross near 250k.
    hnsw_max_codes: at and above this many codes top-k queries are exact again (the
    substring tables, or a scan): HNSW's recall at the larger efSearch was measured at 10M
    (0.952), not beyond, so the bound sits at the last size known to be good.
    substring_tables_min_codes: from this many codes on, range searches (every Add's
    duplicate check) go through substring tables (`substrings.py`) instead of a flat scan.
    At radius 10 the tables alone took 0.041 ms against the scan's 0.060 at 100k codes and
    0.128 (through the index) against 0.516 at 1M; below 100k a scan costs little and the
    tables' fixed 2 MB (69 B a code at 100k) is not worth keeping. Smaller sizes were not
    measured, so the bound sits at the smallest size known to gain.
    (All: scripts/bench/index.py, README "Performance".)
    """

    hnsw_m: int = 32
    ef_construction: int = 200
    ef_search: int = 160
    exact_threshold: int = 250_000
    hnsw_max_codes: int = 10_000_000
    substring_tables_min_codes: int = 100_000
    kind: str = HNSW_KIND

    def graph_serves(self, codes: int) -> bool:
        """Whether top-k queries over this many codes go through the HNSW graph: only then
        is a graph worth building (below and above, a flat scan answers them; never for the
        "tables" kind)."""
        return self.kind == HNSW_KIND and self.exact_threshold <= codes < self.hnsw_max_codes

    def ef_for(self, codes: int) -> int:
        """The efSearch a top-k search of a graph of this many codes asks (before k)."""
        if codes < _LARGE_GRAPH_CODES:
            return self.ef_search
        return min(4096, round(self.ef_search * _LARGE_GRAPH_EF_FACTOR))

    def validated(self) -> IndexParams:
        """Itself, or InvalidArgument naming the field out of bounds."""
        bounds = {
            "hnsw_m": (4, 128),
            "ef_construction": (8, 2048),
            "ef_search": (8, 4096),
            "exact_threshold": (0, 1 << 40),
            "hnsw_max_codes": (0, 1 << 40),
            "substring_tables_min_codes": (0, 1 << 40),
        }
        if self.kind not in KINDS:
            raise InvalidArgument(
                f"index.kind must be one of {', '.join(KINDS)}, got {self.kind!r}", "index.kind"
            )
        for name, (low, high) in bounds.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise InvalidArgument(
                    f"index.{name} must be in {low}..{high}, got {value}", f"index.{name}"
                )
        return self

    def with_overrides(self, **overrides: int | str | None) -> IndexParams:
        """These parameters with the given non-None fields replaced, validated."""
        given: dict[str, Any] = {}
        for name, value in overrides.items():
            if value is None:
                continue
            wanted = str if name == "kind" else int
            if not isinstance(value, wanted) or isinstance(value, bool):
                raise InvalidArgument(f"index.{name} must be a {wanted.__name__}", f"index.{name}")
            given[name] = value
        return replace(self, **given).validated()
