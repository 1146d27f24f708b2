"""The CLI commands that open a data dir directly, without a server: `build` and `search`.

They own the data dir while they run (the engine locks it), so they are for offline work: a
first index of an image library, or a look into a data dir no server has open.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from neardup.index import Engine, Fingerprint, NeardupError, hash_image
from neardup.index.errors import InvalidArgument, UnknownCollection

from .output import match_row, print_matches, read_image_file

__all__ = ["run_build", "run_search"]

_BATCH = 1000


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


def run_build(args: argparse.Namespace) -> int:
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


def run_search(args: argparse.Namespace) -> int:
    """Prints the stored images nearest to an image, a hash or a stored id."""
    with Engine(args.data_dir) as engine:
        info = engine.collection(args.collection)
        if args.orientations and args.image is None:
            raise InvalidArgument("--orientations needs an IMAGE query", "orientations")
        if args.image is not None:
            hashes = hash_image(
                read_image_file(args.image), info.algorithm, orientations=args.orientations
            )
            queries = list(hashes.orientations) if args.orientations else [hashes.fingerprint]
        elif args.hash is not None:
            queries = [Fingerprint.from_hex(args.hash, info.algorithm)]
        else:
            queries = [engine.get(args.collection, args.id).fingerprint]
        result = engine.search(
            args.collection, queries, k=args.k, radius=args.radius, exact=args.exact
        )
    rows = [
        match_row(
            m.image.id,
            m.image.fingerprint.hex,
            m.distance,
            m.orientation.name.lower() if args.orientations else None,
        )
        for m in result.matches
    ]
    print_matches(rows, args.json)
    return 0
