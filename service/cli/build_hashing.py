"""Where a bulk build hashes its files: on this machine's cores (`ThreadHashing`), or on the
workers of a Dask cluster (`DaskHashing`: `neardup build --dask ADDRESS`, or `--dask local`
for a LocalCluster of this machine's cores).

Both run `hash_file` and give back, per file in order, a `FileHash` or a `FileFailure`:
plain values that pickle, so a worker's answer crosses the cluster whatever went wrong.
Dask gets the files in tasks of `DASK_TASK_FILES` (one file a task spent more on
scheduling than on hashing). Workers import this module, which imports only the
fingerprint package (no FAISS, SQLite or gRPC), and must run the same neardup, Pillow and
numpy versions as the build (the hashes' last bits depend on Pillow's resize and its JPEG
decoder) and see the files under the same absolute paths.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from neardup.index import bounds
from neardup.index.errors import NeardupError, NotAnImage
from neardup.index.fingerprint import hash_image, make_thumbnail

from .output import read_image_file

__all__ = [
    "DASK_TASK_FILES",
    "DaskHashing",
    "FileFailure",
    "FileHash",
    "Hashing",
    "Pending",
    "ThreadHashing",
    "hash_file",
]

# Files a Dask task: one file a task reaches well under half of a local process pool's rate,
# batches of 32-128 about three quarters (measured against a local pool when Dask hashing
# was built; not kept as a script).
DASK_TASK_FILES = 64


@dataclass(frozen=True, slots=True)
class FileHash:
    """A hashed file: its hash and crop hashes (hex), the hash's quality, and the metadata
    a build records (path, size and modification time for --update, the header's size and
    format for the report), its preview for a collection that keeps thumbnails, and the
    SHA-256 of its bytes."""

    hex: str
    metadata: dict[str, str]
    quality: int
    crops: tuple[str, ...]
    thumbnail: bytes | None = None
    digest: bytes | None = None


@dataclass(frozen=True, slots=True)
class FileFailure:
    """Why a file was not hashed; `not_an_image`: it is no image at all (counted, not an
    error)."""

    reason: str
    not_an_image: bool = False


Outcome = FileHash | FileFailure
# A batch handed to the hashing: called, it waits for the batch's outcomes, in order.
Pending = Callable[[], list[Outcome]]


def hash_file(
    path: str, algorithm: str, crops: bool, thumbnails: bool = False
) -> FileHash | FileFailure:
    """One file's hash and metadata (and its preview, with `thumbnails`), or why not
    (`path` absolute, as recorded)."""
    try:
        status = os.stat(path)
        data = read_image_file(path)
        hashes = hash_image(data, algorithm, crops=crops)
        thumbnail = make_thumbnail(data) if thumbnails else None
    except NotAnImage as exc:
        return FileFailure(str(exc), not_an_image=True)
    except OSError as exc:
        return FileFailure(exc.strerror or str(exc))
    except NeardupError as exc:
        return FileFailure(str(exc))
    metadata = {
        "bytes": str(status.st_size),
        "mtime_ns": str(status.st_mtime_ns),
        "width": str(hashes.width),
        "height": str(hashes.height),
        # the size of the picture less the uniform borders the hash trimmed: what the
        # report's choice of a group's best copy compares
        "picture_width": str(hashes.picture_width),
        "picture_height": str(hashes.picture_height),
        "format": hashes.format,
    }
    if len(path.encode()) <= bounds.MAX_METADATA_VALUE_BYTES:
        metadata["path"] = path
    crop_hexes = tuple(f.hex for f in hashes.crop_fingerprints)
    return FileHash(
        hashes.fingerprint.hex, metadata, hashes.quality, crop_hexes, thumbnail, hashes.digest
    )


def hash_files(
    paths: Sequence[str], algorithm: str, crops: bool, thumbnails: bool = False
) -> list[Outcome]:
    """`hash_file` of each (one Dask task)."""
    return [hash_file(path, algorithm, crops, thumbnails) for path in paths]


class Hashing(Protocol):
    """Hashes batches of files, several in flight, each answering in its files' order."""

    def submit(
        self, paths: Sequence[str], algorithm: str, crops: bool, thumbnails: bool = False
    ) -> Pending:
        """Starts hashing a batch (with crop hashes, with previews, as asked); the pending
        batch gives one outcome per path, in order."""
        ...

    def close(self) -> None:
        """Releases the threads or the cluster."""
        ...


class ThreadHashing:
    """This machine's cores (the decoders release the GIL)."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 1)

    def submit(
        self, paths: Sequence[str], algorithm: str, crops: bool, thumbnails: bool = False
    ) -> Pending:
        futures = [self._pool.submit(hash_file, p, algorithm, crops, thumbnails) for p in paths]
        return lambda: [f.result() for f in futures]

    def close(self) -> None:
        self._pool.shutdown()


class DaskHashing:
    """A Dask cluster's workers: `address` of its scheduler, or "local" for a LocalCluster
    of one single-threaded worker process a core."""

    def __init__(self, address: str) -> None:
        from distributed import Client, LocalCluster

        self._cluster: Any = None
        if address == "local":
            self._cluster = LocalCluster(
                n_workers=os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            self._client = Client(self._cluster)
        else:
            self._client = Client(address)

    def submit(
        self, paths: Sequence[str], algorithm: str, crops: bool, thumbnails: bool = False
    ) -> Pending:
        tasks = [paths[i : i + DASK_TASK_FILES] for i in range(0, len(paths), DASK_TASK_FILES)]
        futures = self._client.map(
            hash_files, tasks, algorithm=algorithm, crops=crops, thumbnails=thumbnails, pure=False
        )
        return lambda: [outcome for task in self._client.gather(futures) for outcome in task]

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()
