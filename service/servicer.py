"""`NeardupServicer`: every RPC of `neardup.v1`, translated into engine calls.

The engine decides; this module only translates requests into calls and records into
responses, and lets `status` turn engine errors into codes. CPU work (decoding and hashing,
FAISS searches, SQLite) runs in a thread pool, so the event loop never blocks; Pillow and
FAISS release the GIL, so the pool's threads use every core.

Thread-safety: one instance serves all calls on one event loop; the engine is thread-safe.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc
from neardup.index import Backend, CollectionDefinition, OverBudget
from neardup.index.errors import AlgorithmMismatch, InvalidArgument, NeardupError, UnknownId
from neardup.index.fingerprint import DecodeLimits, Fingerprint, ImageHashes
from neardup.index.query import Query, query_of
from neardup.v1 import neardup_pb2 as pb
from neardup.v1 import neardup_pb2_grpc as pb_grpc

from . import messages
from .admission import Admission, Ticket
from .config import (
    DEFAULT_INLINE_SEARCH_SECONDS,
    DEFAULT_MAX_PENDING_BYTES,
    DEFAULT_MAX_PENDING_CALLS,
    DEFAULT_MAX_QUEUE_SECONDS,
)
from .handback import HandBack
from .hashing import Hashing, HashJob
from .status import DeadlinePassed, NotReady, Refusal, refusal, to_status, unexpected

__all__ = ["NeardupServicer", "ServiceLimits"]

T = TypeVar("T")
Context = grpc.aio.ServicerContext

MAX_SEARCH_BATCH = 1000
DEFAULT_PAGE_SIZE = 100
# AddStream keeps this many items in flight (hashing and waiting for their commit), so a
# stream is pipelined but a fast sender cannot make the server buffer without bound: gRPC's
# flow control holds the sender while the window is full.
ADD_STREAM_WINDOW = 32
# A search runs on the event loop only with a bounded answer (the store's lookup of its
# matches runs there too): k at most this.
INLINE_MAX_K = 100
# The method a call's pool work is timed under (`admission` learns what each kind costs).
_CALL_KIND: ContextVar[str] = ContextVar("neardup_call_kind", default="")


@dataclass(frozen=True, slots=True)
class ServiceLimits:
    """What one request may ask for, beyond the engine's own bounds (neardup.index.bounds)."""

    decode: DecodeLimits = field(default_factory=DecodeLimits)
    max_search_batch: int = MAX_SEARCH_BATCH
    # Calls being served at once, their requests' bytes and the seconds of work they
    # bring each worker, beyond which a call is refused with RESOURCE_EXHAUSTED (a
    # stream's items wait): see `admission`.
    max_pending_calls: int = DEFAULT_MAX_PENDING_CALLS
    max_pending_bytes: int = DEFAULT_MAX_PENDING_BYTES
    max_queue_seconds: float = DEFAULT_MAX_QUEUE_SECONDS
    workers: int = 1
    # A Search by hash or id whose index plan is predicted within this many seconds runs
    # on the event loop, not in the pool (0: never): a hand-off to the pool and back costs
    # more than such a search (scripts/bench/service.py times both).
    inline_search_seconds: float = DEFAULT_INLINE_SEARCH_SECONDS


class _AtField(Exception):
    """An engine error raised while handling one request field."""

    def __init__(self, error: NeardupError, field: str) -> None:
        super().__init__(str(error))
        self.error, self.field = error, field


def _refusal_of(exc: BaseException) -> Refusal:
    found = refusal(exc.error, exc.field) if isinstance(exc, _AtField) else refusal(exc)
    return found or unexpected(exc)


def _item_error(exc: BaseException) -> pb.ItemError:
    found = _refusal_of(exc)
    return pb.ItemError(code=found.code.value[0], message=found.message, field=found.field)


Handler = Callable[..., Awaitable[Any]]


def _refusing(handler: Handler) -> Handler:
    """Admits the call (RESOURCE_EXHAUSTED when the server is busy: `admission`) and ends
    it with the mapped status when the engine refuses the request, or with
    DEADLINE_EXCEEDED when its deadline has passed before the work starts or by the time
    the answer is ready (gRPC's own timers can fire late on a loaded machine, and a late
    answer must not reach the caller as a success)."""

    @functools.wraps(handler)
    async def wrapper(self: NeardupServicer, request: Any, context: Any) -> Any:
        try:
            _check_deadline(context)
            _CALL_KIND.set(handler.__name__)
            ticket = await self.admission.enter(request.ByteSize(), handler.__name__, wait=False)
            try:
                response = await handler(self, request, context)
            finally:
                self.admission.leave(ticket)
            _check_deadline(context)
            return response
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await context.abort_with_status(to_status(_refusal_of(exc)))

    return wrapper


def _check_deadline(context: Any) -> None:
    remaining = context.time_remaining()
    if remaining is not None and remaining <= 0:
        raise DeadlinePassed("the call's deadline passed before the server answered it")


def _at(field: str, call: Callable[[], T]) -> T:
    try:
        return call()
    except NeardupError as exc:
        raise _AtField(exc, field) from exc


class NeardupServicer(pb_grpc.NeardupServicer):  # type: ignore[misc]  # generated, untyped
    """The gRPC face of one engine: every method of the generated base, none left to its
    UNIMPLEMENTED default (tests/proto checks the contract's methods are all here)."""

    def __init__(
        self,
        pool: ThreadPoolExecutor,
        limits: ServiceLimits,
        searched: Callable[[str], None] = lambda thread: None,
        hashing: Hashing | None = None,
    ) -> None:
        """`searched` is told where each Search ran: "loop" or "pool" (a metric);
        `hashing` decodes and hashes images (default: on the pool's threads)."""
        self.limits = limits
        self._hashing = hashing or Hashing(0)
        self._handback: HandBack | None = None
        self._searched = searched
        self.admission = Admission(
            limits.max_pending_calls,
            limits.max_pending_bytes,
            limits.workers,
            limits.max_queue_seconds,
        )
        self._pool = pool
        self._engine: Backend | None = None

    @property
    def engine(self) -> Backend:
        """The engine; NotReady (UNAVAILABLE) while the server is loading it."""
        if self._engine is None:
            raise NotReady("the server is loading its indexes; retry shortly")
        return self._engine

    def ready(self, engine: Backend) -> None:
        """Starts serving with a loaded engine."""
        self._engine = engine

    def _left(self, ticket: Ticket, _: object) -> None:
        self.admission.leave(ticket)

    def _hand_back(self) -> HandBack:
        """The hand-back to the running loop (made on the first call; a server has one)."""
        loop = asyncio.get_running_loop()
        if self._handback is None or self._handback.loop is not loop:
            self._handback = HandBack(loop)
        return self._handback

    async def _run(self, call: Callable[[], T]) -> T:
        timed = functools.partial(self._timed, _CALL_KIND.get(), call)
        return await self._hand_back().run(self._pool, timed)

    def _timed(self, kind: str, call: Callable[[], T]) -> T:
        """`call` in a worker, its time reported to `admission` under the call's kind."""
        started = time.perf_counter()
        try:
            return call()
        finally:
            self.admission.observe(kind, time.perf_counter() - started)

    def _hash(
        self,
        data: bytes,
        algorithm: str,
        orientations: bool,
        field: str,
        crops: bool = False,
        thumbnail: bool = False,
    ) -> tuple[ImageHashes, bytes | None]:
        """The image's hashes (and its thumbnail when asked); errors name `field`."""
        job = HashJob(data, algorithm, orientations, crops, thumbnail, self.limits.decode)
        return _at(field, lambda: self._hashing.run(job))

    # -- collections ----------------------------------------------------------------------
    @_refusing
    async def CreateCollection(
        self,
        request: pb.CreateCollectionRequest,
        context: Context[pb.CreateCollectionRequest, pb.Collection],
    ) -> pb.Collection:
        radius = request.default_radius if request.HasField("default_radius") else None
        floor = request.min_quality if request.HasField("min_quality") else None
        info = await self._run(
            lambda: self.engine.create_collection(
                request.name,
                request.algorithm,
                radius,
                messages.index_overrides(request.index),
                min_quality=floor,
                crop_hashes=request.crop_hashes if request.HasField("crop_hashes") else None,
                thumbnails=request.thumbnails,
                orientations=request.orientations if request.HasField("orientations") else True,
            )
        )
        return messages.collection_message(info)

    @_refusing
    async def ListCollections(
        self,
        request: pb.ListCollectionsRequest,
        context: Context[pb.ListCollectionsRequest, pb.ListCollectionsResponse],
    ) -> pb.ListCollectionsResponse:
        infos = await self._run(self.engine.collections)
        return pb.ListCollectionsResponse(
            collections=[messages.collection_message(i) for i in infos]
        )

    @_refusing
    async def DropCollection(
        self,
        request: pb.DropCollectionRequest,
        context: Context[pb.DropCollectionRequest, pb.DropCollectionResponse],
    ) -> pb.DropCollectionResponse:
        removed = await self._run(lambda: self.engine.drop_collection(request.name))
        return pb.DropCollectionResponse(images_removed=removed)

    @_refusing
    async def Stats(
        self, request: pb.StatsRequest, context: Context[pb.StatsRequest, pb.StatsResponse]
    ) -> pb.StatsResponse:
        return messages.stats_message(
            await self._run(lambda: self.engine.stats(request.collection))
        )

    # -- hashing --------------------------------------------------------------------------
    @_refusing
    async def Hash(
        self, request: pb.HashRequest, context: Context[pb.HashRequest, pb.HashResponse]
    ) -> pb.HashResponse:
        hashes, _ = await self._run(
            lambda: self._hash(
                request.image, request.algorithm, request.orientations, "image", request.crops
            )
        )
        return pb.HashResponse(
            hash=messages.fingerprint_message(hashes.fingerprint),
            orientation_hashes=[messages.fingerprint_message(f) for f in hashes.orientations],
            width=hashes.width,
            height=hashes.height,
            format=hashes.format,
            quality=hashes.quality,
            crop_hashes=[messages.fingerprint_message(f) for f in hashes.crop_fingerprints],
            digest=hashes.digest.hex(),
        )

    @_refusing
    async def Compare(
        self, request: pb.CompareRequest, context: Context[pb.CompareRequest, pb.CompareResponse]
    ) -> pb.CompareResponse:
        return await self._run(lambda: self._compare(request))

    def _compare(self, request: pb.CompareRequest) -> pb.CompareResponse:
        for name in ("a", "b"):
            if not request.HasField(name) or getattr(request, name).WhichOneof("operand") is None:
                raise InvalidArgument(f"operand {name} is required: an image or a hash", name)
        hash_operands = [o.hash for o in (request.a, request.b) if o.HasField("hash")]
        algorithm = request.algorithm or next(
            (h.algorithm for h in hash_operands if h.algorithm), "phash"
        )
        if request.orientations and not request.a.HasField("image"):
            raise InvalidArgument("orientations need an image as operand a", "a")

        def operand(name: str, message: pb.CompareOperand, orientations: bool) -> list[Fingerprint]:
            if message.HasField("image"):
                hashes, _ = self._hash(message.image, algorithm, orientations, f"{name}.image")
                return list(hashes.orientations) if orientations else [hashes.fingerprint]
            return [
                _at(
                    f"{name}.hash.hex",
                    lambda: messages.fingerprint_from_message(message.hash, algorithm),
                )
            ]

        a_hashes = operand("a", request.a, request.orientations)
        [b] = operand("b", request.b, False)
        distances = [a.distance(b) for a in a_hashes]
        best = min(range(len(distances)), key=lambda i: (distances[i], i))
        return pb.CompareResponse(
            distance=distances[best],
            similarity=a_hashes[best].similarity(b),
            a=messages.fingerprint_message(a_hashes[best]),
            b=messages.fingerprint_message(b),
            orientation=best,  # type: ignore[arg-type]
        )

    # -- writes ---------------------------------------------------------------------------
    def _add(self, request: pb.AddRequest) -> Any:
        """Hashes (if needed) and submits one add; returns the engine's future."""
        info = self.engine.definition(request.collection)
        source = request.WhichOneof("source")
        quality: int | None
        thumbnail: bytes | None = None
        orientations: Sequence[Fingerprint] = ()
        digest: bytes | None
        if source == "image":
            # a thumbnail is the image decoded again at a small scale: a fraction of the hash
            hashes, thumbnail = self._hash(
                request.image,
                info.algorithm,
                info.orientations,
                "image",
                info.crop_hashes,
                info.thumbnails,
            )
            fingerprint, quality = hashes.fingerprint, hashes.quality
            crops: Sequence[Fingerprint] = hashes.crop_fingerprints
            orientations, digest = hashes.orientations, hashes.digest
        elif source == "hash":
            fingerprint = _at(
                "hash.hex", lambda: messages.fingerprint_from_message(request.hash, info.algorithm)
            )
            quality = request.quality if request.HasField("quality") else None
            crops = _at(
                "crop_hashes",
                lambda: messages.fingerprints_from_messages(request.crop_hashes, info.algorithm),
            )
            thumbnail = request.thumbnail or None
            digest = messages.digest_from_message(request.digest)
        else:
            raise InvalidArgument("an add needs an image or a hash", "source")
        return self.engine.submit_add(
            request.collection,
            request.id,
            fingerprint,
            dict(request.metadata),
            on_existing=messages.on_existing_from_message(request.on_existing_id),
            duplicate_radius=request.duplicate_radius
            if request.HasField("duplicate_radius")
            else None,
            reject_duplicates=request.reject_duplicates,
            max_duplicates=request.max_duplicates or 10,
            quality=quality,
            crops=crops,
            thumbnail=thumbnail,
            orientations=orientations,
            digest=digest,
        )

    async def _added(self, request: pb.AddRequest) -> pb.AddResponse:
        future = await self._run(lambda: self._add(request))
        result = await self._hand_back().wrap(future)
        response = pb.AddResponse(
            outcome=int(result.outcome),  # type: ignore[arg-type]
            image=messages.stored_image_message(result.image),
            quality_note=result.quality_note,
        )
        messages.add_matches(response.duplicates, result.duplicates, True)
        return response

    @_refusing
    async def Add(
        self, request: pb.AddRequest, context: Context[pb.AddRequest, pb.AddResponse]
    ) -> pb.AddResponse:
        return await self._added(request)

    async def AddStream(
        self,
        request_iterator: AsyncIterator[pb.AddRequest],
        context: Context[pb.AddRequest, pb.AddStreamResponse],
    ) -> AsyncIterator[pb.AddStreamResponse]:
        window: asyncio.Queue[tuple[int, str, asyncio.Task[pb.AddResponse]] | None] = asyncio.Queue(
            ADD_STREAM_WINDOW
        )

        async def read() -> None:
            _CALL_KIND.set("Add")  # each item is the work of an Add
            try:
                index = 0
                async for request in request_iterator:
                    # back-pressure when busy
                    ticket = await self.admission.enter(request.ByteSize(), "Add", wait=True)
                    task = asyncio.ensure_future(self._added(request))
                    task.add_done_callback(functools.partial(self._left, ticket))
                    await window.put((index, request.id, task))
                    index += 1
            finally:
                await window.put(None)

        reader = asyncio.ensure_future(read())
        try:
            while (item := await window.get()) is not None:
                index, image_id, task = item
                try:
                    response = pb.AddStreamResponse(index=index, id=image_id, added=await task)
                except Exception as exc:  # one item's failure, the stream goes on
                    response = pb.AddStreamResponse(
                        index=index, id=image_id, error=_item_error(exc)
                    )
                yield response
            await reader  # surfaces a broken request stream
        finally:
            reader.cancel()

    @_refusing
    async def Delete(
        self, request: pb.DeleteRequest, context: Context[pb.DeleteRequest, pb.DeleteResponse]
    ) -> pb.DeleteResponse:
        future = await self._run(
            lambda: self.engine.submit_delete(request.collection, list(request.ids))
        )
        result = await self._hand_back().wrap(future)
        return pb.DeleteResponse(deleted=result.deleted, not_found=result.not_found)

    # -- reads ----------------------------------------------------------------------------
    def _definition(self, collection: str, budget: float | None) -> CollectionDefinition:
        """The collection's definition: with a budget (on the event loop) only from the
        engine's memory, else OverBudget (the pool asks, which may block)."""
        if budget is None:
            return self.engine.definition(collection)
        known = self.engine.known_definition(collection)
        if known is None:
            raise OverBudget("the collection's definition is not in the engine's memory")
        return known

    def _query(self, request: pb.SearchRequest, definition: CollectionDefinition) -> Query:
        """The request's query (`query_of`), errors naming the request's field."""
        kind = request.WhichOneof("query")
        if kind == "image":
            orientations = request.orientations
            hashed, _ = self._hash(
                request.image, definition.algorithm, orientations, "image", definition.crop_hashes
            )
            return query_of(definition, hashed=hashed, orientations=orientations)
        if kind != "hash":
            image_id = request.id if kind == "id" else None
            return query_of(definition, image_id=image_id, orientations=request.orientations)
        algorithm = definition.algorithm
        return query_of(
            definition,
            fingerprint=_at(
                "hash.hex", lambda: messages.fingerprint_from_message(request.hash, algorithm)
            ),
            quality=request.query_quality if request.HasField("query_quality") else None,
            crops=_at(
                "crop_hashes",
                lambda: messages.fingerprints_from_messages(request.crop_hashes, algorithm),
            ),
            orientations=request.orientations,
            digest=messages.digest_from_message(request.digest),
        )

    def _search(self, request: pb.SearchRequest, budget: float | None = None) -> pb.SearchResponse:
        query = self._query(request, self._definition(request.collection, budget))
        by_id = query.stored_id is not None
        try:
            result = self.engine.search(
                request.collection,
                query,
                k=request.k,
                radius=request.max_distance if request.HasField("max_distance") else None,
                exact=request.exact,
                exclude_id=request.id if by_id and request.exclude_self else None,
                budget=budget,
            )
        except AlgorithmMismatch as exc:
            raise _AtField(exc, "hash.algorithm") from exc
        except UnknownId as exc:
            raise _AtField(exc, "id") from exc
        return messages.search_message(result, request.include_metadata)

    @_refusing
    async def Search(
        self, request: pb.SearchRequest, context: Context[pb.SearchRequest, pb.SearchResponse]
    ) -> pb.SearchResponse:
        """On the event loop when the engine's planner predicts the index search within
        `inline_search_seconds` and no writer holds the index (the pool's hand-off would
        cost more than the search: scripts/bench/service.py); else, and for image queries (decoding
        and hashing), in the pool."""
        answered = self._searched_on_loop(request)
        if answered is not None:
            self._searched("loop")
            return answered
        answered = await self._run(lambda: self._search(request))
        self._searched("pool")
        return answered

    def _searched_on_loop(self, request: pb.SearchRequest) -> pb.SearchResponse | None:
        """The answer, searched here on the loop within the budget; None to use the pool."""
        budget = self.limits.inline_search_seconds
        if budget <= 0 or request.WhichOneof("query") == "image":
            return None
        if not 0 < request.k <= INLINE_MAX_K:
            return None
        try:
            return self._search(request, budget)
        except OverBudget:
            return None

    @_refusing
    async def SearchBatch(
        self,
        request: pb.SearchBatchRequest,
        context: Context[pb.SearchBatchRequest, pb.SearchBatchResponse],
    ) -> pb.SearchBatchResponse:
        count = len(request.queries)
        if not 1 <= count <= self.limits.max_search_batch:
            raise InvalidArgument(
                f"a batch holds 1..{self.limits.max_search_batch} queries, got {count}", "queries"
            )

        def one(query: pb.SearchRequest) -> pb.SearchResult:
            try:
                return pb.SearchResult(response=self._search(query))
            except Exception as exc:  # one query's failure, the batch goes on
                return pb.SearchResult(error=_item_error(exc))

        results = await asyncio.gather(
            *(self._run(functools.partial(one, q)) for q in request.queries)
        )
        return pb.SearchBatchResponse(results=results)

    @_refusing
    async def Get(
        self, request: pb.GetRequest, context: Context[pb.GetRequest, pb.StoredImage]
    ) -> pb.StoredImage:
        image = await self._run(lambda: self.engine.get(request.collection, request.id))
        return messages.stored_image_message(image)

    @_refusing
    async def GetMany(
        self, request: pb.GetManyRequest, context: Context[pb.GetManyRequest, pb.GetManyResponse]
    ) -> pb.GetManyResponse:
        ids = list(request.ids)
        found = await self._run(
            lambda: self.engine.get_many(request.collection, ids, request.include_thumbnails)
        )
        return pb.GetManyResponse(
            images=[
                messages.stored_image_message(found[i], request.include_metadata)
                for i in dict.fromkeys(ids)
                if i in found
            ]
        )

    @_refusing
    async def List(
        self, request: pb.ListRequest, context: Context[pb.ListRequest, pb.ListResponse]
    ) -> pb.ListResponse:
        after = _decode_page_token(request.page_token)
        size = request.page_size or DEFAULT_PAGE_SIZE
        images = await self._run(lambda: self.engine.list_images(request.collection, after, size))
        token = _encode_page_token(images[-1].id) if len(images) == size else ""
        return pb.ListResponse(
            images=[messages.stored_image_message(i, request.include_metadata) for i in images],
            next_page_token=token,
        )

    # -- admin ----------------------------------------------------------------------------
    @_refusing
    async def Snapshot(
        self, request: pb.SnapshotRequest, context: Context[pb.SnapshotRequest, pb.SnapshotResponse]
    ) -> pb.SnapshotResponse:
        infos = await self._run(lambda: self.engine.snapshot(request.collection or None))
        return pb.SnapshotResponse(snapshots=[messages.snapshot_message(i) for i in infos])

    @_refusing
    async def Compact(
        self, request: pb.CompactRequest, context: Context[pb.CompactRequest, pb.CompactResponse]
    ) -> pb.CompactResponse:
        report = await self._run(lambda: self.engine.compact(request.collection))
        return pb.CompactResponse(
            slots_before=report.slots_before, slots_after=report.slots_after, seconds=report.seconds
        )


def _encode_page_token(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode()


def _decode_page_token(token: str) -> str:
    if not token:
        return ""
    try:
        return base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidArgument(
            "page_token is not one this server gave; start again with an empty token", "page_token"
        ) from None
