"""Hashes every file under SOURCE and stores it in the collection (created with --algorithm
if it does not exist), id = the path relative to SOURCE with '/' separators. Ids already
stored are skipped, so a re-run resumes. Unreadable files are reported on stderr and
skipped; the exit status is then 1. The build opens the data dir itself (no server may
have it open)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from neardup.index import Engine
from neardup.index.errors import InvalidArgument, NeardupError, UnknownCollection
from neardup.index.fingerprint import ALGORITHMS, Fingerprint, hash_image

from .options import add_data_dir_options
from .output import read_image_file

__all__ = ["add_arguments", "run"]

_BATCH = 1000


def add_arguments(command: argparse.ArgumentParser) -> None:
    """The arguments of `neardup build`."""
    command.add_argument("source", metavar="SOURCE")
    add_data_dir_options(command)
    command.add_argument("--algorithm", choices=sorted(ALGORITHMS), default=None)


def _files(source: Path) -> Iterator[Path]:
    for folder, dirs, names in os.walk(source):
        dirs.sort()
        for name in sorted(names):
            yield Path(folder) / name


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


def run(args: argparse.Namespace) -> int:
    """Hashes every file under SOURCE into a collection; id = path relative to SOURCE."""
    source = Path(args.source)
    if not source.is_dir():
        print(f"neardup: {source}: not a folder", file=sys.stderr)
        return 2
    started = time.perf_counter()
    added = skipped = failed = 0
    with Engine(args.data_dir) as engine:
        algorithm = _collection_for(engine, args.collection, args.algorithm)

        def hash_file(path: Path) -> tuple[str, Fingerprint | str]:
            image_id = path.relative_to(source).as_posix()
            try:
                return image_id, hash_image(read_image_file(path), algorithm).fingerprint
            except (OSError, NeardupError) as exc:
                return image_id, f"neardup: {path}: {exc}"

        batch: list[tuple[str, Fingerprint, dict[str, str]]] = []

        def flush() -> None:
            nonlocal added, skipped
            stored = engine.add_batch(args.collection, batch)
            added += sum(stored)
            skipped += len(stored) - sum(stored)
            batch.clear()

        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            for image_id, outcome in pool.map(hash_file, _files(source)):
                if isinstance(outcome, str):
                    failed += 1
                    print(outcome, file=sys.stderr)
                    continue
                batch.append((image_id, outcome, {}))
                if len(batch) == _BATCH:
                    flush()
            flush()
    seconds = time.perf_counter() - started
    total = added + skipped
    print(
        f"{total} images in {args.collection!r}: {added} added, {skipped} already stored, "
        f"{failed} unreadable; {seconds:.1f} s, {total / max(seconds, 1e-9):.0f} images/s",
        file=sys.stderr,
    )
    return 1 if failed else 0
