"""The `neardup` command line: one entry point, one subcommand per operation.

    neardup hash [--algorithm NAME] [--orientations] PATH...
    neardup build SOURCE --data-dir DIR [--collection NAME] [--algorithm NAME]
    neardup search (--data-dir DIR | --server HOST:PORT) (IMAGE | --hash HEX | --id ID)
                   [--collection NAME] [--k K] [--radius R] [--exact] [--orientations] [--json]
    neardup serve [--data-dir DIR] [--listen HOST:PORT] [--config FILE]
    neardup add PATH... --server HOST:PORT [--collection NAME] [--replace | --skip-existing]
    neardup delete ID... --server HOST:PORT [--collection NAME]
    neardup stats --server HOST:PORT [--collection NAME]
    neardup token NAME [--scopes read,write,admin]

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

from . import remote
from .auth import new_token
from .calls import JsonFormatter
from .client import NeardupRpcError
from .config import load_config
from .offline import run_build, run_search
from .output import read_image_file
from .server import serve

__all__ = ["main"]

_ORIENTATION_ORDER = ", ".join(o.name.lower() for o in Orientation)


def _hash_one(path: str, algorithm: str, orientations: bool) -> tuple[str, str | None]:
    """(output line, None) or ("", error message) for one file."""
    try:
        hashes = hash_image(read_image_file(path), algorithm, orientations=orientations)
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
        flags={"data_dir": args.data_dir, "listen": args.listen, "metrics_listen": args.metrics},
    )
    config.check_loopback()
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
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
        help="find the stored images nearest to an image, a hash or an id",
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
    _where_options(search_cmd)
    search_cmd.add_argument("--k", type=int, default=0, help="at most K matches (1..1000)")
    search_cmd.add_argument("--radius", type=int, default=None, help="within R bits (0..64)")
    search_cmd.add_argument("--exact", action="store_true", help="demand an exhaustive scan")
    search_cmd.add_argument(
        "--orientations", action="store_true", help="also match mirrors and rotations (IMAGE)"
    )
    search_cmd.add_argument("--json", action="store_true", help="print JSON")
    search_cmd.set_defaults(run=_cmd_search)

    add_cmd = commands.add_parser(
        "add",
        help="store image files in a running server",
        description=(
            "Streams the files to the server (AddStream) and prints one line per stored "
            "file: hash, outcome (added, replaced, rejected_duplicate, skipped_existing), id; "
            "with --json a list of {id, hash, outcome, duplicates}. The id is the file name "
            "(--id-from-path: the path as given). Failed files go to stderr; exit status 1."
        ),
    )
    add_cmd.add_argument("paths", nargs="+", metavar="PATH")
    _server_options(add_cmd)
    existing = add_cmd.add_mutually_exclusive_group()
    existing.add_argument("--replace", action="store_true", help="replace an existing id")
    existing.add_argument("--skip-existing", action="store_true", help="leave an existing id")
    add_cmd.add_argument("--reject-duplicates", action="store_true", help="dedup on upload")
    add_cmd.add_argument("--id-from-path", action="store_true", help="id = the path as given")
    add_cmd.add_argument("--json", action="store_true", help="print JSON")
    add_cmd.set_defaults(run=remote.run_add)

    delete_cmd = commands.add_parser("delete", help="delete stored ids in a running server")
    delete_cmd.add_argument("ids", nargs="+", metavar="ID")
    _server_options(delete_cmd)
    delete_cmd.set_defaults(run=remote.run_delete)

    stats_cmd = commands.add_parser("stats", help="print a collection's figures (JSON)")
    _server_options(stats_cmd)
    stats_cmd.set_defaults(run=remote.run_stats)

    token_cmd = commands.add_parser(
        "token",
        help="make a bearer token for the server's tokens file",
        description=(
            "Prints a new random token on stdout (give it to the caller; it is not stored) "
            "and, on stderr, the [[token]] entry with its hash to add to the tokens file."
        ),
    )
    token_cmd.add_argument("name")
    token_cmd.add_argument("--scopes", default="read", help="comma-separated: read,write,admin")
    token_cmd.set_defaults(run=_cmd_token)

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
    serve_cmd.add_argument(
        "--metrics", default=None, metavar="HOST:PORT", help="serve Prometheus /metrics here"
    )
    serve_cmd.add_argument("--config", type=Path, default=None, metavar="FILE")
    serve_cmd.set_defaults(run=_cmd_serve)
    return parser


def _data_dir_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--data-dir", required=True, metavar="DIR", help="the data dir")
    command.add_argument("--collection", default="default", metavar="NAME")


def _server_options(command: argparse.ArgumentParser, required: bool = True) -> None:
    if required:
        command.add_argument("--server", required=True, metavar="HOST:PORT")
        command.add_argument("--collection", default="default", metavar="NAME")
    command.add_argument("--timeout", type=float, default=60.0, help="seconds per call")
    remote.add_connection_options(command)


def _where_options(command: argparse.ArgumentParser) -> None:
    """--data-dir (offline) or --server (a running server)."""
    where = command.add_mutually_exclusive_group(required=True)
    where.add_argument("--data-dir", metavar="DIR", help="open this data dir (offline)")
    where.add_argument("--server", metavar="HOST:PORT", help="ask this running server")
    command.add_argument("--collection", default="default", metavar="NAME")
    _server_options(command, required=False)


def _cmd_search(args: argparse.Namespace) -> int:
    return remote.run_search(args) if args.server else run_search(args)


def _cmd_token(args: argparse.Namespace) -> int:
    token, entry = new_token(args.name, [s.strip() for s in args.scopes.split(",") if s.strip()])
    print(token)
    print(entry, file=sys.stderr, end="")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the CLI; returns the exit status (2 for a refused request)."""
    logging.basicConfig(level=logging.WARNING, format="neardup: %(message)s")
    args = _parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except (NeardupError, NeardupRpcError) as exc:
        print(f"neardup: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"neardup: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return status


if __name__ == "__main__":
    sys.exit(main())
