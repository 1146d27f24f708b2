"""The checks and defaults every engine applies to a request before doing its own work, in
one place, so that the local engine and the Milvus engine refuse and default alike."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from . import bounds
from .errors import AlgorithmMismatch, InvalidArgument
from .fingerprint import Fingerprint, Orientation
from .records import CollectionInfo

__all__ = ["AddPlan", "SearchPlan", "check_fingerprint", "plan_add", "plan_search"]


def check_fingerprint(info: CollectionInfo, fingerprint: Fingerprint, field: str) -> None:
    """Raises AlgorithmMismatch unless the hash is of the collection's algorithm."""
    if fingerprint.algorithm != info.algorithm:
        raise AlgorithmMismatch(
            f"{field} is a {fingerprint.algorithm!r} hash but collection "
            f"{info.name!r} holds {info.algorithm!r} hashes"
        )


@dataclass(frozen=True, slots=True)
class AddPlan:
    """An add's checked metadata, its duplicate radius (0 below the quality floor), and why
    it was held to exact duplicates ("" when it was not)."""

    metadata: dict[str, str]
    radius: int
    note: str


def plan_add(
    info: CollectionInfo,
    image_id: str,
    fingerprint: Fingerprint,
    metadata: Mapping[str, str] | None,
    duplicate_radius: int | None,
    quality: int | None,
    max_duplicates: int,
) -> AddPlan:
    """Checks an add's values (InvalidArgument, AlgorithmMismatch) and fills its defaults."""
    bounds.check_id(image_id)
    checked = bounds.check_metadata(metadata or {})
    check_fingerprint(info, fingerprint, "hash")
    if quality is not None:
        bounds.check_quality(quality, "quality")
    radius = info.default_radius if duplicate_radius is None else duplicate_radius
    bounds.check_radius(radius, "duplicate_radius")
    bounds.check_k(max_duplicates, "max_duplicates", bounds.MAX_DUPLICATES)
    note = info.quality_note(quality)
    return AddPlan(checked, 0 if note else radius, note)


@dataclass(frozen=True, slots=True)
class SearchPlan:
    """A search's top-k bound (None: none), radius (0 below the quality floor), and why it
    was held to exact matches ("" when it was not)."""

    top_k: int | None
    within: int | None
    note: str


def plan_search(
    info: CollectionInfo,
    queries: Sequence[Fingerprint],
    crop_queries: Sequence[Fingerprint],
    k: int,
    radius: int | None,
    query_quality: int | None,
) -> SearchPlan:
    """Checks a search's values and fills its defaults: k 0 means none when a radius is
    given, else 10; no radius means none when k is given, else the collection's."""
    if not 1 <= len(queries) <= len(Orientation):
        raise InvalidArgument(f"1..8 query hashes, got {len(queries)}", "query")
    if len(crop_queries) % len(queries) or len(crop_queries) > bounds.MAX_CROPS * len(queries):
        raise InvalidArgument(
            f"crop hashes come {len(queries)} a crop, at most {bounds.MAX_CROPS} crops", "crops"
        )
    for fingerprint in (*queries, *crop_queries):
        check_fingerprint(info, fingerprint, "hash")
    if k:
        bounds.check_k(k)
    if radius is not None:
        bounds.check_radius(radius)
    if query_quality is not None:
        bounds.check_quality(query_quality, "query_quality")
    top_k = k or (None if radius is not None else 10)
    within = radius if (radius is not None or k) else info.default_radius
    note = info.quality_note(query_quality)
    return SearchPlan(top_k, 0 if note else within, note)
