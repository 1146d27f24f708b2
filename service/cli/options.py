"""The options commands share: where the data is (a data dir opened offline, or a running
server with its token and TLS files), and the client that reaches a server.

A command that can do either works offline with --data-dir and otherwise asks a server:
--server, else $NEARDUP_SERVER, else the address `neardup serve` listens on by default."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from neardup.service.address import DEFAULT_ADDRESS, SERVER_ENV, with_default_port

from .arguments import collection_name, positive_seconds
from .parser import Refused

if TYPE_CHECKING:
    from neardup.index import Engine
    from neardup.service.client import Client

__all__ = [
    "add_server_options",
    "add_where_options",
    "connect",
    "open_data_dir",
    "server_address",
]

# How long a command waits for a server to accept its connection before saying that none
# answers (at most --timeout).
_CONNECT_SECONDS = 5.0


def _add_collection_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--collection",
        default="default",
        type=collection_name,
        metavar="NAME",
        help="the collection (default: default)",
    )


def add_server_options(command: argparse.ArgumentParser, alone: bool = True) -> None:
    """--server (when alone: the command only talks to servers, and --collection), then
    --timeout, --token and the TLS files."""
    if alone:
        command.add_argument(
            "--server",
            metavar="HOST[:PORT]",
            help=f"the server (default: ${SERVER_ENV}, else {DEFAULT_ADDRESS})",
        )
        _add_collection_option(command)
    command.add_argument(
        "--timeout",
        type=positive_seconds,
        default=60.0,
        metavar="SECONDS",
        help="seconds per call (default 60)",
    )
    command.add_argument("--token", default=None, help="bearer token (default: $NEARDUP_TOKEN)")
    command.add_argument("--tls-ca", type=Path, default=None, metavar="PEM", help="trust this CA")
    command.add_argument(
        "--tls-cert", type=Path, default=None, metavar="PEM", help="client cert (mTLS)"
    )
    command.add_argument(
        "--tls-key", type=Path, default=None, metavar="PEM", help="client key (mTLS)"
    )


def add_where_options(command: argparse.ArgumentParser, collection: bool = True) -> None:
    """--data-dir (offline) or --server (a running server, the default), and --collection
    (unless the command names collections itself)."""
    where = command.add_mutually_exclusive_group()
    where.add_argument("--data-dir", metavar="DIR", help="open this data dir (offline)")
    where.add_argument(
        "--server",
        metavar="HOST[:PORT]",
        help=f"ask this running server (default: ${SERVER_ENV}, else {DEFAULT_ADDRESS})",
    )
    if collection:
        _add_collection_option(command)
    add_server_options(command, alone=False)


def server_address(args: argparse.Namespace) -> str:
    """The server a command asks: --server, else $NEARDUP_SERVER, else serve's default; a
    host without a port gets the default port."""
    return with_default_port(args.server or os.environ.get(SERVER_ENV) or DEFAULT_ADDRESS)


def connect(args: argparse.Namespace) -> Client:
    """A client of the server the command asks (imports gRPC), once that server accepts
    the connection; Refused when none answers there."""
    from neardup.service.client import Client, Connection

    def read(path: Path | None, flag: str) -> bytes | None:
        """A PEM file's bytes (gRPC would only log that it cannot use anything else)."""
        if path is None:
            return None
        pem = path.read_bytes()
        if b"-----BEGIN " not in pem:
            raise Refused(
                f"{flag} {path}: not a PEM file", "give the PEM file of the certificate or key"
            )
        return pem

    connection = Connection(
        token=args.token or os.environ.get("NEARDUP_TOKEN") or None,
        tls_ca=read(args.tls_ca, "--tls-ca"),
        tls_cert=read(args.tls_cert, "--tls-cert"),
        tls_key=read(args.tls_key, "--tls-key"),
    )
    address = server_address(args)
    client = Client(address, timeout=args.timeout, connection=connection)
    if not client.wait_for_server(min(_CONNECT_SECONDS, args.timeout)):
        client.close()
        tls = " (with TLS: check --tls-ca, --tls-cert and --tls-key)" if args.tls_ca else ""
        raise Refused(
            f"no neardup server answers at {address}{tls}",
            f"start one with `neardup serve`, or name another with --server or ${SERVER_ENV}",
        )
    return client


def open_data_dir(args: argparse.Namespace, create: bool = False) -> Engine:
    """The engine of --data-dir; a command that only reads (create False) refuses a folder
    that holds no data dir instead of making an empty one."""
    from neardup.index import Engine

    if not create and not Engine.holds_data(Path(args.data_dir)):
        raise Refused(
            f"--data-dir {args.data_dir}: no neardup data dir there",
            "check the path, or make one with `neardup build SOURCE --data-dir DIR`",
        )
    return Engine(args.data_dir)
