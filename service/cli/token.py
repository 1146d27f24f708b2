"""Prints a new random token on stdout (give it to the caller; it is not stored) and, on
stderr, the [[token]] entry with its hash to add to the server's tokens file."""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_arguments", "run"]


def add_arguments(command: argparse.ArgumentParser) -> None:
    """The arguments of `neardup token`."""
    command.add_argument("name", metavar="NAME")
    command.add_argument("--scopes", default="read", help="comma-separated: read,write,admin")


def run(args: argparse.Namespace) -> int:
    """The token, and its tokens-file entry."""
    from neardup.service.auth import new_token

    token, entry = new_token(args.name, [s.strip() for s in args.scopes.split(",") if s.strip()])
    print(token)
    print(entry, file=sys.stderr, end="")
    return 0
