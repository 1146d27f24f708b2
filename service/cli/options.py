"""The options commands share: where the data is (a data dir opened offline, or a running
server with its token and TLS files), and the client that reaches a server."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from neardup.service.client import Client

__all__ = ["add_data_dir_options", "add_server_options", "add_where_options", "connect"]


def add_data_dir_options(command: argparse.ArgumentParser) -> None:
    """--data-dir (required) and --collection."""
    command.add_argument("--data-dir", required=True, metavar="DIR", help="the data dir")
    command.add_argument("--collection", default="default", metavar="NAME")


def add_server_options(command: argparse.ArgumentParser, required: bool = True) -> None:
    """--server and --collection (when required), --timeout, --token and the TLS files."""
    if required:
        command.add_argument("--server", required=True, metavar="HOST:PORT")
        command.add_argument("--collection", default="default", metavar="NAME")
    command.add_argument("--timeout", type=float, default=60.0, help="seconds per call")
    command.add_argument("--token", default=None, help="bearer token (default: $NEARDUP_TOKEN)")
    command.add_argument("--tls-ca", type=Path, default=None, metavar="PEM", help="trust this CA")
    command.add_argument(
        "--tls-cert", type=Path, default=None, metavar="PEM", help="client cert (mTLS)"
    )
    command.add_argument(
        "--tls-key", type=Path, default=None, metavar="PEM", help="client key (mTLS)"
    )


def add_where_options(command: argparse.ArgumentParser) -> None:
    """--data-dir (offline) or --server (a running server), and --collection."""
    where = command.add_mutually_exclusive_group(required=True)
    where.add_argument("--data-dir", metavar="DIR", help="open this data dir (offline)")
    where.add_argument("--server", metavar="HOST:PORT", help="ask this running server")
    command.add_argument("--collection", default="default", metavar="NAME")
    add_server_options(command, required=False)


def connect(args: argparse.Namespace) -> Client:
    """A client of --server with the connection options given (imports gRPC)."""
    from neardup.service.client import Client, Connection

    def read(path: Path | None) -> bytes | None:
        return path.read_bytes() if path is not None else None

    connection = Connection(
        token=args.token or os.environ.get("NEARDUP_TOKEN") or None,
        tls_ca=read(args.tls_ca),
        tls_cert=read(args.tls_cert),
        tls_key=read(args.tls_key),
    )
    return Client(args.server, timeout=args.timeout, connection=connection)
