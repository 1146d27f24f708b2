"""Prints the matches nearest first: with --json a JSON list of {"id", "hash", "distance",
"similarity"} (and "orientation" with --orientations, "via_crop" for a match through a crop
hash), else one line per match: hash,
distance, id (TAB-separated). Default: the 10 nearest within the collection's radius. With
--data-dir it opens the data dir itself (no server may have it open); with --server it asks
a running server."""

from __future__ import annotations

import argparse

from .arguments import hex_hash, image_id, match_count, radius
from .options import add_where_options, connect, open_data_dir
from .output import match_row, print_matches, print_quality_note, read_image_file
from .parser import Refused

__all__ = ["add_arguments", "run"]


def add_arguments(command: argparse.ArgumentParser) -> None:
    """The arguments of `neardup search`."""
    query = command.add_mutually_exclusive_group(required=True)
    query.add_argument("image", nargs="?", metavar="IMAGE", help="an image file")
    query.add_argument("--hash", type=hex_hash, help="16 hex digits, in the collection's algorithm")
    query.add_argument("--id", type=image_id, help="a stored id: search with its hash")
    add_where_options(command)
    command.add_argument("--k", type=match_count, default=0, help="at most K matches (1..1000)")
    command.add_argument("--radius", type=radius, default=None, help="within R bits (0..64)")
    command.add_argument("--exact", action="store_true", help="demand an exhaustive scan")
    command.add_argument(
        "--orientations", action="store_true", help="also match mirrors and rotations (IMAGE)"
    )
    command.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    """Searches the data dir or the server; the same output either way."""
    if args.orientations and args.image is None:
        raise Refused("--orientations: needs an IMAGE query", "or drop --orientations")
    rows = _offline_rows(args) if args.data_dir else _remote_rows(args)
    print_matches(rows, args.json)
    return 0


def _offline_rows(args: argparse.Namespace) -> list[dict[str, object]]:
    from neardup.index import query_of
    from neardup.index.fingerprint import Fingerprint

    with open_data_dir(args) as engine:
        definition = engine.definition(args.collection)
        query = query_of(
            definition,
            image=read_image_file(args.image) if args.image is not None else None,
            fingerprint=None
            if args.hash is None
            else Fingerprint.from_hex(args.hash, definition.algorithm),
            image_id=args.id,
            orientations=args.orientations,
        )
        result = engine.search(
            args.collection, query, k=args.k, radius=args.radius, exact=args.exact
        )
    print_quality_note(result.quality_note)
    return [
        match_row(
            m.image.id,
            m.image.fingerprint.hex,
            m.distance,
            m.orientation.name.lower() if args.orientations else None,
            m.image.quality,
            m.via_crop,
            m.identical,
        )
        for m in result.matches
    ]


def _remote_rows(args: argparse.Namespace) -> list[dict[str, object]]:
    from neardup.v1 import neardup_pb2 as pb

    with connect(args) as client:
        result = client.search(
            read_image_file(args.image) if args.image is not None else None,
            hash=args.hash,
            id=args.id,
            collection=args.collection,
            k=args.k,
            max_distance=args.radius,
            orientations=args.orientations,
            exact=args.exact,
        )
    print_quality_note(result.quality_note)
    return [
        match_row(
            m.id,
            m.hash.hex,
            m.distance,
            pb.Orientation.Name(m.orientation).removeprefix("ORIENTATION_").lower()
            if args.orientations
            else None,
            m.quality if m.HasField("quality") else None,
            m.via_crop,
            m.identical,
        )
        for m in result.matches
    ]
