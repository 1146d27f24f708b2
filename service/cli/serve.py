"""Serves the neardup.v1 gRPC API (with health and reflection) until SIGTERM or SIGINT,
then drains, writes final snapshots and exits 0. Settings: defaults, then --config FILE
(TOML), then NEARDUP_* variables, then these flags. With --backend milvus the server keeps
nothing locally: images live in the Milvus at --milvus-uri, which several servers can
share."""

from __future__ import annotations

import argparse
from pathlib import Path

from neardup.service.address import DEFAULT_ADDRESS

__all__ = ["add_arguments", "run"]


def add_arguments(command: argparse.ArgumentParser) -> None:
    """The arguments of `neardup serve`."""
    command.add_argument("--data-dir", default=None, help="default ./data")
    command.add_argument(
        "--listen", default=None, metavar="HOST:PORT", help=f"default {DEFAULT_ADDRESS}"
    )
    command.add_argument(
        "--metrics", default=None, metavar="HOST:PORT", help="serve Prometheus /metrics here"
    )
    command.add_argument("--config", type=Path, default=None, metavar="FILE")
    command.add_argument(
        "--backend", choices=["local", "milvus"], default=None, help="default local (--data-dir)"
    )
    command.add_argument(
        "--milvus-uri",
        default=None,
        metavar="URI",
        help="http://HOST:19530 of a Milvus server, or a FILE.db for Milvus Lite",
    )
    command.add_argument("--milvus-token", default=None, metavar="TOKEN")
    command.add_argument(
        "--log-calls",
        choices=["problems", "all"],
        default=None,
        help="log a JSON line for failed and slow calls (default) or for every call",
    )
    command.add_argument(
        "--index-kind",
        choices=["hnsw", "tables"],
        default=None,
        help="the index of new collections: hnsw (default) or tables (compact, no graph)",
    )


def run(args: argparse.Namespace) -> int:
    """Runs the server in the foreground, logging JSON lines to stderr."""
    import asyncio
    import logging

    from neardup.service.calls import JsonFormatter
    from neardup.service.config import load_config
    from neardup.service.server import serve

    config = load_config(
        args.config,
        flags={
            "data_dir": args.data_dir,
            "listen": args.listen,
            "metrics_listen": args.metrics,
            "backend": args.backend,
            "milvus_uri": args.milvus_uri,
            "milvus_token": args.milvus_token,
            "index_kind": args.index_kind,
            "log_calls": args.log_calls,
        },
    )
    config.check_loopback()
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    # FAISS's loader logs each instruction set it tries at info level ("Could not load
    # library with AVX512 support"), which reads as an error on most machines.
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)
    try:
        asyncio.run(serve(config))
    finally:
        # `main` may run in a process that goes on (tests, embedders): its handler writes
        # to this run's stderr, which may be closed once the run is over.
        logging.getLogger().removeHandler(handler)
    return 0
