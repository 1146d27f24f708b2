"""`MilvusEngine`: the engine seam over a Milvus database (Lite, standalone or a cluster).

Every neardup collection is a Milvus collection (`names.milvus_collection`) with one row per
image: `pk` (the id, `names.key_of`), `code` (BINARY_VECTOR, 64 bits, BIN_FLAT index,
HAMMING metric: exact), `quality` (-1: unknown), `metadata` (JSON), `sequence` (the write's
nanosecond clock) and `added_unix_ms`. Definitions (algorithm, default radius, quality floor)
are rows of a registry collection, so every server sharing the Milvus sees the same ones.

What a read sees is decided in `consistency`: every read (a search, Get, GetMany, List, a
count, an add's id check and duplicate search) sees each write acknowledged by any server
before this engine started, another server's later writes once they are
`READ_LAG_SECONDS` old, and this engine's own writes at once; no read waits for Milvus's
time tick. Writes go through one queue (`writes`): the adds queued meanwhile share one id
check, one duplicate search and one upsert, and are acknowledged once Milvus has them.

A search asks Milvus for a few matches first and for up to the engine's `result_limit` + 1
(within Milvus's cap of 16,384 a query) only when that first answer is full, and says
`truncated` past the limit; `near_codes`, which must be complete, reads distance by distance
and refuses (Unsupported) a single distance holding more than the cap. Snapshots and
compaction are Milvus's own: Unsupported here, as are crop hashes and per-collection index
parameters.

Every Milvus call carries a deadline (`call_seconds`); one that passes it, or a Milvus that
is unreachable, fails the call with DatabaseFailure (UNAVAILABLE at the service), and
`reachable` says whether Milvus answers now (the server's health follows it).

Thread-safety: every public method may be called from any thread; pymilvus's client is
shared.
"""

from __future__ import annotations

import heapq
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from .. import bounds
from ..errors import (
    CollectionExists,
    DatabaseFailure,
    IdExists,
    InvalidArgument,
    OverBudget,
    UnknownCollection,
    UnknownId,
    Unsupported,
)
from ..fingerprint import Fingerprint, get_algorithm
from ..query import Query, QueryCode
from ..records import (
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
    SearchPath,
    SearchResult,
    SnapshotInfo,
    StoredImage,
)
from ..requests import as_query, check_fingerprint, plan_add, plan_search
from ..settings import EngineSettings
from .consistency import READ_LAG_SECONDS, STRONG, ReadPoint, at, milvus_timestamp
from .failures import milvus_failures
from .names import (
    REGISTRY,
    code_bytes,
    code_from_bytes,
    id_from_key,
    key_of,
    keys_literal,
    milvus_collection,
)
from .recent import RecentWrites, View
from .writes import Write, WriteQueue

__all__ = ["DEFAULT_CALL_SECONDS", "MILVUS_RESULT_CAP", "MilvusEngine"]

log = logging.getLogger(__name__)

# The most matches Milvus returns for one query vector (its topk bound).
MILVUS_RESULT_CAP = 16_384
_FIELDS = ["pk", "code", "quality", "metadata", "sequence", "added_unix_ms"]
_UNKNOWN_QUALITY = -1
_MAX_KEY = 2 * bounds.MAX_ID_BYTES
# A definition's format: 2 since `phash` finds borders on one grid (a "phash" definition of
# format 1 was hashed by what is now `phash-2`).
_DEFINITION_FORMAT = 2
_PAGE = MILVUS_RESULT_CAP
# How long one Milvus call may take, its retries included. Whole seconds: pymilvus bounds
# its retries of an unreachable server by an integer timeout only (a float one retries for
# minutes).
DEFAULT_CALL_SECONDS = 10
# The deadline of calls that change collections (create, drop, load, flush) and of the
# engine's first calls, at least.
SCHEMA_CALL_SECONDS = 60
# What a radius search asks Milvus for first; a full answer is asked again up to the
# result limit (scripts/bench/milvus_tick.py times a search asking for 100 against one
# asking for the limit).
_FIRST_ASK = 100
# The deadline of `reachable`'s probe.
_PROBE_SECONDS = 2
# Keys a Milvus `pk in [...]` filter takes at once.
_KEYS_A_QUERY = 1000
# Rows written to a collection before the engine asks Milvus to seal them (flush): Milvus
# searches unsealed rows without their index, at a cost that grows with their number
# (scripts/bench/milvus_tick.py times a search over rows not yet sealed against sealed
# ones), and seals on its own only at hundreds of megabytes or after minutes idle.
FLUSH_ROWS = 10_000


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True, slots=True)
class _Wanted:
    """One search's question: its codes, at most k (None: up to the result limit), within a
    radius (None: any), leaving one id out."""

    sent: Sequence[QueryCode]
    k: int | None
    radius: int | None
    exclude_id: str | None


class _Add(Write):
    __slots__ = ("image", "note", "on_existing", "reject", "wanted")

    def __init__(
        self,
        image: StoredImage,
        wanted: _Wanted | None,
        on_existing: OnExistingId,
        reject: bool,
        note: str,
    ) -> None:
        super().__init__(("add", image.collection))
        self.image, self.wanted, self.on_existing, self.reject = image, wanted, on_existing, reject
        self.note = note


class _Delete(Write):
    __slots__ = ("ids",)

    def __init__(self, collection: str, ids: list[str]) -> None:
        super().__init__(("delete", collection))
        self.ids = ids


class _Bulk(Write):
    __slots__ = ("images",)

    def __init__(self, collection: str, images: list[StoredImage]) -> None:
        super().__init__(("bulk", collection))
        self.images = images


class MilvusEngine:
    """The engine seam over Milvus (see the module docstring)."""

    def __init__(
        self,
        uri: str,
        token: str = "",
        settings: EngineSettings | None = None,
        workers: int = 8,
        call_seconds: int = DEFAULT_CALL_SECONDS,
        read_lag_seconds: float = READ_LAG_SECONDS,
    ) -> None:
        from pymilvus import MilvusClient

        self.uri = uri
        self.settings = settings or EngineSettings()
        self._deadline = {"timeout": int(call_seconds)}
        # Creating, dropping, loading and flushing collections, and the first calls of a
        # Milvus just started, take seconds where a read takes milliseconds.
        self._schema_deadline = {"timeout": max(int(call_seconds), SCHEMA_CALL_SECONDS)}
        self._call_seconds = int(call_seconds)
        self._closed = False
        with milvus_failures(f"connection to {uri}", seconds=call_seconds):
            # A connection of its own: pymilvus shares one per URI, and closing any client
            # of it would cut off every other engine of the process on that Milvus.
            own = f"neardup-{uuid.uuid4().hex}"
            self._client = MilvusClient(uri=uri, token=token, timeout=call_seconds, alias=own)
        self._reads = ThreadPoolExecutor(workers, thread_name_prefix="milvus-read")
        self._recent = RecentWrites()
        self._writes = WriteQueue(self._apply, lambda: DatabaseFailure("the server is stopping"))
        self._flusher = ThreadPoolExecutor(1, thread_name_prefix="milvus-flush")
        self._unsealed: dict[str, int] = {}  # rows written since the last flush, by collection
        self._definitions: dict[str, CollectionInfo] = {}
        self._lock = threading.Lock()
        try:
            self._ensure_registry()
            if not self._definition_in_registry(bounds.DEFAULT_COLLECTION):
                self.create_collection(bounds.DEFAULT_COLLECTION)
            self._point = ReadPoint(self._started(), read_lag_seconds)
        except BaseException:
            self.close()
            raise

    @contextmanager
    def _milvus(self, what: str, collection: str = "") -> Iterator[None]:
        """The failure translation of one Milvus call (see `failures`); a call the engine's
        closing ended (gRPC raises ValueError on a closed channel) fails as Milvus's."""
        try:
            with milvus_failures(what, collection, seconds=self._call_seconds):
                yield
        except ValueError as exc:
            if not self._closed:
                raise
            raise DatabaseFailure(f"the server is stopping: its Milvus {what} ended") from exc

    def _started(self) -> int:
        """A Milvus timestamp issued now: above the stamp of every write acknowledged
        before. Where Milvus issues none (Lite answers 0), the clock's."""
        with self._milvus("timestamp"):
            issued = int(self._client._get_connection().alloc_timestamp(**self._schema_deadline))
        return issued or milvus_timestamp(time.time())

    # -- the registry of definitions --------------------------------------------------------
    def _ensure_registry(self) -> None:
        from pymilvus import DataType

        client = self._client
        with self._milvus("registry setup"):
            if client.has_collection(REGISTRY, **self._schema_deadline):
                return
            schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("name", DataType.VARCHAR, is_primary=True, max_length=256)
            schema.add_field("definition", DataType.VARCHAR, max_length=4096)
            # Milvus wants a vector field in every collection; the registry's is unused.
            schema.add_field("unused", DataType.BINARY_VECTOR, dim=8)
            index = client.prepare_index_params()
            index.add_index("unused", index_type="BIN_FLAT", metric_type="HAMMING")
            client.create_collection(
                REGISTRY, schema=schema, index_params=index, **self._schema_deadline
            )

    def _definition_in_registry(self, name: str) -> CollectionInfo | None:
        with self._milvus("registry read"):
            rows = self._client.query(
                REGISTRY,
                filter=f'name == "{name}"',
                output_fields=["definition"],
                **STRONG,
                **self._deadline,
            )
        if not rows:
            return None
        fields = json.loads(rows[0]["definition"])
        algorithm = fields["algorithm"]
        if algorithm == "phash" and fields.get("format", 1) < _DEFINITION_FORMAT:
            algorithm = "phash-2"  # the algorithm that made its hashes (the store's schema 4)
        return CollectionInfo(
            name,
            0,
            algorithm,
            fields["default_radius"],
            self.settings.index,
            fields["created_unix_ms"],
            0,
            fields["min_quality"],
            # collections registered before the setting matched the upright hash only
            orientations=fields.get("orientations", False),
        )

    def _get(self, name: str) -> CollectionInfo:
        name = name or bounds.DEFAULT_COLLECTION
        info = self._definitions.get(name)
        if info is None:
            bounds.check_collection_name(name)
            info = self._definition_in_registry(name)
            if info is None:
                raise UnknownCollection(f"no collection named {name!r}; create it first")
            self._definitions[name] = info
        return info

    def _forget(self, name: str) -> None:
        self._definitions.pop(name, None)
        self._recent.forget(name)

    # -- collections ------------------------------------------------------------------------
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
        """Creates the collection's Milvus collection and registers its definition; raises
        CollectionExists, or Unsupported for crop hashes asked for, thumbnails and index
        parameters (Milvus's BIN_FLAT has none of ours; unasked, crop hashes are off)."""
        from pymilvus import DataType

        bounds.check_collection_name(name)
        target = milvus_collection(name)
        if crop_hashes:
            raise Unsupported(
                "crop hashes are not offered by the Milvus engine (one code an image)"
            )
        if thumbnails:
            raise Unsupported(
                "thumbnails are not kept by the Milvus engine (its rows hold no pictures)"
            )
        if params and any(v is not None for v in params.values()):
            raise Unsupported("index parameters do not apply to Milvus's BIN_FLAT index")
        algo = get_algorithm(algorithm).name
        radius = bounds.DEFAULT_RADIUS if default_radius is None else default_radius
        bounds.check_radius(radius, "default_radius")
        floor = bounds.DEFAULT_MIN_QUALITY if min_quality is None else min_quality
        bounds.check_quality(floor, "min_quality")
        info = CollectionInfo(
            name,
            0,
            algo,
            radius,
            self.settings.index,
            _now_ms(),
            0,
            floor,
            orientations=orientations,
        )
        client = self._client
        with self._lock, self._milvus("collection creation", name):
            if self._definition_in_registry(name) is not None:
                raise CollectionExists(f"a collection named {name!r} exists")
            if not client.has_collection(target, **self._schema_deadline):
                schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
                schema.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=_MAX_KEY)
                schema.add_field("code", DataType.BINARY_VECTOR, dim=64)
                schema.add_field("quality", DataType.INT64)
                schema.add_field("metadata", DataType.JSON)
                schema.add_field("sequence", DataType.INT64)
                schema.add_field("added_unix_ms", DataType.INT64)
                index = client.prepare_index_params()
                index.add_index("code", index_type="BIN_FLAT", metric_type="HAMMING")
                client.create_collection(
                    target, schema=schema, index_params=index, **self._schema_deadline
                )
            definition = {
                "algorithm": algo,
                "default_radius": radius,
                "min_quality": floor,
                "orientations": orientations,
                "created_unix_ms": info.created_unix_ms,
                "format": _DEFINITION_FORMAT,
            }
            client.upsert(
                REGISTRY,
                [{"name": name, "definition": json.dumps(definition), "unused": bytes(1)}],
                **self._schema_deadline,
            )
        self._definitions[name] = info
        return info

    def drop_collection(self, name: str) -> int:
        """Drops the collection's Milvus collection and definition; returns its image count."""
        if (name or bounds.DEFAULT_COLLECTION) == bounds.DEFAULT_COLLECTION:
            raise InvalidArgument("the default collection cannot be dropped", "name")
        info = self._get(name)
        count = self._count(info)
        with self._lock, self._milvus("collection drop", name):
            self._client.drop_collection(milvus_collection(name), **self._schema_deadline)
            self._client.delete(REGISTRY, filter=f'name == "{name}"', **self._schema_deadline)
        self._forget(name)
        return count

    def _count(self, info: CollectionInfo) -> int:
        """The collection's image count at the read point, this engine's recent writes
        counted in."""
        point, view = self._read(info)
        with self._milvus("count", info.name):
            rows = self._client.query(
                milvus_collection(info.name),
                filter="",
                output_fields=["count(*)"],
                **at(point),
                **self._deadline,
            )
        count = int(rows[0]["count(*)"])
        in_milvus = self._milvus_rows(info, list(view.latest), point)
        for image_id, image in view.latest.items():
            count += (image is not None) - (image_id in in_milvus)
        return count

    def collections(self) -> list[CollectionInfo]:
        """Every registered collection, by name, with its image count."""
        with self._milvus("registry read"):
            rows = self._client.query(
                REGISTRY,
                filter='name != ""',
                output_fields=["name"],
                **STRONG,
                **self._deadline,
            )
        infos = [self.collection(row["name"]) for row in rows]
        return sorted(infos, key=lambda i: i.name)

    def collection(self, name: str) -> CollectionInfo:
        """One collection's definition and image count."""
        info = self._get(name)
        return replace(info, image_count=self._count(info))

    def definition(self, name: str) -> CollectionDefinition:
        """One collection's definition: from the registry the first time, then from memory."""
        return self._get(name).definition

    def known_definition(self, name: str) -> CollectionDefinition | None:
        """The definition this engine has read before, or None (only the registry knows)."""
        info = self._definitions.get(name or bounds.DEFAULT_COLLECTION)
        return None if info is None else info.definition

    # -- writes -----------------------------------------------------------------------------
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
        thumbnail: bytes | None = None,  # no collection here keeps thumbnails
        orientations: Sequence[Fingerprint] = (),
        digest: bytes | None = None,  # nor digests: a blank picture matches at distance 0
    ) -> Future[AddResult]:
        """Queues an add (as `Engine.submit_add`; crop hashes and digests are ignored: Milvus
        collections keep neither). Its id check and duplicate search see what every read
        sees (`consistency`), this engine's own earlier adds included; the adds queued
        meanwhile are checked and written together (`writes`)."""
        info = self._get(collection)
        plan = plan_add(
            info, image_id, fingerprint, metadata, duplicate_radius, quality, max_duplicates
        )
        wanted = None
        if find_duplicates or reject_duplicates:
            turned = orientations if info.orientations else ()
            sent = Query.of_hash(fingerprint, orientations=turned).codes
            wanted = _Wanted(sent, max_duplicates, plan.radius, image_id)
        image = StoredImage(info.name, image_id, fingerprint, plan.metadata, 0, 0, quality)
        return self._writes.put(_Add(image, wanted, on_existing, reject_duplicates, plan.note))

    def add(
        self, collection: str, image_id: str, fingerprint: Fingerprint, **options: Any
    ) -> AddResult:
        """`submit_add` and wait (same options)."""
        return self.submit_add(collection, image_id, fingerprint, **options).result()

    def add_batch(self, collection: str, items: Sequence[BatchItem]) -> list[bool]:
        """Bulk load: one upsert of the items whose ids are not stored; returns, per item,
        whether it was stored."""
        info = self._get(collection)
        checked: list[StoredImage] = []
        for item in items:  # crop hashes are ignored: Milvus collections have none
            image_id, fingerprint, metadata, quality, *_ = BatchRow(*item)
            bounds.check_id(image_id)
            check_fingerprint(info, fingerprint, "hash")
            if quality is not None:
                bounds.check_quality(quality, "quality")
            meta = bounds.check_metadata(metadata)
            checked.append(StoredImage(info.name, image_id, fingerprint, meta, 0, 0, quality))
        stored: list[bool] = self._writes.put(_Bulk(info.name, checked)).result()
        return stored

    def submit_delete(self, collection: str, ids: Sequence[str]) -> Future[DeleteResult]:
        """Queues a delete; the future resolves once Milvus has it."""
        info = self._get(collection)
        wanted = list(dict.fromkeys(bounds.check_delete_ids(ids)))
        return self._writes.put(_Delete(info.name, wanted))

    def delete(self, collection: str, ids: Sequence[str]) -> DeleteResult:
        """`submit_delete` and wait."""
        return self.submit_delete(collection, ids).result()

    def _apply(self, group: list[Any]) -> None:
        """Applies one run of queued writes of one kind and collection (the write queue's
        thread)."""
        if self._closed:  # the queue outlived its wait in `close`
            raise DatabaseFailure("the server is stopping")
        first = group[0]
        info = self._get(first.key[1])
        if isinstance(first, _Add):
            self._apply_adds(info, group)
        elif isinstance(first, _Bulk):
            for bulk in group:
                bulk.future.set_result(self._apply_bulk(info, bulk.images))
        else:
            for delete in group:
                delete.future.set_result(self._apply_delete(info, delete.ids))

    def _apply_adds(self, info: CollectionInfo, adds: list[_Add]) -> None:
        """The adds' id checks and duplicate searches in one round trip, their decisions in
        order (each sees the adds before it in the group), one upsert, then every answer."""
        point, view = self._read(info)
        ids = [add.image.id for add in adds]
        stored_now = self._reads.submit(self._rows, info, ids, point, view)
        asked = [add.wanted for add in adds if add.wanted is not None]
        found = iter(self._nearest(info, asked, point, view, slack=len(adds)))
        sequence, now = time.time_ns(), _now_ms()
        stored = stored_now.result()
        written: dict[str, StoredImage] = {}  # the group's adds so far, by id
        answers: list[tuple[_Add, AddResult | Exception]] = []
        for add in adds:
            image = add.image
            existing = written.get(image.id) or stored.get(image.id)
            duplicates = [] if add.wanted is None else next(found)[0]
            if existing is not None and add.on_existing is OnExistingId.ERROR:
                message = f"id {image.id!r} is stored in {info.name!r}; ask to replace or skip it"
                answers.append((add, IdExists(message)))
                continue
            if existing is not None and add.on_existing is OnExistingId.SKIP:
                answers.append((add, AddResult(AddOutcome.SKIPPED_EXISTING, existing, [])))
                continue
            if add.wanted is not None:
                duplicates = _with_group(duplicates, add.wanted, written, info.min_quality)
            image = replace(image, sequence=sequence, added_unix_ms=now)
            sequence += 1
            if add.reject and duplicates:
                outcome = AddOutcome.REJECTED_DUPLICATE
            else:
                outcome = AddOutcome.ADDED if existing is None else AddOutcome.REPLACED
                written[image.id] = image
            answers.append((add, AddResult(outcome, image, duplicates, add.note)))
        if written:
            self._upsert(info, list(written.values()))
        for add, answer in answers:  # once the writes they may depend on are in Milvus
            if isinstance(answer, Exception):
                add.future.set_exception(answer)
            else:
                add.future.set_result(answer)

    def _apply_bulk(self, info: CollectionInfo, images: list[StoredImage]) -> list[bool]:
        point, view = self._read(info)
        stored = self._rows(info, [image.id for image in images], point, view)
        sequence, now = time.time_ns(), _now_ms()
        new: dict[str, StoredImage] = {}
        kept: list[bool] = []
        for image in images:
            fresh = image.id not in stored and image.id not in new
            if fresh:
                new[image.id] = replace(image, sequence=sequence, added_unix_ms=now)
            kept.append(fresh)
        if new:
            self._upsert(info, list(new.values()))
        return kept

    def _apply_delete(self, info: CollectionInfo, ids: list[str]) -> DeleteResult:
        point, view = self._read(info)
        stored = self._rows(info, ids, point, view)
        present = [i for i in ids if i in stored]
        if present:
            target = milvus_collection(info.name)
            with self._milvus("delete", info.name):
                self._client.delete(
                    target, filter=f"pk in {keys_literal(map(key_of, present))}", **self._deadline
                )
            self._recent.record(info.name, self._stamp(target), deleted=present)
        return DeleteResult(len(present), [i for i in ids if i not in stored])

    def _upsert(self, info: CollectionInfo, images: list[StoredImage]) -> None:
        """Writes rows; once Milvus has them, reads through this engine see them at once."""
        target = milvus_collection(info.name)
        for start in range(0, len(images), _KEYS_A_QUERY):
            chunk = images[start : start + _KEYS_A_QUERY]
            with self._milvus("add", info.name):
                self._client.upsert(target, [_row(image) for image in chunk], **self._deadline)
            self._recent.record(info.name, self._stamp(target), chunk)
        unsealed = self._unsealed.get(target, 0) + len(images)
        if unsealed >= FLUSH_ROWS:
            self._flusher.submit(self._flush, target)
            unsealed = 0
        self._unsealed[target] = unsealed

    def _flush(self, target: str) -> None:
        """Seals a collection's recent rows (the flush thread); a failure is only logged:
        the rows are stored either way, and the next flush seals them."""
        try:
            with self._milvus("flush", target):
                self._client.flush(target, **self._schema_deadline)
        except Exception as exc:
            log.warning("Milvus flush of %s failed: %s", target, exc)

    @staticmethod
    def _stamp(target: str) -> int:
        """A timestamp at or after the one Milvus gave this process's last write to
        `target` (pymilvus keeps it); the clock's where Milvus gives none (Lite)."""
        from pymilvus.client import ts_utils

        return int(ts_utils.get_collection_ts(target)) or milvus_timestamp(time.time())

    # -- reads ------------------------------------------------------------------------------
    def _read(self, info: CollectionInfo) -> tuple[int, View]:
        """A read's point and this engine's writes Milvus may not show there."""
        point = self._point.now()
        return point, self._recent.view(info.name, point)

    def _milvus_rows(
        self, info: CollectionInfo, ids: Sequence[str], point: int
    ) -> dict[str, StoredImage]:
        """The rows Milvus holds at the read point among these ids, by id."""
        found: dict[str, StoredImage] = {}
        keys = [key_of(i) for i in ids]
        for start in range(0, len(keys), _KEYS_A_QUERY):
            chunk = keys[start : start + _KEYS_A_QUERY]
            with self._milvus("read", info.name):
                rows = self._client.query(
                    milvus_collection(info.name),
                    filter=f"pk in {keys_literal(chunk)}",
                    output_fields=_FIELDS,
                    **at(point),
                    **self._deadline,
                )
            found.update((image.id, image) for image in (_stored(info, r) for r in rows))
        return found

    def _rows(
        self, info: CollectionInfo, ids: Sequence[str], point: int, view: View
    ) -> dict[str, StoredImage]:
        """The stored images among these ids, by id: Milvus's rows with the view's over
        them."""
        found = self._milvus_rows(info, [i for i in ids if not view.overrides(i)], point)
        for image_id in ids:
            if view.overrides(image_id) and (image := view.latest[image_id]) is not None:
                found[image_id] = image
        return found

    def get(self, collection: str, image_id: str) -> StoredImage:
        """The stored image of that id; raises UnknownId."""
        info = self._get(collection)
        bounds.check_id(image_id)
        stored = self._rows(info, [image_id], *self._read(info)).get(image_id)
        if stored is None:
            raise UnknownId(f"no image {image_id!r} in collection {info.name!r}")
        return stored

    def get_many(
        self, collection: str, ids: Sequence[str], thumbnails: bool = False
    ) -> dict[str, StoredImage]:
        """The stored images among these ids, by id (no collection here keeps thumbnails)."""
        info = self._get(collection)
        bounds.check_many_ids(ids)
        return self._rows(info, list(ids), *self._read(info))

    def list_images(
        self, collection: str, after_id: str = "", limit: int = 100
    ) -> list[StoredImage]:
        """Up to `limit` images with ids after `after_id`, in id order. Milvus returns rows
        in no order, so this reads every later key of the collection to page: a full pass
        per page (fine for Get-style paging, slow for listing millions)."""
        info = self._get(collection)
        bounds.check_page_size(limit)
        point, view = self._read(info)
        after = key_of(after_id) if after_id else ""
        later = f'pk > "{after}"' if after_id else 'pk != ""'
        keys = [key_of(i) for i, image in view.latest.items() if image is not None]
        keys = heapq.nsmallest(limit, [k for k in keys if k > after])
        with self._milvus("list", info.name):
            iterator = self._client.query_iterator(
                milvus_collection(info.name),
                batch_size=_PAGE,
                filter=later,
                output_fields=["pk"],
                **at(point),
                **self._deadline,
            )
            try:
                while page := iterator.next():
                    listed = (row["pk"] for row in page)
                    fresh = [k for k in listed if not view.overrides(id_from_key(k))]
                    keys = heapq.nsmallest(limit, [*keys, *fresh])
            finally:
                iterator.close()
        ids = [id_from_key(k) for k in keys]
        found = self._rows(info, ids, point, view)
        return [found[i] for i in ids if i in found]

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
        """As `Engine.search` (every search is exact: BIN_FLAT; crop hashes are unused:
        Milvus collections have none), at the read point. A budget is never met: every
        search is a round trip to Milvus."""
        if budget is not None:
            raise OverBudget("a Milvus search is a network round trip")
        info = self._get(collection)
        query = as_query(query, crop_queries, query_quality)
        if query.stored_id is not None:
            query = Query.of_stored(self.get(collection, query.stored_id))
        plan = plan_search(info, query, k, radius)
        point, view = self._read(info)
        wanted = _Wanted(query.picture, plan.top_k, plan.within, exclude_id)
        [(matches, truncated)] = self._nearest(info, [wanted], point, view)
        return SearchResult(
            matches, SearchPath.EXACT, truncated, query.fingerprint, plan.note, query.quality
        )

    def search_by_id(self, collection: str, image_id: str, **options: Any) -> SearchResult:
        """`search` with the stored hash of an id."""
        return self.search(collection, Query.of_id(image_id), **options)

    def _nearest(
        self,
        info: CollectionInfo,
        asked: Sequence[_Wanted],
        point: int,
        view: View,
        slack: int = 0,
    ) -> list[tuple[list[Match], bool]]:
        """For each question, the images nearest to any of its codes, each once at its
        nearest (with the orientation of the code that matched), nearest first, ties by id:
        at most k, within radius; and whether a radius question had more than the engine's
        result limit. The questions of one radius go to Milvus as one search; the view's
        images join Milvus's and replace them by id; `slack` more are asked for each (the
        adds of a group, which may replace Milvus's rows). Images below the collection's
        quality floor match only at distance 0 (see `_floored`)."""
        by_radius: dict[int | None, list[int]] = {}
        for i, wanted in enumerate(asked):
            by_radius.setdefault(wanted.radius, []).append(i)
        hits: list[list[list[dict[str, Any]]]] = [[] for _ in asked]
        capped = [False] * len(asked)
        for radius, members in by_radius.items():
            questions = [asked[i] for i in members]
            extra = len(view.latest) + slack + 1  # hidden by the view, the group, exclude_id
            limits = [self._limit(w.k) + extra for w in questions]
            answers, full = self._floored(info, questions, limits, radius, point)
            for i, answer, at_cap in zip(members, answers, full, strict=True):
                hits[i], capped[i] = answer, at_cap
        keys = {hit["id"] for per_question in hits for per_code in per_question for hit in per_code}
        ids = [id_from_key(k) for k in keys if not view.overrides(id_from_key(k))]
        rows = self._milvus_rows(info, ids, point) if ids else {}
        return [
            self._answer(info, wanted, per_code, rows, view, at_cap)
            for wanted, per_code, at_cap in zip(asked, hits, capped, strict=True)
        ]

    def _limit(self, k: int | None) -> int:
        return k if k is not None else self.settings.result_limit + 1

    def _answer(
        self,
        info: CollectionInfo,
        wanted: _Wanted,
        per_code: list[list[dict[str, Any]]],
        rows: Mapping[str, StoredImage],
        view: View,
        capped: bool,
    ) -> tuple[list[Match], bool]:
        """One question's matches from Milvus's hits for its codes and the view."""
        best: dict[str, tuple[int, int, StoredImage]] = {}

        def offer(image: StoredImage, distance: int, which: int) -> None:
            if image.id == wanted.exclude_id:
                return
            nearest = best.get(image.id)
            if nearest is None or (distance, which) < nearest[:2]:
                best[image.id] = (distance, which, image)

        for which, code_hits in enumerate(per_code):
            for hit in code_hits:
                image_id = id_from_key(hit["id"])
                if not view.overrides(image_id) and image_id in rows:  # else deleted meanwhile
                    offer(rows[image_id], int(hit["distance"]), which)
        for image, distance, which in _kept_near(view, wanted, info.min_quality):
            offer(image, distance, which)
        ordered = sorted(best.items(), key=lambda item: (item[1][0], item[0]))
        limit = wanted.k if wanted.k is not None else self.settings.result_limit
        matches = [
            Match(image, distance, wanted.sent[which].orientation)
            for _, (distance, which, image) in ordered[:limit]
        ]
        truncated = wanted.k is None and (capped or len(ordered) > limit)
        return matches, truncated

    def _floored(
        self,
        info: CollectionInfo,
        questions: Sequence[_Wanted],
        limits: Sequence[int],
        radius: int | None,
        point: int,
    ) -> tuple[list[list[list[dict[str, Any]]]], list[bool]]:
        """Milvus's hits for each question's codes (one search for all), and whether any of
        its lists reached Milvus's cap. Images below the collection's quality floor count at
        distance 0 only: one search, those images dropped beyond 0; where that may have cut
        a full answer short, that question again as a search that keeps them out beyond 0
        beside one of distance 0 that keeps all."""
        codes = [code.fingerprint.value for w in questions for code in w.sent]
        limit = max(limits)
        floor = info.min_quality if radius != 0 else 0
        found, asked = self._widening(info, codes, limit, radius, "", point)
        answers: list[list[list[dict[str, Any]]]] = []
        full: list[bool] = []
        start = 0
        for wanted in questions:
            mine = found[start : start + len(wanted.sent)]
            start += len(wanted.sent)
            kept = [[h for h in hits if _above_floor(h, floor)] for hits in mine]
            pairs = zip(kept, mine, strict=True)
            short = any(len(k) < len(h) and len(h) >= asked for k, h in pairs)
            if short:
                own = [code.fingerprint.value for code in wanted.sent]
                above = f"(quality < 0 or quality >= {floor})"
                kept = self._search(info, own, limit, radius, above, point)
                kept += self._search(info, own, limit, 0, "", point)
                n = len(own)
                kept = [kept[i] + kept[i + n] for i in range(n)]
            answers.append(kept)
            full.append(any(len(h) >= MILVUS_RESULT_CAP for h in mine))
        return answers, full

    def _widening(
        self,
        info: CollectionInfo,
        codes: list[int],
        limit: int,
        radius: int | None,
        expression: str,
        point: int,
    ) -> tuple[list[list[dict[str, Any]]], int]:
        """Milvus's hits for the codes, and how many were asked: a radius search asks for a
        few first and for `limit` (within the cap) only when some list came back full; a
        top-k search (no radius) asks for `limit` at once, as its answer is always full."""
        limit = min(limit, MILVUS_RESULT_CAP)
        first = min(limit, _FIRST_ASK) if radius is not None else limit
        found = self._search(info, codes, first, radius, expression, point)
        if first < limit and any(len(hits) >= first for hits in found):
            return self._search(info, codes, limit, radius, expression, point), limit
        return found, first

    def _search(
        # The hits' keys, distances and qualities only: Milvus Lite 2.5's server failed
        # searches asking for the vectors back after some sequences of writes (seen with 4
        # rows and with 360; not isolated), then retried for minutes; rows are read by key.
        self,
        info: CollectionInfo,
        codes: list[int],
        limit: int,
        radius: int | None,
        expression: str,
        point: int,
    ) -> list[list[dict[str, Any]]]:
        params: dict[str, Any] = {"metric_type": "HAMMING"}
        if radius is not None:  # Milvus's radius is exclusive: distance < radius
            params["params"] = {"radius": radius + 1, "range_filter": 0}
        with self._milvus("search", info.name):
            result = self._client.search(
                milvus_collection(info.name),
                data=[code_bytes(c) for c in codes],
                anns_field="code",
                limit=min(limit, MILVUS_RESULT_CAP),
                filter=expression,
                search_params=params,
                output_fields=["quality"],
                **at(point),
                **self._deadline,
            )
        return [list(hits) for hits in result]

    def near_codes(
        self, collection: str, codes: Sequence[int], radius: int
    ) -> list[list[tuple[int, int]]]:
        """For each code, the stored codes within `radius` and their distances, exact: one
        search each, or, where one hits Milvus's cap, one per distance (Unsupported when a
        single distance holds more than the cap)."""
        info = self._get(collection)
        bounds.check_radius(radius)
        point, view = self._read(info)
        answers = []
        for code in codes:
            near: dict[str, tuple[int, int]] = {}
            bands: list[tuple[int, int | None]] = [(radius, None)]
            while bands:
                outer, inner = bands.pop()
                hits = self._band(info, code, outer, inner, point, view)
                if len(hits) < MILVUS_RESULT_CAP:
                    near.update(hits)
                elif inner is None:
                    bands = [(d, d) for d in range(radius + 1)]
                else:
                    raise Unsupported(
                        f"more than {MILVUS_RESULT_CAP} images of collection {info.name!r} "
                        f"lie {inner} bits from one code: Milvus cannot list them"
                    )
            for image, distance, _ in view.near([code], radius):
                near[image.id] = (image.fingerprint.value, distance)
            codes_found = set(near.values())  # each stored code once, however many carry it
            answers.append(sorted(codes_found, key=lambda cd: (cd[1], cd[0])))
        return answers

    def _band(
        self, info: CollectionInfo, code: int, outer: int, inner: int | None, point: int, view: View
    ) -> dict[str, tuple[int, int]]:
        """(code, distance) by id of the images Milvus holds within `outer` bits (exactly
        `inner` when set), those the view overrides left out."""
        params = {"radius": outer + 1, "range_filter": 0 if inner is None else inner}
        with self._milvus("search", info.name):
            [hits] = self._client.search(
                milvus_collection(info.name),
                data=[code_bytes(code)],
                anns_field="code",
                limit=MILVUS_RESULT_CAP,
                output_fields=[],
                search_params={"metric_type": "HAMMING", "params": params},
                **at(point),
                **self._deadline,
            )
        distances = {id_from_key(hit["id"]): int(hit["distance"]) for hit in hits}
        ids = [i for i in distances if not view.overrides(i)]
        rows = self._milvus_rows(info, ids, point)
        return {i: (image.fingerprint.value, distances[i]) for i, image in rows.items()}

    # -- figures and upkeep -----------------------------------------------------------------
    def stats(self, collection: str) -> CollectionStats:
        """Counts and structure; Milvus keeps no sequences or snapshots of ours."""
        info = self.collection(collection)
        return CollectionStats(
            info,
            info.image_count,
            0,
            "Milvus BIN_FLAT (HAMMING)",
            SearchPath.EXACT,
            0,
            0,
            -1.0,
            0,
            0,
            default_radius_path=SearchPath.EXACT,
            search_paths_note="Milvus answers every search with an exact BIN_FLAT scan",
        )

    @property
    def pending_writes(self) -> int:
        """Writes queued for the engine's write queue."""
        return self._writes.pending

    def reachable(self) -> bool:
        """Whether Milvus answers a read of the default collection (which every server has
        and none can drop) at the engine's read point, now. After a restart Milvus answers
        other calls while it loads its collections again and catches up with their writes
        (a while: the restart test waits for it); if it no longer holds the collection
        loaded, it is loaded here."""
        from pymilvus.client.types import LoadState

        if self._closed:
            return False
        probe = {"timeout": _PROBE_SECONDS}
        target = milvus_collection(bounds.DEFAULT_COLLECTION)
        try:
            if self._client.get_load_state(target, **probe)["state"] == LoadState.NotLoad:
                self._client.load_collection(target, **self._schema_deadline)
            self._client.query(
                target,
                filter='pk == ""',
                output_fields=["pk"],
                limit=1,
                **at(self._point.now()),
                **probe,
            )
        except Exception:  # any failure to answer is the same "no"
            return False
        return True

    def snapshot(self, collection: str | None = None) -> list[SnapshotInfo]:
        """Unsupported: Milvus persists its own segments."""
        raise Unsupported(
            "the Milvus engine keeps no snapshots: Milvus persists its own segments (flush)"
        )

    def compact(self, collection: str) -> CompactionReport:
        """Unsupported: Milvus compacts its own segments."""
        raise Unsupported("the Milvus engine does not compact: Milvus compacts its own segments")

    def close(self) -> None:
        """Applies the queued writes for up to one call deadline (those left fail: none was
        acknowledged), then closes the connection, which ends the calls still waiting on
        Milvus: a Milvus that does not answer never holds a closing server."""
        if self._closed:
            return
        self._closed = True
        self._writes.close(self._call_seconds)
        self._flusher.shutdown(wait=False, cancel_futures=True)
        client = getattr(self, "_client", None)
        if client is not None:
            client.close()
        self._reads.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> MilvusEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _above_floor(hit: Mapping[str, Any], floor: int) -> bool:
    """Whether a search hit counts under a quality floor: at distance 0, or of a quality
    unknown or at least the floor."""
    quality = int(hit["entity"]["quality"])
    return int(hit["distance"]) == 0 or quality == _UNKNOWN_QUALITY or quality >= floor


def _kept_near(
    view: View, wanted: _Wanted, min_quality: int
) -> Iterator[tuple[StoredImage, int, int]]:
    """(image, distance, index of the nearest code) of the view's images that answer the
    question: within its radius, not its excluded id, and above the quality floor unless at
    distance 0 (as `_above_floor` is for Milvus's hits)."""
    floor = min_quality if wanted.radius != 0 else 0
    codes = [code.fingerprint.value for code in wanted.sent]
    for image, distance, which in view.near(codes, wanted.radius):
        if image.id == wanted.exclude_id:
            continue
        if distance == 0 or image.quality is None or image.quality >= floor:
            yield image, distance, which


def _with_group(
    matches: list[Match], wanted: _Wanted, written: Mapping[str, StoredImage], min_quality: int
) -> list[Match]:
    """An add's duplicates with the earlier adds of its group (written after what Milvus and
    the view showed it, so they replace images of the same id)."""
    if not written:
        return matches
    best = {m.image.id: m for m in matches if m.image.id not in written}
    for image, distance, which in _kept_near(View(written), wanted, min_quality):
        best[image.id] = Match(image, distance, wanted.sent[which].orientation)
    return sorted(best.values(), key=lambda m: (m.distance, m.image.id))[: wanted.k]


def _row(stored: StoredImage) -> dict[str, Any]:
    return {
        "pk": key_of(stored.id),
        "code": code_bytes(stored.fingerprint.value),
        "quality": _UNKNOWN_QUALITY if stored.quality is None else stored.quality,
        "metadata": stored.metadata,
        "sequence": stored.sequence,
        "added_unix_ms": stored.added_unix_ms,
    }


def _stored(info: CollectionInfo, row: Mapping[str, Any]) -> StoredImage:
    quality = int(row["quality"])
    return StoredImage(
        info.name,
        id_from_key(row["pk"]),
        Fingerprint(code_from_bytes(row["code"]), info.algorithm),
        dict(row["metadata"]),
        int(row["sequence"]),
        int(row["added_unix_ms"]),
        None if quality == _UNKNOWN_QUALITY else quality,
    )
