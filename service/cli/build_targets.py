"""Where a bulk build writes: a data dir opened here (`DataDirTarget`, the engine itself) or a
running server (`ServerTarget`, through GetMany and AddStream). The build hashes the files
itself either way, so both see the same files, failures and tallies; a server receives
hashes and metadata, not image bytes.

Both are used from the build's threads one call at a time per method; neither keeps more
than one batch.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from neardup.index import Fingerprint, OnExistingId
from neardup.index.errors import InvalidArgument, UnknownCollection

if TYPE_CHECKING:
    from neardup.index import Engine
    from neardup.service.client import Client

__all__ = ["Batch", "BuildTarget", "CollectionSpec", "DataDirTarget", "ServerTarget", "Stored"]

# id, hash, metadata, quality, crop hashes (none unless the collection has crop_hashes),
# thumbnail (None unless the collection keeps thumbnails), SHA-256 of the file (None: unknown)
Batch = list[
    tuple[
        str, Fingerprint, dict[str, str], int, tuple[Fingerprint, ...], bytes | None, bytes | None
    ]
]


@dataclass(frozen=True)
class CollectionSpec:
    """The collection a build writes to, and how it is made when it does not exist (its
    algorithm, crop hashes and index kind are fixed then: an existing collection made
    otherwise is refused)."""

    name: str
    algorithm: str | None = None
    crop_hashes: bool | None = None  # None: the collection's default
    index_kind: str | None = None
    thumbnails: bool = False


@dataclass
class Stored:
    """What writing a batch did."""

    added: int = 0
    updated: int = 0
    skipped: int = 0  # listed twice, or stored meanwhile by someone else
    failed: list[tuple[str, str]] = field(default_factory=list)  # (id, reason)


class BuildTarget(Protocol):
    """What a build needs of where it writes: the collection's algorithm, and whether it
    indexes crop hashes and keeps thumbnails (the build then makes them)."""

    algorithm: str
    crop_hashes: bool
    thumbnails: bool
    created: bool  # the build made the collection

    def stored(self, ids: Sequence[str]) -> Mapping[str, Mapping[str, str]]:
        """The stored ids among these (at most a batch), with their metadata."""
        ...

    def store(self, new: Batch, replacing: Batch) -> Stored:
        """Writes a batch durably: new ids (skipped if stored meanwhile), replacements."""
        ...

    def close(self) -> None:
        """Releases the data dir or the connection."""
        ...


def _refuse_other_settings(
    spec: CollectionSpec, holds: str, has_crops: bool, index_kind: str, keeps_thumbnails: bool
) -> None:
    if spec.algorithm and spec.algorithm != holds:
        raise InvalidArgument(
            f"collection {spec.name!r} holds {holds!r} hashes, not {spec.algorithm!r}",
            "algorithm",
        )
    set_at_creation = "which are set when a collection is created: build into a new one"
    if spec.crop_hashes is not None and spec.crop_hashes != has_crops:
        state = "with" if has_crops else "without"
        raise InvalidArgument(
            f"collection {spec.name!r} exists {state} crop hashes, {set_at_creation} "
            "(--collection NAME)",
            "crop_hashes",
        )
    if spec.thumbnails and not keeps_thumbnails:
        raise InvalidArgument(
            f"collection {spec.name!r} exists without thumbnails, {set_at_creation} "
            "(--collection NAME)",
            "thumbnails",
        )
    if spec.index_kind and spec.index_kind != index_kind:
        raise InvalidArgument(
            f"collection {spec.name!r} has index kind {index_kind!r}, not "
            f"{spec.index_kind!r}, {set_at_creation} (--collection NAME)",
            "index.kind",
        )


class DataDirTarget:
    """A data dir, opened (and locked) for the build's duration."""

    def __init__(self, data_dir: str, spec: CollectionSpec) -> None:
        from neardup.index import Engine  # FAISS and SQLite: only for a data dir

        self._engine: Engine = Engine(data_dir)
        self._collection = spec.name
        self.created = False
        try:
            try:
                info = self._engine.collection(spec.name)
            except UnknownCollection:
                self.created = True
                info = self._engine.create_collection(
                    spec.name,
                    spec.algorithm or "",
                    crop_hashes=spec.crop_hashes,
                    params={"kind": spec.index_kind},
                    thumbnails=spec.thumbnails,
                )
            _refuse_other_settings(
                spec, info.algorithm, info.crop_hashes, info.params.kind, info.thumbnails
            )
        except BaseException:
            self._engine.close()
            raise
        self.algorithm = info.algorithm
        self.crop_hashes = info.crop_hashes
        self.thumbnails = info.thumbnails

    def stored(self, ids: Sequence[str]) -> Mapping[str, Mapping[str, str]]:
        found = self._engine.get_many(self._collection, ids) if ids else {}
        return {image_id: image.metadata for image_id, image in found.items()}

    def store(self, new: Batch, replacing: Batch) -> Stored:
        result = Stored()
        if new:
            inserted = self._engine.add_batch(self._collection, new)
            result.added = sum(inserted)
            result.skipped = len(inserted) - result.added
        updates = [
            self._engine.submit_add(
                self._collection,
                image_id,
                fingerprint,
                metadata,
                on_existing=OnExistingId.REPLACE,
                find_duplicates=False,
                quality=quality,
                crops=crops,
                thumbnail=thumbnail,
                digest=digest,
            )
            for image_id, fingerprint, metadata, quality, crops, thumbnail, digest in replacing
        ]
        for update in updates:
            update.result()
        result.updated = len(updates)
        return result

    def close(self) -> None:
        self._engine.close()


class ServerTarget:
    """A running server: GetMany for the resume, AddStream (flow-controlled by gRPC and the
    server's window) for the writes."""

    def __init__(self, args: argparse.Namespace, spec: CollectionSpec) -> None:
        from neardup.service.client import NeardupRpcError

        from .options import connect

        self._client: Client = connect(args)
        self._collection = spec.name
        self.created = False
        try:
            try:
                self._client.create_collection(
                    spec.name,
                    algorithm=spec.algorithm or "",
                    crop_hashes=spec.crop_hashes,
                    index_kind=spec.index_kind or "",
                    thumbnails=spec.thumbnails,
                )
                self.created = True
            except NeardupRpcError as error:
                if error.code.name != "ALREADY_EXISTS":
                    raise
            info = self._client.stats(spec.name).collection
            _refuse_other_settings(
                spec, info.algorithm, info.crop_hashes, info.index.kind, info.thumbnails
            )
        except BaseException:
            self._client.close()
            raise
        self.algorithm = info.algorithm
        self.crop_hashes = info.crop_hashes
        self.thumbnails = info.thumbnails

    def stored(self, ids: Sequence[str]) -> Mapping[str, Mapping[str, str]]:
        if not ids:
            return {}
        found = self._client.get_many(ids, collection=self._collection, include_metadata=True)
        return {image.id: dict(image.metadata) for image in found.images}

    def store(self, new: Batch, replacing: Batch) -> Stored:
        from neardup.service.client import add_request
        from neardup.v1 import neardup_pb2 as pb

        requests = [
            add_request(
                id=image_id,
                hash=fingerprint.hex,
                collection=self._collection,
                metadata=metadata,
                skip_existing=not replace,
                replace=replace,
                quality=quality,
                crop_hashes=[c.hex for c in crops],
                thumbnail=thumbnail,
                digest=digest.hex() if digest else "",
            )
            for items, replace in ((new, False), (replacing, True))
            for image_id, fingerprint, metadata, quality, crops, thumbnail, digest in items
        ]
        for request in requests:
            request.hash.algorithm = self.algorithm
            for crop in request.crop_hashes:
                crop.algorithm = self.algorithm
        result = Stored()
        for response in self._client.add_stream(requests):
            if response.HasField("error"):
                result.failed.append((response.id, response.error.message))
            elif response.added.outcome == pb.ADD_OUTCOME_ADDED:
                result.added += 1
            elif response.added.outcome == pb.ADD_OUTCOME_REPLACED:
                result.updated += 1
            else:
                result.skipped += 1
        return result

    def close(self) -> None:
        self._client.close()
