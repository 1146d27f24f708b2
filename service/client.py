"""`Client` and `AsyncClient`: a small typed face over the generated stubs.

    with Client("127.0.0.1:50051") as neardup:
        added = neardup.add(open("a.jpg", "rb").read(), id="a.jpg")
        similar = neardup.search(image=open("b.jpg", "rb").read(), k=5)

Methods take Python values and return the contract's response messages (typed by the
generated `.pyi`). A refused call raises `NeardupRpcError` with the status code, the server's
message and, when the server named one, the request field at fault.

Thread-safety: a `Client` may be shared between threads (gRPC channels are); an
`AsyncClient` belongs to one event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from neardup.v1 import neardup_pb2 as pb
from neardup.v1 import neardup_pb2_grpc as pb_grpc

__all__ = [
    "AsyncClient",
    "Client",
    "Connection",
    "NeardupRpcError",
    "add_request",
    "create_collection_request",
    "search_request",
]

_MAX_MESSAGE = 64 * 1024 * 1024 + 64 * 1024
_OPTIONS = [
    ("grpc.max_send_message_length", _MAX_MESSAGE),
    ("grpc.max_receive_message_length", _MAX_MESSAGE),
]


class NeardupRpcError(Exception):
    """A call the server refused: its status code, message, and the field at fault."""

    def __init__(self, code: grpc.StatusCode, message: str, field: str) -> None:
        super().__init__(f"{code.name}: {message}" + (f" (field {field})" if field else ""))
        self.code, self.message, self.field = code, message, field

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError) -> NeardupRpcError:
        """Reads the code, the message and the BadRequest detail of a failed call."""
        field = ""
        status = rpc_status.from_call(error)
        for detail in status.details if status is not None else ():
            bad = error_details_pb2.BadRequest()
            if detail.Unpack(bad) and bad.field_violations:
                field = bad.field_violations[0].field
        return cls(error.code(), error.details() or "", field)


def _set_query(request: Any, image: bytes | None, hash: str | None) -> None:
    """Fills the image-or-hash oneof that AddRequest and SearchRequest share."""
    if image is not None:
        request.image = image
    elif hash is not None:
        request.hash.hex = hash


def add_request(
    image: bytes | None = None,
    *,
    id: str,
    hash: str | None = None,
    collection: str = "",
    metadata: Mapping[str, str] | None = None,
    replace: bool = False,
    skip_existing: bool = False,
    duplicate_radius: int | None = None,
    reject_duplicates: bool = False,
    quality: int | None = None,
    crop_hashes: Sequence[str] = (),
    thumbnail: bytes | None = None,
    digest: str = "",
) -> pb.AddRequest:
    """An AddRequest of an image (or of a hash in the collection's algorithm, with its
    quality, its crop hashes, its thumbnail and its file's digest when known)."""
    on_existing = pb.ON_EXISTING_ID_ERROR
    if replace:
        on_existing = pb.ON_EXISTING_ID_REPLACE
    elif skip_existing:
        on_existing = pb.ON_EXISTING_ID_SKIP
    request = pb.AddRequest(
        collection=collection,
        id=id,
        metadata=dict(metadata or {}),
        on_existing_id=on_existing,
        reject_duplicates=reject_duplicates,
    )
    _set_query(request, image, hash)
    if duplicate_radius is not None:
        request.duplicate_radius = duplicate_radius
    if quality is not None and hash is not None:
        request.quality = quality
    if hash is not None:
        request.crop_hashes.extend(pb.Fingerprint(hex=h) for h in crop_hashes)
        request.thumbnail = thumbnail or b""
        request.digest = digest
    return request


def search_request(
    image: bytes | None = None,
    *,
    hash: str | None = None,
    id: str | None = None,
    collection: str = "",
    k: int = 0,
    max_distance: int | None = None,
    orientations: bool = False,
    exact: bool = False,
    include_metadata: bool = False,
    exclude_self: bool = False,
    query_quality: int | None = None,
    crop_hashes: Sequence[str] = (),
    digest: str = "",
) -> pb.SearchRequest:
    """A SearchRequest by image, hash (16 hex digits, with its quality, crop hashes and
    file digest when known) or stored id."""
    request = pb.SearchRequest(
        collection=collection,
        k=k,
        orientations=orientations,
        exact=exact,
        include_metadata=include_metadata,
        exclude_self=exclude_self,
    )
    _set_query(request, image, hash)
    if image is None and hash is None and id is not None:
        request.id = id
    if max_distance is not None:
        request.max_distance = max_distance
    if query_quality is not None and hash is not None:
        request.query_quality = query_quality
    if hash is not None:
        request.crop_hashes.extend(pb.Fingerprint(hex=h) for h in crop_hashes)
        request.digest = digest
    return request


@dataclass(frozen=True, slots=True)
class Connection:
    """How to reach a server: a bearer token, TLS roots, a client certificate (mTLS)."""

    token: str | None = None
    tls_ca: bytes | None = None
    tls_cert: bytes | None = None
    tls_key: bytes | None = None

    @property
    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token}"),) if self.token else ()

    def credentials(self) -> grpc.ChannelCredentials | None:
        """TLS credentials, or None for a plain channel."""
        if self.tls_ca is None and self.tls_cert is None:
            return None
        return grpc.ssl_channel_credentials(self.tls_ca, self.tls_key, self.tls_cert)


class _Channel:
    """What both clients share: the channel to one server, its stub, the call timeout."""

    _grpc: Any = grpc  # the channel factories: grpc, or grpc.aio

    def __init__(
        self, target: str, *, timeout: float | None = 30.0, connection: Connection | None = None
    ) -> None:
        self.connection = connection or Connection()
        credentials = self.connection.credentials()
        self._channel = (
            self._grpc.insecure_channel(target, options=_OPTIONS)
            if credentials is None
            else self._grpc.secure_channel(target, credentials, options=_OPTIONS)
        )
        self._stub = pb_grpc.NeardupStub(self._channel)
        self.timeout = timeout


def _hash_request(
    image: bytes, algorithm: str, orientations: bool, crops: bool = False
) -> pb.HashRequest:
    return pb.HashRequest(image=image, algorithm=algorithm, orientations=orientations, crops=crops)


def _delete_request(ids: Iterable[str], collection: str) -> pb.DeleteRequest:
    return pb.DeleteRequest(collection=collection, ids=list(ids))


def _get_many_request(
    ids: Iterable[str], collection: str, include_metadata: bool, include_thumbnails: bool
) -> pb.GetManyRequest:
    return pb.GetManyRequest(
        collection=collection,
        ids=list(ids),
        include_metadata=include_metadata,
        include_thumbnails=include_thumbnails,
    )


def create_collection_request(
    name: str,
    *,
    algorithm: str = "",
    default_radius: int | None = None,
    min_quality: int | None = None,
    crop_hashes: bool | None = None,
    thumbnails: bool = False,
    orientations: bool | None = None,
    index_kind: str = "",
) -> pb.CreateCollectionRequest:
    """A CreateCollectionRequest; unset values take the server's defaults."""
    request = pb.CreateCollectionRequest(
        name=name,
        algorithm=algorithm,
        thumbnails=thumbnails,
        index=pb.IndexParams(kind=index_kind) if index_kind else None,
    )
    if default_radius is not None:
        request.default_radius = default_radius
    if min_quality is not None:
        request.min_quality = min_quality
    if orientations is not None:
        request.orientations = orientations
    if crop_hashes is not None:
        request.crop_hashes = crop_hashes
    return request


class Client(_Channel):
    """A blocking client of one server."""

    def wait_for_server(self, timeout: float) -> bool:
        """Whether the server accepts the connection within `timeout` seconds."""
        try:
            grpc.channel_ready_future(self._channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            return False
        return True

    def _call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self._stub, method)(
                request, timeout=self.timeout, metadata=self.connection.metadata
            )
        except grpc.RpcError as error:
            raise NeardupRpcError.from_rpc_error(error) from None

    def hash(
        self, image: bytes, algorithm: str = "", orientations: bool = False, crops: bool = False
    ) -> pb.HashResponse:
        """The hash of an image (nothing stored); its crop hashes too with `crops`."""
        request = _hash_request(image, algorithm, orientations, crops)
        return cast(pb.HashResponse, self._call("Hash", request))

    def add(self, image: bytes | None = None, **options: Any) -> pb.AddResponse:
        """Stores an image or a hash (options as `add_request`)."""
        return cast(pb.AddResponse, self._call("Add", add_request(image, **options)))

    def add_stream(self, requests: Iterable[pb.AddRequest]) -> Iterator[pb.AddStreamResponse]:
        """Bulk add: one response per request, in order."""
        try:
            yield from self._stub.AddStream(
                iter(requests), timeout=None, metadata=self.connection.metadata
            )
        except grpc.RpcError as error:
            raise NeardupRpcError.from_rpc_error(error) from None

    def search(self, image: bytes | None = None, **options: Any) -> pb.SearchResponse:
        """Nearest stored images (options as `search_request`)."""
        return cast(pb.SearchResponse, self._call("Search", search_request(image, **options)))

    def delete(self, ids: Iterable[str], collection: str = "") -> pb.DeleteResponse:
        """Deletes stored ids."""
        return cast(pb.DeleteResponse, self._call("Delete", _delete_request(ids, collection)))

    def get(self, id: str, collection: str = "") -> pb.StoredImage:
        """One stored image."""
        return cast(pb.StoredImage, self._call("Get", pb.GetRequest(collection=collection, id=id)))

    def get_many(
        self,
        ids: Iterable[str],
        collection: str = "",
        include_metadata: bool = False,
        include_thumbnails: bool = False,
    ) -> pb.GetManyResponse:
        """The stored images among up to 10,000 ids (unknown ids left out)."""
        request = _get_many_request(ids, collection, include_metadata, include_thumbnails)
        return cast(pb.GetManyResponse, self._call("GetMany", request))

    def stats(self, collection: str = "") -> pb.StatsResponse:
        """A collection's figures."""
        return cast(pb.StatsResponse, self._call("Stats", pb.StatsRequest(collection=collection)))

    def create_collection(self, name: str, **options: Any) -> pb.Collection:
        """Creates a collection (options as `create_collection_request`)."""
        request = create_collection_request(name, **options)
        return cast(pb.Collection, self._call("CreateCollection", request))

    def list_collections(self) -> list[pb.Collection]:
        """Every collection, by name."""
        listed = self._call("ListCollections", pb.ListCollectionsRequest())
        return list(cast(pb.ListCollectionsResponse, listed).collections)

    def drop_collection(self, name: str) -> int:
        """Drops a collection and its images; returns how many images it held."""
        dropped = self._call("DropCollection", pb.DropCollectionRequest(name=name))
        return int(cast(pb.DropCollectionResponse, dropped).images_removed)

    def call(self, method: str, request: Any) -> Any:
        """Any RPC of the contract by name, with the same error translation."""
        return self._call(method, request)

    def close(self) -> None:
        """Closes the channel."""
        self._channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient(_Channel):
    """An asyncio client of one server (the methods of `Client`, awaited)."""

    _grpc = grpc.aio

    async def wait_for_server(self, timeout: float) -> bool:
        """Whether the server accepts the connection within `timeout` seconds."""
        try:
            await asyncio.wait_for(self._channel.channel_ready(), timeout)
        except TimeoutError:
            return False
        return True

    async def call(self, method: str, request: Any) -> Any:
        """Any RPC of the contract by name; refusals raise NeardupRpcError."""
        try:
            return await getattr(self._stub, method)(
                request, timeout=self.timeout, metadata=self.connection.metadata
            )
        except grpc.RpcError as error:
            raise NeardupRpcError.from_rpc_error(error) from None

    async def hash(
        self, image: bytes, algorithm: str = "", orientations: bool = False, crops: bool = False
    ) -> pb.HashResponse:
        """The hash of an image (nothing stored); its crop hashes too with `crops`."""
        request = _hash_request(image, algorithm, orientations, crops)
        return cast(pb.HashResponse, await self.call("Hash", request))

    async def add(self, image: bytes | None = None, **options: Any) -> pb.AddResponse:
        """Stores an image or a hash (options as `add_request`)."""
        return cast(pb.AddResponse, await self.call("Add", add_request(image, **options)))

    async def search(self, image: bytes | None = None, **options: Any) -> pb.SearchResponse:
        """Nearest stored images (options as `search_request`)."""
        return cast(pb.SearchResponse, await self.call("Search", search_request(image, **options)))

    async def add_stream(
        self, requests: AsyncIterator[pb.AddRequest]
    ) -> AsyncIterator[pb.AddStreamResponse]:
        """Bulk add: one response per request, in order."""
        try:
            stream = self._stub.AddStream(requests, timeout=None, metadata=self.connection.metadata)
            async for response in stream:
                yield response
        except grpc.RpcError as error:
            raise NeardupRpcError.from_rpc_error(error) from None

    async def delete(self, ids: Iterable[str], collection: str = "") -> pb.DeleteResponse:
        """Deletes stored ids."""
        request = _delete_request(ids, collection)
        return cast(pb.DeleteResponse, await self.call("Delete", request))

    async def get(self, id: str, collection: str = "") -> pb.StoredImage:
        """One stored image."""
        request = pb.GetRequest(collection=collection, id=id)
        return cast(pb.StoredImage, await self.call("Get", request))

    async def get_many(
        self,
        ids: Iterable[str],
        collection: str = "",
        include_metadata: bool = False,
        include_thumbnails: bool = False,
    ) -> pb.GetManyResponse:
        """The stored images among up to 10,000 ids (unknown ids left out)."""
        request = _get_many_request(ids, collection, include_metadata, include_thumbnails)
        return cast(pb.GetManyResponse, await self.call("GetMany", request))

    async def stats(self, collection: str = "") -> pb.StatsResponse:
        """A collection's figures."""
        request = pb.StatsRequest(collection=collection)
        return cast(pb.StatsResponse, await self.call("Stats", request))

    async def create_collection(self, name: str, **options: Any) -> pb.Collection:
        """Creates a collection (options as `create_collection_request`)."""
        request = create_collection_request(name, **options)
        return cast(pb.Collection, await self.call("CreateCollection", request))

    async def list_collections(self) -> list[pb.Collection]:
        """Every collection, by name."""
        listed = await self.call("ListCollections", pb.ListCollectionsRequest())
        return list(cast(pb.ListCollectionsResponse, listed).collections)

    async def drop_collection(self, name: str) -> int:
        """Drops a collection and its images; returns how many images it held."""
        dropped = await self.call("DropCollection", pb.DropCollectionRequest(name=name))
        return int(cast(pb.DropCollectionResponse, dropped).images_removed)

    async def close(self) -> None:
        """Closes the channel."""
        await self._channel.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
