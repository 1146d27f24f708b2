"""Indexes image libraries into a collection of a data dir (created with --algorithm if it
does not exist). SOURCE is a folder (recursive, following symlinks), a list file (one path
per line, or ID<TAB>PATH), or - for such a list on stdin; ids default to the path relative to
its folder with '/' separators (--id-prefix keeps sources apart). Ids already stored are
skipped before their file is read, so a re-run resumes. Files that are not images (a README,
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

from neardup.index import Engine
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


def _hash_file(file: LibraryFile, algorithm: str) -> Fingerprint | NeardupError | OSError:
    try:
        return hash_image(read_image_file(file.path), algorithm).fingerprint
    except (OSError, NeardupError) as exc:
        return exc


def run(args: argparse.Namespace) -> int:
    """Hashes the sources' files on every core and stores them a batch at a time."""
    try:
        total = None if "-" in args.sources else sum(1 for _ in library_files(args.sources))
    except (SourceError, OSError) as exc:
        print(f"neardup: {exc}", file=sys.stderr)
        return 2
    errors_path = args.errors or Path(args.data_dir) / ERRORS_FILE
    tally = BuildTally()
    with Engine(args.data_dir) as engine:
        algorithm = _collection_for(engine, args.collection, args.algorithm)
        with (
            errors_path.open("w", encoding="utf-8") as errors,
            BuildProgress(total, tally) as progress,
            ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as hashing,
            ThreadPoolExecutor(max_workers=1) as writing,
        ):
            written: Future[None] | None = None
            for files in _batches(library_files(args.sources, args.id_prefix)):
                stored = engine.stored_ids(args.collection, [f.id for f in files])
                tally.stored += len(stored)
                todo = [f for f in files if f.id not in stored]
                batch: Batch = []
                for file, outcome in zip(
                    todo, hashing.map(lambda f: _hash_file(f, algorithm), todo), strict=True
                ):
                    if isinstance(outcome, Fingerprint):
                        batch.append((file.id, outcome, {}))
                    elif isinstance(outcome, NotAnImage):
                        tally.not_images += 1
                    else:
                        tally.failed += 1
                        reason = outcome.strerror if isinstance(outcome, OSError) else None
                        errors.write(f"{file.path}\t{reason or outcome}\n")
                if written is not None:
                    written.result()  # one write in flight: memory stays flat
                written = writing.submit(_store, engine, args.collection, batch, tally, progress)
                progress.advance(len(files) - len(batch))
            if written is not None:
                written.result()
    seconds = max(time.perf_counter() - tally.started, 1e-9)
    print(
        f"neardup: {args.collection!r}: {tally.added} added, {tally.stored} already stored, "
        f"{tally.not_images} not images, {tally.failed} failed; {seconds:.1f} s, "
        f"{tally.added / seconds:.0f} images/s"
        + (f"; failures listed in {errors_path}" if tally.failed else ""),
        file=sys.stderr,
    )
    return 1 if tally.failed else 0


def _store(
    engine: Engine, collection: str, batch: Batch, tally: BuildTally, progress: BuildProgress
) -> None:
    if batch:
        stored = engine.add_batch(collection, batch)
        tally.added += sum(stored)
        tally.stored += len(stored) - sum(stored)  # listed twice, or stored meanwhile
    progress.advance(len(batch))
