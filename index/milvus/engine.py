"""`MilvusEngine`: the engine seam over a Milvus database (Lite, standalone or a cluster).

Every neardup collection is a Milvus collection (`names.milvus_collection`) with one row per
image: `pk` (the id, `names.key_of`), `code` (BINARY_VECTOR, 64 bits, BIN_FLAT index,
HAMMING metric: exact), `quality` (-1: unknown), `metadata` (JSON), `sequence` (the write's
nanosecond clock) and `added_unix_ms`. Definitions (algorithm, default radius, quality floor)
are rows of a registry collection, so every server sharing the Milvus sees the same ones.

Consistency: searches read Bounded (Milvus's default: a write from another server shows up
within its staleness bound, and Strong costs a round of the whole cluster on each search);
what must read the caller's own writes reads Strong: an add's id check and duplicate search,
Get, GetMany, List and Delete's check. Writes are `upsert`s, acknowledged once Milvus has
them. A radius query asks Milvus for the engine's `result_limit` + 1 matches (within
Milvus's cap of 16,384 a query) and says `truncated` past the limit; `near_codes`, which
must be complete, reads distance by distance and refuses (Unsupported) a single distance
holding more than the cap. Snapshots and compaction are Milvus's own: Unsupported here, as
are crop hashes and per-collection index parameters.

Thread-safety: every public method may be called from any thread; pymilvus's client is
shared, writes run on the engine's pool.
"""

from __future__ import annotations

import heapq
import json
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from .. import bounds
from ..errors import (
    CollectionExists,
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

__all__ = ["MILVUS_RESULT_CAP", "MilvusEngine"]

log = logging.getLogger(__name__)

# The most matches Milvus returns for one query vector (its topk bound).
MILVUS_RESULT_CAP = 16_384
_FIELDS = ["pk", "code", "quality", "metadata", "sequence", "added_unix_ms"]
_UNKNOWN_QUALITY = -1
_MAX_KEY = 2 * bounds.MAX_ID_BYTES
_STRONG = "Strong"
# A definition's format: 2 since `phash` finds borders on one grid (a "phash" definition of
# format 1 was hashed by what is now `phash-2`).
_DEFINITION_FORMAT = 2
_BOUNDED = "Bounded"
_PAGE = MILVUS_RESULT_CAP
# How long one Milvus call may take, its retries included (pymilvus retries a failing call
# for minutes otherwise).
_CALL_SECONDS = 60.0


def _now_ms() -> int:
    return int(time.time() * 1000)


class MilvusEngine:
    """The engine seam over Milvus (see the module docstring)."""

    def __init__(
        self, uri: str, token: str = "", settings: EngineSettings | None = None, workers: int = 8
    ) -> None:
        from pymilvus import MilvusClient

        self.uri = uri
        self.settings = settings or EngineSettings()
        with milvus_failures("connection"):
            self._client = MilvusClient(uri=uri, token=token, timeout=_CALL_SECONDS)
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="milvus-write")
        self._reads = ThreadPoolExecutor(workers, thread_name_prefix="milvus-read")
        self._definitions: dict[str, CollectionInfo] = {}
        self._lock = threading.Lock()
        self._closed = False
        try:
            self._ensure_registry()
            if not self._definition_in_registry(bounds.DEFAULT_COLLECTION):
                self.create_collection(bounds.DEFAULT_COLLECTION)
        except BaseException:
            self.close()
            raise

    # -- the registry of definitions --------------------------------------------------------
    def _ensure_registry(self) -> None:
        from pymilvus import DataType

        client = self._client
        with milvus_failures("registry setup"):
            if client.has_collection(REGISTRY):
                return
            schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("name", DataType.VARCHAR, is_primary=True, max_length=256)
            schema.add_field("definition", DataType.VARCHAR, max_length=4096)
            # Milvus wants a vector field in every collection; the registry's is unused.
            schema.add_field("unused", DataType.BINARY_VECTOR, dim=8)
            index = client.prepare_index_params()
            index.add_index("unused", index_type="BIN_FLAT", metric_type="HAMMING")
            client.create_collection(REGISTRY, schema=schema, index_params=index)

    def _definition_in_registry(self, name: str) -> CollectionInfo | None:
        with milvus_failures("registry read"):
            rows = self._client.query(
                REGISTRY,
                filter=f'name == "{name}"',
                output_fields=["definition"],
                consistency_level=_STRONG,
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
        with self._lock, milvus_failures("collection creation", name):
            if self._definition_in_registry(name) is not None:
                raise CollectionExists(f"a collection named {name!r} exists")
            if not client.has_collection(target):
                schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
                schema.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=_MAX_KEY)
                schema.add_field("code", DataType.BINARY_VECTOR, dim=64)
                schema.add_field("quality", DataType.INT64)
                schema.add_field("metadata", DataType.JSON)
                schema.add_field("sequence", DataType.INT64)
                schema.add_field("added_unix_ms", DataType.INT64)
                index = client.prepare_index_params()
                index.add_index("code", index_type="BIN_FLAT", metric_type="HAMMING")
                client.create_collection(target, schema=schema, index_params=index)
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
            )
        self._definitions[name] = info
        return info

    def drop_collection(self, name: str) -> int:
        """Drops the collection's Milvus collection and definition; returns its image count."""
        if (name or bounds.DEFAULT_COLLECTION) == bounds.DEFAULT_COLLECTION:
            raise InvalidArgument("the default collection cannot be dropped", "name")
        info = self._get(name)
        count = self._count(info)
        with self._lock, milvus_failures("collection drop", name):
            self._client.drop_collection(milvus_collection(name))
            self._client.delete(REGISTRY, filter=f'name == "{name}"')
        self._forget(name)
        return count

    def _count(self, info: CollectionInfo) -> int:
        with milvus_failures("count", info.name):
            rows = self._client.query(
                milvus_collection(info.name),
                filter="",
                output_fields=["count(*)"],
                consistency_level=_STRONG,
            )
        return int(rows[0]["count(*)"])

    def collections(self) -> list[CollectionInfo]:
        """Every registered collection, by name, with its image count."""
        with milvus_failures("registry read"):
            rows = self._client.query(
                REGISTRY, filter='name != ""', output_fields=["name"], consistency_level=_STRONG
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
        collections keep neither). Its id check and duplicate search read Strong, so they see
        the caller's own earlier adds."""
        info = self._get(collection)
        plan = plan_add(
            info, image_id, fingerprint, metadata, duplicate_radius, quality, max_duplicates
        )
        meta, radius, note = plan.metadata, plan.radius, plan.note

        def op() -> AddResult:
            # The id check and the duplicate search each wait a Strong read: side by side.
            stored_now = self._reads.submit(self._rows, info, [image_id])
            duplicates: list[Match] = []
            if find_duplicates or reject_duplicates:
                turned = orientations if info.orientations else ()
                sent = Query.of_hash(fingerprint, orientations=turned).codes
                duplicates, _ = self._nearest(info, sent, max_duplicates, radius, image_id, _STRONG)
            existing = stored_now.result().get(image_id)
            if existing is not None and on_existing is OnExistingId.ERROR:
                raise IdExists(
                    f"id {image_id!r} is stored in {info.name!r}; ask to replace or skip it"
                )
            if existing is not None and on_existing is OnExistingId.SKIP:
                return AddResult(AddOutcome.SKIPPED_EXISTING, existing, [])
            stored = StoredImage(
                info.name, image_id, fingerprint, meta, time.time_ns(), _now_ms(), quality
            )
            if reject_duplicates and duplicates:
                return AddResult(AddOutcome.REJECTED_DUPLICATE, stored, duplicates, note)
            with milvus_failures("add", info.name):
                self._client.upsert(milvus_collection(info.name), [_row(stored)])
            outcome = AddOutcome.ADDED if existing is None else AddOutcome.REPLACED
            return AddResult(outcome, stored, duplicates, note)

        return self._pool.submit(op)

    def add(
        self, collection: str, image_id: str, fingerprint: Fingerprint, **options: Any
    ) -> AddResult:
        """`submit_add` and wait (same options)."""
        return self.submit_add(collection, image_id, fingerprint, **options).result()

    def add_batch(self, collection: str, items: Sequence[BatchItem]) -> list[bool]:
        """Bulk load: one upsert of the items whose ids are not stored (read Strong); returns,
        per item, whether it was stored."""
        info = self._get(collection)
        checked: list[StoredImage] = []
        now, sequence = _now_ms(), time.time_ns()
        for item in items:  # crop hashes are ignored: Milvus collections have none
            image_id, fingerprint, metadata, quality, *_ = BatchRow(*item)
            bounds.check_id(image_id)
            check_fingerprint(info, fingerprint, "hash")
            if quality is not None:
                bounds.check_quality(quality, "quality")
            meta = bounds.check_metadata(metadata)
            checked.append(
                StoredImage(info.name, image_id, fingerprint, meta, sequence, now, quality)
            )
        stored = self._rows(info, [image.id for image in checked])
        new, seen = [], set(stored)
        for image in checked:
            if image.id not in seen:
                new.append(image)
                seen.add(image.id)
        if new:
            with milvus_failures("bulk add", info.name):
                self._client.upsert(milvus_collection(info.name), [_row(i) for i in new])
        kept = {id(image) for image in new}
        return [id(image) in kept for image in checked]

    def submit_delete(self, collection: str, ids: Sequence[str]) -> Future[DeleteResult]:
        """Queues a delete; the future resolves once Milvus has it."""
        info = self._get(collection)
        wanted = list(dict.fromkeys(bounds.check_delete_ids(ids)))

        def op() -> DeleteResult:
            stored = self._rows(info, wanted)
            present = [i for i in wanted if i in stored]
            if present:
                with milvus_failures("delete", info.name):
                    self._client.delete(
                        milvus_collection(info.name),
                        filter=f"pk in {keys_literal(map(key_of, present))}",
                    )
            return DeleteResult(len(present), [i for i in wanted if i not in stored])

        return self._pool.submit(op)

    def delete(self, collection: str, ids: Sequence[str]) -> DeleteResult:
        """`submit_delete` and wait."""
        return self.submit_delete(collection, ids).result()

    # -- reads ------------------------------------------------------------------------------
    def _rows(
        self, info: CollectionInfo, ids: Sequence[str], consistency: str = _STRONG
    ) -> dict[str, StoredImage]:
        """The stored images among these ids, by id (read Strong unless told)."""
        found: dict[str, StoredImage] = {}
        keys = [key_of(i) for i in ids]
        for start in range(0, len(keys), 1000):
            chunk = keys[start : start + 1000]
            with milvus_failures("read", info.name):
                rows = self._client.query(
                    milvus_collection(info.name),
                    filter=f"pk in {keys_literal(chunk)}",
                    output_fields=_FIELDS,
                    consistency_level=consistency,
                )
            found.update((image.id, image) for image in (_stored(info, r) for r in rows))
        return found

    def get(self, collection: str, image_id: str) -> StoredImage:
        """The stored image of that id; raises UnknownId."""
        info = self._get(collection)
        bounds.check_id(image_id)
        stored = self._rows(info, [image_id]).get(image_id)
        if stored is None:
            raise UnknownId(f"no image {image_id!r} in collection {info.name!r}")
        return stored

    def get_many(
        self, collection: str, ids: Sequence[str], thumbnails: bool = False
    ) -> dict[str, StoredImage]:
        """The stored images among these ids, by id (no collection here keeps thumbnails)."""
        info = self._get(collection)
        bounds.check_many_ids(ids)
        return self._rows(info, list(ids))

    def list_images(
        self, collection: str, after_id: str = "", limit: int = 100
    ) -> list[StoredImage]:
        """Up to `limit` images with ids after `after_id`, in id order. Milvus returns rows
        in no order, so this reads every later key of the collection to page: a full pass
        per page (fine for Get-style paging, slow for listing millions)."""
        info = self._get(collection)
        bounds.check_page_size(limit)
        later = f'pk > "{key_of(after_id)}"' if after_id else 'pk != ""'
        keys: list[str] = []
        with milvus_failures("list", info.name):
            iterator = self._client.query_iterator(
                milvus_collection(info.name),
                batch_size=_PAGE,
                filter=later,
                output_fields=["pk"],
                consistency_level=_STRONG,
            )
            try:
                while page := iterator.next():
                    keys = heapq.nsmallest(limit, [*keys, *(row["pk"] for row in page)])
            finally:
                iterator.close()
        ids = [id_from_key(k) for k in keys]
        found = self._rows(info, ids)
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
        Milvus collections have none); read Bounded. A budget is never met: every search
        is a round trip to Milvus."""
        if budget is not None:
            raise OverBudget("a Milvus search is a network round trip")
        info = self._get(collection)
        query = as_query(query, crop_queries, query_quality)
        if query.stored_id is not None:
            query = Query.of_stored(self.get(collection, query.stored_id))
        plan = plan_search(info, query, k, radius)
        top_k, within, note = plan.top_k, plan.within, plan.note
        matches, truncated = self._nearest(info, query.picture, top_k, within, exclude_id, _BOUNDED)
        return SearchResult(
            matches, SearchPath.EXACT, truncated, query.fingerprint, note, query.quality
        )

    def search_by_id(self, collection: str, image_id: str, **options: Any) -> SearchResult:
        """`search` with the stored hash of an id."""
        return self.search(collection, Query.of_id(image_id), **options)

    def _nearest(
        self,
        info: CollectionInfo,
        sent: Sequence[QueryCode],
        k: int | None,
        radius: int | None,
        exclude_id: str | None,
        consistency: str,
    ) -> tuple[list[Match], bool]:
        """Images nearest to any of the query's codes, each once at its nearest (with the
        orientation of the code that matched), nearest first, ties by id: at most k, within
        radius; and whether a radius query had more than the engine's result limit. Images
        below the collection's quality floor match only at distance 0: one search, those
        images dropped beyond 0; where that may have cut a full answer short, a search that
        keeps them out beyond 0 beside one of distance 0 that keeps all."""
        codes = [code.fingerprint.value for code in sent]
        limit = k if k is not None else self.settings.result_limit + 1
        full = min(limit, MILVUS_RESULT_CAP)
        excluded = "" if exclude_id is None else f'pk != "{key_of(exclude_id)}"'
        floor = info.min_quality if radius != 0 else 0
        found = self._search(info, codes, limit, radius, excluded, consistency)
        kept = [[h for h in hits if _above_floor(h, floor)] for hits in found]
        if any(len(k_) < len(h) and len(h) >= full for k_, h in zip(kept, found, strict=True)):
            above = f"(quality < 0 or quality >= {floor})"
            filtered = " and ".join(filter(None, [excluded, above]))
            kept = self._search(info, codes, limit, radius, filtered, consistency)
            kept += self._search(info, codes, limit, 0, excluded, consistency)
        best: dict[str, tuple[int, int]] = {}
        capped = False
        for query, hits in enumerate(kept):
            query %= len(codes)
            capped = capped or len(hits) >= full
            for hit in hits:
                distance = int(hit["distance"])
                nearest = best.get(hit["id"])
                if nearest is None or (distance, query) < nearest:
                    best[hit["id"]] = (distance, query)
        ordered = sorted(best.items(), key=lambda item: (item[1][0], item[0]))[
            : k if k is not None else self.settings.result_limit
        ]
        ids = [id_from_key(key) for key, _ in ordered]
        rows = self._rows(info, ids, consistency)
        matches = [
            Match(rows[image_id], distance, sent[query].orientation)
            for image_id, (_, (distance, query)) in zip(ids, ordered, strict=True)
            if image_id in rows  # deleted meanwhile
        ]
        truncated = k is None and (capped or len(best) > self.settings.result_limit)
        return matches, truncated

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
        consistency: str,
    ) -> list[list[dict[str, Any]]]:
        params: dict[str, Any] = {"metric_type": "HAMMING"}
        if radius is not None:  # Milvus's radius is exclusive: distance < radius
            params["params"] = {"radius": radius + 1, "range_filter": 0}
        with milvus_failures("search", info.name):
            result = self._client.search(
                milvus_collection(info.name),
                data=[code_bytes(c) for c in codes],
                anns_field="code",
                limit=min(limit, MILVUS_RESULT_CAP),
                filter=expression,
                search_params=params,
                output_fields=["quality"],
                consistency_level=consistency,
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
        answers = []
        for code in codes:
            near: dict[int, int] = {}
            bands: list[tuple[int, int | None]] = [(radius, None)]
            while bands:
                outer, inner = bands.pop()
                hits = self._band(info, code, outer, inner)
                if len(hits) < MILVUS_RESULT_CAP:
                    near.update(hits)
                elif inner is None:
                    bands = [(d, d) for d in range(radius + 1)]
                else:
                    raise Unsupported(
                        f"more than {MILVUS_RESULT_CAP} images of collection {info.name!r} "
                        f"lie {inner} bits from one code: Milvus cannot list them"
                    )
            answers.append(sorted(near.items(), key=lambda cd: (cd[1], cd[0])))
        return answers

    def _band(
        self, info: CollectionInfo, code: int, outer: int, inner: int | None
    ) -> list[tuple[int, int]]:
        """(code, distance) of the images within `outer` bits (exactly `inner` when set)."""
        params = {"radius": outer + 1, "range_filter": 0 if inner is None else inner}
        with milvus_failures("search", info.name):
            [hits] = self._client.search(
                milvus_collection(info.name),
                data=[code_bytes(code)],
                anns_field="code",
                limit=MILVUS_RESULT_CAP,
                output_fields=[],
                search_params={"metric_type": "HAMMING", "params": params},
            )
        distances = {id_from_key(hit["id"]): int(hit["distance"]) for hit in hits}
        rows = self._rows(info, list(distances), _BOUNDED)
        return [(image.fingerprint.value, distances[i]) for i, image in rows.items()]

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
        """Writes queued for the engine's pool."""
        return self._pool._work_queue.qsize()

    def snapshot(self, collection: str | None = None) -> list[SnapshotInfo]:
        """Unsupported: Milvus persists its own segments."""
        raise Unsupported(
            "the Milvus engine keeps no snapshots: Milvus persists its own segments (flush)"
        )

    def compact(self, collection: str) -> CompactionReport:
        """Unsupported: Milvus compacts its own segments."""
        raise Unsupported("the Milvus engine does not compact: Milvus compacts its own segments")

    def close(self) -> None:
        """Finishes queued writes and closes the connection."""
        if self._closed:
            return
        self._closed = True
        self._pool.shutdown(wait=True)
        self._reads.shutdown(wait=True)
        client = getattr(self, "_client", None)
        if client is not None:
            client.close()

    def __enter__(self) -> MilvusEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _above_floor(hit: Mapping[str, Any], floor: int) -> bool:
    """Whether a search hit counts under a quality floor: at distance 0, or of a quality
    unknown or at least the floor."""
    quality = int(hit["entity"]["quality"])
    return int(hit["distance"]) == 0 or quality == _UNKNOWN_QUALITY or quality >= floor


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
