"""Indexes image libraries into a collection of a data dir, or of a running server with
--server (created with --algorithm if it does not exist). SOURCE is a folder (recursive,
following symlinks), a list file (one path per line, or ID<TAB>PATH), or - for such a list
on stdin; ids default to the path relative to its folder with '/' separators (--id-prefix
keeps sources apart). Ids already stored are skipped before their file is read, so a re-run
resumes (--update re-hashes the stored files whose size or modification time changed). Each
image's metadata records its path, size, modification time, its header's width, height and
format, and the size of the picture less the uniform borders the hash trimmed
(picture_width, picture_height). Files that are not images (a README, a CSV, sidecars) are
counted and skipped quietly; images that fail to decode are written, with the reason, to
the errors file. Exit status: 0 when every image was indexed, 1 when some failed, 2 on a
usage or setup error.
With --data-dir the build opens the data dir itself (no server may have it open); with
--server it hashes here and streams hashes and metadata (AddStream), with the server's
token and TLS options."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import chain, islice
from pathlib import Path
from typing import Any, TextIO

from neardup.index import bounds
from neardup.index.errors import InvalidArgument
from neardup.index.fingerprint import ALGORITHMS, Fingerprint
from neardup.index.params import KINDS

from .build_hashing import DaskHashing, FileFailure, Hashing, Pending, ThreadHashing
from .build_targets import Batch, BuildTarget, CollectionSpec, DataDirTarget, ServerTarget
from .library import LibraryFile, SourceError, library_files
from .options import add_where_options
from .parser import Refused
from .progress import BuildProgress, BuildTally

__all__ = ["add_arguments", "run"]

# Files a batch: one stored-ids query and one durable write each. In memory at once: the
# batch being hashed and the one being written, never the library.
_BATCH = 512
ERRORS_FILE = "build-errors.tsv"


def add_arguments(command: argparse.ArgumentParser) -> None:
    """The arguments of `neardup build`."""
    command.add_argument("sources", nargs="+", metavar="SOURCE")
    add_where_options(command)
    command.add_argument("--algorithm", choices=sorted(ALGORITHMS), default=None)
    command.add_argument("--id-prefix", default="", metavar="PREFIX", help="put before each id")
    command.add_argument(
        "--errors",
        type=Path,
        default=None,
        metavar="FILE",
        help=f"default DIR/{ERRORS_FILE} (with --server: ./{ERRORS_FILE})",
    )
    command.add_argument(
        "--update", action="store_true", help="re-hash stored files whose size or mtime changed"
    )
    command.add_argument(
        "--dask",
        default=None,
        metavar="ADDRESS",
        help="hash on the workers of this Dask scheduler ('local': a LocalCluster here)",
    )
    command.add_argument(
        "--crop-hashes",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="create the collection with crop hashes, or without (default: where the "
        "algorithm has them; a crop then finds its original)",
    )
    command.add_argument(
        "--thumbnails",
        action="store_true",
        help="create the collection keeping a preview of each image (shown by reports made "
        "through a server)",
    )
    command.add_argument(
        "--index-kind",
        choices=KINDS,
        default=None,
        help="create the collection with this index: hnsw (the default: a graph where it is "
        "fastest) or tables (no graph, under 64 B an image, every search exact)",
    )


def _batches(files: Iterable[LibraryFile]) -> Iterator[list[LibraryFile]]:
    iterator = iter(files)
    while batch := list(islice(iterator, _BATCH)):
        yield batch


def _unchanged(file: LibraryFile, metadata: Mapping[str, str]) -> bool:
    """Whether the file has the size and modification time it had when it was stored."""
    try:
        status = file.path.stat()
    except OSError:
        return False  # let the hash report why
    recorded = (metadata.get("bytes"), metadata.get("mtime_ns"))
    return recorded == (str(status.st_size), str(status.st_mtime_ns))


class _ErrorsFile:
    """The errors file, created at the first failure (a clean build leaves none); a file
    left by an earlier run is removed, so that what is there describes this run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: TextIO | None = None
        path.unlink(missing_ok=True)

    def write(self, line: str) -> None:
        if self._file is None:
            self._file = self.path.open("w", encoding="utf-8")
        self._file.write(line)

    def __enter__(self) -> _ErrorsFile:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()


class _Build:
    """One run of `neardup build`: batches of files in, tallies and an errors file out."""

    def __init__(
        self, target: BuildTarget, hashing: Hashing, update: bool, errors: _ErrorsFile
    ) -> None:
        self.target, self.hashing, self.update, self.errors = target, hashing, update, errors
        self.tally = BuildTally()

    def fail(self, path: Path | str, reason: str) -> None:
        self.tally.failed += 1
        self.errors.write(f"{path}\t{reason}\n")

    def todo(self, files: list[LibraryFile]) -> tuple[list[LibraryFile], set[str]]:
        """The files to hash (ids not stored, or changed with --update), and the ids among
        them that replace a stored image. Stored files are not read."""
        valid = []
        for file in files:
            try:
                bounds.check_id(file.id, "id")
                valid.append(file)
            except InvalidArgument as exc:
                self.fail(file.path, str(exc))
        known = self.target.stored([f.id for f in valid])
        todo, replacing = [], set()
        for file in valid:
            metadata = known.get(file.id)
            if metadata is None:
                todo.append(file)
            elif self.update and not _unchanged(file, metadata):
                todo.append(file)
                replacing.add(file.id)
            else:
                self.tally.stored += 1
        return todo, replacing

    def sort(self, todo: list[LibraryFile], outcomes: Iterable[Any]) -> Batch:
        """The hashed files as a batch to store; the others counted and recorded."""
        batch: Batch = []
        algorithm = self.target.algorithm
        for file, outcome in zip(todo, outcomes, strict=True):
            if isinstance(outcome, FileFailure):
                if outcome.not_an_image:
                    self.tally.not_images += 1
                else:
                    self.fail(file.path, outcome.reason)
                continue
            crops = tuple(Fingerprint.from_hex(c, algorithm) for c in outcome.crops)
            fingerprint = Fingerprint.from_hex(outcome.hex, algorithm)
            meta, quality = outcome.metadata, outcome.quality
            batch.append(
                (file.id, fingerprint, meta, quality, crops, outcome.thumbnail, outcome.digest)
            )
        return batch

    def store(self, batch: Batch, replacing: set[str], progress: BuildProgress) -> None:
        """Writes a batch through the target and counts what it did."""
        new = [item for item in batch if item[0] not in replacing]
        stored = self.target.store(new, [item for item in batch if item[0] in replacing])
        self.tally.added += stored.added
        self.tally.updated += stored.updated
        self.tally.stored += stored.skipped
        for image_id, reason in stored.failed:
            self.fail(image_id, reason)
        progress.advance(len(batch))

    def run(self, sources: list[str], id_prefix: str, progress: BuildProgress) -> None:
        """Keeps the hashing busy: the next batch is handed to it before the current one's
        hashes are collected, and a batch is written while the next ones hash (one write in
        flight)."""
        target = self.target
        with ThreadPoolExecutor(max_workers=1) as writing:
            written: Future[None] | None = None
            hashing: tuple[list[LibraryFile], set[str], int, Pending] | None = None
            for files in chain(_batches(library_files(sources, id_prefix)), [None]):
                submitted = None
                if files is not None:
                    todo, replacing = self.todo(files)
                    paths = [str(f.path.absolute()) for f in todo]
                    pending = self.hashing.submit(
                        paths, target.algorithm, target.crop_hashes, target.thumbnails
                    )
                    submitted = (todo, replacing, len(files), pending)
                if hashing is not None:
                    todo, replacing, count, pending = hashing
                    batch = self.sort(todo, pending())
                    if written is not None:
                        written.result()
                    written = writing.submit(self.store, batch, replacing, progress)
                    progress.advance(count - len(batch))
                hashing = submitted
            if written is not None:
                written.result()


def run(args: argparse.Namespace) -> int:
    """Builds into the data dir or the server; prints the summary; the exit status."""
    try:
        total = None if "-" in args.sources else sum(1 for _ in library_files(args.sources))
    except SourceError as exc:
        hint = "name a folder, a list file, or - for a list on stdin"
        raise Refused(f"SOURCE {exc}", hint) from None
    errors_path = args.errors or (
        Path(args.data_dir) / ERRORS_FILE if args.data_dir else Path(ERRORS_FILE)
    )
    spec = CollectionSpec(
        args.collection, args.algorithm, args.crop_hashes, args.index_kind, args.thumbnails
    )
    target: BuildTarget = (
        DataDirTarget(args.data_dir, spec) if args.data_dir else ServerTarget(args, spec)
    )
    if target.created:
        print(
            f"neardup: created collection {args.collection!r} ({target.algorithm})", file=sys.stderr
        )
    try:
        hashing: Hashing = DaskHashing(args.dask) if args.dask else ThreadHashing()
    except BaseException:
        target.close()
        raise
    try:
        with _ErrorsFile(errors_path) as errors:
            build = _Build(target, hashing, args.update, errors)
            with BuildProgress(total, build.tally) as progress:
                build.run(args.sources, args.id_prefix, progress)
    finally:
        hashing.close()
        target.close()
    tally = build.tally
    seconds = max(time.perf_counter() - tally.started, 1e-9)
    print(
        f"neardup: {args.collection!r}: {tally.added} added, {tally.updated} updated, "
        f"{tally.stored} already stored, {tally.not_images} not images, {tally.failed} "
        f"failed; {seconds:.1f} s, {(tally.added + tally.updated) / seconds:.0f} images/s"
        + (f"; failures listed in {errors_path}" if tally.failed else ""),
        file=sys.stderr,
    )
    return 1 if tally.failed else 0
