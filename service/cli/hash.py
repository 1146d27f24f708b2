"""Prints one line per readable file: 16 lowercase hex digits, a TAB, the path as given.
Unreadable files are reported on stderr with the reason; the others are still printed, and
the exit status is 1 if any file failed. With --orientations the line holds 8 hashes,
TAB-separated, then the path; the hashes in the contract's Orientation order. With --quality
each line holds the hash's quality score (0-100) before the path; with --crops, the hashes of
the centre crops a crop_hashes collection indexes (largest first) follow the hash(es)."""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ThreadPoolExecutor

from neardup.index.errors import NeardupError
from neardup.index.fingerprint import ALGORITHMS, DEFAULT_ALGORITHM, Orientation, hash_image

from .output import read_image_file

__all__ = ["add_arguments", "run"]


def add_arguments(command: argparse.ArgumentParser) -> None:
    """The arguments of `neardup hash`."""
    order = ", ".join(o.name.lower() for o in Orientation)
    command.description = f"{__doc__.rstrip().removesuffix('.')}: {order}."
    command.add_argument(
        "--algorithm",
        default=DEFAULT_ALGORITHM,
        choices=sorted(ALGORITHMS),
        help=f"hash algorithm (default {DEFAULT_ALGORITHM})",
    )
    command.add_argument(
        "--orientations", action="store_true", help="print the hashes of all 8 orientations"
    )
    command.add_argument(
        "--quality",
        action="store_true",
        help="print each hash's quality (0-100: structure the hash sees) before the path",
    )
    command.add_argument(
        "--crops",
        action="store_true",
        help="also print the centre crops' hashes (phash, phash-1), after the hash(es)",
    )
    command.add_argument("paths", nargs="+", metavar="PATH", type=str)


def _hash_one(
    path: str, algorithm: str, orientations: bool, quality: bool, crops: bool
) -> tuple[str, str | None]:
    """(output line, None) or ("", error message) for one file."""
    try:
        hashes = hash_image(
            read_image_file(path), algorithm, orientations=orientations, crops=crops
        )
    except (OSError, NeardupError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return "", f"neardup: {path}: {reason}"
    fields = (
        *(hashes.orientations if orientations else (hashes.fingerprint,)),
        *hashes.crop_fingerprints,
    )
    score = [str(hashes.quality)] if quality else []
    return "\t".join([*(f.hex for f in fields), *score, path]), None


def run(args: argparse.Namespace) -> int:
    """Hashes the files on every core, printing in the order given."""
    failed = False
    workers = min(len(args.paths), os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(
            lambda p: _hash_one(p, args.algorithm, args.orientations, args.quality, args.crops),
            args.paths,
        )
        for line, error in results:  # in the order given, as each completes
            if error is not None:
                failed = True
                print(error, file=sys.stderr, flush=True)
            else:
                print(line, flush=True)
    return 1 if failed else 0
