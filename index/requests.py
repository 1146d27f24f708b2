"""The checks and defaults every engine applies to a request before doing its own work, in
one place, so that the local engine and the Milvus engine refuse and default alike."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from . import bounds
from .errors import AlgorithmMismatch, InvalidArgument
from .fingerprint import Fingerprint, Orientation
from .query import Query
from .records import CollectionInfo

__all__ = ["AddPlan", "SearchPlan", "as_query", "check_fingerprint", "plan_add", "plan_search"]


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


def as_query(
    query: Query | Sequence[Fingerprint],
    crop_queries: Sequence[Fingerprint] = (),
    query_quality: int | None = None,
) -> Query:
    """The query a search was given: a `Query` as it is, or the positional form (a hash or
    its 8 orientations, crops in the same layout) through `Query.of_layout`; the separate
    quality and crops go with the positional form only."""
    if isinstance(query, Query):
        if crop_queries or query_quality is not None:
            raise InvalidArgument("a Query carries its own quality and crop hashes", "query")
        return query
    return Query.of_layout(query, crop_queries, query_quality)


@dataclass(frozen=True, slots=True)
class SearchPlan:
    """A search's top-k bound (None: none), radius (0 below the quality floor), and why it
    was held to exact matches ("" when it was not)."""

    top_k: int | None
    within: int | None
    note: str


def plan_search(info: CollectionInfo, query: Query, k: int, radius: int | None) -> SearchPlan:
    """Checks a search's values and fills its defaults: k 0 means none when a radius is
    given, else 10; no radius means none when k is given, else the collection's."""
    picture, crops = query.picture, query.crops
    if not 1 <= len(picture) <= len(Orientation):
        raise InvalidArgument(f"1..8 query hashes, got {len(picture)}", "query")
    if crops:
        per_crop = Counter(code.crop for code in crops)
        if any(n != len(picture) for n in per_crop.values()) or len(per_crop) > bounds.MAX_CROPS:
            raise InvalidArgument(
                f"crop hashes come {len(picture)} a crop, at most {bounds.MAX_CROPS} crops",
                "crops",
            )
    for code in query.codes:
        check_fingerprint(info, code.fingerprint, "hash")
    if k:
        bounds.check_k(k)
    if radius is not None:
        bounds.check_radius(radius)
    if query.quality is not None:
        bounds.check_quality(query.quality, "query_quality")
    top_k = k or (None if radius is not None else 10)
    within = radius if (radius is not None or k) else info.default_radius
    note = info.quality_note(query.quality)
    return SearchPlan(top_k, 0 if note else within, note)
