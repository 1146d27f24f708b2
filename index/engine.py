"""`Engine`: the durable near-duplicate engine of one data dir.

It owns the store (`store`: the truth, SQLite with group commit), one code index per
collection (`hamming`: derived, snapshotted), and a maintenance thread that writes snapshots
(every N writes or T seconds) and compacts indexes whose dead slots pass a threshold. It is
the local implementation of the engine seam (`backend.Backend`) that the gRPC service and
the CLI drive; it knows nothing of either.

Its files are laid out as `store.datadir` says; one process holds a data dir at a time.

Writes (`add`, `delete`, collection changes) are operations of the store's writer thread;
they are acknowledged after their transaction is on disk *and* applied to the index, so an
acknowledged add is both durable and searchable. Should applying committed changes to a
collection's index fail, the collection refuses searches (IndexUnavailable) from that
moment, and its index is rebuilt from the store aside and swapped in with the changes
committed meanwhile: a write is never acknowledged into an index that silently lacks it.
Reads go to the index and to a read connection of the store.

Thread-safety: every public method may be called from any thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import Any

from . import bounds
from .code_sets import CodeSet, code_sets, index_params, snapshot_key
from .collection import LoadedCollection
from .duplicates import duplicates_as_seen
from .errors import (
    CollectionExists,
    IdExists,
    InvalidArgument,
    StorageFailure,
    UnknownCollection,
    UnknownId,
)
from .fingerprint import Fingerprint, get_algorithm
from .hamming import CodeMatch, new_code_index
from .hamming.costs import CostModel
from .inspection import IndexInspection, StoreInspection
from .matches import nearest_images
from .persistence.recovery import LoadReport, load_index
from .persistence.snapshot import snapshot_path
from .query import Query
from .records import (
    AddOutcome,
    AddResult,
    BatchItem,
    BatchRow,
    CollectionDefinition,
    CollectionInfo,
    CollectionStats,
    CompactionReport,
    DeleteResult,
    Match,
    OnExistingId,
    SearchResult,
    SnapshotInfo,
    StoredImage,
)
from .requests import as_query, check_fingerprint, plan_add, plan_search
from .settings import EngineSettings
from .store import Store, Transaction, queries
from .store.datadir import SNAPSHOT_DIR, STORE_FILE, lock_data_dir
from .store.failures import storage_failures
from .sync import IndexSync, check_current

__all__ = ["Engine"]

log = logging.getLogger(__name__)


def _now_ms() -> int:
    return int(time.time() * 1000)


class Engine:
    """The durable near-duplicate engine of one data dir (see the module docstring)."""

    @staticmethod
    def holds_data(data_dir: Path | str) -> bool:
        """Whether a data dir is there (opening one elsewhere creates it)."""
        return (Path(data_dir) / STORE_FILE).is_file()

    def __init__(
        self,
        data_dir: Path | str,
        settings: EngineSettings | None = None,
        costs: CostModel | None = None,
    ) -> None:
        """Opens (or creates) the data dir. `costs`: what every collection's searches are
        planned with (default: this machine's, measured once a process; tests give the
        prices they need)."""
        self.data_dir = Path(data_dir)
        self.settings = settings or EngineSettings()
        self._costs = costs
        self._snapshots = self.data_dir / SNAPSHOT_DIR
        with storage_failures(self.data_dir):  # a read-only or full disk: say which
            self._snapshots.mkdir(parents=True, exist_ok=True)
            self._lock_handle = lock_data_dir(self.data_dir)
        self._collections: dict[str, LoadedCollection] = {}
        self._sync = IndexSync(self._collections, self.settings, costs)
        self._closed = False
        self.load_reports: list[LoadReport] = []
        try:
            self._store = Store(
                self.data_dir / STORE_FILE,
                self._sync.apply_effects,
                max_group=self.settings.max_group,
                queue_size=self.settings.queue_size,
            )
        except BaseException:
            self._lock_handle.close()
            raise
        self._sync.attach(self._store)
        try:
            self._load()
        except BaseException:  # release all a half-open engine holds, then say why
            self._store.close()
            for coll in self._collections.values():
                coll.close()
            self._lock_handle.close()
            raise
        self._stop = threading.Event()
        self._maintenance = threading.Thread(
            target=self._maintain, name="engine-maintenance", daemon=True
        )
        self._maintenance.start()

    # -- start-up -------------------------------------------------------------------------
    def _load(self) -> None:
        with self._store.snapshot_read() as conn:
            infos = queries.collection_rows(conn)
        keep = set()
        for info in infos:
            loaded = []
            for codes in code_sets(info):
                index, report = load_index(self._store, self._snapshots, info, codes, self._costs)
                loaded.append((index, report))
                self.load_reports.append(report)
                keep.add(snapshot_path(self._snapshots, snapshot_key(info, codes)))
            coll = LoadedCollection(info, loaded[0][0], loaded[1][0] if len(loaded) > 1 else None)
            reports = [report for _, report in loaded]
            if all(report.source == "snapshot" for report in reports):
                paths = [
                    snapshot_path(self._snapshots, snapshot_key(info, codes))
                    for codes in code_sets(info)
                ]
                coll.snapshot_sequence = min(report.snapshot_sequence for report in reports)
                coll.snapshot_time = min(path.stat().st_mtime for path in paths)
                coll.snapshot_bytes = sum(path.stat().st_size for path in paths)
                coll.writes_since_snapshot = sum(report.replayed for report in reports)
            else:  # a rebuild is worth keeping: snapshot it at the first maintenance pass
                coll.writes_since_snapshot = self.settings.snapshot_every_writes
            self._collections[info.name] = coll
        for path in self._snapshots.iterdir():
            if path not in keep:  # dropped collections' snapshots, torn temporaries
                path.unlink(missing_ok=True)
        if bounds.DEFAULT_COLLECTION not in self._collections:
            self.create_collection(bounds.DEFAULT_COLLECTION)

    # -- collections ----------------------------------------------------------------------
    def _get(self, name: str) -> LoadedCollection:
        coll = self._collections.get(name or bounds.DEFAULT_COLLECTION)
        if coll is None:
            raise UnknownCollection(f"no collection named {name!r}; create it first")
        return coll

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
        """Creates a collection bound to one algorithm; raises CollectionExists.
        `crop_hashes` (None: on where the algorithm has them, `Algorithm.has_crops`; True
        needs such an algorithm: docs/quality.md measures what they catch); with
        `thumbnails` it keeps each image's preview given with its add; with `orientations`
        (the default) an add's duplicate check matches the upload's 8 orientations."""
        bounds.check_collection_name(name)
        algo = get_algorithm(algorithm).name
        if crop_hashes is None:
            crop_hashes = get_algorithm(algo).has_crops
        if crop_hashes and not get_algorithm(algo).has_crops:
            raise InvalidArgument(
                f"crop_hashes needs an algorithm with crop hashes (phash, phash-1), not {algo!r}",
                "crop_hashes",
            )
        if default_radius is None:
            radius = bounds.DEFAULT_CROP_RADIUS if crop_hashes else bounds.DEFAULT_RADIUS
        else:
            radius = default_radius
        bounds.check_radius(radius, "default_radius")
        floor = bounds.DEFAULT_MIN_QUALITY if min_quality is None else min_quality
        bounds.check_quality(floor, "min_quality")
        tuning = self.settings.index.with_overrides(**(params or {}))
        draft = CollectionInfo(
            name,
            0,
            algo,
            radius,
            tuning,
            _now_ms(),
            0,
            floor,
            crop_hashes,
            thumbnails,
            orientations,
        )

        def op(txn: Transaction) -> CollectionInfo:
            if queries.collection_exists(txn.conn, name):
                raise CollectionExists(f"a collection named {name!r} exists")
            info = replace(draft, uid=queries.insert_collection(txn.conn, draft))
            at = txn.next_sequence - 1
            made = [new_code_index(index_params(info, c), at, self._costs) for c in code_sets(info)]

            def register() -> None:
                every_code = made[1] if len(made) > 1 else None
                self._collections[name] = LoadedCollection(info, made[0], every_code)

            txn.after_commit(register)
            return info

        return self._store.run(op, exclusive=True)

    def drop_collection(self, name: str) -> int:
        """Deletes a collection and its images; returns how many it held."""
        if (name or bounds.DEFAULT_COLLECTION) == bounds.DEFAULT_COLLECTION:
            raise InvalidArgument("the default collection cannot be dropped", "name")
        coll = self._get(name)

        def op(txn: Transaction) -> int:
            check_current(self._collections, coll)
            removed = queries.delete_collection(txn.conn, name)

            def unregister() -> None:
                self._collections.pop(name, None)
                coll.close()
                for codes, _ in coll.indexes():
                    path = snapshot_path(self._snapshots, snapshot_key(coll.info, codes))
                    path.unlink(missing_ok=True)

            txn.after_commit(unregister)
            return removed

        return self._store.run(op, exclusive=True)

    def collections(self) -> list[CollectionInfo]:
        """Every collection, by name, with its image count."""
        return sorted(
            (c.current_info() for c in list(self._collections.values())), key=lambda i: i.name
        )

    def collection(self, name: str) -> CollectionInfo:
        """One collection's definition and image count."""
        return self._get(name).current_info()

    def definition(self, name: str) -> CollectionDefinition:
        """One collection's definition (from memory: every collection is loaded)."""
        return self._get(name).definition

    def known_definition(self, name: str) -> CollectionDefinition | None:
        """The definition, or None for a collection that does not exist (`definition`
        says so precisely)."""
        coll = self._collections.get(name or bounds.DEFAULT_COLLECTION)
        return None if coll is None else coll.definition

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
        """Queues an add; the future resolves once it is durable and searchable.

        The near-duplicates (within `duplicate_radius`, default the collection's) are those
        stored before this add, nearest first, at most `max_duplicates`; `reject_duplicates`
        stores nothing when there is one. `find_duplicates=False` skips the search (bulk
        loads). `quality` is the hash's score (None: unknown); below the collection's
        `min_quality` only exact matches are duplicates. `crops`: the image's crop hashes
        (`ImageHashes.crop_fingerprints`), kept in a `crop_hashes` collection unless the
        quality is below its floor. `thumbnail`: the image's preview
        (`fingerprint.make_thumbnail`), kept by a collection that keeps thumbnails (others
        drop it). `orientations`: the upload's 8 orientation hashes (`ImageHashes`), which
        a collection with `orientations` searches its duplicates with (each duplicate says
        which orientation it matched). `digest`: the SHA-256 of the image's file
        (`fingerprint.content_digest`; `ImageHashes.digest`): below the quality floor a
        duplicate must have the same one, and a duplicate with the same one is identical.
        Validation errors raise here; store-side ones
        (IdExists, UnknownCollection) come through the future.
        """
        coll = self._get(collection)
        name = coll.info.name
        plan = plan_add(
            coll.info, image_id, fingerprint, metadata, duplicate_radius, quality, max_duplicates
        )
        if thumbnail is not None:
            bounds.check_thumbnail(thumbnail)
        kept_thumbnail = thumbnail if coll.info.thumbnails else None
        meta, radius, note = plan.metadata, plan.radius, plan.note
        kept_crops = self._kept_crops(coll, fingerprint, crops, quality)
        searched: tuple[int, list[CodeMatch]] | None = None
        turned = orientations if coll.info.orientations else ()
        for code in turned:
            check_fingerprint(coll.info, code, "orientations")
        if digest is not None:
            bounds.check_digest(digest)
        query = Query.of_hash(fingerprint, quality, kept_crops, turned, digest)
        codes = [code.fingerprint.value for code in query.codes]
        if find_duplicates or reject_duplicates:  # here, in parallel; the writer catches up
            coll.check_searchable()
            index = coll.radius_index
            seen = index.sequence
            found = index.search(codes, k=max_duplicates + 1, radius=radius)
            searched = (seen, found.matches)

        def op(txn: Transaction) -> AddResult:
            check_current(self._collections, coll)
            existing = queries.image(txn.conn, name, coll.info.algorithm, image_id)
            if existing is not None and on_existing is OnExistingId.ERROR:
                raise IdExists(f"id {image_id!r} is stored in {name!r}; ask to replace or skip it")
            if existing is not None and on_existing is OnExistingId.SKIP:
                return AddResult(AddOutcome.SKIPPED_EXISTING, existing, [])
            duplicates: list[Match] = []
            if searched is not None:
                duplicates = duplicates_as_seen(
                    txn, coll, query, radius, max_duplicates, image_id, searched
                )
            if reject_duplicates and duplicates:
                draft = StoredImage(
                    name,
                    image_id,
                    fingerprint,
                    meta,
                    0,
                    _now_ms(),
                    quality,
                    kept_crops,
                    None,
                    digest,
                )
                return AddResult(AddOutcome.REJECTED_DUPLICATE, draft, duplicates, note)
            if existing is not None:
                self._log_codes(txn, existing, -1)
            stored = StoredImage(
                name,
                image_id,
                fingerprint,
                meta,
                txn.next_sequence,
                _now_ms(),
                quality,
                kept_crops,
                kept_thumbnail,
                digest,
            )
            self._log_codes(txn, stored, +1)
            queries.upsert_image(txn.conn, stored, existing, coll.info.thumbnails)
            outcome = AddOutcome.ADDED if existing is None else AddOutcome.REPLACED
            return AddResult(outcome, stored, duplicates, note)

        return self._store.submit(op)

    def add(
        self, collection: str, image_id: str, fingerprint: Fingerprint, **options: Any
    ) -> AddResult:
        """`submit_add` and wait (same options)."""
        return self.submit_add(collection, image_id, fingerprint, **options).result()

    @staticmethod
    def _log_codes(txn: Transaction, image: StoredImage, delta: int) -> None:
        """Logs +1 / -1 for an image's hash and each of its crop hashes."""
        txn.change(image.collection, image.fingerprint.value, delta)
        for crop in image.crops:
            txn.change(image.collection, crop.value, delta, crop=True)

    def _kept_crops(
        self,
        coll: LoadedCollection,
        fingerprint: Fingerprint,
        crops: Sequence[Fingerprint],
        quality: int | None,
    ) -> tuple[Fingerprint, ...]:
        """The crop hashes a collection keeps of an image: none unless it has crop_hashes;
        none below its quality floor (a blank picture's crops are as noisy as its hash);
        each code once, and not the image's own hash."""
        if len(crops) > bounds.MAX_CROPS:
            raise InvalidArgument(f"at most {bounds.MAX_CROPS} crop hashes", "crops")
        for crop in crops:
            check_fingerprint(coll.info, crop, "crops")
        if not coll.info.crop_hashes or coll.info.quality_note(quality):
            return ()
        kept = dict.fromkeys(c for c in crops if c != fingerprint)
        return tuple(kept)

    def add_batch(self, collection: str, items: Sequence[BatchItem]) -> list[bool]:
        """Bulk load: stores (id, hash, metadata[, quality[, crops[, thumbnail[, digest]]]])
        items in
        one operation; an id that is stored already is skipped (so a re-run resumes).
        Returns, per item, whether it was stored. No near-duplicate search: the bulk build
        reports duplicate groups itself."""
        coll = self._get(collection)
        name = coll.info.name
        checked = []
        for item in items:
            image_id, fingerprint, metadata, quality, given_crops, thumbnail, digest = BatchRow(
                *item
            )
            bounds.check_id(image_id)
            check_fingerprint(coll.info, fingerprint, "hash")
            if quality is not None:
                bounds.check_quality(quality, "quality")
            if thumbnail is not None:
                bounds.check_thumbnail(thumbnail)
            if digest is not None:
                bounds.check_digest(digest)
            crops = self._kept_crops(coll, fingerprint, given_crops, quality)
            kept = thumbnail if coll.info.thumbnails else None
            meta = bounds.check_metadata(metadata)
            checked.append((image_id, fingerprint, meta, quality, crops, kept, digest))

        def op(txn: Transaction) -> list[bool]:
            check_current(self._collections, coll)
            stored = []
            now = _now_ms()
            for image_id, fingerprint, metadata, quality, crops, thumbnail, digest in checked:
                sequence = txn.next_sequence
                image = StoredImage(
                    name,
                    image_id,
                    fingerprint,
                    metadata,
                    sequence,
                    now,
                    quality,
                    crops,
                    thumbnail,
                    digest,
                )
                inserted = queries.insert_image_if_absent(txn.conn, image)
                if inserted:
                    self._log_codes(txn, image, +1)
                stored.append(inserted)
            return stored

        return self._store.run(op)

    def delete(self, collection: str, ids: Sequence[str]) -> DeleteResult:
        """Deletes stored ids (durable when it returns); unknown ids are reported, not errors."""
        return self.submit_delete(collection, ids).result()

    def submit_delete(self, collection: str, ids: Sequence[str]) -> Future[DeleteResult]:
        """Queues a delete; the future resolves once it is durable. Validation errors raise
        here, store-side ones through the future."""
        coll = self._get(collection)
        name = coll.info.name
        wanted = bounds.check_delete_ids(ids)

        def op(txn: Transaction) -> DeleteResult:
            check_current(self._collections, coll)
            deleted, missing = 0, []
            for image_id in dict.fromkeys(wanted):
                stored = queries.image(txn.conn, name, coll.info.algorithm, image_id)
                if stored is None:
                    missing.append(image_id)
                    continue
                self._log_codes(txn, stored, -1)
                queries.delete_image(txn.conn, stored, coll.info.thumbnails)
                deleted += 1
            return DeleteResult(deleted, missing)

        return self._store.submit(op)

    # -- reads ----------------------------------------------------------------------------
    def get(self, collection: str, image_id: str) -> StoredImage:
        """The stored image of that id; raises UnknownId."""
        coll = self._get(collection)
        bounds.check_id(image_id)
        with self._store.read() as conn:
            stored = queries.image(
                conn, coll.info.name, coll.info.algorithm, image_id, coll.info.thumbnails
            )
        if stored is None:
            raise UnknownId(f"no image {image_id!r} in collection {coll.info.name!r}")
        return stored

    def get_many(
        self, collection: str, ids: Sequence[str], thumbnails: bool = False
    ) -> dict[str, StoredImage]:
        """The stored images among these ids, by id; unknown ids are left out (a bulk
        build's resume asks a batch at a time). With `thumbnails`, their kept previews."""
        coll = self._get(collection)
        bounds.check_many_ids(ids)
        with self._store.read() as conn:
            return queries.images_of(
                conn, coll.info.name, coll.info.algorithm, ids, thumbnails and coll.info.thumbnails
            )

    def list_images(
        self, collection: str, after_id: str = "", limit: int = 100
    ) -> list[StoredImage]:
        """Up to `limit` stored images with ids after `after_id`, in id order (stable pages)."""
        coll = self._get(collection)
        bounds.check_page_size(limit)
        with self._store.read() as conn:
            return queries.list_images(conn, coll.info.name, coll.info.algorithm, after_id, limit)

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
        """Stored images nearest to the query (or to any of its orientations).

        query: a `Query` (by image, hash or stored id), or in the positional form, the query
        hash or its 8 orientation hashes indexed by `Orientation` (with `query_quality` and
        `crop_queries`, each crop in the same layout: `Query.of_layout`).
        k (0 = none when a radius is given, else 10) and radius (None = none when k is given,
        else the collection's default radius), as the contract's SearchRequest states.
        Matches are nearest first, ties by id; each names the orientation that matched.
        Below the collection's `min_quality` (the query's `query_quality`, or a stored
        image's) only exact matches count; the result's `quality_note` says so. A query's
        crop hashes are sent in a `crop_hashes` collection only, and not below its floor.
        budget: OverBudget unless each index search is planned within this many seconds
        without waiting for a writer (the store's lookup of the matches comes on top).
        """
        coll = self._get(collection)
        coll.check_searchable()
        query = as_query(query, crop_queries, query_quality)
        if query.stored_id is not None:
            query = Query.of_stored(self.get(collection, query.stored_id))
        plan = plan_search(coll.info, query, k, radius)
        top_k, within, note = plan.top_k, plan.within, plan.note
        limit = self.settings.result_limit
        matches, path, truncated = nearest_images(
            self._store,
            coll,
            query,
            not note,
            top_k,
            within,
            exact=exact,
            exclude_id=exclude_id,
            limit=limit,
            budget=budget,
        )
        truncated = truncated or (top_k is None and len(matches) > limit)
        bound = top_k if top_k is not None else limit
        return SearchResult(
            matches[:bound], path, truncated, query.fingerprint, note, query.quality
        )

    def near_codes(
        self, collection: str, codes: Sequence[int], radius: int
    ) -> list[list[tuple[int, int]]]:
        """For each code, the stored codes within `radius` bits and their distances, exact,
        nearest first (the duplicate report's edges; codes, not images: no store lookup)."""
        coll = self._get(collection)
        coll.check_searchable()
        bounds.check_radius(radius)
        index = coll.radius_index
        return [
            [(m.code, m.distance) for m in index.search([code], radius=radius).matches]
            for code in codes
        ]

    def search_by_id(self, collection: str, image_id: str, **options: Any) -> SearchResult:
        """`search` with the stored hash of an id (options as `search`)."""
        return self.search(collection, Query.of_id(image_id), **options)

    # -- stats, snapshots, compaction -----------------------------------------------------
    def stats(self, collection: str) -> CollectionStats:
        """Counts, index kind, path, sequences, snapshot age and memory of a collection."""
        coll = self._get(collection)
        age = -1.0 if coll.snapshot_time is None else time.time() - coll.snapshot_time
        index, every_code = coll.index, coll.every_code
        replayed = sum(r.replayed for r in self.load_reports if r.collection == coll.info.name)
        held = [index for _, index in coll.indexes()]
        kind = index.kind
        if every_code is not None:
            kind += f"; with crop hashes, {every_code.code_count:,} codes: {every_code.kind}"
        return CollectionStats(
            coll.current_info(),
            coll.radius_index.code_count,
            sum(i.dead_slots for i in held),
            kind,
            index.top_k_path(),
            self._store.last_sequence,
            coll.snapshot_sequence,
            age,
            sum(i.memory_bytes() for i in held),
            coll.snapshot_bytes,
            sum(i.fresh_count for i in held),
            replayed,
            coll.radius_index.radius_path(),
            index.paths_note(),
        )

    @property
    def pending_writes(self) -> int:
        """Operations waiting for the store's writer."""
        return self._store.queue_depth

    def reachable(self) -> bool:
        """Whether the engine is open: its database is its own data dir, never remote."""
        return not self._closed

    def inspect(self, collection: str, codes: CodeSet = CodeSet.IMAGES) -> IndexInspection:
        """A read-only view of a collection's code index of `codes` (checks and benchmarks;
        not part of the engine seam)."""
        coll = self._get(collection)
        held = dict(coll.indexes())
        if codes not in held:
            raise InvalidArgument(
                f"collection {collection!r} keeps no index of {codes.value}", "codes"
            )
        return IndexInspection(held[codes], list(held.values()))

    def inspect_store(self) -> StoreInspection:
        """A read-only view of the store (checks and benchmarks; not part of the seam)."""
        return StoreInspection(self._store)

    def snapshot(self, collection: str | None = None) -> list[SnapshotInfo]:
        """Writes the snapshot of one collection (or all) now."""
        targets = [self._get(collection)] if collection else list(self._collections.values())
        return [coll.snapshot(self._store, self._snapshots) for coll in targets]

    def compact(self, collection: str) -> CompactionReport:
        """Rebuilds a collection's index without dead slots (searches go on), then snapshots."""
        coll = self._get(collection)
        coll.check_searchable()
        reports = [index.compact() for _, index in coll.indexes()]
        coll.snapshot(self._store, self._snapshots)
        return reports[0] if len(reports) == 1 else reports[0].plus(reports[1])

    def _maintain(self) -> None:
        while not self._stop.wait(self.settings.maintenance_interval_seconds):
            for coll in list(self._collections.values()):
                try:
                    due = coll.maintenance_due(self.settings)
                    if due == "resync":
                        self._sync.resync(coll)
                    elif due == "compact":
                        log.info(
                            "collection %s: compacting %d dead slots",
                            coll.info.name,
                            sum(index.dead_slots for _, index in coll.indexes()),
                        )
                        self.compact(coll.info.name)
                    elif due == "snapshot":
                        coll.snapshot(self._store, self._snapshots)
                except UnknownCollection:
                    continue  # dropped meanwhile
                except StorageFailure as exc:  # a full disk: the next pass tries again
                    log.warning("maintenance of collection %s: %s", coll.info.name, exc)
                except Exception:
                    log.exception("maintenance of collection %s failed", coll.info.name)

    # -- lifecycle ------------------------------------------------------------------------
    def close(self, final_snapshot: bool = True) -> None:
        """Stops maintenance, takes a final snapshot of changed collections, closes the store."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._maintenance.join()
        if final_snapshot:
            for coll in list(self._collections.values()):
                if coll.stale:  # the store has its writes: the next start rebuilds or replays
                    log.warning("collection %s: no final snapshot of a stale index", coll.info.name)
                elif coll.writes_since_snapshot or coll.snapshot_time is None:
                    try:
                        coll.snapshot(self._store, self._snapshots)
                    except StorageFailure as exc:  # the next start replays the store's log
                        log.warning("collection %s: no final snapshot: %s", coll.info.name, exc)
        self._store.close()
        for coll in list(self._collections.values()):
            coll.close()
        self._lock_handle.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
