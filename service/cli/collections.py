"""Creates, lists, shows and drops collections, in a running server (the default) or a data
dir (--data-dir). `list` prints one line per collection (name, images, algorithm, radius,
index kind; TAB-separated), `show` and `create` one JSON object, `drop` what it removed;
--json makes every subcommand print JSON. Dropping deletes the collection's images for
good: it asks for --yes."""

from __future__ import annotations

import argparse
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from neardup.index.fingerprint import ALGORITHMS
from neardup.index.params import KINDS

from .arguments import collection_name, quality, radius
from .options import add_where_options, connect, open_data_dir
from .output import print_json
from .parser import Refused

__all__ = ["FLAGS", "add_arguments", "run"]

FLAGS = {"collection": "NAME", "name": "NAME", "default_radius": "--radius"}


def add_arguments(command: argparse.ArgumentParser) -> None:
    """The arguments of `neardup collections` and its subcommands."""
    actions = command.add_subparsers(dest="action", required=True, metavar="ACTION")

    def action(name: str, summary: str) -> argparse.ArgumentParser:
        parser = actions.add_parser(name, help=summary, description=summary)
        add_where_options(parser, collection=False)
        parser.add_argument("--json", action="store_true", help="print JSON")
        return parser

    action("list", "list the collections")
    for name, summary in (
        ("show", "print one collection's definition and image count"),
        ("drop", "delete a collection and all its images"),
        ("create", "create a collection"),
    ):
        parser = action(name, summary)
        parser.add_argument("name", type=collection_name, metavar="NAME")
    create = actions.choices["create"]
    create.add_argument("--algorithm", choices=sorted(ALGORITHMS), default="")
    create.add_argument(
        "--radius", type=radius, default=None, help="its default radius, bits (0..64)"
    )
    create.add_argument(
        "--min-quality", type=quality, default=None, help="its quality floor (0..100)"
    )
    create.add_argument(
        "--crop-hashes",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="index each image's centre crops too (default: where the algorithm has them)",
    )
    create.add_argument(
        "--thumbnails", action="store_true", help="keep a preview of each image (reports show it)"
    )
    create.add_argument(
        "--no-orientations",
        dest="orientations",
        action="store_false",
        help="duplicate checks match an upload as it is, not its mirrors and rotations",
    )
    create.add_argument("--index-kind", choices=KINDS, default="", help="hnsw or tables")
    actions.choices["drop"].add_argument(
        "--yes", action="store_true", help="confirm: the images are deleted for good"
    )


def run(args: argparse.Namespace) -> int:
    """Runs the subcommand against the server or the data dir."""
    if args.action == "drop" and not args.yes:
        raise Refused(f"dropping {args.name!r} deletes its images for good", "add --yes to confirm")
    rows = _remote(args) if args.data_dir is None else _offline(args)
    if args.action == "drop":
        removed = rows[0]["image_count"]
        if args.json:
            print_json({"dropped": args.name, "images_removed": removed})
        else:
            print(f"dropped {args.name} ({removed:,} image{'' if removed == 1 else 's'})")
    elif args.action == "list" and not args.json:
        for row in rows:
            print(
                "\t".join(
                    str(row[k])
                    for k in ("name", "image_count", "algorithm", "default_radius", "index_kind")
                )
            )
    else:
        print_json(rows if args.action == "list" else rows[0])
    return 0


def _row(collection: Any, index_kind: str) -> dict[str, Any]:
    """A collection as the command prints it, from the engine's `CollectionInfo` or the
    contract's `Collection` (the same field names)."""
    created = datetime.fromtimestamp(collection.created_unix_ms / 1000, UTC)
    return {
        "name": collection.name,
        "algorithm": collection.algorithm,
        "image_count": collection.image_count,
        "default_radius": collection.default_radius,
        "min_quality": collection.min_quality,
        "crop_hashes": collection.crop_hashes,
        "thumbnails": collection.thumbnails,
        "orientations": collection.orientations,
        "index_kind": index_kind,
        "created": created.isoformat(timespec="seconds"),
    }


def _offline(args: argparse.Namespace) -> list[dict[str, Any]]:
    with open_data_dir(args, create=args.action == "create") as engine:
        if args.action == "list":
            infos = engine.collections()
        elif args.action == "create":
            infos = [
                engine.create_collection(
                    args.name,
                    args.algorithm,
                    args.radius,
                    {"kind": args.index_kind} if args.index_kind else None,
                    args.min_quality,
                    args.crop_hashes,
                    args.thumbnails,
                    args.orientations,
                )
            ]
        else:
            infos = [engine.collection(args.name)]
            if args.action == "drop":
                infos = [replace(infos[0], image_count=engine.drop_collection(args.name))]
    return [_row(i, i.params.kind) for i in infos]


def _remote(args: argparse.Namespace) -> list[dict[str, Any]]:
    with connect(args) as client:
        if args.action == "list":
            found = client.list_collections()
        elif args.action == "create":
            found = [
                client.create_collection(
                    args.name,
                    algorithm=args.algorithm,
                    default_radius=args.radius,
                    min_quality=args.min_quality,
                    crop_hashes=args.crop_hashes,
                    thumbnails=args.thumbnails,
                    orientations=args.orientations,
                    index_kind=args.index_kind,
                )
            ]
        else:
            found = [client.stats(args.name).collection]
            if args.action == "drop":
                found[0].image_count = client.drop_collection(args.name)
    return [_row(c, c.index.kind) for c in found]
