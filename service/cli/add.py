"""Streams the files to the server (AddStream) and prints one line per stored file: hash,
outcome (added, replaced, rejected_duplicate, skipped_existing), id, and the near-duplicates
the add found ("near ID (D bits), ...", with the orientation of the upload that matched when
it is not upright, "near ID (0 bits, mirror)", and "identical" when it is the same file,
"near ID (0 bits, identical)"; TAB-separated); with --json a list of {id,
hash, outcome, duplicates}. The id is the file name (--id-from-path: the path as given). Failed
files go to stderr, one line each; exit status 1."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .arguments import radius
from .options import add_server_options, connect
from .output import match_row, print_json, read_image_file
from .parser import hint_for, print_refusal

__all__ = ["FLAGS", "add_arguments", "run"]

# the id is the file's name: an id's refusal names the file, not a flag
FLAGS = {"id": "", "duplicate_radius": "--radius"}


def add_arguments(command: argparse.ArgumentParser) -> None:
    """The arguments of `neardup add`."""
    command.add_argument("paths", nargs="+", metavar="PATH")
    add_server_options(command)
    command.add_argument(
        "--radius",
        type=radius,
        default=None,
        help="report near-duplicates within R bits (default: the collection's)",
    )
    existing = command.add_mutually_exclusive_group()
    existing.add_argument("--replace", action="store_true", help="replace an existing id")
    existing.add_argument("--skip-existing", action="store_true", help="leave an existing id")
    command.add_argument("--reject-duplicates", action="store_true", help="dedup on upload")
    command.add_argument("--id-from-path", action="store_true", help="id = the path as given")
    command.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    """Streams image files to the server; one line (or JSON object) per file, in order."""
    from google.rpc import code_pb2
    from neardup.service.client import add_request
    from neardup.v1 import neardup_pb2 as pb

    unreadable = 0
    requests = []
    for path in args.paths:
        try:
            data = read_image_file(path)
        except OSError as exc:
            print(f"neardup: {path}: {exc.strerror or exc}", file=sys.stderr)
            unreadable += 1
            continue
        requests.append(
            add_request(
                data,
                id=path if args.id_from_path else Path(path).name,
                collection=args.collection,
                replace=args.replace,
                skip_existing=args.skip_existing,
                reject_duplicates=args.reject_duplicates,
                duplicate_radius=args.radius,
            )
        )
    rows = []
    failed = unreadable
    with connect(args) as client:
        client.stats(args.collection)  # an unknown collection refuses the command, not each file
        for response in client.add_stream(requests):
            if response.HasField("error"):
                failed += 1
                error = response.error
                code = code_pb2.Code.Name(error.code)
                hint = hint_for(code, error.field)
                print_refusal(f"{response.id}: {error.message}", error.field, hint, FLAGS)
                continue
            added = response.added
            outcome = pb.AddOutcome.Name(added.outcome).removeprefix("ADD_OUTCOME_").lower()
            duplicates = [
                match_row(
                    d.id,
                    d.hash.hex,
                    d.distance,
                    _turned(d.orientation),
                    d.quality,
                    d.via_crop,
                    d.identical,
                )
                for d in added.duplicates
            ]
            rows.append(
                {
                    "id": response.id,
                    "hash": added.image.hash.hex,
                    "quality": added.image.quality,
                    "outcome": outcome,
                    "duplicates": duplicates,
                    "quality_note": added.quality_note,
                }
            )
            if added.quality_note:
                print(f"neardup: {response.id}: {added.quality_note}", file=sys.stderr)
            if not args.json:
                near = ", ".join(_near(d) for d in duplicates)
                line = f"{added.image.hash.hex}\t{outcome}\t{response.id}"
                print(f"{line}\tnear {near}" if near else line)
    if args.json:
        print_json(rows)
    return 1 if failed else 0


def _near(duplicate: dict[str, object]) -> str:
    """A duplicate as the plain output names it: "ID (D bits[, orientation][, identical])"."""
    notes = [f"{duplicate['distance']} bits"]
    if "orientation" in duplicate:
        notes.append(str(duplicate["orientation"]))
    if duplicate.get("identical"):
        notes.append("identical")
    return f"{duplicate['id']} ({', '.join(notes)})"


def _turned(orientation: int) -> str | None:
    """The orientation of the upload a duplicate matched, by name; None when upright."""
    from neardup.v1 import neardup_pb2 as pb

    name = pb.Orientation.Name(orientation).removeprefix("ORIENTATION_").lower()
    return None if name == "identity" else name
