"""The values the engine returns: stored images, matches, results, collection figures.

Plain immutable records (safe to share between threads); their fields follow the contract's
messages of the same names, so the service translates them field by field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

from .fingerprint.orientations import Orientation
from .fingerprint.value import Fingerprint, similarity
from .params import IndexParams

__all__ = [
    "AddOutcome",
    "AddResult",
    "BatchItem",
    "BatchRow",
    "CollectionDefinition",
    "CollectionInfo",
    "CollectionStats",
    "CompactionReport",
    "DeleteResult",
    "Match",
    "OnExistingId",
    "SearchPath",
    "SearchResult",
    "SnapshotInfo",
    "StoredImage",
]


# One image of a bulk load: (id, hash, metadata), (id, hash, metadata, quality) or
# (id, hash, metadata, quality, crop hashes).
BatchItem = (
    tuple[str, Fingerprint, Mapping[str, str]]
    | tuple[str, Fingerprint, Mapping[str, str], int | None]
    | tuple[str, Fingerprint, Mapping[str, str], int | None, tuple[Fingerprint, ...]]
    | tuple[str, Fingerprint, Mapping[str, str], int | None, tuple[Fingerprint, ...], bytes | None]
    | tuple[
        str,
        Fingerprint,
        Mapping[str, str],
        int | None,
        tuple[Fingerprint, ...],
        bytes | None,
        bytes | None,
    ]
)


class BatchRow(NamedTuple):
    """A `BatchItem` with its optional parts filled in: `BatchRow(*item)`."""

    id: str
    fingerprint: Fingerprint
    metadata: Mapping[str, str]
    quality: int | None = None
    crops: tuple[Fingerprint, ...] = ()
    thumbnail: bytes | None = None
    digest: bytes | None = None


class SearchPath(IntEnum):
    """Which structure answered; numbered as the contract's `SearchPath`."""

    EXACT = 1
    HNSW = 2
    TABLES = 3


class OnExistingId(IntEnum):
    """What an add does when the id is stored; numbered as the contract's enum."""

    ERROR = 0
    REPLACE = 1
    SKIP = 2


class AddOutcome(IntEnum):
    """What an add did; numbered as the contract's enum."""

    ADDED = 1
    REPLACED = 2
    REJECTED_DUPLICATE = 3
    SKIPPED_EXISTING = 4


@dataclass(frozen=True, slots=True)
class StoredImage:
    """An image as stored: its hash, metadata, the sequence of the write that stored it, its
    hash's quality score (None: unknown, e.g. a hash given without its image), and in a
    `crop_hashes` collection the hashes of its centre crops it is also found by; in a
    collection that keeps thumbnails, its preview (a small JPEG), where it was read; the
    SHA-256 of its file's bytes (`fingerprint.content_digest`; None: unknown, e.g. a hash
    given without it, or stored before digests were kept)."""

    collection: str
    id: str
    fingerprint: Fingerprint
    metadata: dict[str, str]
    sequence: int
    added_unix_ms: int
    quality: int | None = None
    crops: tuple[Fingerprint, ...] = ()
    thumbnail: bytes | None = None  # its preview, where read (`Engine.get`, asked of get_many)
    digest: bytes | None = None


@dataclass(frozen=True, slots=True)
class Match:
    """A stored image near a query, which orientation of the query it matched, whether
    the nearest pair of codes involved a crop hash (the query's or the image's), and
    whether the two files are identical (the exact tier: both content digests known and
    equal)."""

    image: StoredImage
    distance: int
    orientation: Orientation
    via_crop: bool = False
    identical: bool = False

    @property
    def similarity(self) -> float:
        """`1 - distance / 64`."""
        return similarity(self.distance)


@dataclass(frozen=True, slots=True)
class AddResult:
    """The outcome of an add, the image (as stored, or as it would have been), and the
    near-duplicates stored before it, nearest first; quality_note as `SearchResult`'s."""

    outcome: AddOutcome
    image: StoredImage
    duplicates: list[Match]
    quality_note: str = ""


@dataclass(frozen=True, slots=True)
class DeleteResult:
    """How many ids were deleted, and which were not stored."""

    deleted: int
    not_found: list[str]


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Matches nearest first (ties by id), the path that served them, and the query hash.

    quality_note: empty, or why the search was held to exact matches (the query's quality is
    below the collection's `min_quality`); query_quality: the query hash's quality score
    (None: unknown)."""

    matches: list[Match]
    path: SearchPath
    truncated: bool
    query: Fingerprint
    quality_note: str = ""
    query_quality: int | None = None


@dataclass(frozen=True, slots=True)
class CollectionDefinition:
    """What a collection is, fixed when it is created: what the service needs to turn a
    request into a query (no count: an engine that knows the collection answers it from
    memory, see `Backend.known_definition`). Fields as `CollectionInfo`'s."""

    name: str
    algorithm: str
    default_radius: int
    params: IndexParams
    min_quality: int = 0
    crop_hashes: bool = False
    thumbnails: bool = False
    orientations: bool = False


@dataclass(frozen=True, slots=True)
class CollectionInfo:
    """A collection's definition and size.

    min_quality: hashes scoring below it (0-100) match only at distance 0: they are stored
    and found by an exact hash match, but are no one's near-duplicate (blank pictures,
    whose bits are noise).
    crop_hashes: each image is also stored, and each query also sent, under the hashes of
    its centre crops, so that crops find their originals and originals their crops.
    thumbnails: a small preview is kept with each image added with its picture (or sent
    with its hash), returned by `get` (what a report shows).
    orientations: an add's duplicate check matches the upload's 8 orientations (when the
    add gives them: an image hashed here), so a mirrored or rotated upload is caught."""

    name: str
    uid: int
    algorithm: str
    default_radius: int
    params: IndexParams
    created_unix_ms: int
    image_count: int
    min_quality: int = 0
    crop_hashes: bool = False
    thumbnails: bool = False
    orientations: bool = False

    @property
    def definition(self) -> CollectionDefinition:
        """The collection's definition, without its count."""
        return CollectionDefinition(
            self.name,
            self.algorithm,
            self.default_radius,
            self.params,
            self.min_quality,
            self.crop_hashes,
            self.thumbnails,
            self.orientations,
        )

    def quality_note(self, quality: int | None) -> str:
        """Why a hash of this quality matches only exactly here ("" when it does not: its
        quality is unknown, or at least the floor)."""
        if quality is None or quality >= self.min_quality:
            return ""
        return (
            f"hash quality {quality} is below the collection's min_quality "
            f"{self.min_quality}: the picture has too little structure for near matches, so "
            "only exact hash matches (distance 0) are reported"
        )


@dataclass(frozen=True, slots=True)
class CollectionStats:
    """Stats of a collection: its index and snapshot state (the contract's StatsResponse),
    and two figures only metrics show: codes waiting to enter the main structure, and the
    store changes replayed onto it when the engine opened. snapshot_age_seconds: negative
    when there is no snapshot."""

    collection: CollectionInfo
    code_count: int
    dead_slots: int
    index_kind: str
    default_top_k_path: SearchPath
    store_sequence: int
    snapshot_sequence: int
    snapshot_age_seconds: float
    index_memory_bytes: int
    snapshot_bytes: int
    fresh_codes: int = 0
    replayed_at_start: int = 0
    default_radius_path: SearchPath = SearchPath.EXACT
    search_paths_note: str = ""


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    """A snapshot written: the sequence it covers, its size, the seconds it took."""

    collection: str
    sequence: int
    bytes: int
    seconds: float


@dataclass(frozen=True, slots=True)
class CompactionReport:
    """Slots before and after a compaction, and the seconds it took."""

    slots_before: int
    slots_after: int
    seconds: float

    def plus(self, other: CompactionReport) -> CompactionReport:
        """Both compactions together (a collection's two indexes)."""
        return CompactionReport(
            self.slots_before + other.slots_before,
            self.slots_after + other.slots_after,
            self.seconds + other.seconds,
        )
