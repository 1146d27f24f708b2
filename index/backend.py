"""The engine seam: what the service and the CLI need of an engine, as a `Protocol`.

`Engine` (SQLite + FAISS in a local data dir) implements it; an engine over a shared
database, such as Milvus, implements it too, so the service never depends on what only the
local engine has (its store, its snapshots files, its per-collection FAISS structures).

What an implementation may differ in, and how it says so:
- Consistency. The local engine is read-your-writes: an acknowledged add is searchable by
  the next call. An engine shared by several servers may be eventually consistent for
  searches from another server; it still must not acknowledge a write it has not made
  durable, and an add's duplicate check must see the caller's own earlier adds.
- Result sizes. A radius query's matches are capped (the engine's `result_limit`, or the
  database's own cap); past the cap `SearchResult.truncated` is set, never a silently short
  answer.
- Operations it cannot offer (a snapshot, where the database keeps its own) raise
  `Unsupported`; a collection it cannot serve for now raises an `Unavailable` error.
- `search_path` in results and `index_kind` in stats name the engine's own structure.

Every error is a `NeardupError` (`neardup.index.errors`); the service maps each type to
one status code. Implementations are thread-safe: every method may be called from any
thread.

Blocking. Each method's docstring ends with whether it may block (wait on I/O: a disk, a
network, a lock a writer holds). The service calls a method that may block only from its
thread pool, never on its event loop; two never block: `known_definition` (memory only)
and `search` given a `budget` (it raises OverBudget rather than wait; a local engine reads
the matches' rows from its SQLite file, which a writer never locks against readers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from typing import Any, Protocol

from .fingerprint import Fingerprint
from .query import Query
from .records import (
    AddResult,
    BatchItem,
    CollectionDefinition,
    CollectionInfo,
    CollectionStats,
    CompactionReport,
    DeleteResult,
    OnExistingId,
    SearchResult,
    SnapshotInfo,
    StoredImage,
)

__all__ = ["Backend"]


class Backend(Protocol):
    """An engine the service and the CLI can drive (see the module docstring)."""

    # -- collections ----------------------------------------------------------------------
    def create_collection(
        self,
        name: str,
        algorithm: str = "",
        default_radius: int | None = None,
        params: Mapping[str, int | str | None] | None = None,
        min_quality: int | None = None,
        crop_hashes: bool | None = None,
        thumbnails: bool = False,
        orientations: bool = True,
    ) -> CollectionInfo:
        """Creates a collection bound to one algorithm (and a quality floor, default
        `bounds.DEFAULT_MIN_QUALITY`). `crop_hashes`: its images are also indexed under
        their crop hashes (None: where the algorithm and the engine have them);
        `thumbnails`: it keeps each image's preview; `orientations`: its duplicate checks
        match an upload's 8 orientations. Raises CollectionExists, or Unsupported for what
        this engine does not keep. May block."""
        ...

    def drop_collection(self, name: str) -> int:
        """Deletes a collection and its images; returns how many it held. May block."""
        ...

    def collections(self) -> list[CollectionInfo]:
        """Every collection, by name, with its image count. May block."""
        ...

    def collection(self, name: str) -> CollectionInfo:
        """One collection's definition and image count; raises UnknownCollection. May
        block (an engine over a shared database counts there)."""
        ...

    def definition(self, name: str) -> CollectionDefinition:
        """One collection's definition, without counting; raises UnknownCollection. May
        block (the first time, on an engine over a shared database)."""
        ...

    def known_definition(self, name: str) -> CollectionDefinition | None:
        """The collection's definition if this engine holds it in memory; None where only
        a read that may block could tell (call `definition` from a thread). Never
        blocks."""
        ...

    # -- writes ---------------------------------------------------------------------------
    def submit_add(
        self,
        collection: str,
        image_id: str,
        fingerprint: Fingerprint,
        metadata: Mapping[str, str] | None = None,
        *,
        on_existing: OnExistingId = OnExistingId.ERROR,
        duplicate_radius: int | None = None,
        find_duplicates: bool = True,
        reject_duplicates: bool = False,
        max_duplicates: int = 10,
        quality: int | None = None,
        crops: Sequence[Fingerprint] = (),
        thumbnail: bytes | None = None,
        orientations: Sequence[Fingerprint] = (),
        digest: bytes | None = None,
    ) -> Future[AddResult]:
        """Queues an add; the future resolves once it is durable and searchable. A hash
        below the collection's `min_quality` has only exact duplicates (of the same file,
        where the engine keeps `digest`, the SHA-256 of the image's bytes). `crops`: the
        image's crop hashes, kept by a `crop_hashes` collection (not below its floor);
        `thumbnail`: its preview (`fingerprint.make_thumbnail`), kept by a collection that
        keeps thumbnails; `orientations`: its 8 orientation hashes (`ImageHashes`), which
        the duplicate check of a collection with `orientations` searches with.
        Validation errors raise here, store-side ones through the future. May block."""
        ...

    def add(
        self, collection: str, image_id: str, fingerprint: Fingerprint, **options: Any
    ) -> AddResult:
        """`submit_add` and wait (same options). May block."""
        ...

    def add_batch(self, collection: str, items: Sequence[BatchItem]) -> list[bool]:
        """Bulk load without duplicate searches; ids stored already are skipped. Returns,
        per item, whether it was stored. May block."""
        ...

    def submit_delete(self, collection: str, ids: Sequence[str]) -> Future[DeleteResult]:
        """Queues a delete of stored ids; the future resolves once it is durable. Unknown
        ids are reported, not errors. May block."""
        ...

    def delete(self, collection: str, ids: Sequence[str]) -> DeleteResult:
        """`submit_delete` and wait. May block."""
        ...

    # -- reads ----------------------------------------------------------------------------
    def get(self, collection: str, image_id: str) -> StoredImage:
        """The stored image of that id; raises UnknownId. May block."""
        ...

    def get_many(
        self, collection: str, ids: Sequence[str], thumbnails: bool = False
    ) -> dict[str, StoredImage]:
        """The stored images among these ids, by id (at most `bounds.MAX_GET_IDS`), with
        their thumbnails when asked (where kept). May block."""
        ...

    def list_images(
        self, collection: str, after_id: str = "", limit: int = 100
    ) -> list[StoredImage]:
        """Up to `limit` stored images with ids after `after_id`, in id order. May block."""
        ...

    def search(
        self,
        collection: str,
        query: Query | Sequence[Fingerprint],
        *,
        k: int = 0,
        radius: int | None = None,
        exact: bool = False,
        exclude_id: str | None = None,
        query_quality: int | None = None,
        crop_queries: Sequence[Fingerprint] = (),
        budget: float | None = None,
    ) -> SearchResult:
        """Stored images nearest to any code of the query (a `Query`, built by `query_of`;
        the positional form as `Query.of_layout`, with `query_quality` and `crop_queries`),
        nearest first, ties by id, each once, each saying the orientation and whether a crop
        matched; k and radius as the contract's SearchRequest states. Below the collection's
        `min_quality` (the query's, or a stored image's quality) only exact matches count,
        and the result's `quality_note` says so. A query by stored id reads its hash first
        (an engine whose reads go over a network raises OverBudget first). `budget`:
        OverBudget, with nothing searched, unless the index search is predicted to take at
        most this many seconds and need not wait (the service runs such searches on its
        event loop). May block, unless given a budget."""
        ...

    def near_codes(
        self, collection: str, codes: Sequence[int], radius: int
    ) -> list[list[tuple[int, int]]]:
        """For each code, the stored codes within `radius` bits with their distances, exact
        (the duplicate report's edges). May block."""
        ...

    def search_by_id(self, collection: str, image_id: str, **options: Any) -> SearchResult:
        """`search` with the stored hash of an id (options as `search`). May block,
        unless given a budget (then the stored hash is read as `search` reads matches)."""
        ...

    # -- figures and upkeep ---------------------------------------------------------------
    def stats(self, collection: str) -> CollectionStats:
        """A collection's counts, index structure and persistence state. May block."""
        ...

    @property
    def pending_writes(self) -> int:
        """Writes accepted but not yet committed (back-pressure, for metrics). Never blocks."""
        ...

    def reachable(self) -> bool:
        """Whether the engine's database answers now (the server's health follows it);
        blocks for at most a few seconds."""
        ...

    def snapshot(self, collection: str | None = None) -> list[SnapshotInfo]:
        """Persists one collection's index (or all) now; Unsupported where the database
        persists its own. May block."""
        ...

    def compact(self, collection: str) -> CompactionReport:
        """Reclaims what deletes left behind; searches go on meanwhile. May block."""
        ...

    def close(self) -> None:
        """Finishes what was acknowledged and releases everything the engine holds. May
        block."""
        ...
