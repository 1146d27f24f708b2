"""Indexes image libraries into a collection of a data dir (created with --algorithm if it
does not exist). SOURCE is a folder (recursive, following symlinks), a list file (one path
per line, or ID<TAB>PATH), or - for such a list on stdin; ids default to the path relative to
its folder with '/' separators (--id-prefix keeps sources apart). Ids already stored are
skipped before their file is read, so a re-run resumes (--update re-hashes the stored files
whose size or modification time changed). Each image's metadata records its path, size,
modification time, and its header's width, height and format. Files that are not images (a README,
a CSV, sidecars) are counted and skipped quietly; images that fail to decode are written,
with the reason, to the errors file. Exit status: 0 when every image was indexed, 1 when
some failed, 2 on a usage or setup error. The build opens the data dir itself (no server may
have it open)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any, TextIO

from neardup.index import Engine, OnExistingId, StoredImage, bounds
from neardup.index.errors import InvalidArgument, NeardupError, NotAnImage, UnknownCollection
from neardup.index.fingerprint import ALGORITHMS, Fingerprint, hash_image

from .library import LibraryFile, SourceError, library_files
from .options import add_data_dir_options
from .output import read_image_file
from .progress import BuildProgress, BuildTally

__all__ = ["add_arguments", "run"]

# Files a batch: one stored-ids query and one durable write each. In memory at once: the
# batch being hashed and the one being written, never the library.
_BATCH = 512
ERRORS_FILE = "build-errors.tsv"

Batch = list[tuple[str, Fingerprint, dict[str, str]]]


def add_arguments(command: argparse.ArgumentParser) -> None:
    """The arguments of `neardup build`."""
    command.add_argument("sources", nargs="+", metavar="SOURCE")
    add_data_dir_options(command)
    command.add_argument("--algorithm", choices=sorted(ALGORITHMS), default=None)
    command.add_argument("--id-prefix", default="", metavar="PREFIX", help="put before each id")
    command.add_argument(
        "--errors", type=Path, default=None, metavar="FILE", help=f"default DIR/{ERRORS_FILE}"
    )
    command.add_argument(
        "--update", action="store_true", help="re-hash stored files whose size or mtime changed"
    )


def _collection_for(engine: Engine, name: str, algorithm: str | None) -> str:
    """The collection's algorithm, creating the collection when it does not exist."""
    try:
        info = engine.collection(name)
    except UnknownCollection:
        info = engine.create_collection(name, algorithm or "")
    if algorithm and algorithm != info.algorithm:
        raise InvalidArgument(
            f"collection {name!r} holds {info.algorithm!r} hashes, not {algorithm!r}", "algorithm"
        )
    return info.algorithm


def _batches(files: Iterable[LibraryFile]) -> Iterator[list[LibraryFile]]:
    iterator = iter(files)
    while batch := list(islice(iterator, _BATCH)):
        yield batch


def _hash_file(file: LibraryFile, algorithm: str) -> tuple[Fingerprint, dict[str, str]] | Exception:
    """The file's hash and the metadata a build records (where the file is, its size and
    modification time for --update, its header's size and format for the report), or why
    it could not be hashed."""
    try:
        status = file.path.stat()
        hashes = hash_image(read_image_file(file.path), algorithm)
    except (OSError, NeardupError) as exc:
        return exc
    metadata = {
        "bytes": str(status.st_size),
        "mtime_ns": str(status.st_mtime_ns),
        "width": str(hashes.width),
        "height": str(hashes.height),
        "format": hashes.format,
    }
    path = str(file.path.absolute())
    if len(path.encode()) <= bounds.MAX_METADATA_VALUE_BYTES:
        metadata["path"] = path
    return hashes.fingerprint, metadata


def _unchanged(file: LibraryFile, stored: StoredImage) -> bool:
    """Whether the file has the size and modification time it had when it was stored."""
    try:
        status = file.path.stat()
    except OSError:
        return False  # let the hash report why
    recorded = (stored.metadata.get("bytes"), stored.metadata.get("mtime_ns"))
    return recorded == (str(status.st_size), str(status.st_mtime_ns))


class _Build:
    """One run of `neardup build` over a data dir: batches in, tallies and errors out."""

    def __init__(self, args: argparse.Namespace, engine: Engine, errors: TextIO) -> None:
        self.args, self.engine, self.errors = args, engine, errors
        self.collection = args.collection
        self.algorithm = _collection_for(engine, args.collection, args.algorithm)
        self.tally = BuildTally()

    def fail(self, file: LibraryFile, reason: str) -> None:
        self.tally.failed += 1
        self.errors.write(f"{file.path}\t{reason}\n")

    def todo(self, files: list[LibraryFile]) -> tuple[list[LibraryFile], set[str]]:
        """The files to hash (ids not stored, or changed with --update), and the ids among
        them that replace a stored image. Stored files are not read."""
        valid = []
        for file in files:
            try:
                bounds.check_id(file.id, "id")
                valid.append(file)
            except InvalidArgument as exc:
                self.fail(file, str(exc))
        known = self.engine.get_many(self.collection, [f.id for f in valid]) if valid else {}
        todo, replacing = [], set()
        for file in valid:
            stored = known.get(file.id)
            if stored is None:
                todo.append(file)
            elif self.args.update and not _unchanged(file, stored):
                todo.append(file)
                replacing.add(file.id)
            else:
                self.tally.stored += 1
        return todo, replacing

    def sort(self, todo: list[LibraryFile], outcomes: Iterable[Any]) -> Batch:
        """The hashed files as a batch to store; the others counted and recorded."""
        batch: Batch = []
        for file, outcome in zip(todo, outcomes, strict=True):
            if isinstance(outcome, NotAnImage):
                self.tally.not_images += 1
            elif isinstance(outcome, OSError):
                self.fail(file, outcome.strerror or str(outcome))
            elif isinstance(outcome, Exception):
                self.fail(file, str(outcome))
            else:
                batch.append((file.id, *outcome))
        return batch

    def store(self, batch: Batch, replacing: set[str], progress: BuildProgress) -> None:
        """Writes a batch durably: new ids in one operation, replacements as group-committed
        adds."""
        new = [item for item in batch if item[0] not in replacing]
        if new:
            stored = self.engine.add_batch(self.collection, new)
            self.tally.added += sum(stored)
            self.tally.stored += len(stored) - sum(stored)  # listed twice, or stored meanwhile
        updates = [
            self.engine.submit_add(
                self.collection, image_id, fingerprint, metadata,
                on_existing=OnExistingId.REPLACE, find_duplicates=False,
            )
            for image_id, fingerprint, metadata in batch
            if image_id in replacing
        ]  # fmt: skip
        for update in updates:
            update.result()
        self.tally.updated += len(updates)
        progress.advance(len(batch))


def run(args: argparse.Namespace) -> int:
    """Hashes the sources' files on every core and stores them a batch at a time."""
    try:
        total = None if "-" in args.sources else sum(1 for _ in library_files(args.sources))
    except (SourceError, OSError) as exc:
        print(f"neardup: {exc}", file=sys.stderr)
        return 2
    errors_path = args.errors or Path(args.data_dir) / ERRORS_FILE
    with (
        Engine(args.data_dir) as engine,
        errors_path.open("w", encoding="utf-8") as errors,
    ):
        build = _Build(args, engine, errors)
        with (
            BuildProgress(total, build.tally) as progress,
            ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as hashing,
            ThreadPoolExecutor(max_workers=1) as writing,
        ):
            written: Future[None] | None = None
            for files in _batches(library_files(args.sources, args.id_prefix)):
                todo, replacing = build.todo(files)
                outcomes = hashing.map(lambda f: _hash_file(f, build.algorithm), todo)
                batch = build.sort(todo, outcomes)
                if written is not None:
                    written.result()  # one write in flight: memory stays flat
                written = writing.submit(build.store, batch, replacing, progress)
                progress.advance(len(files) - len(batch))
            if written is not None:
                written.result()
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
