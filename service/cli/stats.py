"""Prints a collection's Stats from a running server as JSON (the contract's field names)."""

from __future__ import annotations

import argparse

from .options import add_server_options, connect
from .output import print_json

__all__ = ["add_arguments", "run"]


def add_arguments(command: argparse.ArgumentParser) -> None:
    """The arguments of `neardup stats`."""
    add_server_options(command)


def run(args: argparse.Namespace) -> int:
    """One JSON object: the collection's StatsResponse."""
    from google.protobuf.json_format import MessageToDict

    with connect(args) as client:
        stats = client.stats(args.collection)
    print_json(MessageToDict(stats, preserving_proto_field_name=True))
    return 0
