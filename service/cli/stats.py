"""Prints a collection's Stats from a running server as one JSON object (the contract's
field names; numbers as numbers; snapshot_sequence and snapshot_age_seconds null when there
is no snapshot), with what answers top-k and radius searches now and why
(search_paths_note)."""

from __future__ import annotations

import argparse

from .options import add_server_options, connect
from .output import print_json, proto_json

__all__ = ["add_arguments", "run"]


def add_arguments(command: argparse.ArgumentParser) -> None:
    """The arguments of `neardup stats`."""
    add_server_options(command)


def run(args: argparse.Namespace) -> int:
    """One JSON object: the collection's StatsResponse."""
    with connect(args) as client:
        stats = client.stats(args.collection)
    shown = proto_json(stats)
    if stats.snapshot_sequence == 0:  # no snapshot yet
        shown["snapshot_sequence"] = shown["snapshot_age_seconds"] = None
    print_json(shown)
    return 0
