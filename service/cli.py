"""The `neardup` command line: one entry point, one subcommand per operation.

    neardup hash [--algorithm NAME] [--orientations] PATH...
    neardup build SOURCE --data-dir DIR [--collection NAME] [--algorithm NAME]
    neardup search --data-dir DIR (IMAGE | --hash HEX | --id ID) [--collection NAME]
                   [--k K] [--radius R] [--exact] [--orientations] [--json]

Output formats are part of the interface (scripts parse them); see each subcommand's help.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from neardup.index import ALGORITHMS, DEFAULT_ALGORITHM, NeardupError, Orientation, hash_image
from neardup.index.decode import DEFAULT_LIMITS

from .config import load_config
from .offline import run_build, run_search
from .server import serve

__all__ = ["main"]

_ORIENTATION_ORDER = ", ".join(o.name.lower() for o in Orientation)


def _hash_one(path: str, algorithm: str, orientations: bool) -> tuple[str, str | None]:
    """(output line, None) or ("", error message) for one file."""
    try:
        with open(path, "rb") as f:
            # One byte over the limit is enough for hash_image to refuse it as too large.
            data = f.read(DEFAULT_LIMITS.max_bytes + 1)
        hashes = hash_image(data, algorithm, orientations=orientations)
    except (OSError, NeardupError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return "", f"neardup: {path}: {reason}"
    fields = hashes.orientations if orientations else (hashes.fingerprint,)
    return "\t".join([*(f.hex for f in fields), path]), None


def _cmd_hash(args: argparse.Namespace) -> int:
    failed = False
    workers = min(len(args.paths), os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(lambda p: _hash_one(p, args.algorithm, args.orientations), args.paths)
        for line, error in results:  # in the order given, as each completes
            if error is not None:
                failed = True
                print(error, file=sys.stderr, flush=True)
            else:
                print(line, flush=True)
    return 1 if failed else 0


def _cmd_serve(args: argparse.Namespace) -> int:
    config = load_config(
        args.config,
        flags={"data_dir": args.data_dir, "listen": args.listen},
    )
    config.check_loopback()
    asyncio.run(serve(config))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="neardup", description="Near-duplicate image search.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    hash_cmd = commands.add_parser(
        "hash",
        help="print the perceptual hash of image files",
        description=(
            "Prints one line per readable file: 16 lowercase hex digits, a TAB, the path as "
            "given. Unreadable files are reported on stderr with the reason; the others are "
            "still printed, and the exit status is 1 if any file failed. With --orientations "
            "the line holds 8 hashes, TAB-separated, in this order: "
            f"{_ORIENTATION_ORDER}; then the path."
        ),
    )
    hash_cmd.add_argument(
        "--algorithm",
        default=DEFAULT_ALGORITHM,
        choices=sorted(ALGORITHMS),
        help=f"hash algorithm (default {DEFAULT_ALGORITHM})",
    )
    hash_cmd.add_argument(
        "--orientations", action="store_true", help="print the hashes of all 8 orientations"
    )
    hash_cmd.add_argument("paths", nargs="+", metavar="PATH", type=str)
    hash_cmd.set_defaults(run=_cmd_hash)

    build_cmd = commands.add_parser(
        "build",
        help="index every image under a folder into a data dir (offline)",
        description=(
            "Hashes every file under SOURCE and stores it in the collection (created with "
            "--algorithm if it does not exist), id = the path relative to SOURCE with '/' "
            "separators. Ids already stored are skipped, so a re-run resumes. Unreadable "
            "files are reported on stderr and skipped; the exit status is then 1."
        ),
    )
    build_cmd.add_argument("source", metavar="SOURCE")
    _data_dir_options(build_cmd)
    build_cmd.add_argument("--algorithm", choices=sorted(ALGORITHMS), default=None)
    build_cmd.set_defaults(run=run_build)

    search_cmd = commands.add_parser(
        "search",
        help="find the stored images nearest to an image, a hash or an id (offline)",
        description=(
            "Prints the matches nearest first: with --json a JSON list of "
            '{"id", "hash", "distance", "similarity"} (and "orientation" with '
            "--orientations), else one line per match: hash, distance, id (TAB-separated). "
            "Default: the 10 nearest within the collection's radius."
        ),
    )
    query = search_cmd.add_mutually_exclusive_group(required=True)
    query.add_argument("image", nargs="?", metavar="IMAGE", help="an image file")
    query.add_argument("--hash", help="16 hex digits, in the collection's algorithm")
    query.add_argument("--id", help="a stored id: search with its hash")
    _data_dir_options(search_cmd)
    search_cmd.add_argument("--k", type=int, default=0, help="at most K matches (1..1000)")
    search_cmd.add_argument("--radius", type=int, default=None, help="within R bits (0..64)")
    search_cmd.add_argument("--exact", action="store_true", help="demand an exhaustive scan")
    search_cmd.add_argument(
        "--orientations", action="store_true", help="also match mirrors and rotations (IMAGE)"
    )
    search_cmd.add_argument("--json", action="store_true", help="print JSON")
    search_cmd.set_defaults(run=run_search)

    serve_cmd = commands.add_parser(
        "serve",
        help="run the gRPC server",
        description=(
            "Serves the neardup.v1 gRPC API (with health and reflection) until SIGTERM or "
            "SIGINT, then drains, writes final snapshots and exits 0. Settings: defaults, "
            "then --config FILE (TOML), then NEARDUP_* variables, then these flags."
        ),
    )
    serve_cmd.add_argument("--data-dir", default=None, help="default ./data")
    serve_cmd.add_argument(
        "--listen", default=None, metavar="HOST:PORT", help="default 127.0.0.1:50051"
    )
    serve_cmd.add_argument("--config", type=Path, default=None, metavar="FILE")
    serve_cmd.set_defaults(run=_cmd_serve)
    return parser


def _data_dir_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--data-dir", required=True, metavar="DIR", help="the data dir")
    command.add_argument("--collection", default="default", metavar="NAME")


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the CLI; returns the exit status (2 for a refused request)."""
    logging.basicConfig(level=logging.WARNING, format="neardup: %(message)s")
    args = _parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except NeardupError as exc:
        print(f"neardup: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"neardup: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return status


if __name__ == "__main__":
    sys.exit(main())
