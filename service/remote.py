"""The CLI commands that talk to a running server (`--server HOST:PORT`) through the Python
client: `add`, `search`, `delete`, `stats`. Output formats are those of the offline
commands; a refused call prints the server's message and exits 2."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from google.protobuf.json_format import MessageToDict
from neardup.v1 import neardup_pb2 as pb

from .client import Client, Connection, add_request
from .output import match_row, print_json, print_matches, read_image_file

__all__ = ["add_connection_options", "connect", "run_add", "run_delete", "run_search", "run_stats"]


def add_connection_options(command: argparse.ArgumentParser) -> None:
    """--token (or NEARDUP_TOKEN) and the TLS files."""
    command.add_argument("--token", default=None, help="bearer token (default: $NEARDUP_TOKEN)")
    command.add_argument("--tls-ca", type=Path, default=None, metavar="PEM", help="trust this CA")
    command.add_argument(
        "--tls-cert", type=Path, default=None, metavar="PEM", help="client cert (mTLS)"
    )
    command.add_argument(
        "--tls-key", type=Path, default=None, metavar="PEM", help="client key (mTLS)"
    )


def connect(args: argparse.Namespace) -> Client:
    """A client of --server with the connection options given."""

    def read(path: Path | None) -> bytes | None:
        return path.read_bytes() if path is not None else None

    connection = Connection(
        token=args.token or os.environ.get("NEARDUP_TOKEN") or None,
        tls_ca=read(args.tls_ca),
        tls_cert=read(args.tls_cert),
        tls_key=read(args.tls_key),
    )
    return Client(args.server, timeout=args.timeout, connection=connection)


def run_add(args: argparse.Namespace) -> int:
    """Streams image files to the server; one line (or JSON object) per file, in order."""
    paths = list(args.paths)
    unreadable = 0
    requests = []
    for path in paths:
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
            )
        )
    rows = []
    failed = unreadable
    with connect(args) as client:
        for response in client.add_stream(requests):
            if response.HasField("error"):
                failed += 1
                print(f"neardup: {response.id}: {response.error.message}", file=sys.stderr)
                continue
            added = response.added
            outcome = pb.AddOutcome.Name(added.outcome).removeprefix("ADD_OUTCOME_").lower()
            duplicates = [match_row(d.id, d.hash.hex, d.distance, None) for d in added.duplicates]
            rows.append(
                {
                    "id": response.id,
                    "hash": added.image.hash.hex,
                    "outcome": outcome,
                    "duplicates": duplicates,
                }
            )
            if not args.json:
                print(f"{added.image.hash.hex}\t{outcome}\t{response.id}")
    if args.json:
        print_json(rows)
    return 1 if failed else 0


def run_search(args: argparse.Namespace) -> int:
    """Search through the server; the same output as the offline search."""
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
    rows = [
        match_row(
            m.id,
            m.hash.hex,
            m.distance,
            pb.Orientation.Name(m.orientation).removeprefix("ORIENTATION_").lower()
            if args.orientations
            else None,
        )
        for m in result.matches
    ]
    print_matches(rows, args.json)
    return 0


def run_delete(args: argparse.Namespace) -> int:
    """Deletes ids; prints {"deleted", "not_found"}."""
    with connect(args) as client:
        result = client.delete(args.ids, collection=args.collection)
    print_json({"deleted": result.deleted, "not_found": list(result.not_found)})
    return 0


def run_stats(args: argparse.Namespace) -> int:
    """Prints a collection's Stats as JSON (the contract's field names)."""
    with connect(args) as client:
        stats = client.stats(args.collection)
    print_json(MessageToDict(stats, preserving_proto_field_name=True))
    return 0
