"""`IndexParams`: the tuning of a collection's Hamming index, with measured defaults."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .errors import InvalidArgument

__all__ = ["HNSW_KIND", "KINDS", "TABLES_KIND", "IndexParams"]

HNSW_KIND = "hnsw"
TABLES_KIND = "tables"
KINDS = (HNSW_KIND, TABLES_KIND)

# From this many codes a graph search asks `_LARGE_GRAPH_EF_FACTOR` x ef_search: the default
# keeps recall@10 above 0.95 up to here, not at 10M, where the larger effort does
# (scripts/bench/index.py, --ef). Measured at 1M, 2M and 10M only: the step sits at the last
# size where the default was known good.
_LARGE_GRAPH_CODES = 2_000_000
_LARGE_GRAPH_EF_FACTOR = 1.6


@dataclass(frozen=True, slots=True)
class IndexParams:
    """Tuning of a collection's index. Each default is the conclusion of
    scripts/bench/index.py (its latest run: docs/benchmarks/index.md).

    hnsw_m, ef_construction: graph degree and build effort. The higher build effort gives a
    better graph (higher recall at the same search cost) for half the build rate.
    ef_search: search effort (raised to k when smaller) up to `_LARGE_GRAPH_CODES` codes,
    where it keeps recall@10 above 0.95. Recall falls as the graph grows, so from there on a
    search asks `_LARGE_GRAPH_EF_FACTOR` x as much; `ef_for` says which.
    exact_threshold: below this many distinct codes top-k queries scan exactly: the flat
    scan grows linearly, the graph slowly, and they cross near here.
    hnsw_max_codes: at and above this many codes top-k queries are exact again (the
    substring tables, or a scan): the graph's recall was measured up to here, not beyond,
    so the bound sits at the last size known to be good.
    substring_tables_min_codes: from this many codes on, range searches (every Add's
    duplicate check) go through substring tables (`substrings.py`) instead of a flat scan:
    the smallest size measured where the tables gain; below it a scan costs little and the
    tables' fixed size is not worth keeping.
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
