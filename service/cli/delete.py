"""Deletes stored ids in a running server; prints {"deleted", "not_found"} (JSON)."""

from __future__ import annotations

import argparse

from .options import add_server_options, connect
from .output import print_json

__all__ = ["FLAGS", "add_arguments", "run"]

FLAGS = {"ids": "ID"}


def add_arguments(command: argparse.ArgumentParser) -> None:
    """The arguments of `neardup delete`."""
    command.add_argument("ids", nargs="+", metavar="ID")
    add_server_options(command)


def run(args: argparse.Namespace) -> int:
    """Deletes the ids; unknown ids are listed, not errors."""
    with connect(args) as client:
        result = client.delete(args.ids, collection=args.collection)
    print_json({"deleted": result.deleted, "not_found": list(result.not_found)})
    return 0
